"""A colleague asked into a conversation, over real sockets: invite, join, write, leave, and
what the holder's moves do to her place (chat/actions/helpers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from chat.client.e2e import NurseCrypto, fetch_nurse_keys
from chat.client.protocol import ProtocolClient, YouthSession, youth_start
from chat.store import names as keys
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import claimed, nurse_ws, write_dash_config
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.waiting import until

LEAD = "Demo Leder"  # demo.lead's display name (tests/conftest.py)


@pytest.fixture(scope="module")
def helpers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("helpers")
    write_dash_config(d)
    return d


@pytest.fixture(scope="module")
async def hweb(redis_proc: RedisProcess, helpers_dir: Path) -> AsyncIterator[WebProcess]:
    proc = await start_clean_web(redis_proc.url, helpers_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


async def _nurse(base: str, user: str) -> tuple[ProtocolClient, NurseCrypto]:
    n, cookie = await nurse_ws(base, user)
    return n, NurseCrypto.from_keys_json(await fetch_nurse_keys(base, cookie), DEMO_PASSWORD)


async def _held(base: str) -> tuple[ProtocolClient, YouthSession, ProtocolClient, NurseCrypto]:
    """A youth's conversation of dash-skole that demo.nurse has claimed."""
    y, s = await youth_start(base, "dash-skole")
    n, mine = await _nurse(base, "demo.nurse")
    state = await claimed(n, s.conversation)
    mine.open_conversation("dash-skole", s.conversation, state["key_bundle"])
    await y.expect("state", where=lambda f: f["state"] == "active")
    return y, s, n, mine


async def _joined(base: str, n: ProtocolClient, cid: str) -> tuple[ProtocolClient, NurseCrypto,
                                                                   dict[str, Any]]:
    await n.send({"type": "invite", "conversation": cid, "nurse": "demo.lead"})
    await n.expect("invite_sent", where=lambda f: f["conversation"] == cid)
    lead, theirs = await _nurse(base, "demo.lead")
    await lead.expect("invited", where=lambda f: f["conversation"] == cid)
    await lead.send({"type": "join", "conversation": cid})
    state = await lead.expect("state", where=lambda f: f["conversation"] == cid)
    theirs.open_conversation("dash-skole", cid, state["key_bundle"])
    await lead.expect("history_end", where=lambda f: f["conversation"] == cid)
    return lead, theirs, state


def _send(cid: str, cmid: str, crypto: NurseCrypto, text: str) -> dict[str, Any]:
    return {"type": "send", "conversation": cid, "cmid": cmid, "body": crypto.seal(cid, text)}


async def test_invite_join_write_leave_and_the_audit(hweb: WebProcess, r: aioredis.Redis) -> None:
    y, s, n, mine = await _held(hweb.base)
    cid = s.conversation
    assert s.keys is not None
    await y.send({"type": "send", "cmid": "helpyouth01", "body": s.keys.seal("kan du hjelpe?")})
    await y.expect("ack")

    # Not yet asked: the lead can read (a member of the service) but not write, nor join.
    lead, theirs = await _nurse(hweb.base, "demo.lead")
    await lead.send({"type": "join", "conversation": cid})
    assert (await lead.expect("error"))["code"] == "not_authorized"
    await lead.send({"type": "open", "conversation": cid})
    state = await lead.expect("state", where=lambda f: f["conversation"] == cid)
    assert "helping" not in state
    theirs.open_conversation("dash-skole", cid, state["key_bundle"])
    await lead.expect("history_end")
    await lead.send(_send(cid, "helplead00", theirs, "for tidlig"))
    assert (await lead.expect("error"))["code"] == "not_authorized"

    # Only the holder asks, only a colleague of the service, never herself.
    await lead.send({"type": "invite", "conversation": cid, "nurse": "demo.lead"})
    assert (await lead.expect("error"))["code"] == "bad_invite"
    await lead.send({"type": "invite", "conversation": cid, "nurse": "demo.nurse"})
    assert (await lead.expect("error"))["code"] == "not_authorized"
    for who in ("other.nurse", "demo.nurse", "nobody.here"):
        await n.send({"type": "invite", "conversation": cid, "nurse": who})
        assert (await n.expect("error"))["code"] == "bad_invite", who
    await n.send({"type": "invite", "conversation": cid, "nurse": "demo.lead"})
    await n.expect("invite_sent")
    invited = await lead.expect("invited")
    assert invited == {"v": 1, "type": "invited", "conversation": cid, "service": "dash-skole",
                       "by": "Demo Helsesykepleier"}

    # A nurse of another service cannot join, invited or not.
    other, _ = await _nurse(hweb.base, "other.nurse")
    await other.send({"type": "join", "conversation": cid})
    assert (await other.expect("error"))["code"] == "not_authorized"

    # She joins: her state says so, and everyone sees the line with her name.
    await lead.send({"type": "join", "conversation": cid})
    state = await lead.expect("state", where=lambda f: f["conversation"] == cid)
    assert state["helping"] is True and state["helpers"] == [LEAD]
    assert state["nurse"] == "demo.nurse"  # the holder keeps it
    line = await y.expect("deliver", where=lambda f: f["from"] == "system")
    assert (line["cmid"], line["sender"], line["body"]) == ("helper_joined", LEAD, "")
    seen = await n.expect("deliver", where=lambda f: f["from"] == "system")
    assert seen["seq"] == line["seq"]

    # She writes; the youth reads it with her name, the holder too.
    await lead.send(_send(cid, "helplead01", theirs, "hei, jeg er lederen"))
    ack = await lead.expect("ack")
    assert ack["seq"] == line["seq"] + 1
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    assert got["sender"] == LEAD and s.keys.open(got["body"]) == "hei, jeg er lederen"
    held = await n.expect("deliver", where=lambda f: f["cmid"] == "helplead01")
    assert mine.open(cid, held["body"]) == "hei, jeg er lederen"
    # The holder still writes, and typing from the helper reaches the youth.
    await n.send(_send(cid, "helpnurse01", mine, "takk"))
    await n.expect("ack")
    await lead.send({"type": "typing", "conversation": cid})
    assert (await y.expect("typing"))["from"] == "nurse"

    # Her dashboard reloaded: the conversation is among her open ones again.
    again, _ = await nurse_ws(hweb.base, "demo.lead")
    assert cid in next(f for f in again.seen if f["type"] == "hello")["open"]
    await again.send({"type": "open", "conversation": cid})
    assert (await again.expect("state", where=lambda f: f["conversation"] == cid))["helping"]
    await again.close()

    # She leaves: the line, then she can no longer write.
    await lead.send({"type": "leave", "conversation": cid})
    await lead.expect("left", where=lambda f: f["conversation"] == cid)
    gone = await y.expect("deliver", where=lambda f: f["from"] == "system")
    assert (gone["cmid"], gone["sender"]) == ("helper_left", LEAD)
    await lead.send(_send(cid, "helplead02", theirs, "en til"))
    assert (await lead.expect("error"))["code"] == "not_authorized"
    await lead.send({"type": "leave", "conversation": cid})
    assert (await lead.expect("error"))["code"] == "not_authorized"
    again, _ = await nurse_ws(hweb.base, "demo.lead")
    assert cid not in next(f for f in again.seen if f["type"] == "hello")["open"]
    await again.close()

    # A reload of the youth's page: both lines are in the history, in their places.
    y2 = await ProtocolClient.open(hweb.base.replace("http", "ws") + "/ws/youth")
    await y2.send({"type": "resume", "conversation": cid, "token": s.token, "after": 0})
    history = [await y2.expect("deliver") for _ in range(5)]
    assert [(f["from"], f["cmid"]) for f in history] == [
        ("youth", "helpyouth01"), ("system", "helper_joined"), ("nurse", "helplead01"),
        ("nurse", "helpnurse01"), ("system", "helper_left")]

    # Audited: who, and the conversation's 6-character reference only.
    entries = [e[1] for e in await r.xrange(keys.audit("dash-skole"))]
    mine_entries = [(e["a"], e["x"]) for e in entries if e["c"] == cid[:6]
                    and e["x"] in ("invite", "join", "leave")]
    assert mine_entries == [("demo.nurse", "invite"), ("demo.lead", "join"),
                            ("demo.lead", "leave")]
    assert not [e for e in entries if cid in str(e)]
    for c in (y, y2, n, lead, other):
        await c.close()


