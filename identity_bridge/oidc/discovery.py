"""Provider metadata (OpenID Connect Discovery 1.0, RFC 8414) and a small TTL cache."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .config import RelyingPartyConfig, require_secure_url
from .errors import OidcConfigError, OidcDiscoveryError

Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints the RP uses. Everything else in the document is ignored on purpose."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    pushed_authorization_request_endpoint: str
    end_session_endpoint: str | None
    iss_parameter_supported: bool


def _str(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise OidcDiscoveryError(f"missing {name}")
    return value


def parse_metadata(doc: Mapping[str, Any], config: RelyingPartyConfig) -> ProviderMetadata:
    """Check a discovery document against the configuration.

    The issuer must equal the configured one exactly (Discovery §4.3: it is what every
    id_token's ``iss`` is later compared with). PAR and S256 are required, because the flow
    the DESIGN fixes depends on them; a provider lacking either is refused up front.
    """
    issuer = _str(doc, "issuer")
    if issuer != config.issuer:
        raise OidcDiscoveryError("issuer in discovery differs from the configured issuer")
    methods = doc.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise OidcDiscoveryError("provider does not support PKCE S256")
    end_session = doc.get("end_session_endpoint")
    meta = ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_str(doc, "authorization_endpoint"),
        token_endpoint=_str(doc, "token_endpoint"),
        jwks_uri=_str(doc, "jwks_uri"),
        pushed_authorization_request_endpoint=_str(doc, "pushed_authorization_request_endpoint"),
        end_session_endpoint=end_session if isinstance(end_session, str) else None,
        iss_parameter_supported=doc.get("authorization_response_iss_parameter_supported") is True,
    )
    urls = [meta.authorization_endpoint, meta.token_endpoint, meta.jwks_uri]
    urls.append(meta.pushed_authorization_request_endpoint)
    if meta.end_session_endpoint:
        urls.append(meta.end_session_endpoint)
    try:
        for url in urls:
            require_secure_url(url, test_environment=config.test_environment)
    except OidcConfigError as exc:
        raise OidcDiscoveryError("endpoint is not https") from exc
    return meta


class TtlCache(Generic[T]):
    """One value, valid for ``ttl`` seconds by the injected clock. Not shared across processes:
    each web process fetches discovery and JWKS itself, which ID-porten expects."""

    def __init__(self, ttl: float, clock: Clock) -> None:
        self._ttl = ttl
        self._clock = clock
        self._value: T | None = None
        self._expires = 0.0

    def get(self) -> T | None:
        if self._value is not None and self._clock() < self._expires:
            return self._value
        return None

    def put(self, value: T) -> None:
        self._value = value
        self._expires = self._clock() + self._ttl

    def clear(self) -> None:
        self._value = None
