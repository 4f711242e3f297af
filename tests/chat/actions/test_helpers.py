"""A colleague asked in, against a real Redis and a real Redis Cluster (no web server): the
places live under the conversation's hash tag, the append lets a joined helper write only in
the holder's tenure, and every move of the holder ends it."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.store import names as keys
from tests.chat.actions.test_moves import code_of, start
from tests.chat.conftest import NURSE_A, NURSE_B, NURSE_C


@pytest.fixture(params=["one", pytest.param("cluster", marks=pytest.mark.cluster)])
def setup(request: pytest.FixtureRequest) -> tuple[Actions, aioredis.Redis]:
    if request.param == "cluster":
        return request.getfixturevalue("cluster_actions"), request.getfixturevalue("cluster_r")
    return request.getfixturevalue("actions"), request.getfixturevalue("r")


async def write(actions: Actions, cid: str, who: str, cmid: str) -> str:
    conv = await actions.fresh(cid)
    return await code_of(actions.send(conv, "nurse", who, cmid, "Ym9keQ==", writer=who))


async def test_join_write_leave_and_the_lines_in_the_log(
    setup: tuple[Actions, aioredis.Redis],
) -> None:
    actions, r = setup
    cid = await start(actions)
    await actions.claim(NURSE_A, cid)
    assert await code_of(actions.join(NURSE_B, cid)) == "not_authorized"  # not asked
    assert await code_of(actions.invite(NURSE_B, cid, "nurse.a")) == "not_authorized"
    assert await code_of(actions.invite(NURSE_A, cid, "nurse.c")) == "bad_invite"
    await actions.invite(NURSE_A, cid, "nurse.b")
    assert (await actions.fresh(cid)).invited == ("nurse.b",)
    assert await code_of(actions.join(NURSE_C, cid)) == "not_authorized"  # another service
    assert await write(actions, cid, "nurse.b", "before01") == "not_authorized"
    conv = await actions.join(NURSE_B, cid)
    assert (conv.helpers, conv.invited, conv.nurse) == (("nurse.b",), (), "nurse.a")
    assert await write(actions, cid, "nurse.b", "helper01") == ""
    assert await write(actions, cid, "nurse.a", "holder01") == ""
    await actions.leave(NURSE_B, cid)
    assert await write(actions, cid, "nurse.b", "helper02") == "not_authorized"
    assert await code_of(actions.leave(NURSE_B, cid)) == "not_authorized"
    log = [(f["r"], f["c"], f["s"]) for _, f in await r.xrange(keys.log(cid))]
    assert log == [("system", "helper_joined", "Nurse B"), ("nurse", "helper01", "nurse.b"),
                   ("nurse", "holder01", "nurse.a"), ("system", "helper_left", "Nurse B")]
    assert (await actions.fresh(cid)).seq == 4
    audit = [(f["a"], f["x"], f["c"]) for _, f in await r.xrange(keys.audit("core-a"))
             if f["x"] in ("invite", "join", "leave")]
    assert audit == [("nurse.a", "invite", cid[:6]), ("nurse.b", "join", cid[:6]),
                     ("nurse.b", "leave", cid[:6])]


@pytest.mark.parametrize("move", ["release", "transfer", "park", "close"])
async def test_the_holders_moves_end_the_helpers_place(
    setup: tuple[Actions, aioredis.Redis], move: str,
) -> None:
    actions, r = setup
    cid = await start(actions)
    await actions.claim(NURSE_A, cid)
    await actions.invite(NURSE_A, cid, "nurse.b")
    await actions.join(NURSE_B, cid)
    assert await r.hgetall(keys.nurse_helping("nurse.b")) == {cid: "1"}
    if move == "release":
        await actions.release(NURSE_A, cid)
    elif move == "transfer":
        await actions.transfer(NURSE_A, cid, "core-b", "", "", 0, "")
    elif move == "park":
        await actions.park_later(NURSE_A, cid)
    else:
        await actions.close(NURSE_A, cid, "other")
    assert not [f for f in await r.hgetall(keys.meta(cid)) if f.startswith(("h:", "i:"))]
    assert await r.hgetall(keys.nurse_helping("nurse.b")) == {}
    assert await write(actions, cid, "nurse.b", "after001") in ("not_authorized",
                                                                "conversation_closed")
    removed = [f["d"] for _, f in await r.xrange(keys.audit("core-a"))
               if (f["a"], f["x"]) == ("nurse.b", "leave")]
    assert len(removed) == 1 and removed[0].startswith("removed: ")


async def test_an_invitation_of_an_ended_tenure_does_not_let_anyone_in(
    setup: tuple[Actions, aioredis.Redis],
) -> None:
    actions, r = setup
    cid = await start(actions)
    await actions.claim(NURSE_A, cid)
    await actions.invite(NURSE_A, cid, "nurse.b")
    await actions.transfer(NURSE_A, cid, "", "nurse.b", "", 0, "")  # she has it now herself
    assert await actions.invitations(NURSE_B) == []
    assert await code_of(actions.join(NURSE_A, cid)) == "not_authorized"
    # A place left from an ended tenure (the clearing lost) counts for nothing: the tenure is
    # in its value.
    await r.hset(keys.meta(cid), "h:nurse.a", "nurse.a 1")
    assert await write(actions, cid, "nurse.a", "stale001") == "not_authorized"
    assert (await actions.fresh(cid)).helpers == ()
