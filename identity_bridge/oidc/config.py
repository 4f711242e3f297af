"""Typed relying-party configuration, read once and passed explicitly."""

from __future__ import annotations

import enum
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from joserfc.jwk import RSAKey

from .errors import OidcConfigError


class Acr(enum.Enum):
    """ID-porten's levels of assurance, ordered: high satisfies a substantial minimum."""

    SUBSTANTIAL = "idporten-loa-substantial"
    HIGH = "idporten-loa-high"

    @property
    def rank(self) -> int:
        return 2 if self is Acr.HIGH else 1

    def satisfies(self, minimum: Acr) -> bool:
        return self.rank >= minimum.rank


@dataclass(frozen=True)
class RelyingPartyConfig:
    """One registered ID-porten client.

    ``issuer`` is compared byte for byte with discovery and with every id_token's ``iss``
    (https://test.idporten.no has no trailing slash; adding one is a misconfiguration that
    fails loudly rather than silently). ``test_environment`` allows synthetic test persons
    (+80 on the month) and plain-http loopback providers; it must be False in production.
    """

    issuer: str
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str
    private_key_file: Path
    acr_minimum: Acr = Acr.SUBSTANTIAL
    scopes: tuple[str, ...] = ("openid", "profile")
    key_id: str | None = None
    test_environment: bool = False
    ui_locales: tuple[str, ...] = ("nb", "nn", "en")
    discovery_ttl_seconds: int = 3600
    clock_skew_seconds: int = 30
    max_id_token_age_seconds: int = 600
    pending_login_ttl_seconds: int = 600
    client_assertion_lifetime_seconds: int = 60
    http_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if "openid" not in self.scopes:
            raise OidcConfigError("scopes must include openid")
        if not 0 < self.client_assertion_lifetime_seconds <= 120:
            # ID-porten refuses client assertions that live longer than 120 s.
            raise OidcConfigError("client assertion lifetime must be 1..120 s")
        for name in ("issuer", "redirect_uri", "post_logout_redirect_uri"):
            require_secure_url(getattr(self, name), test_environment=self.test_environment)

    @property
    def discovery_url(self) -> str:
        # OpenID Connect Discovery 1.0 §4: strip one trailing "/" before appending.
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, *, test_environment: bool) -> None:
    """https always; plain http only to loopback and only in the test environment."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if test_environment and parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return
    raise OidcConfigError("URL must be https (http only to loopback in test)")


def load_signing_key(config: RelyingPartyConfig) -> RSAKey:
    """The client's private RSA key from a PEM or JWK file; its kid from config or RFC 7638.

    ID-porten finds the registered public key by ``kid``, so the assertion always names one.
    """
    try:
        raw = config.private_key_file.read_bytes()
    except OSError as exc:
        raise OidcConfigError("cannot read the client key file") from exc
    try:
        if raw.lstrip().startswith(b"{"):
            key = RSAKey.import_key(json.loads(raw))
        else:
            key = RSAKey.import_key(raw)
    except (ValueError, TypeError) as exc:
        raise OidcConfigError("client key file is not an RSA key") from exc
    if not key.is_private:
        raise OidcConfigError("client key file holds no private key")
    kid = config.key_id or key.kid or key.thumbprint()
    return RSAKey.import_key(key.as_dict(private=True) | {"kid": kid})
