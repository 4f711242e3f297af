"""The HelseID-like token endpoint the NHN, SYSVAK and prøvesvar stand-ins share: client
credentials with a ``private_key_jwt`` client assertion and a DPoP proof; as HelseID does, the
first DPoP token request earns a nonce, not a token."""

from __future__ import annotations

from dataclasses import dataclass

from joserfc.jwk import ECKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from devservices.nhn.auth import (
    Client,
    Nonces,
    Refused,
    check_client_assertion,
    check_dpop,
    issue_token,
    spend_jti,
)
from devservices.nhn.store import Store


@dataclass(frozen=True)
class TokenIssuer:
    """Who issues, with which key, to which clients, for which scope; ``require_scope``: the
    request must ask for ``scope`` by name."""

    issuer: str
    server_key: ECKey
    clients: dict[str, Client]
    store: Store
    nonces: Nonces
    scope: str
    require_scope: bool = False


def request_url(request: Request) -> str:
    """The URL a DPoP proof signs: the request's, without its query."""
    return str(request.url.replace(query=""))


def oauth_error(exc: Refused, *, nonce: str | None = None) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if nonce:
        headers["DPoP-Nonce"] = nonce
    return JSONResponse({"error": exc.error, "error_description": exc.description},
                        status_code=exc.status, headers=headers)


async def token_response(request: Request, by: TokenIssuer) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if form.get("grant_type") != "client_credentials":
        return oauth_error(Refused("unsupported_grant_type", "client_credentials only"))
    try:
        proof = check_dpop(request.headers.get("DPoP"), "POST", request_url(request), by.store)
        if not by.nonces.valid(proof.claims.get("nonce")):
            return oauth_error(Refused("use_dpop_nonce", "use the DPoP-Nonce header"),
                               nonce=by.nonces.new())
        spend_jti(proof, by.store)
        client = check_client_assertion(form, by.clients, by.issuer, by.store)
    except Refused as exc:
        return oauth_error(exc)
    if by.require_scope and by.scope not in form.get("scope", "").split():
        return oauth_error(Refused("invalid_scope", f"scope {by.scope} required"))
    access_token, ttl = issue_token(by.server_key, by.issuer, client, proof.jkt, scope=by.scope)
    return JSONResponse({"access_token": access_token, "token_type": "DPoP",
                         "expires_in": ttl, "scope": by.scope},
                        headers={"Cache-Control": "no-store"})
