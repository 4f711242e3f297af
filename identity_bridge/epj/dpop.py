"""DPoP proofs (RFC 9449) and HelseID client assertions (private_key_jwt, RFC 7523).

Pure functions of (key, clock, request); no I/O. Each proof and assertion has a fresh
random ``jti`` so that a replayed one is refused by the server.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt

from .keys import ClientKey

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# HelseID asks for this typ on client assertions; the lookalike accepts it or "JWT".
CLIENT_ASSERTION_TYP = "client-authentication+jwt"
DPOP_TYP = "dpop+jwt"
# HelseID: a client assertion lives for seconds, not minutes.
ASSERTION_LIFETIME_S = 60


def htu(url: str) -> str:
    """The DPoP ``htu``: the target URI without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))


def ath(access_token: str) -> str:
    """base64url(SHA-256(token)) without padding."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def dpop_proof(
    key: ClientKey,
    method: str,
    url: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    header = {"typ": DPOP_TYP, "alg": key.alg, "jwk": key.public_jwk()}
    claims: dict[str, object] = {
        "jti": str(uuid.uuid4()),
        "htm": method.upper(),
        "htu": htu(url),
        "iat": int(now()),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = ath(access_token)
    return jwt.encode(header, claims, key.key)


def client_assertion(
    key: ClientKey,
    client_id: str,
    audience: str,
    *,
    now: Callable[[], float] = time.time,
) -> str:
    issued = int(now())
    header: dict[str, object] = {"typ": CLIENT_ASSERTION_TYP, "alg": key.alg}
    if key.kid:
        header["kid"] = key.kid
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
    }
    return jwt.encode(header, claims, key.key)
