"""Acked writes that wait for a replica (HELSEPRAT_REDIS_WAIT_REPLICAS), on one Redis with one
replica: a message is published — so acked and delivered — only once the replica has it; past
the wait's timeout it is acked anyway and counted; a start and a close wait too.

The replica is held still with SIGSTOP (its link stays up, it just does not acknowledge), so
"not yet" is shown by order, not by time: a PING on the subscriber's connection is answered
before any message that was not published yet."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from chat.domain import conversation as model
from chat.domain.conversation import Move, State
from chat.durability import ReplicaWait
from chat.metrics.registry import REDIS_WAIT_SHORT
from chat.protocol import events
from chat.store import names as keys
from chat.store.conversations import AppendResult, Store
from devservices.redis_proc import RedisProcess

LONG = ReplicaWait(replicas=1, timeout_ms=60_000)  # never runs out in a test
SHORT = ReplicaWait(replicas=1, timeout_ms=50)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisProcess, RedisProcess]]:
    primary = RedisProcess(tmp_path_factory.mktemp("primary"))
    replica = RedisProcess(tmp_path_factory.mktemp("replica"))
    primary.start()
    replica.start()
    try:
        asyncio.run(_replicate(primary, replica))
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()


async def _replicate(primary: RedisProcess, replica: RedisProcess) -> None:
    r = aioredis.Redis(port=replica.port, decode_responses=True)
    await r.execute_command("REPLICAOF", "127.0.0.1", str(primary.port))
    for _ in range(200):
        if (await r.info("replication")).get("master_link_status") == "up":
            break
        await asyncio.sleep(0.05)
    await r.aclose()


@pytest.fixture
async def redis(pair: tuple[RedisProcess, RedisProcess]) -> AsyncIterator[aioredis.Redis]:
    # No socket timeout (as the web process's client): a WAIT may take longer than the default.
    client = aioredis.from_url(pair[0].url, decode_responses=True, socket_timeout=None)
    await client.flushall()
    yield client
    await client.aclose()


@contextlib.contextmanager
def held(replica: RedisProcess) -> Iterator[None]:
    """The replica stopped (SIGSTOP): connected, acknowledging nothing."""
    assert replica.proc is not None
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)


def short_waits() -> float:
    return REDIS_WAIT_SHORT._value.get()  # type: ignore[attr-defined, no-any-return]


async def active_conversation(redis: aioredis.Redis, cid: str) -> None:
    await redis.hset(keys.meta(cid), mapping={model.ST: State.ACTIVE, model.SVC: "demo-skole"})


async def append(store: Store, cid: str, cmid: str, text: str = "aGVp") -> int | AppendResult:
    prefix, suffix = events.deliver_template(cid, "youth", "youth", cmid, text, 1)
    return await store.append(cid, cmid, "youth", "youth", text, 1, 3600, prefix, suffix,
                              caps=(1000, 1 << 20), service="demo-skole")


async def warmed(redis: aioredis.Redis, wait: ReplicaWait) -> Store:
    """A store whose scripts the primary has loaded (a NOSCRIPT answer costs a second round:
    with the replica held, the first round's WAIT would hold it up until its timeout)."""
    store = Store(redis, replica_wait=wait)
    await active_conversation(redis, "warm-up")
    await append(store, "warm-up", "warm-up-1")
    await store.scripts.start.redis.script_load(store.scripts.start.source)
    await store.scripts.close.redis.script_load(store.scripts.close.source)
    return store


async def next_message(sub: Any) -> dict[str, Any]:
    """The next message, or the answer to our PING (its parsed form varies in redis-py)."""
    while True:
        msg: dict[str, Any] | None = await sub.get_message(timeout=None)
        if msg is None or msg["type"] == "subscribe":
            continue
        return msg if msg["type"] == "message" else {"type": "pong"}


async def test_a_message_is_published_only_once_the_replica_has_it(
        redis: aioredis.Redis, pair: tuple[RedisProcess, RedisProcess]) -> None:
    store = await warmed(redis, LONG)
    await active_conversation(redis, "c1")
    sub = redis.pubsub()
    await sub.subscribe(keys.conversation_channel("c1"))
    before = short_waits()
    with held(pair[1]):
        sending = asyncio.create_task(append(store, "c1", "first-msg"))
        while not await redis.xlen(keys.log("c1")):  # stored on the primary...
            await asyncio.sleep(0.01)
        await sub.ping()
        assert (await next_message(sub))["type"] == "pong"  # ...and not told to anyone
        assert not sending.done()
    result = await sending  # the replica has it: acked
    assert isinstance(result, AppendResult) and (result.status, result.seq) == (1, 1)
    told = await next_message(sub)
    assert told["type"] == "message" and told["data"].startswith('1 {"v":1,"type":"deliver"')
    assert short_waits() == before
    assert (await append(store, "c1", "first-msg")).status == 0  # type: ignore[union-attr]
    await sub.aclose()


async def test_past_the_timeout_a_write_is_acked_and_counted(
        redis: aioredis.Redis, pair: tuple[RedisProcess, RedisProcess]) -> None:
    store = await warmed(redis, SHORT)
    before = short_waits()
    fields = model.new_hash("demo-skole", 1000.0, "token-hash", "", 0, move=Move.START_LATER)
    with held(pair[1]):
        assert await store.create("c2", fields, 3600, 1000.0, None)  # start: one WAIT
        assert short_waits() == before + 1
        await redis.hset(keys.meta("c2"), model.ST, State.ACTIVE)
        result = await append(store, "c2", "second-msg")  # append: one WAIT
        assert isinstance(result, AppendResult) and result.status == 1
        assert short_waits() == before + 2
        conv = await store.get("c2")
        assert conv is not None
        reply = await store.close(conv, Move.END_BY_YOUTH, "youth_ended", 1001.0, 3600,
                                  "{}")  # close: one WAIT
        assert reply.status == 1
        assert short_waits() == before + 3


async def test_appends_of_one_pipeline_share_one_wait(
        redis: aioredis.Redis, pair: tuple[RedisProcess, RedisProcess]) -> None:
    store = await warmed(redis, SHORT)
    await active_conversation(redis, "c3")
    before = short_waits()
    with held(pair[1]):
        results = await asyncio.gather(*(append(store, "c3", f"batch-{i:04d}")
                                         for i in range(10)))
    assert sorted(r.seq for r in results if isinstance(r, AppendResult)) == list(range(1, 11))
    assert 1 <= short_waits() - before <= 2  # one WAIT per pipeline (at most two in flight)


async def test_a_duplicate_with_other_content_publishes_nothing(
        redis: aioredis.Redis) -> None:
    store = Store(redis, replica_wait=LONG)
    await active_conversation(redis, "c4")
    assert (await append(store, "c4", "dup-check", "aGVp")).status == 1  # type: ignore[union-attr]
    sub = redis.pubsub()
    await sub.subscribe(keys.conversation_channel("c4"))
    again = await append(store, "c4", "dup-check", "b3RoZXI=")  # same cmid, another body
    assert isinstance(again, AppendResult) and (again.status, again.seq) == (0, 1)
    await sub.ping()
    assert (await next_message(sub))["type"] == "pong"  # the log's message was not re-told
    await sub.aclose()


async def test_without_the_setting_nothing_waits(
        redis: aioredis.Redis, pair: tuple[RedisProcess, RedisProcess]) -> None:
    store = Store(redis)
    await active_conversation(redis, "c5")
    before = short_waits()
    with held(pair[1]):
        result = await append(store, "c5", "no-wait-01")
    assert isinstance(result, AppendResult) and result.status == 1
    assert short_waits() == before
