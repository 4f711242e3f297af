"""id_token validation (OIDC Core §3.1.3.7) with ID-porten's extra rules: RS256 only,
``acr`` at least the configured minimum, ``pid`` present and a valid fødselsnummer/D-number.

The key set is passed in; an unknown ``kid`` raises ``OidcUnknownKid`` so the I/O layer can
refetch the JWKS once (key rotation) and call again.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

from .. import fnr
from .config import Acr, RelyingPartyConfig
from .discovery import ProviderMetadata
from .errors import (
    OidcAcrTooLow,
    OidcAudience,
    OidcBadPid,
    OidcBadSignature,
    OidcExpired,
    OidcIssMismatch,
    OidcIssuedAt,
    OidcMalformed,
    OidcMissingPid,
    OidcNonce,
    OidcUnknownKid,
)

KeySet = Mapping[str, RSAKey]


def parse_jwks(doc: Mapping[str, Any]) -> dict[str, RSAKey]:
    """Signing keys by kid. Keys that are not RSA, are for encryption, or lack a kid are
    skipped rather than fatal: a provider may publish other keys next to its signing key."""
    keys = doc.get("keys")
    if not isinstance(keys, list):
        raise OidcMalformed("JWKS has no keys array")
    out: dict[str, RSAKey] = {}
    for item in keys:
        if not isinstance(item, dict) or item.get("kty") != "RSA" or item.get("use") == "enc":
            continue
        kid = item.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            out[kid] = RSAKey.import_key(item)
        except (ValueError, JoseError):
            continue
    return out


@dataclass(frozen=True)
class IdTokenClaims:
    """The validated facts of one login. ``pid`` and the subject stay out of ``repr``."""

    issuer: str
    subject: str = field(repr=False)
    pid: fnr.PersonNumber = field(repr=False)
    acr: Acr
    sid: str | None = field(repr=False)
    auth_time: int | None
    issued_at: int
    expires_at: int
    amr: tuple[str, ...] = ()
    locale: str | None = None


def token_kid(raw: str) -> str | None:
    try:
        header = jws.extract_compact(raw.encode("ascii")).protected
    except (ValueError, JoseError, UnicodeEncodeError) as exc:
        raise OidcMalformed("id_token is not a compact JWS") from exc
    if header.get("alg") != "RS256":
        # ID-porten signs with RS256 only; anything else (including "none") is refused.
        raise OidcBadSignature("id_token alg is not RS256")
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _int_claim(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise OidcAudience("id_token aud does not name this client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcAudience("id_token has several audiences and azp is not this client")


def _check_times(claims: Mapping[str, Any], config: RelyingPartyConfig, now: float) -> None:
    skew = config.clock_skew_seconds
    exp = _int_claim(claims, "exp")
    if exp is None or now - skew >= exp:
        raise OidcExpired("id_token expired")
    iat = _int_claim(claims, "iat")
    if iat is None or iat > now + skew or iat < now - config.max_id_token_age_seconds:
        raise OidcIssuedAt("id_token iat out of range")


def _check_acr(claims: Mapping[str, Any], minimum: Acr) -> Acr:
    try:
        acr = Acr(claims.get("acr"))
    except ValueError as exc:
        raise OidcAcrTooLow("id_token acr is not a known level") from exc
    if not acr.satisfies(minimum):
        raise OidcAcrTooLow("id_token acr is below the configured minimum")
    return acr


def _check_pid(claims: Mapping[str, Any], config: RelyingPartyConfig) -> fnr.PersonNumber:
    pid = claims.get("pid")
    if not isinstance(pid, str) or not pid:
        raise OidcMissingPid("id_token has no pid")
    try:
        number = fnr.parse(pid, allow_synthetic=config.test_environment)
    except fnr.FnrError as exc:
        raise OidcBadPid(exc.code) from None  # "from None": the FnrError adds nothing to log
    if number.kind is fnr.Kind.H_NUMBER:
        # ID-porten's pid is a fødselsnummer or D-number; H-numbers are internal to health
        # institutions and would mean the token is not what it claims to be.
        raise OidcBadPid("fnr_kind")
    return number


def validate_id_token(
    raw: str,
    *,
    keys: KeySet,
    meta: ProviderMetadata,
    config: RelyingPartyConfig,
    nonce: str,
    now: float,
) -> IdTokenClaims:
    kid = token_kid(raw)
    key = keys.get(kid) if kid else None
    if key is None:
        raise OidcUnknownKid("id_token kid not in the provider's JWKS")
    try:
        token = jwt.decode(raw, key, algorithms=["RS256"])
    except BadSignatureError as exc:
        raise OidcBadSignature("id_token signature does not verify") from exc
    except (ValueError, JoseError) as exc:
        raise OidcMalformed("id_token cannot be decoded") from exc
    claims = token.claims
    # Exact comparison: "https://test.idporten.no/" is not "https://test.idporten.no".
    if claims.get("iss") != meta.issuer:
        raise OidcIssMismatch("id_token iss differs from the issuer")
    _check_audience(claims, config.client_id)
    _check_times(claims, config, now)
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(
        token_nonce.encode(), nonce.encode()
    ):
        raise OidcNonce("id_token nonce does not match the pending login")
    acr = _check_acr(claims, config.acr_minimum)
    pid = _check_pid(claims, config)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise OidcMalformed("id_token has no sub")
    sid = claims.get("sid")
    amr = claims.get("amr")
    locale = claims.get("locale")
    return IdTokenClaims(
        issuer=meta.issuer,
        subject=sub,
        pid=pid,
        acr=acr,
        sid=sid if isinstance(sid, str) and sid else None,
        auth_time=_int_claim(claims, "auth_time"),
        issued_at=_int_claim(claims, "iat") or 0,
        expires_at=_int_claim(claims, "exp") or 0,
        amr=tuple(a for a in amr if isinstance(a, str)) if isinstance(amr, list) else (),
        locale=locale if isinstance(locale, str) else None,
    )
