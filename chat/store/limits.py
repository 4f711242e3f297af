"""Rate windows and resume handles (anon/ratelimit.py and anon/resume.py do the counting and
the hashing; this module names the keys)."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from anon.ratelimit import hit_window, window_count
from chat.store import names as keys


class LimitStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def hit(self, kind: str, client_key: str, window: int, limit: int,
                  seconds: int) -> bool:
        """Count one more ``kind`` from ``client_key`` in ``window``; False past ``limit``."""
        return await hit_window(self.redis, keys.rate(kind, client_key, window), limit, seconds)

    async def reserve_handle(self, tag: str, cid: str, ttl: int) -> bool:
        """Tie a resume handle to a conversation; False if the handle is taken."""
        return bool(await self.redis.set(keys.resume_handle(tag), cid, ex=ttl, nx=True))

    async def handle_conversation(self, tag: str) -> str | None:
        return cast(str | None, await self.redis.get(keys.resume_handle(tag)))

    async def resume_attempts(self, cid: str) -> int:
        return await window_count(self.redis, keys.resume_attempts(cid))

    async def failed_resume(self, cid: str) -> None:
        await hit_window(self.redis, keys.resume_attempts(cid), 10**6, 3600)

    async def clear_resume_attempts(self, cid: str) -> None:
        await self.redis.delete(keys.resume_attempts(cid))
