"""Nurse accounts and sessions.

Accounts live in Redis (argon2id password hash, role, display name, disabled flag); membership
of services is configuration (the services file). A session cookie holds 256 random bits; Redis
keeps only HMAC(session key, cookie) with the session's CSRF token. What limits sign-in
attempts is in chat/actions/signin.py.
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

from chat.actions import signin
from chat.clock import Clock
from chat.config import Config
from chat.domain.staff import ROLES, Nurse
from chat.errors import AccountDisabled, AccountLocked, BadCredentials, LoginRateLimited
from chat.store.accounts import AccountStore
from chat.store.coalesce import Coalescer
from chat.store.limits import LOGIN_GO, LimitStore
from chat.store.push import PushStore

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
    tag: str  # HMAC of the cookie: the session's name in Redis and on the revocation channel


class Accounts:
    def __init__(self, config: Config, redis: aioredis.Redis, clock: Clock,
                 reads: Coalescer | None = None) -> None:
        """``reads``: the web process's read coalescer for session checks (``AccountStore``)."""
        self.config = config
        self.data = AccountStore(redis, reads)
        self.limits = LimitStore(redis)
        self.clock = clock
        self.push = PushStore(redis, clock)
        self.gate = signin.CheckGate(config.limits.login_concurrent_checks,
                                     config.limits.login_waiting_checks)

    async def add(
        self, username: str, password: str, role: str, display_name: str = "",
        password_hash: str | None = None,
    ) -> None:
        """Create or replace an account. ``password_hash`` (argon2id) skips hashing again."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        pw = password_hash if password_hash else await asyncio.to_thread(hash_password, password)
        record: dict[str, str | int] = {
            "pw": pw, "role": role, "name": display_name or username, "disabled": 0}
        await self.data.put(username, record)

    async def set_disabled(self, username: str, disabled: bool) -> bool:
        if not await self.data.exists(username):
            return False
        await self.data.update(username, {"disabled": int(disabled)})
        if disabled:
            await self.data.end_sessions_of(username)
            await self.push.forget_nurse(username)  # no notices to a disabled account
            # Stored first, then said: a socket that misses the message still finds the
            # account disabled at its next command (chat/web/revocation.py).
            await self.data.publish_revoked(username=username)
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

    async def login(self, username: str, password: str, client: str = "local",
                    device_cookie: str | None = None) -> tuple[str, Session]:
        """Check the password; returns (cookie value, session). Raises a LoginRefused.

        Every refusal before the password check is the same for an unknown username as for a
        real one; so is the time the check takes (a dummy hash for unknown ones).
        """
        limits, key = self.config.limits, self.config.secrets.session_key
        account = signin.account_tag(key, username)
        device = signin.known_device(key, device_cookie, username)
        if device is None and not await self.limits.hit(
                "login", client, int(self.clock.now() // 60), limits.logins_per_client_per_minute,
                60):
            raise LoginRateLimited()
        who = f"d:{device}" if device else f"c:{client}"
        async with self.gate.slot():
            verdict = await self.limits.login_attempt(account, who, device is not None, limits,
                                                      self.clock.now())
            if verdict != LOGIN_GO:
                raise AccountLocked()
            rec = await self.data.get(username)
            ok = await self._check(rec.get("pw"), password)
        if not ok:
            raise BadCredentials()
        await self.limits.login_succeeded(account, who)
        if rec.get("disabled") == "1":
            raise AccountDisabled()
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        await self.data.new_session(self._tag(cookie), {
            "nurse": username, "csrf": csrf, "created": int(self.clock.now())}, SESSION_SECONDS)
        return cookie, Session(self.nurse(username, rec), csrf, self._tag(cookie))

    def remember_device(self, device_cookie: str | None, username: str) -> str:
        """The known-device cookie to set after ``username`` signed in from this device."""
        return signin.remember_device(self.config.secrets.session_key, device_cookie, username)

    async def _check(self, stored: str | None, password: str) -> bool:
        """One argon2id check, in a thread; against a dummy hash when there is no account."""
        global _DUMMY_HASH
        if _DUMMY_HASH is None:
            _DUMMY_HASH = await asyncio.to_thread(_hasher().hash, secrets.token_hex(8))
        await self.limits.count_password_check()
        ok = await asyncio.to_thread(_verify, stored or _DUMMY_HASH, password)
        return ok and stored is not None

    async def session(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 100:
            return None
        tag = self._tag(cookie)
        data = await self.data.session(tag)
        if not data:
            return None
        rec = await self.data.get(data["nurse"])
        if not rec or rec.get("disabled") == "1":
            return None
        return Session(self.nurse(data["nurse"], rec), data["csrf"], tag)

    async def still_valid(self, session: Session) -> bool:
        """The session has not ended (logout, expiry) and the account is not disabled."""
        return await self.data.session_alive(session.tag, session.nurse.username)

    async def logout(self, cookie: str | None) -> None:
        if cookie:
            tag = self._tag(cookie)
            await self.data.end_session(tag)
            await self.data.publish_revoked(tag=tag)

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
    # As bytes: compare_digest refuses a str with a non-ASCII character (a 500, not a 403).
    return bool(given) and hmac.compare_digest(expected.encode(errors="replace"),
                                               (given or "").encode(errors="replace"))
