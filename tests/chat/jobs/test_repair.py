"""The repair sweep on a Redis Cluster: a move whose process dies between two of its steps
(every step of every move, in turn) leaves lists that disagree with the conversation's hash;
one round of the sweep, once the grace has passed, makes them agree again — a waiting
conversation back in its queue at its place, a moved or closed one out of the lists, a later
one owing an answer on the answer-later list, a nurse's slot freed — and forgets the move."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.config import Config, load_config
from chat.domain.conversation import State
from chat.domain.placement import Placement
from chat.domain.staff import Nurse
from chat.errors import ClientError
from chat.jobs.repair import GRACE_SECONDS, RepairResult, sweep_repair
from chat.jobs.schedule import all_jobs
from chat.store import names as keys
from chat.store.conversations import Store
from devservices.redis_cluster import RedisCluster
from tests.chat.store.dying import Died, Dies, dying_store
from tests.servers import FAST_LIMITS, write_test_config

pytestmark = pytest.mark.cluster

SERVICES = FAST_LIMITS + """starts_per_client_per_hour = 100000

[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "fix-a"
municipality = "demo"
name = "Reparer A"
members = ["nurse.a", "nurse.b"]
max_chats_per_nurse = 100
outcomes = ["advice_given", "other"]
[service.hours]
daily = "00:00-24:00"

[[service]]
id = "fix-b"
municipality = "demo"
name = "Reparer B"
members = ["nurse.c"]
max_chats_per_nurse = 100
[service.hours]
daily = "00:00-24:00"
"""
SERVICE_IDS = ("fix-a", "fix-b")
NURSE_A = Nurse("nurse.a", "Nurse A", "nurse", frozenset({"fix-a"}))
NURSE_B = Nurse("nurse.b", "Nurse B", "nurse", frozenset({"fix-a"}))
NURSE_C = Nurse("nurse.c", "Nurse C", "nurse", frozenset({"fix-b"}))
NURSES = ("nurse.a", "nurse.b", "nurse.c")


@pytest.fixture
def config(tmp_path: Path, redis_cluster: RedisCluster) -> Config:
    write_test_config(tmp_path, SERVICES, answer_later=True)
    return load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_cluster.url})


@pytest.fixture
def cr(cluster_r: aioredis.Redis) -> aioredis.Redis:
    return cluster_r


async def disagreements(r: aioredis.Redis) -> list[str]:
    """Every way the lists disagree with the hashes (and moves still recorded), by rules
    written out here rather than taken from the code under test."""
    cids: set[str] = set()
    async for key in r.scan_iter(match="c:{*}:m"):
        cids.add(key[3:-3])
    lists = {(svc, kind): keys_of(svc)[kind] for svc in SERVICE_IDS for kind in KINDS}
    members = {name: set(await r.zrange(key, 0, -1)) for name, key in lists.items()
               if not name[1] == "flags"}
    flags = {svc: await r.hgetall(keys.flags(svc)) for svc in SERVICE_IDS}
    slots = {n: set(await r.smembers(keys.nurse_open(n))) for n in NURSES}
    for found in [*members.values(), *slots.values(), *(set(f) for f in flags.values())]:
        cids |= found
    out = [f"{svc}: moves still recorded" for svc in SERVICE_IDS
           if await r.zcard(keys.moves(svc))]
    for cid in sorted(cids):
        h = await r.hgetall(keys.meta(cid))
        st, svc = h.get("st"), h.get("svc")
        for s in SERVICE_IDS:
            here = svc == s
            want = {
                "queue": here and st == State.WAITING,
                "active": here and st == State.ACTIVE,
                "later_all": here and st == State.LATER,
                "later_queue": here and st == State.LATER and bool(h.get("owed")),
            }
            have = {kind: cid in members[(s, kind)] for kind in want}
            have["queue"] = have["queue"] or cid in members[(s, "set_aside")]
            out += [f"{cid} {s} {kind}: {have[kind]}" for kind in want if want[kind] != have[kind]]
            if want["queue"] and cid in members[(s, "queue")]:
                place = int(await r.zscore(keys.queue(s), cid) or 0)
                # Its entry time moved up by its head start (urgency, acute: docs/queue.md).
                entered = int(h.get("queued") or h.get("created") or 0)
                if place != entered - int(h.get("hs") or 0):
                    out.append(f"{cid} {s} queue place {place}")
            flag = h.get("flag", "") if here and st != State.CLOSED else ""
            if flags[s].get(cid, "") != flag:
                out.append(f"{cid} {s} flag")
        for n in NURSES:
            holds = st == State.ACTIVE and h.get("nurse") == n
            if holds != (cid in slots[n]):
                out.append(f"{cid} slot of {n}: {cid in slots[n]}")
    return out


KINDS = ("queue", "set_aside", "active", "later_all", "later_queue", "flags")


def keys_of(svc: str) -> dict[str, str]:
    return {"queue": keys.queue(svc), "set_aside": keys.set_aside(svc),
            "active": keys.active(svc), "later_all": keys.later_all(svc),
            "later_queue": keys.later_queue(svc), "flags": keys.flags(svc)}


async def start(actions: Actions, live: bool = True, service: str = "fix-a") -> str:
    if live:  # a nurse on duty: a live start (else a later start: answer-later)
        await actions.dashboard.duty(NURSE_A if service == "fix-a" else NURSE_C, "c1", True)
    return (await actions.start(service, "", 0, None, "client")).conversation


async def write(actions: Actions, cid: str, nurse: Nurse | None = None, n: int = 1) -> None:
    conv = await actions.store.get(cid)
    assert conv is not None
    role, sender, writer = ("nurse", "N", nurse.username) if nurse else ("youth", "youth", "")
    await actions.send(conv, role, sender, f"msg{n:05d}", "QUJD", writer=writer)


async def claimed(actions: Actions, owed: bool = False, flag: str = "") -> str:
    cid = await start(actions)
    if owed:
        await write(actions, cid)
    await actions.claim(NURSE_A, cid)
    if flag:
        await actions.flag(NURSE_A, cid, flag)
    return cid


async def later_owed(actions: Actions) -> str:
    cid = await start(actions, live=False)
    await write(actions, cid)
    return cid


Setup = Callable[[Actions], Awaitable[str]]
Move = Callable[[Actions, str], Awaitable[object]]


@dataclass(frozen=True)
class Case:
    name: str
    setup: Setup
    move: Move
    recorded: bool = True  # False: an append, not recorded; its lost listing is found at once


async def nothing(actions: Actions) -> str:
    return ""


async def end_by_youth(a: Actions, cid: str) -> None:
    conv = await a.store.get(cid)
    assert conv is not None
    await a.end_by_youth(conv)


async def leave_for_later(a: Actions, cid: str) -> None:
    conv = await a.store.get(cid)
    assert conv is not None
    await a.leave_for_later(conv)


CASES = [
    Case("start", nothing, lambda a, _: start(a)),
    Case("later start", nothing, lambda a, _: start(a, live=False)),
    Case("claim", start, lambda a, cid: a.claim(NURSE_A, cid)),
    Case("claim from later", later_owed, lambda a, cid: a.claim(NURSE_A, cid)),
    Case("close", claimed, lambda a, cid: a.close(NURSE_A, cid, "advice_given")),
    Case("youth ends while waiting", start, end_by_youth),
    Case("release", claimed, lambda a, cid: a.release(NURSE_A, cid)),
    Case("leave for later, owed", lambda a: claimed(a, owed=True), leave_for_later),
    Case("park for later", claimed, lambda a, cid: a.park_later(NURSE_A, cid)),
    Case("transfer to a colleague", claimed,
         lambda a, cid: a.transfer(NURSE_A, cid, "", "nurse.b", "", 0, "")),
    Case("transfer to a colleague of another service", claimed,
         lambda a, cid: a.transfer(NURSE_A, cid, "fix-b", "nurse.c", "", 0, "")),
    Case("transfer to another queue, flagged", lambda a: claimed(a, flag="acute"),
         lambda a, cid: a.transfer(NURSE_A, cid, "fix-b", "", "", 0, "")),
    Case("a youth's message owed in a later conversation",
         lambda a: start(a, live=False), lambda a, cid: write(a, cid, n=2), recorded=False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_move_lost_after_any_step_is_repaired(
    case: Case, config: Config, cr: aioredis.Redis,
) -> None:
    repaired_some = False
    for budget in range(30):
        await cr.flushall()
        clock = FakeClock()
        actions = Actions(config, Store(cr, clock), clock)
        cid = await case.setup(actions)
        assert await disagreements(cr) == [], "the set-up itself must be consistent"
        dying = Actions(config, dying_store(cr, clock, budget), clock)
        try:
            await case.move(dying, cid)
        except Died:
            pass
        else:  # every step ran: each earlier budget stopped it after one more step
            assert await disagreements(cr) == []
            break
        if case.recorded:  # within the grace it is a move under way: left alone
            lost = await disagreements(cr)
            assert not (await sweep_repair(actions)).repaired
            assert await disagreements(cr) == lost
        clock.advance(GRACE_SECONDS + 1)
        result = await sweep_repair(actions)
        assert await disagreements(cr) == [], f"stopped after {budget} steps"
        repaired_some = repaired_some or bool(result.repaired)
    else:
        pytest.fail("the move never completed")
    assert budget > 1 and repaired_some  # the move had steps to lose, and losing one mattered


async def test_a_move_that_begins_during_a_repair_is_left_to_finish(
    config: Config, cr: aioredis.Redis,
) -> None:
    clock = FakeClock()
    store = Store(cr, clock)
    actions = Actions(config, store, clock)
    cid = await start(actions)
    try:  # the claim stops after its record, her slot and the conversation's step
        await Actions(config, dying_store(cr, clock, 3), clock).claim(NURSE_A, cid)
    except Died:
        pass
    clock.advance(GRACE_SECONDS + 1)
    assert store.repairs is not None and store.split is not None
    [lost] = await store.repairs.lost_moves("fix-a", clock.now() - GRACE_SECONDS)
    assert (lost.cid, lost.nurses) == (cid, ("nurse.a",))
    mark = -clock.now()
    assert await store.repairs.mark("fix-a", lost, mark)
    await store.split.records.begin("fix-a", cid, "nurse.b")  # a move begins
    assert await store.repairs.mend("fix-a", cid, mark, Placement(active=int(clock.now()))) == -1
    assert not await store.repairs.finish("fix-a", lost, mark)
    # Nothing was changed for it, and the new move's record is kept.
    assert await cr.zscore(keys.queue("fix-a"), cid) is not None
    assert await cr.zscore(keys.moves("fix-a"), cid) == clock.now()


async def test_a_refused_move_leaves_no_record(config: Config, cr: aioredis.Redis) -> None:
    clock = FakeClock()
    actions = Actions(config, Store(cr, clock), clock)
    cid = await claimed(actions)
    refused = [actions.claim(NURSE_B, cid), actions.release(NURSE_B, cid),
               actions.close(NURSE_B, cid, "other"), actions.park_later(NURSE_B, cid),
               actions.transfer(NURSE_B, cid, "", "nurse.a", "", 0, "")]
    for move in refused:
        with pytest.raises(ClientError):
            await move
    assert await disagreements(cr) == []  # no move recorded, no slot of hers held


async def test_the_sweep_runs_on_a_cluster_only(config: Config, cr: aioredis.Redis) -> None:
    clock = FakeClock()
    on_cluster = Actions(config, Store(cr, clock), clock)
    one_redis = Actions(config, Store(aioredis.Redis(), clock), clock)  # never connected
    assert "repair-sweep" in [job.name for job in all_jobs(on_cluster, test_clock=False)]
    assert "repair-sweep" not in [job.name for job in all_jobs(one_redis, test_clock=False)]
    assert await sweep_repair(one_redis) == RepairResult(())


async def test_two_moves_whose_last_steps_cross_are_checked_by_the_sweep(
    config: Config, cr: aioredis.Redis,
) -> None:
    clock = FakeClock()
    actions = Actions(config, Store(cr, clock), clock)
    cid = await claimed(actions)
    resume = asyncio.Event()
    slow = dying_store(cr, clock, 3, resume)  # her release waits before its last step
    release = asyncio.create_task(Actions(config, slow, clock).release(NURSE_A, cid))
    assert slow.split is not None
    await cast(Dies, slow.split.redis).paused.wait()
    clock.advance(1)
    await end_by_youth(actions, cid)  # the youth ends it meanwhile, every step
    resume.set()
    await release  # ... and then the release puts it back in the queue
    assert await cr.zscore(keys.queue("fix-a"), cid) is not None
    assert await cr.zscore(keys.moves("fix-a"), cid) is not None  # kept: they crossed
    clock.advance(GRACE_SECONDS + 1)
    await sweep_repair(actions)
    assert await disagreements(cr) == []
