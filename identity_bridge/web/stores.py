"""Redis implementations of the relying party's ``PendingLoginStore`` and ``LoginSessionIndex``."""

from __future__ import annotations

import hmac
import json
from typing import cast

import redis.asyncio as aioredis

from identity_bridge.oidc import PendingLogin, StateStatus
from identity_bridge.oidc.logout import session_index_key

_USED_PREFIX = "idp-used:"

# Take a pending login for the browser that started it, in one step: the browser check, the
# removal and the tombstone (which remembers that browser) cannot be split by another
# callback. KEYS: pending, tombstone (one slot: pending_key's hash tag). ARGV: browser hash,
# tombstone TTL.
_TAKE = """
local raw = redis.call('GET', KEYS[1])
if not raw then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'used'} end
  return {'unknown'}
end
local ok, pending = pcall(cjson.decode, raw)
if ARGV[1] == '' or not ok or type(pending) ~= 'table' or pending['browser'] ~= ARGV[1] then
  return {'other'}
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], cjson.encode({b = ARGV[1]}), 'EX', tonumber(ARGV[2]))
return {'taken', raw}
"""


class RedisPendingStore:
    """``take`` is atomic and single-use, and only for the browser that started the login; a
    tombstone tells a replayed callback (``oidc_code_replay``) apart from an unknown state
    (``oidc_state``) and, once the login is done, where it went (``remember_target``)."""

    def __init__(self, redis: aioredis.Redis, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self._take = redis.register_script(_TAKE)

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None:
        await self.redis.set(pending.key, pending.to_json(), ex=ttl_seconds)

    async def take(self, key: str, browser: str) -> PendingLogin | StateStatus:
        reply = await self._take(keys=[key, _USED_PREFIX + key], args=[browser, self.ttl])
        kind = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if kind == "taken":
            return PendingLogin.from_json(reply[1])
        return {"used": StateStatus.USED, "other": StateStatus.OTHER_BROWSER}.get(
            kind, StateStatus.UNKNOWN)

    async def remember_target(self, key: str, browser: str, target: str) -> None:
        """After a completed login: where it went, for a replay from the same browser."""
        await self.redis.set(_USED_PREFIX + key, json.dumps({"b": browser, "to": target}),
                             xx=True, keepttl=True)

    async def replay_target(self, key: str, browser: str) -> str | None:
        """Where the completed login went, if this browser (``browser``: the hash of its login
        cookie) is the one that completed it."""
        raw = await self.redis.get(_USED_PREFIX + key)
        try:
            used = json.loads(raw) if raw else {}
        except ValueError:
            return None
        if not browser or not isinstance(used, dict) or not isinstance(used.get("to"), str) \
                or not hmac.compare_digest(str(used.get("b", "")), browser):
            return None
        return str(used["to"])


class CapturingStore:
    """Wraps a store for one callback and remembers what ``take`` found, so the error page
    can still speak the language the youth chose before the login failed."""

    def __init__(self, inner: RedisPendingStore) -> None:
        self.inner = inner
        self.taken: PendingLogin | None = None

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None:
        await self.inner.put(pending, ttl_seconds)

    async def take(self, key: str, browser: str) -> PendingLogin | StateStatus:
        result = await self.inner.take(key, browser)
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
