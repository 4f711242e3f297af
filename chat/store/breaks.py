"""A nurse's break (docs/queue.md): a key that expires by itself, her on-duty entries taken
out, and the slots her open conversations use."""

from __future__ import annotations

import asyncio
from typing import cast

import redis.asyncio as aioredis

from chat.store import names as keys
from chat.store.coalesce import Coalescer


class BreakStore:
    """``reads``: the store's read coalescer; a nurse's load, which every dashboard reads on
    every change of its service's queue, goes through it (see DashboardStore)."""

    def __init__(self, redis: aioredis.Redis, reads: Coalescer) -> None:
        self.redis = redis
        self.reads = reads

    async def on_break(self, username: str) -> bool:
        return int(await self.redis.exists(keys.nurse_break(username))) > 0

    async def start(self, username: str, seconds: int) -> None:
        await self.redis.set(keys.nurse_break(username), "1", ex=seconds)

    async def end(self, username: str) -> None:
        await self.redis.delete(keys.nurse_break(username))

    async def off_duty(self, services: list[str], username: str) -> bool:
        """Every dashboard of ``username`` off duty in ``services``; True if any was on."""
        changed = False
        for service in services:
            key = keys.on_duty(service)
            members = [m.decode() if isinstance(m, bytes) else str(m)
                       for m in cast(list[object], await self.redis.zrange(key, 0, -1))]
            mine = [m for m in members if m.split(" ", 1)[0] == username]
            if mine:
                changed = int(await self.redis.zrem(key, *mine)) > 0 or changed
        return changed

    async def load(self, username: str) -> tuple[int, bool]:
        """The slots her open conversations use, and whether she is on a break: one round trip,
        shared with other connections' reads of the same loop turn."""
        open_key, break_key = keys.nurse_open(username), keys.nurse_break(username)
        used, on_break = await asyncio.gather(self.reads.call(lambda p: p.scard(open_key)),
                                              self.reads.call(lambda p: p.exists(break_key)))
        return int(used), int(on_break) > 0
