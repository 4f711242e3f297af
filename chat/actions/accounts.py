"""Nurse accounts and sessions.

Accounts live in Redis (argon2id password hash, role, display name, disabled flag, failure
counter); membership of services is configuration (the services file). A session cookie holds
256 random bits; Redis keeps only HMAC(session key, cookie) with the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from chat.clock import Clock
from chat.config import Config
from chat.domain.staff import ROLES, Nurse
from chat.errors import AccountDisabled, AccountLocked, BadCredentials
from chat.store.accounts import AccountStore

SESSION_SECONDS = 12 * 3600
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH: str | None = None


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


@dataclass(frozen=True)
class Session:
    nurse: Nurse
    csrf: str


class Accounts:
    def __init__(self, config: Config, redis: aioredis.Redis, clock: Clock) -> None:
        self.config = config
        self.data = AccountStore(redis)
        self.clock = clock

    async def add(
        self, username: str, password: str, role: str, display_name: str = "",
        password_hash: str | None = None,
    ) -> None:
        """Create or replace an account. ``password_hash`` (argon2id) skips hashing again."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        pw = password_hash if password_hash else await asyncio.to_thread(hash_password, password)
        record: dict[str, str | int] = {
            "pw": pw, "role": role, "name": display_name or username, "disabled": 0, "fails": 0,
            "locked_until": 0}
        await self.data.put(username, record)

    async def set_disabled(self, username: str, disabled: bool) -> bool:
        if not await self.data.exists(username):
            return False
        await self.data.update(username, {"disabled": int(disabled)})
        if disabled:
            await self.data.end_sessions_of(username)
        return True

    async def list(self) -> list[dict[str, str]]:
        out = []
        for name in await self.data.usernames():
            rec = await self.data.get(name)
            out.append({"username": name, "role": rec.get("role", ""),
                        "name": rec.get("name", ""), "disabled": rec.get("disabled", "0")})
        return out

    def nurse(self, username: str, record: dict[str, str]) -> Nurse:
        services = frozenset(s.id for s in self.config.services_of(username))
        return Nurse(username=username, display_name=record.get("name", username),
                     role=record.get("role", "nurse"), services=services)

    async def login(self, username: str, password: str) -> tuple[str, Session]:
        """Check the password; returns (cookie value, session). Raises a LoginRefused."""
        global _DUMMY_HASH
        now = self.clock.now()
        rec = await self.data.get(username)
        if not rec:
            if _DUMMY_HASH is None:
                _DUMMY_HASH = await asyncio.to_thread(_hasher().hash, secrets.token_hex(8))
            await asyncio.to_thread(_verify, _DUMMY_HASH, password)
            raise BadCredentials()
        if float(rec.get("locked_until", 0)) > now:
            raise AccountLocked()
        ok = await asyncio.to_thread(_verify, rec["pw"], password)
        if not ok:
            fails = await self.data.add_failure(username)
            if fails >= self.config.limits.login_failures_before_lockout:
                await self.data.update(username, {
                    "locked_until": int(now + self.config.limits.lockout_seconds), "fails": 0})
            raise BadCredentials()
        if rec.get("disabled") == "1":
            raise AccountDisabled()
        await self.data.update(username, {"fails": 0})
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        await self.data.new_session(self._tag(cookie), {
            "nurse": username, "csrf": csrf, "created": int(now)}, SESSION_SECONDS)
        return cookie, Session(self.nurse(username, rec), csrf)

    async def session(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 100:
            return None
        data = await self.data.session(self._tag(cookie))
        if not data:
            return None
        rec = await self.data.get(data["nurse"])
        if not rec or rec.get("disabled") == "1":
            return None
        return Session(self.nurse(data["nurse"], rec), data["csrf"])

    async def logout(self, cookie: str | None) -> None:
        if cookie:
            await self.data.end_session(self._tag(cookie))

    def _tag(self, cookie: str) -> str:
        return hmac.new(self.config.secrets.session_key, cookie.encode(), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")
