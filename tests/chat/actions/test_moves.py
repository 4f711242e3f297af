"""The actions against a real Redis (no web server): each move leaves the conversation, the
queue, the active set and the nurses' slots consistent, and publishes only what is stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.config import Config
from chat.errors import ClientError
from chat.jobs.autoclose import sweep
from chat.store import names as keys
from chat.store.conversations import Store
from tests.chat.conftest import NURSE_A, NURSE_B, NURSE_C


async def start(actions: Actions, service: str = "core-a") -> str:
    return (await actions.start(service, "", 0, None, "client")).conversation


async def where(r: aioredis.Redis, cid: str, service: str = "core-a") -> dict[str, object]:
    """Everything that says where a conversation is."""
    return {
        "st": await r.hget(keys.meta(cid), "st"),
        "nurse": await r.hget(keys.meta(cid), "nurse") or "",
        "queued": await r.zscore(keys.queue(service), cid) is not None,
        "active": await r.zscore(keys.active(service), cid) is not None,
        "slots": [u for u in ("nurse.a", "nurse.b", "nurse.c")
                  if await r.sismember(keys.nurse_open(u), cid)],
    }


async def code_of(aw: Awaitable[object]) -> str:
    try:
        await aw
    except ClientError as exc:
        return exc.code
    return ""


async def test_start_queues_and_claim_moves_everything_at_once(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    cid = await start(actions)
    assert await where(r, cid) == {"st": "waiting", "nurse": "", "queued": True,
                                   "active": False, "slots": []}
    clock.advance(42)
    conv = await actions.claim(NURSE_A, cid)
    assert (conv.state, conv.nurse) == ("active", "nurse.a")
    assert await where(r, cid) == {"st": "active", "nurse": "nurse.a", "queued": False,
                                   "active": True, "slots": ["nurse.a"]}
    assert await r.lrange(keys.recent_waits("core-a"), 0, -1) == ["42"]
    assert await code_of(actions.claim(NURSE_B, cid)) == "already_claimed"
    assert await where(r, cid) == {"st": "active", "nurse": "nurse.a", "queued": False,
                                   "active": True, "slots": ["nurse.a"]}


async def test_losers_of_a_claim_race_get_already_claimed_and_no_slot(
    core_config: Config, redis_url: str, clock: FakeClock,
) -> None:
    clients = [aioredis.from_url(redis_url, decode_responses=True) for _ in range(6)]
    racers = [Actions(core_config, Store(c, clock), clock) for c in clients]
    try:
        cid = await start(racers[0])
        nurses = [NURSE_A, NURSE_B] * 3
        codes = await asyncio.gather(*(code_of(a.claim(n, cid))
                                       for a, n in zip(racers, nurses, strict=True)))
        assert sorted(codes) == ["", *["already_claimed"] * 5]
        state = await where(clients[0], cid)
        assert state["st"] == "active" and not state["queued"] and state["active"]
        assert state["slots"] == [state["nurse"]]
    finally:
        for c in clients:
            await c.aclose()


async def test_a_full_nurse_cannot_claim_and_the_conversation_stays_queued(
    actions: Actions, r: aioredis.Redis,
) -> None:
    for _ in range(2):
        await actions.claim(NURSE_A, await start(actions))
    cid = await start(actions)
    assert await code_of(actions.claim(NURSE_A, cid)) == "capacity_reached"
    assert await where(r, cid) == {"st": "waiting", "nurse": "", "queued": True,
                                   "active": False, "slots": []}
    await actions.claim(NURSE_B, cid)  # another nurse still can


async def test_release_puts_it_back_at_its_place(actions: Actions, r: aioredis.Redis) -> None:
    cid = await start(actions)
    since = await r.zscore(keys.queue("core-a"), cid)
    await actions.claim(NURSE_A, cid)
    assert await code_of(actions.release(NURSE_B, cid)) == "not_authorized"
    await actions.release(NURSE_A, cid)
    assert await where(r, cid) == {"st": "waiting", "nurse": "", "queued": True,
                                   "active": False, "slots": []}
    assert await r.zscore(keys.queue("core-a"), cid) == since
    assert await code_of(actions.release(NURSE_A, cid)) == "not_authorized"


async def test_transfer_to_a_colleague_and_to_another_service(
    actions: Actions, r: aioredis.Redis,
) -> None:
    cid = await start(actions)
    await actions.claim(NURSE_A, cid)
    conv = await actions.transfer(NURSE_A, cid, "", "nurse.b", "", 0, "")
    assert (conv.state, conv.nurse) == ("active", "nurse.b")
    assert await where(r, cid) == {"st": "active", "nurse": "nurse.b", "queued": False,
                                   "active": True, "slots": ["nurse.b"]}
    assert await r.lrange(keys.nurse_inbox("nurse.b"), 0, -1) == [cid]
    assert await code_of(actions.transfer(NURSE_A, cid, "core-b", "", "", 0, "")) \
        == "not_authorized"
    conv = await actions.transfer(NURSE_B, cid, "core-b", "", "", 0, "")
    assert (conv.state, conv.service, conv.history) == ("waiting", "core-b", "core-a:0")
    assert await where(r, cid, "core-a") == {"st": "waiting", "nurse": "", "queued": False,
                                             "active": False, "slots": []}
    assert (await where(r, cid, "core-b"))["queued"]
    conv = await actions.claim(NURSE_C, cid)
    assert await where(r, cid, "core-b") == {"st": "active", "nurse": "nurse.c",
                                             "queued": False, "active": True,
                                             "slots": ["nurse.c"]}


async def test_transfer_to_a_full_colleague_is_refused_and_changes_nothing(
    actions: Actions, r: aioredis.Redis,
) -> None:
    for _ in range(2):
        await actions.claim(NURSE_B, await start(actions))
    cid = await start(actions)
    await actions.claim(NURSE_A, cid)
    assert await code_of(actions.transfer(NURSE_A, cid, "", "nurse.b", "", 0, "")) \
        == "capacity_reached"
    assert await where(r, cid) == {"st": "active", "nurse": "nurse.a", "queued": False,
                                   "active": True, "slots": ["nurse.a"]}


async def test_close_by_nurse_and_by_youth(actions: Actions, r: aioredis.Redis) -> None:
    gone = {"st": "closed", "nurse": "", "queued": False, "active": False, "slots": []}
    cid = await start(actions)
    conv = await actions.claim(NURSE_A, cid)
    assert await code_of(actions.close(NURSE_B, cid, "other")) == "not_authorized"
    assert await code_of(actions.close(NURSE_A, cid, "no-such-outcome")) == "bad_outcome"
    await actions.close(NURSE_A, cid, "other")
    assert {**await where(r, cid), "nurse": ""} == gone
    assert await r.hget(keys.meta(cid), "outcome") == "other"
    await actions.close(NURSE_A, cid, "other")  # closing what is closed is no error
    await actions.end_by_youth(conv)

    s = await actions.start("core-a", "", 0, None, "client")  # ends while waiting
    waiting = s.conversation
    await actions.end_by_youth(await actions.authenticate(waiting, s.token))
    assert await where(r, waiting) == gone

    # The youth's view of the conversation is from before the claim: the holder's slot is
    # still freed (the close reads it again when it changed hands).
    s = await actions.start("core-a", "", 0, None, "client")
    cid = s.conversation
    seen = await actions.authenticate(cid, s.token)
    await actions.claim(NURSE_A, cid)
    await actions.end_by_youth(seen)
    assert {**await where(r, cid), "nurse": ""} == gone
    assert await r.hget(keys.meta(cid), "outcome") == "youth_ended"


async def test_auto_close_frees_the_slot_and_the_active_set(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    cid = await start(actions)
    await actions.claim(NURSE_A, cid)
    clock.advance(3 * 3600)
    result = await sweep(actions)
    assert result.closed == (cid,)
    assert {**await where(r, cid), "nurse": ""} == {
        "st": "closed", "nurse": "", "queued": False, "active": False, "slots": []}
    assert await r.hget(keys.meta(cid), "outcome") == "inactive"
    assert (await sweep(actions)).closed == ()


@pytest.mark.parametrize("move", ["claim", "release", "close", "transfer"])
async def test_events_are_published_after_the_change_is_stored(
    actions: Actions, r: aioredis.Redis, redis_url: str, move: str,
) -> None:
    cid = await start(actions)
    if move != "claim":
        await actions.claim(NURSE_A, cid)
    expect = {"claim": "active", "release": "waiting", "close": "closed",
              "transfer": "waiting"}[move]
    seen: list[tuple[str, object, bool]] = []
    listener = aioredis.from_url(redis_url, decode_responses=True)
    reader = aioredis.from_url(redis_url, decode_responses=True)
    pubsub = listener.pubsub()
    await pubsub.subscribe(keys.conversation_channel(cid))
    await pubsub.get_message(timeout=1.0)  # the subscribe confirmation

    async def listen() -> None:
        while True:
            m = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if m is None:
                continue
            frame = json.loads(m["data"].split(" ", 1)[1])
            if frame.get("type") == "state":
                # What Redis holds at the moment the event arrives.
                seen.append((frame["state"], await reader.hget(keys.meta(cid), "st"),
                             await reader.zscore(keys.queue("core-b" if move == "transfer"
                                                            else "core-a"), cid) is not None))
                return

    task = asyncio.create_task(listen())
    await asyncio.sleep(0)
    if move == "claim":
        await actions.claim(NURSE_A, cid)
    elif move == "release":
        await actions.release(NURSE_A, cid)
    elif move == "close":
        await actions.close(NURSE_A, cid, "other")
    else:
        await actions.transfer(NURSE_A, cid, "core-b", "", "", 0, "")
    await asyncio.wait_for(task, 10)
    assert seen == [(expect, expect, expect == "waiting")]
    await pubsub.aclose()
    await listener.aclose()
    await reader.aclose()


async def test_starts_within_one_second_keep_their_order_in_the_queue(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    started = []
    for _ in range(12):  # all within the same whole second of the clock
        started.append(await start(actions))
        clock.advance(0.05)
    assert await r.zrange(keys.queue("core-a"), 0, -1) == started
