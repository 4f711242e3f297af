"""Redis implementations of the relying party's ``PendingLoginStore`` and ``LoginSessionIndex``."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from identity_bridge.oidc import PendingLogin, StateStatus
from identity_bridge.oidc.logout import session_index_key

_USED_PREFIX = "idp-used:"


class RedisPendingStore:
    """``take`` is atomic and single-use: GETDEL, then a tombstone so a replayed callback is
    told apart (``oidc_code_replay``) from an unknown state (``oidc_state``)."""

    def __init__(self, redis: aioredis.Redis, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl = ttl_seconds

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None:
        await self.redis.set(pending.key, pending.to_json(), ex=ttl_seconds)

    async def take(self, key: str) -> PendingLogin | StateStatus:
        raw = cast(str | None, await self.redis.getdel(key))
        if raw is None:
            used = await self.redis.exists(_USED_PREFIX + key)
            return StateStatus.USED if used else StateStatus.UNKNOWN
        await self.redis.set(_USED_PREFIX + key, "1", ex=self.ttl)
        return PendingLogin.from_json(raw)


class CapturingStore:
    """Wraps a store for one callback and remembers what ``take`` found, so the error page
    can still speak the language the youth chose before the login failed."""

    def __init__(self, inner: RedisPendingStore) -> None:
        self.inner = inner
        self.taken: PendingLogin | None = None

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None:
        await self.inner.put(pending, ttl_seconds)

    async def take(self, key: str) -> PendingLogin | StateStatus:
        result = await self.inner.take(key)
        if isinstance(result, PendingLogin):
            self.taken = result
        return result


class RedisLoginSessionIndex:
    """(iss, sid) → local session tag, under a SHA-256 of (iss, sid)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def bind(self, issuer: str, sid: str, local_session: str, ttl_seconds: int) -> None:
        await self.redis.set(session_index_key(issuer, sid), local_session, ex=ttl_seconds)

    async def resolve(self, issuer: str, sid: str) -> str | None:
        return cast(str | None, await self.redis.get(session_index_key(issuer, sid)))

    async def forget(self, issuer: str, sid: str) -> None:
        await self.redis.delete(session_index_key(issuer, sid))
