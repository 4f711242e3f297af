"""Authorization that only the server can hold, over real sockets (one web process for the
module): transfers stay inside the municipality, and only the holder (or a lead) re-keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from chat import crypto
from chat.client.e2e import NurseCrypto, fetch_nurse_keys, fetch_team
from chat.client.protocol import youth_start
from chat.store import names as keys
from chat.store.audit import CONVERSATION_REF
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.authz_fixtures import write_authz_config
from tests.chat.web.dashboard_fixtures import claimed, nurse_ws
from tests.conftest import DEMO_PASSWORD, start_clean_web


@pytest.fixture(scope="module")
def authz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("authz")
    write_authz_config(d)
    return d


@pytest.fixture(scope="module")
async def aweb(redis_proc: RedisProcess, authz_dir: Path) -> AsyncIterator[WebProcess]:
    proc = await start_clean_web(redis_proc.url, authz_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


async def resealed_for(base: str, cookie: str, state: dict[str, Any], service: str,
                       to_service: str) -> tuple[str, int]:
    """The conversation key re-sealed to ``to_service``'s team, as the sender's browser does."""
    mine = NurseCrypto.from_keys_json(await fetch_nurse_keys(base, cookie), DEMO_PASSWORD)
    target = await fetch_team(base, to_service)
    bundle = crypto.decode_key_bundle(crypto.b64decode(state["key_bundle"]))
    opened = crypto.open_key_bundle_with(bundle, mine.team_keys[service])
    new = crypto.make_key_bundle(opened.ck, opened.youth_sign_public_key, target.statement)
    return crypto.b64encode(crypto.encode_key_bundle(new)), target.statement.epoch


async def test_transfer_to_another_municipality_is_refused_and_nothing_moves(
    aweb: WebProcess, r: aioredis.Redis,
) -> None:
    y, s = await youth_start(aweb.base, "az-skole")
    n, cookie = await nurse_ws(aweb.base, "other.nurse")  # staffs a service in each municipality
    state = await claimed(n, s.conversation)
    bundle, epoch = await resealed_for(aweb.base, cookie, state, "az-skole", "az-annen")
    before = await r.hgetall(keys.meta(s.conversation))

    # Re-sealed correctly and named explicitly, as a hand-made client would: still refused,
    # to the receiving service's queue and to the colleague by name alike.
    for target in ({"to_service": "az-annen"},
                   {"to_service": "az-annen", "to_nurse": "other.nurse"}):
        await n.send({"type": "transfer", "conversation": s.conversation, **target,
                      "key_bundle": bundle, "epoch": epoch, "note": state["key_bundle"]})
        answer = await n.expect(("error", "transferred"))
        assert answer.get("code") == "bad_transfer", (target, answer)

    # Nothing moved and nothing was kept: same hash, no queue or active entry over there, no
    # note, no audit entry in the other municipality.
    assert await r.hgetall(keys.meta(s.conversation)) == before
    assert await r.zscore(keys.queue("az-annen"), s.conversation) is None
    assert await r.zscore(keys.active("az-annen"), s.conversation) is None
    assert await r.exists(keys.notes(s.conversation)) == 0
    assert await r.exists(keys.audit("az-annen")) == 0

    # A service of the same municipality is still a fine target.
    bundle, epoch = await resealed_for(aweb.base, cookie, state, "az-skole", "az-hfu")
    await n.send({"type": "transfer", "conversation": s.conversation, "to_service": "az-hfu",
                  "key_bundle": bundle, "epoch": epoch})
    done = await n.expect("transferred")
    assert done["service"] == "az-hfu" and done["state"] == "waiting"
    for c in (y, n):
        await c.close()


async def test_the_dashboard_offers_only_the_services_the_server_accepts(
    aweb: WebProcess,
) -> None:
    n, _ = await nurse_ws(aweb.base, "other.nurse")
    dash = await n.expect("dashboard")
    offered = {s["id"]: s["municipality"] for s in dash["transfer_services"]}
    assert offered == {"az-skole": "demo", "az-hfu": "demo", "az-annen": "annen"}
    await n.close()


async def test_only_the_holder_or_a_lead_replaces_the_key_bundle_of_an_active_conversation(
    aweb: WebProcess, r: aioredis.Redis,
) -> None:
    team = await fetch_team(aweb.base, "az-skole")
    y, s = await youth_start(aweb.base, "az-skole")
    y2, other = await youth_start(aweb.base, "az-skole")
    assert s.keys is not None and other.keys is not None
    forged = other.keys.bundle_b64  # a bundle of a key the youth of `s` never had
    holder, _ = await nurse_ws(aweb.base, "demo.nurse")
    colleague, _ = await nurse_ws(aweb.base, "other.nurse")
    lead, _ = await nurse_ws(aweb.base, "demo.lead")

    # While it waits nobody holds it: a member's client may move it to the current epoch.
    await colleague.send({"type": "rekey", "conversation": other.conversation,
                          "key_bundle": other.keys.bundle_b64, "epoch": team.statement.epoch})
    assert (await colleague.expect("rekeyed"))["conversation"] == other.conversation

    await claimed(holder, s.conversation)
    frame = {"type": "rekey", "conversation": s.conversation, "key_bundle": forged,
             "epoch": team.statement.epoch}
    await colleague.send(frame)
    answer = await colleague.expect(("error", "rekeyed"))
    assert answer.get("code") == "not_authorized", answer
    assert await r.hget(keys.meta(s.conversation), "kb") == s.keys.bundle_b64

    # The holder and a lead of the service may (the lead's is audited like every re-key).
    for nurse in (holder, lead):
        await nurse.send({**frame, "key_bundle": s.keys.bundle_b64})
        assert (await nurse.expect("rekeyed"))["conversation"] == s.conversation
    assert await r.hget(keys.meta(s.conversation), "kb") == s.keys.bundle_b64
    entries = await r.xrange(keys.audit("az-skole"))
    rekeys = [f["a"] for _, f in entries if f.get("x") == "rekey" and f.get("c") == s.conversation[:CONVERSATION_REF]]
    assert rekeys == ["demo.nurse", "demo.lead"]
    for c in (y, y2, holder, colleague, lead):
        await c.close()
