"""One exception hierarchy for the ID-porten relying party, each class with a stable code.

The web layer maps ``code`` to an error page in the youth's language. Messages and
``detail`` never carry a pid, a token, a code, a state or a nonce: they are safe to log.
"""

from __future__ import annotations

from typing import ClassVar


class OidcError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``detail`` is a safe hint."""

    code: ClassVar[str] = "oidc_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{self.code}: {detail}" if detail else self.code)
        self.detail = detail


class OidcConfigError(OidcError):
    code = "oidc_config"


class OidcDiscoveryError(OidcError):
    """Discovery document missing, malformed, or not matching the configured issuer."""

    code = "oidc_discovery"


class OidcTransportError(OidcError):
    """The provider could not be reached or answered with something that is not JSON."""

    code = "oidc_transport"


class OidcProviderError(OidcError):
    """The provider answered with an OAuth error (PAR, token, or the authorization response).

    ``oauth_error`` is the provider's registered error code (e.g. ``access_denied`` when the
    user cancels), which the web layer may use to pick a friendlier page.
    """

    code = "oidc_provider_error"

    def __init__(self, oauth_error: str, where: str) -> None:
        super().__init__(f"{where}: {oauth_error}")
        self.oauth_error = oauth_error
        self.where = where


class OidcStateError(OidcError):
    """Unknown, tampered or expired ``state``: there is no pending login for it."""

    code = "oidc_state"


class OidcBrowserMismatch(OidcError):
    """The callback came from a browser other than the one that started the login (its
    login cookie is missing or different). The pending login is left for the right one."""

    code = "oidc_browser"


class OidcCodeReplay(OidcError):
    """A callback for a login that was already completed (its state was single-use)."""

    code = "oidc_code_replay"


class OidcMissingIss(OidcError):
    """RFC 9207: the authorization response carries no ``iss``."""

    code = "oidc_missing_iss"


class OidcIssMismatch(OidcError):
    code = "oidc_iss_mismatch"


class OidcMalformed(OidcError):
    """A token or response that cannot be parsed (not a JWS, bad JSON, wrong types)."""

    code = "oidc_malformed"


class OidcBadSignature(OidcError):
    code = "oidc_bad_signature"


class OidcUnknownKid(OidcError):
    """The id_token's ``kid`` is not in the provider's JWKS, even after one refetch."""

    code = "oidc_unknown_kid"


class OidcAudience(OidcError):
    code = "oidc_aud"


class OidcExpired(OidcError):
    code = "oidc_expired"


class OidcIssuedAt(OidcError):
    """``iat`` missing, in the future, or too old."""

    code = "oidc_iat"


class OidcNonce(OidcError):
    code = "oidc_nonce"


class OidcAcrTooLow(OidcError):
    code = "oidc_acr_too_low"


class OidcMissingPid(OidcError):
    code = "oidc_missing_pid"


class OidcBadPid(OidcError):
    """``pid`` present but refused by the fødselsnummer rules; ``fnr_code`` says why."""

    code = "oidc_bad_pid"

    def __init__(self, fnr_code: str) -> None:
        super().__init__(fnr_code)
        self.fnr_code = fnr_code
