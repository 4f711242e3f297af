"""What stands before a nurse's password is checked (chat.actions.accounts.Accounts.login).

In order: a per-client rate limit (no argon2id check, 64 MiB each, is started for a client
past it); a bound on the checks running or waiting in this process (past it: ``busy``); one
atomic count-and-decide in Redis per attempt (scripts/login_attempt.lua) that locks one
client, or one known device, out of one account after a few tries, and slows the account as a
whole down after many, except for the owner's known devices.

Every step is keyed by a keyed hash of the username, whether or not such an account exists, so
an unknown username is counted and answered exactly like a real one. "Client" is the client key
the edge made of the address (chat.web.middleware.ClientKeyMiddleware); it is never raw.

A known device is a cookie set at a successful sign-in: a random device id and, per account
signed in from it (a few, for shared workstations), HMAC(session key, device id, username).
It cannot be made without signing in, so an attacker elsewhere cannot borrow its exemption,
and its tries are counted per device, so nobody else's tries lock it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator

from chat.errors import LoginBusy

DEVICE_COOKIE = "hp_device"
_MAX_ACCOUNTS_PER_DEVICE = 4
_SIG_CHARS = 22  # 128 bits, base64url


def account_tag(key: bytes, username: str) -> str:
    """The name an account's sign-in counters go by: a keyed hash, so a password typed into
    the username field by mistake is not stored either."""
    return hmac.new(key, b"helseprat/login-account/v1\x00" + username.encode(),
                    hashlib.sha256).hexdigest()[:32]


def _device_sig(key: bytes, device: str, username: str) -> str:
    mac = hmac.new(key, b"helseprat/known-device/v1\x00" + device.encode() + b"\x00"
                   + username.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:_SIG_CHARS]


def known_device(key: bytes, cookie: str | None, username: str) -> str | None:
    """The device id if ``cookie`` says this device has signed in to ``username`` before."""
    if not cookie or len(cookie) > 200:
        return None
    device, *sigs = cookie.split(".")
    want = _device_sig(key, device, username)
    if device and any(hmac.compare_digest(want, s) for s in sigs):
        return device
    return None


def remember_device(key: bytes, cookie: str | None, username: str) -> str:
    """The cookie value after a successful sign-in to ``username`` from this device."""
    device, sigs = "", []
    if cookie and len(cookie) <= 200 and "." in cookie:
        device, *sigs = cookie.split(".")
    if len(device) != 22 or not device.replace("-", "").replace("_", "").isalnum():
        device, sigs = secrets.token_urlsafe(16), []
    mine = _device_sig(key, device, username)
    kept = [s for s in sigs if len(s) == _SIG_CHARS and s != mine]
    return ".".join([device, mine, *kept[:_MAX_ACCOUNTS_PER_DEVICE - 1]])


class CheckGate:
    """At most ``running`` password checks at once in this process and ``waiting`` more in
    line; past that a sign-in is answered ``busy`` at once instead of queueing without end."""

    def __init__(self, running: int, waiting: int) -> None:
        self._sem = asyncio.Semaphore(running)
        self._room = running + waiting
        self._inside = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._inside >= self._room:
            raise LoginBusy()
        self._inside += 1
        try:
            async with self._sem:
                yield
        finally:
            self._inside -= 1

