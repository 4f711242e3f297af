"""The optional ``[idporten]`` table (or ``HELSEPRAT_IDPORTEN_*`` environment) and the
person-sealing key, read once into typed values for ``chat.config.Config``.

```toml
[idporten]
issuer = "https://test.idporten.no"
client_id = "..."
key_file = "/etc/helseprat/idporten-client.jwk"     # RSA private key, PEM or JWK
acr_minimum = "idporten-loa-substantial"             # or "idporten-loa-high"
test_environment = true                              # synthetic persons; never in prod
# redirect_uri / post_logout_redirect_uri default to the public URL's routes
```

Without the table the web app runs as before (no upgrade button). With it, the secrets folder
must hold ``person_key`` (32 bytes, hex or raw): it seals person identifiers at rest.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from pathlib import Path

from chat.errors import ConfigError
from identity_bridge.oidc import Acr, OidcConfigError, RelyingPartyConfig

CALLBACK_PATH = "/login/idporten/callback"
LOGGED_OUT_PATH = "/login/idporten/logged-out"
FRONTCHANNEL_PATH = "/login/idporten/frontchannel-logout"
PERSON_KEY_FILE = "person_key"

_ENV = {
    "issuer": "HELSEPRAT_IDPORTEN_ISSUER",
    "client_id": "HELSEPRAT_IDPORTEN_CLIENT_ID",
    "key_file": "HELSEPRAT_IDPORTEN_KEY_FILE",
    "acr_minimum": "HELSEPRAT_IDPORTEN_ACR",
    "test_environment": "HELSEPRAT_IDPORTEN_TEST",
    "redirect_uri": "HELSEPRAT_IDPORTEN_REDIRECT_URI",
    "post_logout_redirect_uri": "HELSEPRAT_IDPORTEN_POST_LOGOUT_URI",
    "key_id": "HELSEPRAT_IDPORTEN_KEY_ID",
}
_KNOWN = set(_ENV)


def _table(raw: object, env: Mapping[str, str]) -> dict[str, object] | None:
    table: dict[str, object] = {}
    if raw is not None:
        if not isinstance(raw, dict):
            raise ConfigError("[idporten] must be a table")
        unknown = set(raw) - _KNOWN
        if unknown:
            raise ConfigError(f"[idporten].{sorted(unknown)[0]} is not a known setting")
        table.update(raw)
    for name, var in _ENV.items():
        if env.get(var):
            value: object = env[var]
            if name == "test_environment":
                value = str(value).lower() in ("1", "true", "yes")
            table[name] = value
    return table or None


def parse_idporten(
    raw: object, env: Mapping[str, str], *, public_url: str, environment: str,
) -> RelyingPartyConfig | None:
    table = _table(raw, env)
    if table is None:
        return None
    for required in ("issuer", "client_id", "key_file"):
        if not isinstance(table.get(required), str) or not table[required]:
            raise ConfigError(f"[idporten].{required} is required")
    test = table.get("test_environment", False)
    if not isinstance(test, bool):
        raise ConfigError("[idporten].test_environment must be true or false")
    if test and environment == "prod":
        raise ConfigError("[idporten].test_environment must be false when HELSEPRAT_ENV=prod")
    try:
        acr = Acr(str(table.get("acr_minimum", Acr.SUBSTANTIAL.value)))
    except ValueError:
        raise ConfigError("[idporten].acr_minimum must be idporten-loa-substantial or "
                          "idporten-loa-high") from None
    key_id = table.get("key_id")
    try:
        return RelyingPartyConfig(
            issuer=str(table["issuer"]),
            client_id=str(table["client_id"]),
            redirect_uri=str(table.get("redirect_uri") or public_url + CALLBACK_PATH),
            post_logout_redirect_uri=str(table.get("post_logout_redirect_uri")
                                         or public_url + LOGGED_OUT_PATH),
            private_key_file=Path(str(table["key_file"])),
            acr_minimum=acr,
            key_id=str(key_id) if key_id else None,
            test_environment=test,
        )
    except OidcConfigError as exc:
        raise ConfigError(f"[idporten]: {exc.detail or exc.code}") from None


def decode_person_key(raw: bytes) -> bytes:
    """32 raw bytes, or 64 hex characters (what ``write_person_key`` writes)."""
    text = raw.strip()
    if len(raw) == 32:
        return raw
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError("person_key must hold 32 bytes (64 hex characters)")
    return key


def read_person_key(secrets_dir: Path) -> bytes:
    path = secrets_dir / PERSON_KEY_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from None
    return decode_person_key(raw)


def write_person_key(path: Path) -> None:
    """Dev and test set-up, like ``chat.demo.write_secret``: 32 random bytes as hex."""
    import secrets

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
