"""What every client goes through when it comes back (all at once after a restart), in-process
against a real Redis: the hub's subscriptions (batched, in effect when ``subscribe`` returns),
reads leaving as one pipeline per loop turn, and one board read shared by the dashboards told
of the same change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.config import load_config
from chat.domain.staff import Nurse
from chat.fanout.hub import Hub
from chat.store import names as keys
from chat.store.coalesce import Coalescer
from chat.store.conversations import Store
from chat.web.runtime import make_redis
from devservices.redis_proc import RedisProcess
from tests.servers import write_test_config


class Recorder:
    def __init__(self) -> None:
        self.frames: list[tuple[int, str]] = []
        self.resyncs = 0

    def push(self, seq: int, frame: str) -> None:
        self.frames.append((seq, frame))

    def resync(self) -> None:
        self.resyncs += 1


async def _subscribe_calls(r: aioredis.Redis) -> int:
    stats = await r.info("commandstats")
    return int(stats.get("cmdstat_subscribe", {}).get("calls", 0))


async def _until(check: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def _cid(i: int) -> str:
    return f"resumepathconv{i:06d}"


async def test_a_subscription_is_in_effect_when_subscribe_returns(redis_url: str) -> None:
    redis = make_redis(redis_url)
    hub = Hub(redis, Store(redis).queue_view)
    await hub.start()
    try:
        await redis.config_resetstat()
        subs = [Recorder() for _ in range(300)]

        async def attach(i: int) -> None:
            await hub.subscribe(_cid(i), subs[i])
            # What a feed does next: read history, then rely on live events. A message
            # published now must arrive, though the SUBSCRIBE left in a later loop turn.
            await redis.publish(keys.conversation_channel(_cid(i)), f"1 frame-{i}")

        await asyncio.gather(*(attach(i) for i in range(300)))
        await _until(lambda: all(s.frames for s in subs))
        assert [s.frames for s in subs] == [[(1, f"frame-{i}")] for i in range(300)]
        # The 300 channels asked for in one turn went out as one SUBSCRIBE command.
        assert await _subscribe_calls(redis) == 1

        # A second subscriber of a channel shares the subscription.
        late = Recorder()
        await hub.subscribe(_cid(0), late)
        await redis.publish(keys.conversation_channel(_cid(0)), "2 again")
        await _until(lambda: bool(late.frames))
        assert late.frames == [(2, "again")] and subs[0].frames[-1] == (2, "again")
        assert await _subscribe_calls(redis) == 1
    finally:
        await hub.stop()
        await redis.aclose()


async def test_unsubscribing_before_the_subscribe_left_sends_nothing(redis_url: str) -> None:
    redis = make_redis(redis_url)
    hub = Hub(redis, Store(redis).queue_view)
    await hub.start()
    try:
        await redis.config_resetstat()
        rec = Recorder()
        task = asyncio.create_task(hub.subscribe(_cid(1), rec))
        await asyncio.sleep(0)  # the subscribe has asked; its SUBSCRIBE leaves next turn
        await hub.unsubscribe(_cid(1), rec)
        await asyncio.wait_for(task, 2)  # the waiting subscribe returns, it does not hang
        await asyncio.sleep(0.1)
        assert await _subscribe_calls(redis) == 0
        assert await redis.pubsub_numsub(keys.conversation_channel(_cid(1))) == [
            (keys.conversation_channel(_cid(1)), 0)]
        assert hub.counts() == (0, 0)
    finally:
        await hub.stop()
        await redis.aclose()


async def test_subscriptions_after_the_pubsub_connection_was_cut(redis_url: str) -> None:
    redis = make_redis(redis_url)
    hub = Hub(redis, Store(redis).queue_view)
    await hub.start()
    try:
        before = Recorder()
        await hub.subscribe(_cid(2), before)
        await redis.client_kill_filter(_type="pubsub")
        # The hub reconnects, redis-py re-subscribes every channel, subscribers resync.
        await _until(lambda: before.resyncs == 1)
        after = Recorder()
        await asyncio.wait_for(hub.subscribe(_cid(3), after), 5)
        await redis.publish(keys.conversation_channel(_cid(2)), "5 old")
        await redis.publish(keys.conversation_channel(_cid(3)), "1 new")
        await _until(lambda: bool(before.frames and after.frames))
        assert before.frames == [(5, "old")] and after.frames == [(1, "new")]
    finally:
        await hub.stop()
        await redis.aclose()


async def test_a_subscribe_that_could_not_be_sent_fails_and_is_asked_again(
    redis_proc: RedisProcess, redis_url: str,
) -> None:
    redis = make_redis(redis_url)
    hub = Hub(redis, Store(redis).queue_view)
    await hub.start()
    try:
        await asyncio.to_thread(redis_proc.stop)
        with pytest.raises(RedisError):  # after redis-py's retries: the endpoint says unavailable
            await asyncio.wait_for(hub.subscribe(_cid(4), Recorder()), 30)
        assert hub.counts() == (0, 0)  # not left behind as if subscribed
        await asyncio.to_thread(redis_proc.start)
        again = Recorder()
        await asyncio.wait_for(hub.subscribe(_cid(4), again), 10)
        await redis.publish(keys.conversation_channel(_cid(4)), "1 back")
        await _until(lambda: bool(again.frames))
        assert again.frames == [(1, "back")]
    finally:
        if redis_proc.proc is None:
            await asyncio.to_thread(redis_proc.start)
        await hub.stop()
        await redis.aclose()


async def test_commands_of_one_loop_turn_leave_as_one_pipeline(redis_url: str) -> None:
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        await r.hset("h", mapping={"a": "1"})
        await r.set("s", "not a hash")
        pool: Any = r.connection_pool
        checkouts = 0
        get_connection = pool.get_connection

        async def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal checkouts
            checkouts += 1
            return await get_connection(*args, **kwargs)

        pool.get_connection = counted
        co = Coalescer(r)
        asked = [co.call(lambda p: p.hgetall("h")) for _ in range(100)]
        asked.append(co.call(lambda p: p.hgetall("s")))  # WRONGTYPE: for this caller only
        asked.append(co.call(lambda p: p.xrange("nothing", min="0-1", max="+", count=10)))
        replies = await asyncio.gather(*asked, return_exceptions=True)
        assert checkouts == 1
        assert replies[:100] == [{"a": "1"}] * 100
        assert isinstance(replies[100], ResponseError) and replies[101] == []
        # A turn later: a pipeline of its own.
        assert await co.call(lambda p: p.hgetall("h")) == {"a": "1"} and checkouts == 2
    finally:
        await r.aclose()


async def test_dashboards_told_of_one_change_share_one_board_read(
    redis_url: str, tmp_path: Path,
) -> None:
    write_test_config(tmp_path)
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})
    r = aioredis.from_url(redis_url, decode_responses=True)
    dash = Actions(config, Store(r), FakeClock()).dashboard
    reads = 0
    board = dash.board

    async def counted(service: str) -> dict[str, object]:
        nonlocal reads
        reads += 1
        return await board(service)

    dash.board = counted  # type: ignore[method-assign]
    try:
        told = [dash.tick() for _ in range(50)]  # fifty dashboards hear of one change
        boards = await asyncio.gather(*(dash.shared_board("demo-skole", t) for t in told))
        assert reads == 1 and all(b == boards[0] for b in boards)
        assert boards[0]["on_duty"] == []

        # A change after that read began is read again, and seen.
        nurse = Nurse("demo.nurse", "Demo", "nurse", frozenset({"demo-skole"}))
        first = asyncio.ensure_future(dash.shared_board("demo-skole", dash.tick()))
        await asyncio.sleep(0)
        await dash.duty(nurse, "conn-1", True)
        fresh = await dash.shared_board("demo-skole", dash.tick())
        await first
        assert reads == 3 and fresh["on_duty"] == ["demo.nurse"]
    finally:
        await r.aclose()
