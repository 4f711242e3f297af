"""Leases: a key held by one process at a time (SET NX PX with a random token), renewed and
given up only by its holder (compare-and-delete scripts)."""

from __future__ import annotations

import redis.asyncio as aioredis

from chat.store import names as keys
from chat.store.lua import Scripts


class LeaseStore:
    def __init__(self, redis: aioredis.Redis, scripts: Scripts) -> None:
        self.redis = redis
        self.scripts = scripts

    async def acquire(self, job: str, token: str, ms: int) -> bool:
        return bool(await self.redis.set(keys.lease(job), token, nx=True, px=ms))

    async def renew(self, job: str, token: str, ms: int) -> bool:
        return bool(await self.scripts.lease_renew([keys.lease(job)], [token, ms]))

    async def release(self, job: str, token: str) -> bool:
        return bool(await self.scripts.lease_release([keys.lease(job)], [token]))