@pytest.mark.parametrize("move", ["close", "release"])
async def test_the_holders_move_removes_the_helpers(hweb: WebProcess, r: aioredis.Redis,
                                                    move: str) -> None:
    y, s, n, _ = await _held(hweb.base)
    cid = s.conversation
    lead, theirs, _ = await _joined(hweb.base, n, cid)
    assert await r.hget(keys.meta(cid), "h:demo.lead")
    # The helper cannot make the holder's moves.
    await lead.send({"type": "release", "conversation": cid})
    assert (await lead.expect("error"))["code"] == "not_authorized"
    await lead.send({"type": "close", "conversation": cid, "outcome": "other"})
    assert (await lead.expect("error"))["code"] == "not_authorized"

    frame = {"type": move, "conversation": cid}
    if move == "close":
        frame["outcome"] = "other"
    await n.send(frame)
    await lead.expect("state", where=lambda f: f["state"] != "active")
    await lead.send(_send(cid, f"helpafter{move}", theirs, "er jeg med?"))
    assert (await lead.expect("error"))["code"] in ("not_authorized", "conversation_closed")

    # The helpers go once the holder's move holds: after the state frame the lead saw.
    async def helpers_gone() -> bool:
        fields = await r.hgetall(keys.meta(cid))
        return not [f for f in fields if f.startswith(("h:", "i:"))]

    async def leave_audited() -> bool:
        entries = [e[1] for e in await r.xrange(keys.audit("dash-skole")) if e[1]["c"] == cid[:6]]
        return ("demo.lead", "leave") in [(e["a"], e["x"]) for e in entries]

    await until(helpers_gone, "the helper fields are removed")
    await until(leave_audited, "the helper's leave is audited")
    if move == "release":
        # Claimed again (a new tenure), the earlier helper is not back in.
        await claimed(n, cid)
        await lead.send(_send(cid, "helpagain01", theirs, "og nå?"))
        assert (await lead.expect("error"))["code"] == "not_authorized"
    for c in (y, n, lead):
        await c.close()


async def test_an_invitation_shows_after_a_reload_and_ends_with_the_tenure(
    hweb: WebProcess, r: aioredis.Redis,
) -> None:
    y, s, n, _ = await _held(hweb.base)
    cid = s.conversation
    await n.send({"type": "invite", "conversation": cid, "nurse": "demo.lead"})
    await n.expect("invite_sent")
    lead, _ = await _nurse(hweb.base, "demo.lead")
    await lead.expect("invited", where=lambda f: f["conversation"] == cid)
    await lead.close()
    lead, _ = await _nurse(hweb.base, "demo.lead")  # her dashboard reloaded
    await lead.expect("invited", where=lambda f: f["conversation"] == cid)
    await n.send({"type": "release", "conversation": cid})
    await n.expect("state", where=lambda f: f["state"] == "waiting")
    await lead.send({"type": "join", "conversation": cid})
    assert (await lead.expect("error"))["code"] == "not_authorized"
    assert not await r.hget(keys.nurse_invites("demo.lead"), cid)
    for c in (y, n, lead):
        await c.close()
