"""The jobs runner: one process per round runs each job, through a lease in Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from chat.jobs.runner import Runner, lease_ms
from chat.store import names as keys
from chat.store.leases import LeaseStore
from chat.store.lua import Scripts


class Counting:
    name = "test-job"
    interval = 0.2

    def __init__(self, fail: bool = False) -> None:
        self.runs = 0
        self.fail = fail

    async def run(self) -> None:
        self.runs += 1
        await asyncio.sleep(0)  # let the other runner try meanwhile
        if self.fail:
            raise RuntimeError("boom")


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[list[aioredis.Redis]]:
    out = [aioredis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    yield out
    for c in out:
        await c.aclose()


def runner(client: aioredis.Redis, job: Counting) -> Runner:
    return Runner(LeaseStore(client, Scripts(client)), [job])


async def test_two_runners_run_a_round_once(clients: list[aioredis.Redis]) -> None:
    a, b = Counting(), Counting()
    ra, rb = runner(clients[0], a), runner(clients[1], b)
    ran = await asyncio.gather(ra.round(a), rb.round(b))
    assert sorted(ran) == [False, True] and a.runs + b.runs == 1
    # Within the round the lease stays with the one that ran it.
    assert await asyncio.gather(ra.round(a), rb.round(b)) == [False, False]
    assert a.runs + b.runs == 1


async def test_an_expired_lease_hands_over_and_only_the_holder_releases(
    clients: list[aioredis.Redis],
) -> None:
    a, b = Counting(), Counting()
    ra, rb = runner(clients[0], a), runner(clients[1], b)
    assert await ra.round(a)
    # The other runner cannot release or renew a lease it does not hold.
    assert not await rb.leases.release(a.name, rb.token)
    assert not await rb.leases.renew(a.name, rb.token, 10_000)
    assert await clients[0].get(keys.lease(a.name)) == ra.token
    # The holder dies without giving the lease up: it expires, and the other takes over.
    ttl = await clients[0].pttl(keys.lease(a.name))
    assert 0 < ttl <= lease_ms(a.interval)
    await clients[0].pexpire(keys.lease(a.name), 1)  # (what the passing of time does)
    while await clients[0].exists(keys.lease(a.name)):
        await asyncio.sleep(0.01)
    assert await rb.round(b)
    assert (a.runs, b.runs) == (1, 1)
    await rb.stop()  # gives its lease up
    assert not await clients[0].exists(keys.lease(a.name))


async def test_a_failing_round_is_logged_once_and_retried(
    clients: list[aioredis.Redis], caplog: pytest.LogCaptureFixture,
) -> None:
    job = Counting(fail=True)
    r = runner(clients[0], job)
    with caplog.at_level(logging.WARNING, logger="helseprat.jobs"):
        for _ in range(3):
            assert not await r.round(job)
            await clients[0].delete(keys.lease(job.name))  # the next round
    assert job.runs == 3
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert len(tracebacks) == 1 and len(caplog.records) == 3
    job.fail = False
    assert await r.round(job)


async def test_started_runners_share_the_rounds(clients: list[aioredis.Redis]) -> None:
    a, b = Counting(), Counting()
    ra, rb = runner(clients[0], a), runner(clients[1], b)
    ra.start()
    rb.start()
    while a.runs + b.runs < 3:
        await asyncio.sleep(0.05)
    await ra.stop()
    await rb.stop()
    assert a.runs + b.runs >= 3
