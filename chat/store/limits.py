"""Rate windows, resume handles and sign-in attempts (anon/ratelimit.py and anon/resume.py do
the counting and the hashing of the anonymous side; this module names the keys)."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from anon.ratelimit import hit_window
from chat.limits import Limits
from chat.store import names as keys
from chat.store.lua import Scripts

# What login_attempt answers.
LOGIN_GO, LOGIN_LOCKED, LOGIN_BACKOFF = 0, 1, 2


class LimitStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._scripts: Scripts | None = None

    # -- nurse sign-in ----------------------------------------------------------------------
    async def login_attempt(self, account: str, who: str, known_device: bool, limits: Limits,
                            now: float) -> int:
        """Count a sign-in attempt at ``account`` (a keyed hash of the username) by ``who``
        (a client key or a known device) and decide in the same step: LOGIN_GO, LOGIN_LOCKED
        or LOGIN_BACKOFF (scripts/login_attempt.lua)."""
        if self._scripts is None:
            self._scripts = Scripts(self.redis)
        keys_ = [keys.login_attempts(account, who), keys.login_account(account),
                 keys.login_backoff(account)]
        return int(await self._scripts.login_attempt(keys_, [
            int(now * 1000), limits.login_failures_before_lockout, limits.lockout_seconds * 1000,
            limits.login_account_attempts_before_backoff,
            limits.login_account_window_seconds * 1000,
            int(limits.login_backoff_base_seconds * 1000),
            int(limits.login_backoff_max_seconds * 1000), int(known_device)]))

    async def login_succeeded(self, account: str, who: str) -> None:
        """The right password: this client's (or device's) tries start again. The account-wide
        count stays, so the owner's success does not hand an attacker a fresh allowance."""
        await self.redis.delete(keys.login_attempts(account, who))

    async def count_password_check(self) -> None:
        await self.redis.incr(keys.login_checks())

    async def hit(self, kind: str, client_key: str, window: int, limit: int,
                  seconds: int) -> bool:
        """Count one more ``kind`` from ``client_key`` in ``window``; False past ``limit``."""
        return await hit_window(self.redis, keys.rate(kind, client_key, window), limit, seconds)

    async def reserve_handle(self, tag: str, cid: str, ttl: int) -> bool:
        """Tie a resume handle to a conversation; False if the handle is taken."""
        return bool(await self.redis.set(keys.resume_handle(tag), cid, ex=ttl, nx=True))

    async def release_handle(self, tag: str, cid: str) -> None:
        """Free a handle reserved for a start that was then refused (only if still ours)."""
        key = keys.resume_handle(tag)
        if await self.redis.get(key) == cid:
            await self.redis.delete(key)

    async def handle_conversation(self, tag: str) -> str | None:
        return cast(str | None, await self.redis.get(keys.resume_handle(tag)))

    async def count_resume_attempt(self, tag: str, cid: str | None, limit: int) -> bool:
        """Count one try of a resume code before it is checked, and decide, in one atomic
        step (INCR): concurrent tries cannot all pass a read of the count made before any
        of them failed. False once the hour holds more than ``limit``. A handle that finds
        no conversation is counted under its tag, so it locks just like a known one."""
        key = keys.resume_attempts(cid) if cid else keys.resume_guesses(tag)
        return await hit_window(self.redis, key, limit, 3600)

    async def clear_resume_attempts(self, cid: str) -> None:
        await self.redis.delete(keys.resume_attempts(cid))
