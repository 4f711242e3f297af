"""Sans-I/O builders and parsers for the PAR, authorization and token exchanges.

PAR (RFC 9126) is written by hand: joserfc has no client for it and authlib's OAuth client
does not implement it, and the exchange is one form POST answered by
``{"request_uri", "expires_in"}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .config import RelyingPartyConfig
from .discovery import ProviderMetadata
from .errors import (
    OidcIssMismatch,
    OidcMalformed,
    OidcMissingIss,
    OidcProviderError,
    OidcStateError,
)
from .pending import PendingLogin


def par_form(config: RelyingPartyConfig, pending: PendingLogin) -> dict[str, str]:
    """The authorization request parameters, pushed instead of put in the browser's URL.

    Client authentication fields are added by the caller (they need a fresh assertion).
    """
    form = {
        "client_id": config.client_id,
        "response_type": "code",
        "redirect_uri": config.redirect_uri,
        "scope": " ".join(config.scopes),
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": pending.code_challenge,
        "code_challenge_method": "S256",
        "acr_values": config.acr_minimum.value,
        "response_mode": "query",
    }
    if config.ui_locales:
        form["ui_locales"] = " ".join(config.ui_locales)
    return form


def parse_par_response(status: int, body: Mapping[str, Any]) -> str:
    """The ``request_uri`` from a PAR response (201 Created per RFC 9126 §2.2)."""
    if status not in (200, 201):
        raise OidcProviderError(_oauth_error(body), "par")
    request_uri = body.get("request_uri")
    if not isinstance(request_uri, str) or not request_uri:
        raise OidcMalformed("PAR response has no request_uri")
    return request_uri


def authorize_url(config: RelyingPartyConfig, meta: ProviderMetadata, request_uri: str) -> str:
    """Where to send the browser: only client_id and the opaque request_uri travel in it."""
    query = urlencode({"client_id": config.client_id, "request_uri": request_uri})
    sep = "&" if "?" in meta.authorization_endpoint else "?"
    return f"{meta.authorization_endpoint}{sep}{query}"


def _oauth_error(body: Mapping[str, Any]) -> str:
    error = body.get("error")
    # Only the registered error code is kept: error_description is free text from outside.
    if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) <= 64:
        return error
    return "unknown_error"


def authorization_code(
    params: Mapping[str, str], pending: PendingLogin, meta: ProviderMetadata
) -> str:
    """Check the authorization response against its pending login; return the code.

    Order matters: state first (it names the pending login), then ``iss`` (RFC 9207 — it
    is checked on error responses too, to stop mix-up attacks), then error, then code.
    """
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise OidcStateError("state does not match the pending login")
    iss = params.get("iss")
    if iss is None:
        raise OidcMissingIss("authorization response has no iss")
    if iss != meta.issuer:
        raise OidcIssMismatch("authorization response iss differs from the issuer")
    if "error" in params:
        raise OidcProviderError(_oauth_error(params), "authorize")
    code = params.get("code")
    if not code:
        raise OidcMalformed("authorization response has no code")
    return code


def token_form(config: RelyingPartyConfig, pending: PendingLogin, code: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": config.redirect_uri,
        "code_verifier": pending.code_verifier,
        "client_id": config.client_id,
    }


def parse_token_response(status: int, body: Mapping[str, Any]) -> str:
    """The id_token from a token response; access and refresh tokens are not used."""
    if status != 200:
        raise OidcProviderError(_oauth_error(body), "token")
    id_token = body.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise OidcMalformed("token response has no id_token")
    return id_token
