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

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    """Dev and test set-up, like ``devservices.demo.write_secret``: 32 random bytes as hex."""
    import secrets

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)


# -- the journal link (EPJ) ---------------------------------------------------------------------
@dataclass(frozen=True)
class EpjLink:
    """The optional ``[epj]`` table: where the web process may send journal notes.

    ```toml
    [epj]
    gateway_public_key_file = "/etc/helseprat/epj-gateway.pub"  # base64 X25519 (devsetup writes it)
    worker_config = "/etc/helseprat/epj.toml"  # the worker's config; its [receivers] decide
    # receivers = { skole-1 = 8000100 }        # or: service id -> receiver HER-id, here
    ```
    Environment: ``HELSEPRAT_EPJ_GATEWAY_PUB``, ``HELSEPRAT_EPJ_WORKER_CONFIG``. Relative
    paths are relative to the services file. Needs ``[idporten]`` (only verified threads go
    to the journal).
    """

    gateway_public_key: bytes = field(repr=False)
    receivers: Mapping[str, int]

    def enabled_for(self, service_id: str) -> bool:
        return service_id in self.receivers


def parse_epj(raw: object, env: Mapping[str, str], *, base: Path,
              idporten: RelyingPartyConfig | None) -> EpjLink | None:
    table: dict[str, object] = {}
    if raw is not None:
        if not isinstance(raw, dict):
            raise ConfigError("[epj] must be a table")
        unknown = set(raw) - {"gateway_public_key_file", "worker_config", "receivers"}
        if unknown:
            raise ConfigError(f"[epj].{sorted(unknown)[0]} is not a known setting")
        table.update(raw)
    if env.get("HELSEPRAT_EPJ_GATEWAY_PUB"):
        table["gateway_public_key_file"] = env["HELSEPRAT_EPJ_GATEWAY_PUB"]
    if env.get("HELSEPRAT_EPJ_WORKER_CONFIG"):
        table["worker_config"] = env["HELSEPRAT_EPJ_WORKER_CONFIG"]
    if not table:
        return None
    if idporten is None:
        raise ConfigError("[epj] needs [idporten]: only ID-porten-verified threads go to the "
                          "journal")
    key_file = table.get("gateway_public_key_file")
    if not isinstance(key_file, str) or not key_file:
        raise ConfigError("[epj].gateway_public_key_file is required")
    key = _read_gateway_public_key(base / key_file)
    receivers: dict[str, int] = {}
    worker_config = table.get("worker_config")
    if isinstance(worker_config, str) and worker_config:
        from identity_bridge.epj.config import load_config as load_worker_config
        from identity_bridge.epj.errors import EpjError

        try:
            worker = load_worker_config(base / worker_config)
        except EpjError as exc:
            raise ConfigError(f"[epj].worker_config: {exc.message}") from None
        receivers.update({sid: party.address_her_id for sid, party in worker.receivers.items()})
    inline = table.get("receivers", {})
    if not isinstance(inline, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in inline.values()):
        raise ConfigError("[epj].receivers must map service ids to HER-ids (whole numbers)")
    receivers.update({str(k): int(v) for k, v in inline.items()})
    if not receivers:
        raise ConfigError("[epj] needs worker_config or receivers")
    return EpjLink(gateway_public_key=key, receivers=receivers)


def _read_gateway_public_key(path: Path) -> bytes:
    try:
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{path.name} must hold a base64 X25519 public key (32 bytes)")
    return key
