"""Team-key rotation with real processes: removing a nurse starts a new epoch; new conversations
are sealed to it; the removed nurse's device can open none of them; open conversations are
re-sealed to the new epoch by a remaining member's client; stale bundles are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis

from chat import crypto
from chat.cli import team as teamadmin
from chat.client.e2e import NurseCrypto, YouthCrypto, fetch_nurse_keys, fetch_team
from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login, ws_url, youth_start
from chat.store.teamkeys import TeamKeys
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD


async def nurse_keys(base: str, user: str) -> tuple[str, NurseCrypto]:
    cookie = await nurse_login(base, user, DEMO_PASSWORD)
    return cookie, NurseCrypto.from_keys_json(await fetch_nurse_keys(base, cookie), DEMO_PASSWORD)


async def test_removed_nurse_reads_nothing_new(
    web: WebProcess, redis_url: str, web_data_dir: Path, tmp_path: Path
) -> None:
    old_team = await fetch_team(web.base, "demo-skole")
    # A conversation from before the rotation.
    y_old, before = await youth_start(web.base, "demo-skole")
    assert before.keys and before.keys.epoch == old_team.statement.epoch

    # The admin removes demo.lead: a new epoch, sealed only to the remaining members.
    r = aioredis.from_url(redis_url, decode_responses=True)
    # The rotated key file goes to this test's own folder: the shared data folder's file must stay
    # at the epoch every later web process of the session starts from.
    admin = teamadmin.AdminKeys.load(web_data_dir / "team-keys" / "demo-skole.json")
    new_epoch = await teamadmin.remove_member(admin, TeamKeys(r), "demo.lead")
    admin.save(tmp_path / "demo-skole.json")
    await r.aclose()
    assert new_epoch == old_team.statement.epoch + 1

    # A youth whose page still had the old statement is told to reload.
    stale = YouthCrypto.create(old_team)
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await c.send({"type": "start", "service": "demo-skole", "key_bundle": stale.bundle_b64,
                  "epoch": stale.epoch})
    assert (await c.expect("error"))["code"] == "e2e_stale_epoch"
    await c.close()

    # A new conversation is sealed to the new epoch.
    y_new, after = await youth_start(web.base, "demo-skole")
    assert after.keys and after.keys.epoch == new_epoch

    _, lead = await nurse_keys(web.base, "demo.lead")
    assert new_epoch not in lead.team_keys["demo-skole"]
    with pytest.raises(crypto.E2EError):
        lead.open_conversation("demo-skole", after.conversation, after.keys.bundle_b64)

    cookie, nurse = await nurse_keys(web.base, "demo.nurse")
    nurse.open_conversation("demo-skole", after.conversation, after.keys.bundle_b64)

    # The remaining nurse's client re-seals the old, still open conversation to the new epoch.
    n = await nurse_connect(web.base, cookie)
    bundle, epoch = nurse.reseal("demo-skole", before.keys.bundle_b64)
    await n.send({"type": "rekey", "conversation": before.conversation, "key_bundle": bundle,
                  "epoch": epoch})
    assert (await n.expect("rekeyed"))["epoch"] == new_epoch
    # Re-sealing to an epoch that is not current is refused.
    await n.send({"type": "rekey", "conversation": before.conversation, "key_bundle": bundle,
                  "epoch": new_epoch - 1})
    assert (await n.expect("error"))["code"] == "e2e_stale_epoch"
    # The stored bundle now opens with the new epoch's key alone, and still not for the lead.
    await n.send({"type": "open", "conversation": before.conversation})
    state = await n.expect("state", where=lambda f: f["conversation"] == before.conversation)
    assert state["epoch"] == new_epoch
    only_new = NurseCrypto(nurse.device, nurse.teams,
                           {"demo-skole": {new_epoch: nurse.team_keys["demo-skole"][new_epoch]}})
    only_new.open_conversation("demo-skole", before.conversation, state["key_bundle"])
    with pytest.raises(crypto.E2EError):
        lead.open_conversation("demo-skole", before.conversation, state["key_bundle"])
    # And the youth's next message (same conversation key) is readable to the team.
    await y_old.send({"type": "send", "cmid": "afterrotation",
                      "body": before.keys.seal("etter rotasjonen")})
    got = await n.expect("deliver", where=lambda f: f["cmid"] == "afterrotation")
    assert only_new.open(before.conversation, got["body"]) == "etter rotasjonen"
    # The nurse answers under the new epoch; the youth learns it from the verified statement.
    await n.send({"type": "claim", "conversation": before.conversation})
    await n.expect("claimed")
    await n.send({"type": "send", "conversation": before.conversation, "cmid": "nurseepoch2",
                  "body": only_new.seal(before.conversation, "svar under ny epoke")})
    got = await y_old.expect("deliver", where=lambda f: f["cmid"] == "nurseepoch2")
    with pytest.raises(crypto.E2EError):
        before.keys.open(got["body"])
    before.keys.learn_team(await fetch_team(web.base, "demo-skole"))
    assert before.keys.open(got["body"]) == "svar under ny epoke"
    for x in (y_old, y_new, n):
        await x.close()
