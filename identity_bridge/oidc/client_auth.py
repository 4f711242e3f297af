"""private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9), ID-porten flavour:
RS256, iss = sub = client_id, aud = the issuer identifier, lifetime ≤ 120 s, unique jti."""

from __future__ import annotations

import secrets

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_assertion(
    *, client_id: str, issuer: str, key: RSAKey, now: float, lifetime_seconds: int
) -> str:
    """A one-shot assertion. ``aud`` is the issuer, not the endpoint URL: ID-porten asks for
    the issuer, and one assertion shape then serves both the PAR and the token endpoint."""
    iat = int(now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": issuer,
        "iat": iat,
        "exp": iat + lifetime_seconds,
        "jti": secrets.token_urlsafe(24),
    }
    header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=["RS256"])


def client_auth_form(
    *, client_id: str, issuer: str, key: RSAKey, now: float, lifetime_seconds: int
) -> dict[str, str]:
    return {
        "client_id": client_id,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion(
            client_id=client_id, issuer=issuer, key=key, now=now, lifetime_seconds=lifetime_seconds
        ),
    }
