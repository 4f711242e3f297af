"""Nurse account records and sessions (hashing and checks live in chat/actions/accounts.py)."""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aioredis

from chat.store import names as keys


class AccountStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def put(self, username: str, record: dict[str, str | int]) -> None:
        await self.redis.hset(keys.nurse(username), mapping=cast(Any, record))
        await self.redis.sadd(keys.nurse_index(), username)

    async def exists(self, username: str) -> bool:
        return bool(await self.redis.exists(keys.nurse(username)))

    async def get(self, username: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(keys.nurse(username)))

    async def update(self, username: str, fields: dict[str, str | int]) -> None:
        await self.redis.hset(keys.nurse(username), mapping=cast(Any, fields))

    async def add_failure(self, username: str) -> int:
        return int(await self.redis.hincrby(keys.nurse(username), "fails", 1))

    async def usernames(self) -> list[str]:
        return sorted(cast(set[str], await self.redis.smembers(keys.nurse_index())))

    async def new_session(self, tag: str, fields: dict[str, str | int], ttl: int) -> None:
        await self.redis.hset(keys.session(tag), mapping=cast(Any, fields))
        await self.redis.expire(keys.session(tag), ttl)

    async def session(self, tag: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(keys.session(tag)))

    async def end_session(self, tag: str) -> None:
        await self.redis.delete(keys.session(tag))

    async def end_sessions_of(self, username: str) -> None:
        async for key in self.redis.scan_iter(match=keys.session("*"), count=500):
            if await self.redis.hget(key, "nurse") == username:
                await self.redis.delete(key)
