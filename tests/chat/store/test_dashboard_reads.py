"""What every dashboard reads on every change of its service's queue (the nurse's load, her
inbox, her invitations, who she helps) and on every conversation it opens (its notes, names),
against a real Redis: the right answers, and the reads of many dashboards in one loop turn
leave as one pipeline. A service with many dashboards open made three round trips per
dashboard per change (docs/benchmarks.md, the reconnect storm)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from chat.store import names as keys
from chat.store.breaks import BreakStore
from chat.store.coalesce import Coalescer
from chat.store.dashboard import DashboardStore
from chat.store.helpers import HelperStore
from chat.store.lean import LeanPipeline
from chat.store.lua import Scripts
from chat.web.runtime import make_redis

NURSES = [f"nurse{i}" for i in range(12)]


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    c = make_redis(redis_url)
    for i, u in enumerate(NURSES):
        await c.hset(keys.nurse(u), mapping={"name": f"Sykepleier {i}"})
        if i % 3 == 0:
            await c.set(keys.nurse_break(u), "1", ex=600)
        if i % 2 == 0:
            await c.sadd(keys.nurse_open(u), *(f"c{i}-{k}" for k in range(i + 1)))
            await c.rpush(keys.nurse_inbox(u), f"handed-{i}")
            await c.hset(keys.nurse_invites(u), mapping={f"inv-{i}": "nurse1"})
            await c.hset(keys.nurse_helping(u), mapping={f"help-{i}": "1"})
    await c.xadd(keys.notes("c0-0"), {"s": "Sykepleier 0", "b": "sealed"})
    yield c
    await c.aclose()


def expected(i: int) -> dict[str, Any]:
    even = i % 2 == 0
    return {"load": (i + 1 if even else 0, i % 3 == 0),
            "inbox": [f"handed-{i}"] if even else [],
            "invites": {f"inv-{i}": "nurse1"} if even else {},
            "helping": [f"help-{i}"] if even else []}


async def test_many_dashboards_reads_in_one_turn_are_one_pipeline(client: aioredis.Redis) -> None:
    made: list[Pipeline] = []

    def pipeline(redis: aioredis.Redis) -> Pipeline:
        made.append(LeanPipeline.of(redis))
        return made[-1]

    reads = Coalescer(client, pipeline=pipeline)
    breaks, board = BreakStore(client, reads), DashboardStore(client, reads)
    helpers = HelperStore(client, Scripts(client), sharded=False, reads=reads)

    async def one_dashboard(u: str) -> dict[str, Any]:
        load, inbox, invites, helping = await asyncio.gather(
            breaks.load(u), board.take_inbox(u), helpers.invitations(u), helpers.helping(u))
        return {"load": load, "inbox": inbox, "invites": invites, "helping": helping}

    got = await asyncio.gather(*(one_dashboard(u) for u in NURSES))
    assert got == [expected(i) for i in range(len(NURSES))]
    # Every read of the twelve dashboards in one pipeline; only the inbox's removals (the
    # even nurses had one handed over each) went on their own.
    assert len(made) == 1
    assert await client.exists(*(keys.nurse_inbox(u) for u in NURSES)) == 0

    made.clear()
    names, notes = await asyncio.gather(board.display_names(set(NURSES[:3])),
                                        board.notes("c0-0"))
    assert names == {u: f"Sykepleier {i}" for i, u in enumerate(NURSES[:3])}
    assert [f["b"] for _, f in notes] == ["sealed"]
    assert len(made) == 1
