"""The thin I/O layer: httpx calls around the sans-I/O core.

Never logs a pid, token, code, state or nonce: log lines carry error codes and endpoint
names only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.jwk import RSAKey

from .client_auth import client_auth_form
from .config import RelyingPartyConfig, load_signing_key
from .discovery import Clock, ProviderMetadata, TtlCache, parse_metadata
from .errors import (
    OidcBrowserMismatch,
    OidcCodeReplay,
    OidcDiscoveryError,
    OidcError,
    OidcStateError,
    OidcTransportError,
    OidcUnknownKid,
)
from .id_token import IdTokenClaims, KeySet, parse_jwks, validate_id_token
from .logout import (
    FrontChannelLogout,
    LoginSessionIndex,
    logout_url,
    new_logout_state,
    parse_frontchannel_logout,
)
from .messages import (
    authorization_code,
    authorize_url,
    par_form,
    parse_par_response,
    parse_token_response,
    token_form,
)
from .pending import (
    PendingLogin,
    PendingLoginStore,
    StateStatus,
    browser_hash,
    new_browser_binding,
    new_pending_login,
    pending_key,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginStart:
    """Send the browser to ``authorize_url``; store ``pending`` (see ``PendingLoginStore``);
    set ``browser_binding`` as a cookie the callback gets (HttpOnly, SameSite=Lax)."""

    authorize_url: str = field(repr=False)
    pending: PendingLogin
    browser_binding: str = field(repr=False)


@dataclass(frozen=True)
class LoginResult:
    """A completed login. Keep ``id_token`` sealed server-side: it is the logout hint."""

    claims: IdTokenClaims
    id_token: str = field(repr=False)
    return_to: str = ""


@dataclass(frozen=True)
class LogoutStart:
    """Send the browser to ``url``; keep ``state`` to check the return."""

    url: str = field(repr=False)
    state: str = field(repr=False)


class IdPortenClient:
    """One per process and configuration. Pass a shared ``httpx.AsyncClient`` if you have one."""

    def __init__(
        self,
        config: RelyingPartyConfig,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock = time.time,
        signing_key: RSAKey | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=config.http_timeout_seconds)
        self._key = signing_key or load_signing_key(config)
        self._meta: TtlCache[ProviderMetadata] = TtlCache(config.discovery_ttl_seconds, clock)
        self._jwks: TtlCache[dict[str, RSAKey]] = TtlCache(config.discovery_ttl_seconds, clock)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # -- transport ---------------------------------------------------------------------

    async def _json(
        self, method: str, url: str, what: str, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        try:
            resp = await self._http.request(method, url, follow_redirects=False, **kw)
        except httpx.HTTPError as exc:
            log.warning("idporten %s unreachable: %s", what, type(exc).__name__)
            raise OidcTransportError(f"{what} unreachable") from exc
        try:
            body = resp.json()
        except ValueError as exc:
            raise OidcTransportError(f"{what} answered {resp.status_code} without JSON") from exc
        if not isinstance(body, dict):
            raise OidcTransportError(f"{what} answered JSON that is not an object")
        return resp.status_code, body

    def _auth(self, meta: ProviderMetadata) -> dict[str, str]:
        return client_auth_form(
            client_id=self.config.client_id,
            issuer=meta.issuer,
            key=self._key,
            now=self._clock(),
            lifetime_seconds=self.config.client_assertion_lifetime_seconds,
        )

    # -- discovery and keys ------------------------------------------------------------

    async def metadata(self) -> ProviderMetadata:
        cached = self._meta.get()
        if cached is not None:
            return cached
        status, doc = await self._json("GET", self.config.discovery_url, "discovery")
        if status != 200:
            raise OidcDiscoveryError(f"discovery answered {status}")
        meta = parse_metadata(doc, self.config)
        self._meta.put(meta)
        return meta

    async def _keys(self, meta: ProviderMetadata, *, refresh: bool = False) -> KeySet:
        cached = None if refresh else self._jwks.get()
        if cached is not None:
            return cached
        status, doc = await self._json("GET", meta.jwks_uri, "jwks")
        if status != 200:
            raise OidcTransportError(f"jwks answered {status}")
        keys = parse_jwks(doc)
        self._jwks.put(keys)
        return keys

    # -- login -------------------------------------------------------------------------

    async def start_login(self, return_to: str = "", browser_binding: str | None = None) -> LoginStart:
        """Push the authorization request (PAR) and return where to send the browser.
        ``browser_binding``: the value of the browser's login cookie if it has one (several
        tabs then share it); a fresh one otherwise."""
        meta = await self.metadata()
        binding = browser_binding or new_browser_binding()
        pending = new_pending_login(self._clock(), return_to, browser_hash(binding))
        form = par_form(self.config, pending) | self._auth(meta)
        status, body = await self._json(
            "POST", meta.pushed_authorization_request_endpoint, "par", data=form
        )
        request_uri = parse_par_response(status, body)
        return LoginStart(authorize_url(self.config, meta, request_uri), pending, binding)

    async def complete_login(
        self, params: Mapping[str, str], store: PendingLoginStore, browser_binding: str | None
    ) -> LoginResult:
        """Handle the redirect back: state (single-use, and only for the browser that started
        it: ``browser_binding`` is its login cookie, None if it sent none), iss, code → tokens
        → id_token."""
        try:
            browser = browser_hash(browser_binding) if browser_binding else ""
            taken = await store.take(pending_key(params.get("state", "")), browser)
            if taken is StateStatus.OTHER_BROWSER:
                raise OidcBrowserMismatch("the login was started in another browser")
            if taken is StateStatus.USED:
                raise OidcCodeReplay("this login was already completed")
            if taken is StateStatus.UNKNOWN:
                raise OidcStateError("no pending login for this state")
            assert isinstance(taken, PendingLogin)
            if self._clock() - taken.created_at > self.config.pending_login_ttl_seconds:
                raise OidcStateError("pending login expired")
            result = await self.finish_login(params, taken)
        except OidcError as exc:
            log.info("idporten login refused: %s", exc.code)
            raise
        log.info("idporten login completed: acr=%s", result.claims.acr.value)
        return result

    async def finish_login(self, params: Mapping[str, str], pending: PendingLogin) -> LoginResult:
        """The part after the pending login is found; for callers with their own store logic."""
        meta = await self.metadata()
        code = authorization_code(params, pending, meta)
        form = token_form(self.config, pending, code) | self._auth(meta)
        status, body = await self._json("POST", meta.token_endpoint, "token", data=form)
        id_token = parse_token_response(status, body)
        claims = await self._validate(id_token, meta, pending.nonce)
        return LoginResult(claims=claims, id_token=id_token, return_to=pending.return_to)

    async def _validate(self, id_token: str, meta: ProviderMetadata, nonce: str) -> IdTokenClaims:
        def check(keys: KeySet) -> IdTokenClaims:
            return validate_id_token(
                id_token, keys=keys, meta=meta, config=self.config, nonce=nonce, now=self._clock()
            )

        try:
            return check(await self._keys(meta))
        except OidcUnknownKid:
            # Key rotation: the provider may sign with a key newer than our cached JWKS.
            # Refetch exactly once; a kid still unknown after that is an error, not a loop.
            return check(await self._keys(meta, refresh=True))

    # -- logout ------------------------------------------------------------------------

    async def start_logout(self, id_token: str) -> LogoutStart:
        meta = await self.metadata()
        state = new_logout_state()
        return LogoutStart(logout_url(self.config, meta, id_token=id_token, state=state), state)

    async def frontchannel_logout(
        self, params: Mapping[str, str], index: LoginSessionIndex
    ) -> str | None:
        """The local login session the provider asks us to end, or None if we know none."""
        meta = await self.metadata()
        request: FrontChannelLogout = parse_frontchannel_logout(params, meta)
        local = await index.resolve(request.issuer, request.sid)
        if local is not None:
            await index.forget(request.issuer, request.sid)
        return local
