"""Pending-login state: what the RP must remember between the redirect and the callback.

The caller stores it (the web layer: in Redis under ``pending_key(state)``, a hash, so the
raw state never sits in Redis as a key) and hands it back through a ``PendingLoginStore``.
``take`` is single-use: that is what turns a replayed callback (same state and code) into
``oidc_code_replay`` instead of a second token exchange.
"""

from __future__ import annotations

import base64
import enum
import hashlib
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
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise OidcMalformed("stored pending login is not readable") from exc


def new_pending_login(now: float, return_to: str = "") -> PendingLogin:
    """Fresh random values: 256 bits each; the verifier is 43 chars, RFC 7636's minimum length
    at that entropy."""
    return PendingLogin(
        state=_b64url(secrets.token_bytes(32)),
        nonce=_b64url(secrets.token_bytes(32)),
        code_verifier=_b64url(secrets.token_bytes(32)),
        created_at=now,
        return_to=return_to,
    )


def pending_key(state: str) -> str:
    """Storage key for a state: a hash, so a store dump does not hand out usable states."""
    return "idp-pending:" + hashlib.sha256(state.encode("utf-8")).hexdigest()


class StateStatus(enum.Enum):
    UNKNOWN = "unknown"
    USED = "used"


class PendingLoginStore(Protocol):
    """Where the caller keeps pending logins. ``take`` must be atomic (Redis: GETDEL plus a
    short-lived tombstone so a second ``take`` answers ``USED`` rather than ``UNKNOWN``)."""

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None: ...

    async def take(self, key: str) -> PendingLogin | StateStatus: ...


class MemoryPendingStore:
    """In-process store for tests and the dev server (no TTL eviction: it is short-lived)."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingLogin] = {}
        self._used: set[str] = set()

    async def put(self, pending: PendingLogin, ttl_seconds: int) -> None:
        self._pending[pending.key] = pending

    async def take(self, key: str) -> PendingLogin | StateStatus:
        pending = self._pending.pop(key, None)
        if pending is not None:
            self._used.add(key)
            return pending
        return StateStatus.USED if key in self._used else StateStatus.UNKNOWN
