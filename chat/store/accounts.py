"""Nurse account records and sessions (hashing and checks live in chat/actions/accounts.py)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import redis.asyncio as aioredis

from chat.store import names as keys
from chat.store.coalesce import Coalescer


class AccountStore:
    """``reads``: the web process's coalescer, so that the session checks of many dashboard
    sockets in one loop turn (every nurse back at once after a restart, each opening her
    conversations) leave in one pipeline with the other reads of that turn."""

    def __init__(self, redis: aioredis.Redis, reads: Coalescer | None = None) -> None:
        self.redis = redis
        self.reads = reads

    async def put(self, username: str, record: dict[str, str | int]) -> None:
        await self.redis.hset(keys.nurse(username), mapping=cast(Any, record))
        await self.redis.sadd(keys.nurse_index(), username)

    async def exists(self, username: str) -> bool:
        return bool(await self.redis.exists(keys.nurse(username)))

    async def get(self, username: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(keys.nurse(username)))

    async def update(self, username: str, fields: dict[str, str | int]) -> None:
        await self.redis.hset(keys.nurse(username), mapping=cast(Any, fields))

    async def usernames(self) -> list[str]:
        return sorted(cast(set[str], await self.redis.smembers(keys.nurse_index())))

    async def new_session(self, tag: str, fields: dict[str, str | int], ttl: int) -> None:
        await self.redis.hset(keys.session(tag), mapping=cast(Any, fields))
        await self.redis.expire(keys.session(tag), ttl)

    async def session(self, tag: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(keys.session(tag)))

    async def end_session(self, tag: str) -> None:
        await self.redis.delete(keys.session(tag))

    async def session_alive(self, tag: str, username: str) -> bool:
        """Is the session still there, still this nurse's, and her account not disabled? One
        round trip: it is asked before every command of a dashboard socket."""
        session, account = keys.session(tag), keys.nurse(username)
        if self.reads is None:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hget(session, "nurse")
            pipe.hget(account, "disabled")
            owner, disabled = await pipe.execute()
        else:
            replies = await asyncio.gather(
                self.reads.call(lambda p: p.hget(session, "nurse")),
                self.reads.call(lambda p: p.hget(account, "disabled")), return_exceptions=True)
            for reply in replies:
                if isinstance(reply, BaseException):
                    raise reply
            owner, disabled = replies
        return owner == username and disabled not in (None, "1")

    async def publish_revoked(self, *, username: str | None = None,
                              tag: str | None = None) -> None:
        """Tell every web process to close the sockets of this nurse, or of this session."""
        message = f"n {username}" if username is not None else f"s {tag}"
        await self.redis.publish(keys.staff_revocations(), message)

    async def end_sessions_of(self, username: str) -> None:
        async for key in self.redis.scan_iter(match=keys.session("*"), count=500):
            if await self.redis.hget(key, "nurse") == username:
                await self.redis.delete(key)
