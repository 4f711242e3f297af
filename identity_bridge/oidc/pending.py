"""Pending-login state: what the RP must remember between the redirect and the callback.

The caller stores it (the web layer: in Redis under ``pending_key(state)``, a hash, so the
raw state never sits in Redis as a key) and hands it back through a ``PendingLoginStore``.
``take`` is single-use: that is what turns a replayed callback (same state and code) into
``oidc_code_replay`` instead of a second token exchange.

A login also belongs to the browser that started it (the "state cookie" pattern): the
caller puts ``LoginStart.browser_binding`` in a cookie, the pending login keeps only its
hash (``browser``), and ``take`` hands the pending login out only to a callback that brings
the same cookie. Another browser's callback leaves it in place, so a callback URL that
reaches someone else neither logs them in nor spoils the real login.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Protocol

from .errors import OidcMalformed


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PendingLogin:
    """state, nonce and PKCE verifier for one login attempt, plus when it began.

    ``return_to`` is an opaque value of the caller's (e.g. which conversation to upgrade);
    the RP only carries it. Secrets are kept out of ``repr``.
    """

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    created_at: float
    return_to: str = ""
    browser: str = field(default="", repr=False)  # browser_hash(the login cookie's value)

    @property
    def code_challenge(self) -> str:
        """RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier)))."""
        return _b64url(hashlib.sha256(self.code_verifier.encode("ascii")).digest())

    @property
    def key(self) -> str:
        return pending_key(self.state)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> PendingLogin:
        try:
            data = json.loads(raw)
            return cls(
                state=str(data["state"]),
                nonce=str(data["nonce"]),
                code_verifier=str(data["code_verifier"]),
                created_at=float(data["created_at"]),
                return_to=str(data.get("return_to", "")),
                browser=str(data.get("browser", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise OidcMalformed("stored pending login is not readable") from exc


def new_pending_login(now: float, return_to: str = "", browser: str = "") -> PendingLogin:
    """Fresh random values: 256 bits each; the verifier is 43 chars, RFC 7636's minimum length
    at that entropy. ``browser`` is ``browser_hash`` of the browser's login cookie."""
    return PendingLogin(
        state=_b64url(secrets.token_bytes(32)),
        nonce=_b64url(secrets.token_bytes(32)),
        code_verifier=_b64url(secrets.token_bytes(32)),
        created_at=now,
        return_to=return_to,
        browser=browser,
    )


def new_browser_binding() -> str:
    """The value for the browser's login cookie: 256 random bits."""
    return _b64url(secrets.token_bytes(32))


def browser_hash(binding: str) -> str:
    """What the pending login keeps of the cookie: a store dump does not hand it out."""
    return hashlib.sha256(b"helseprat/oidc-browser/v1\x00" + binding.encode("utf-8")).hexdigest()


def pending_key(state: str) -> str:
    """Storage key for a state: a hash, so a store dump does not hand out usable states. The
    braces are a Redis Cluster hash tag: the pending login and its tombstone share a slot."""
    return "idp-pending:{" + hashlib.sha256(state.encode("utf-8")).hexdigest() + "}"


class StateStatus(enum.Enum):
    UNKNOWN = "unknown"
    USED = "used"
    OTHER_BROWSER = "other_browser"  # pending, but started in another browser: left in place


class PendingLoginStore(Protocol):
    """Where the caller keeps pending logins. ``take`` must be atomic: compare ``browser``
    with the pending login's, and only if they are equal remove it and leave a short-lived
    tombstone, so a second ``take`` answers ``USED`` rather than ``UNKNOWN`` (Redis: one
    script). A pending login whose ``browser`` differs answers ``OTHER_BROWSER`` and stays."""

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None: ...

    async def take(self, key: str, browser: str) -> PendingLogin | StateStatus: ...


class MemoryPendingStore:
    """In-process store for tests and the dev server (no TTL eviction: it is short-lived)."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingLogin] = {}
        self._used: set[str] = set()

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None:
        self._pending[pending.key] = pending

    async def take(self, key: str, browser: str) -> PendingLogin | StateStatus:
        pending = self._pending.get(key)
        if pending is not None:
            if not browser or not hmac.compare_digest(pending.browser, browser):
                return StateStatus.OTHER_BROWSER
            del self._pending[key]
            self._used.add(key)
            return pending
        return StateStatus.USED if key in self._used else StateStatus.UNKNOWN
