"""Logout both ways.

RP-initiated (OIDC RP-Initiated Logout 1.0): the browser goes to ``end_session_endpoint``
with ``id_token_hint``, ``post_logout_redirect_uri`` and a fresh ``state`` the RP checks
when the browser comes back.

Front-channel (OIDC Front-Channel Logout 1.0, as ID-porten does it): when the user logs out
anywhere in the SSO session, ID-porten loads our ``frontchannel_logout_uri`` in an iframe
with ``iss`` and ``sid``. ``LoginSessionIndex`` maps (iss, sid) to the local login session
that the web layer then ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

from .config import RelyingPartyConfig
from .discovery import ProviderMetadata
from .errors import OidcDiscoveryError, OidcIssMismatch, OidcMalformed, OidcStateError


def new_logout_state() -> str:
    return secrets.token_urlsafe(32)


def logout_url(
    config: RelyingPartyConfig, meta: ProviderMetadata, *, id_token: str, state: str
) -> str:
    if not meta.end_session_endpoint:
        raise OidcDiscoveryError("provider has no end_session_endpoint")
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": config.post_logout_redirect_uri,
            "state": state,
        }
    )
    sep = "&" if "?" in meta.end_session_endpoint else "?"
    return f"{meta.end_session_endpoint}{sep}{query}"


def check_logout_return(params: Mapping[str, str], expected_state: str) -> None:
    """The browser is back at post_logout_redirect_uri: is this the logout we started?"""
    got = params.get("state", "")
    if not hmac.compare_digest(got.encode(), expected_state.encode()):
        raise OidcStateError("logout state does not match")


@dataclass(frozen=True)
class FrontChannelLogout:
    issuer: str
    sid: str = field(repr=False)


def parse_frontchannel_logout(
    params: Mapping[str, str], meta: ProviderMetadata
) -> FrontChannelLogout:
    """Both parameters are required (ID-porten registers frontchannel_logout_session_required);
    ``iss`` must be our provider, or anyone could log users out by framing this URL with a
    made-up issuer."""
    iss, sid = params.get("iss"), params.get("sid")
    if not iss or not sid:
        raise OidcMalformed("front-channel logout needs iss and sid")
    if iss != meta.issuer:
        raise OidcIssMismatch("front-channel logout iss differs from the issuer")
    return FrontChannelLogout(issuer=iss, sid=sid)


def session_index_key(issuer: str, sid: str) -> str:
    """A hash, so the store holds no provider session ids in clear."""
    digest = hashlib.sha256(issuer.encode() + b"\x00" + sid.encode()).hexdigest()
    return "idp-sid:" + digest


class LoginSessionIndex(Protocol):
    """(iss, sid) → local login session id. The web layer implements it in Redis with a TTL
    equal to its session lifetime; ``forget`` is called on any logout."""

    async def bind(self, issuer: str, sid: str, local_session: str, ttl_seconds: int) -> None: ...

    async def resolve(self, issuer: str, sid: str) -> str | None: ...

    async def forget(self, issuer: str, sid: str) -> None: ...


class MemoryLoginSessionIndex:
    """In-process index for tests and the dev server."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    async def bind(self, issuer: str, sid: str, local_session: str, ttl_seconds: int) -> None:
        self._map[session_index_key(issuer, sid)] = local_session

    async def resolve(self, issuer: str, sid: str) -> str | None:
        return self._map.get(session_index_key(issuer, sid))

    async def forget(self, issuer: str, sid: str) -> None:
        self._map.pop(session_index_key(issuer, sid), None)
