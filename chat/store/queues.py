"""Queues, the active sets and youth presence: what the waiting room and the sweep read."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import redis.asyncio as aioredis

from chat.clock import Clock
from chat.store import names as keys
from chat.store.coalesce import Coalescer


@dataclass(frozen=True)
class QueueView:
    """One service's queue, oldest first, with the figures a waiting youth is shown."""

    service: str
    items: tuple[dict[str, object], ...]
    recent_waits: tuple[int, ...]

    def position(self, cid: str) -> int | None:
        return self.positions.get(cid)

    @cached_property
    def positions(self) -> dict[str, int]:
        # Every waiting youth asks for its position on every queue change: an index built
        # once per view keeps that O(1) instead of O(queue) (10k waiting: 10^8 compares).
        out: dict[str, int] = {}
        for i, item in enumerate(self.items):
            out.setdefault(str(item["conversation"]), i + 1)
        return out

    @cached_property
    def median_wait(self) -> int | None:
        if not self.recent_waits:
            return None
        waits = sorted(self.recent_waits)
        return waits[len(waits) // 2]

    def expected_wait(self, position: int) -> int | None:
        """Median of the last 20 claim waits, times the position; None without history.

        Deliberately simple and explained in docs/queue.md: it uses only claim times (metadata),
        and it errs on the long side for the first in line rather than promising "now".
        """
        median = self.median_wait
        if median is None:
            return None
        return max(30, median) * position


class QueueStore:
    """Reads of the queues and active sets, and presence marks."""

    def __init__(self, redis: aioredis.Redis, clock: Clock, reads: Coalescer) -> None:
        self.redis = redis
        self.clock = clock
        self.reads = reads

    async def queue_ids(self, service: str) -> list[tuple[str, float]]:
        raw = await self.redis.zrange(keys.queue(service), 0, -1, withscores=True)
        return cast(list[tuple[str, float]], raw)

    async def waiting_counts(self, services: list[str]) -> list[int]:
        pipe = self.redis.pipeline(transaction=False)
        for s in services:
            pipe.zcard(keys.queue(s))
        return [int(x) for x in await pipe.execute()]

    async def active_ids(self, service: str) -> list[str]:
        return cast(list[str], await self.redis.zrange(keys.active(service), 0, -1))

    async def forget_active(self, service: str, cid: str) -> None:
        """Drop a stale entry (expired or moved) from a service's active set."""
        await self.redis.zrem(keys.active(service), cid)

    async def open_of(self, username: str) -> list[str]:
        return sorted(cast(set[str], await self.redis.smembers(keys.nurse_open(username))))

    async def queue_view(self, service: str) -> QueueView:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrange(keys.queue(service), 0, -1, withscores=True)
        pipe.lrange(keys.recent_waits(service), 0, 19)
        # One read for the whole queue's presence (not a read per waiting youth: 10,000
        # waiting made every queue update 10,000 commands).
        pipe.zrangebyscore(keys.online(service), self.clock.now(), "+inf")
        entries, waits, here = await pipe.execute()
        online = set(here)
        items = tuple(
            {"conversation": cid, "service": service, "since": int(score),
             "online": cid in online}
            for cid, score in entries
        )
        return QueueView(service, items, tuple(int(w) for w in waits))

    async def publish_queue_changed(self, service: str) -> None:
        await self.redis.publish(keys.service_channel(service), "q")

    async def set_presence(self, cid: str, service: str, ttl: int = 45) -> None:
        """The youth of ``cid`` is connected (for ``ttl`` seconds, renewed by its pings)."""
        now = self.clock.now()
        key = keys.online(service)
        r = self.reads  # in the same pipeline as other connections' reads and marks
        replies = await asyncio.gather(
            r.call(lambda p: p.zadd(key, {cid: now + ttl})),
            r.call(lambda p: p.zremrangebyscore(key, "-inf", now)),  # the expired, e.g. after a crash
            r.call(lambda p: p.expire(key, ttl * 2)),  # gone when nobody has been connected for a while
            return_exceptions=True)
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply

    async def clear_presence(self, cid: str, service: str) -> None:
        await self.redis.zrem(keys.online(service), cid)

    async def ping(self) -> None:
        await self.redis.ping()
