"""HelseID client credentials with a private_key_jwt client assertion and DPoP.

Token request (HelseID, RFC 7523 + RFC 9449):
  POST {token_endpoint}  form: grant_type=client_credentials, client_id, scope,
       client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
       client_assertion=<JWT signed with the client key, aud = HelseID issuer>
  header DPoP: <proof, htm=POST, htu=token endpoint>
HelseID answers the first DPoP request with 400 {"error": "use_dpop_nonce"} and a
``DPoP-Nonce`` header; the client repeats the request with that nonce in a fresh proof
(and a fresh assertion: the first one's jti is spent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .dpop import CLIENT_ASSERTION_TYPE, client_assertion, dpop_proof
from .errors import AuthError, TransportError
from .keys import ClientKey

# Renew this long before expiry so a token never dies in flight.
RENEW_MARGIN_S = 10


@dataclass(frozen=True)
class HelseIdSettings:
    client_id: str
    token_endpoint: str
    audience: str  # HelseID wants the issuer here, e.g. https://helseid-sts.test.nhn.no
    scope: str = "nhn:msh/api"


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float


class HelseIdClient:
    def __init__(
        self,
        settings: HelseIdSettings,
        key: ClientKey,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._key = key
        self._http = http
        self._now = now
        self._token: AccessToken | None = None
        self._nonce: str | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self._token.expires_at - RENEW_MARGIN_S <= self._now():
                self._token = await self._fetch()
            return self._token.value

    def invalidate(self) -> None:
        self._token = None

    async def _fetch(self) -> AccessToken:
        s = self._settings
        # Two tries: the first may only earn us a nonce.
        for _ in range(2):
            form = {
                "grant_type": "client_credentials",
                "client_id": s.client_id,
                "scope": s.scope,
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": client_assertion(self._key, s.client_id, s.audience,
                                                     now=self._now),
            }
            proof = dpop_proof(self._key, "POST", s.token_endpoint, nonce=self._nonce,
                               now=self._now)
            try:
                resp = await self._http.post(s.token_endpoint, data=form, headers={"DPoP": proof})
            except httpx.HTTPError:
                raise TransportError("HelseID is not reachable") from None
            body = _json(resp)
            if resp.status_code == 400 and body.get("error") == "use_dpop_nonce":
                nonce = resp.headers.get("DPoP-Nonce")
                if not nonce:
                    raise AuthError("use_dpop_nonce without a DPoP-Nonce header",
                                    code="epj.auth.nonce_missing")
                self._nonce = nonce
                continue
            if resp.status_code >= 500 or resp.status_code == 429:
                raise TransportError(f"HelseID answered {resp.status_code}")
            if resp.status_code != 200:
                error = str(body.get("error") or f"http_{resp.status_code}")
                raise AuthError(f"HelseID refused the token request: {error}",
                                code=f"epj.auth.{_safe(error)}")
            # A nonce the server gave with success is for the next request.
            self._nonce = resp.headers.get("DPoP-Nonce", self._nonce)
            return self._parse(body)
        raise AuthError("HelseID kept asking for a new nonce", code="epj.auth.nonce_loop")

    def _parse(self, body: dict[str, Any]) -> AccessToken:
        value, kind, ttl = body.get("access_token"), body.get("token_type"), body.get("expires_in")
        if not isinstance(value, str) or not isinstance(ttl, int):
            raise AuthError("HelseID token response is malformed", code="epj.auth.bad_response")
        if not isinstance(kind, str) or kind.lower() != "dpop":
            # A bearer token would silently downgrade the binding we rely on.
            raise AuthError("HelseID issued a non-DPoP token", code="epj.auth.not_dpop")
        return AccessToken(value, self._now() + ttl)


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _safe(error: str) -> str:
    return "".join(c for c in error.lower() if c.isalnum() or c == "_")[:40] or "failed"
