"""The optional ``[provesvar]`` table: where the web process fetches the youth's test results.

```toml
[provesvar]
base_url = "https://provesvar.test.nhn.no/fhir"   # the FHIR base (DiagnosticReport/_search)
client_id = "helseprat"                            # HelseID client credentials + DPoP
token_endpoint = "https://helseid-sts.test.nhn.no/connect/token"
audience = "https://helseid-sts.test.nhn.no"
scope = "nhn:provesvar/read"
key_file = "/run/secrets/helseid-client.jwk"       # relative to the services file's folder
timeout_s = 5                                      # the page says "try again later" after this
```
Or, without the table in the services file, a file of its own named by
``HELSEPRAT_PROVESVAR_FILE`` (``make run`` writes one for the stand-in); its paths are
relative to that file's folder.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chat.errors import ConfigError
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.helseid import HelseIdSettings
from identity_bridge.epj.keys import ClientKey, load_client_key

SCOPE = "nhn:provesvar/read"
_KNOWN = {"base_url", "client_id", "token_endpoint", "audience", "scope", "key_file",
          "timeout_s"}


@dataclass(frozen=True)
class ProvesvarSettings:
    base_url: str
    helseid: HelseIdSettings
    key: ClientKey
    timeout_s: float = 5.0


def _text(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"[provesvar].{name} is required")
    return value


def parse_provesvar(raw: object, *, base: Path) -> ProvesvarSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("[provesvar] must be a table")
    unknown = set(raw) - _KNOWN
    if unknown:
        raise ConfigError(f"[provesvar].{sorted(unknown)[0]} is not a known setting")
    timeout = raw.get("timeout_s", 5.0)
    if not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        raise ConfigError("[provesvar].timeout_s must be between 0 and 60 seconds")
    key_path = Path(_text(raw, "key_file"))
    try:
        key = load_client_key(key_path if key_path.is_absolute() else base / key_path)
    except EpjError as exc:
        raise ConfigError(f"[provesvar].key_file: {exc.message}") from None
    scope = raw.get("scope", SCOPE)
    helseid = HelseIdSettings(client_id=_text(raw, "client_id"),
                              token_endpoint=_text(raw, "token_endpoint"),
                              audience=_text(raw, "audience"),
                              scope=scope if isinstance(scope, str) and scope else SCOPE)
    return ProvesvarSettings(_text(raw, "base_url").rstrip("/"), helseid, key, float(timeout))


def provesvar_section(sections: Mapping[str, Mapping[str, object]], env: Mapping[str, str],
                      services_dir: Path) -> tuple[object, Path]:
    """The raw ``[provesvar]`` table and the folder its paths are relative to."""
    if "provesvar" in sections:
        return sections["provesvar"], services_dir
    name = env.get("HELSEPRAT_PROVESVAR_FILE", "")
    if not name:
        return None, services_dir
    path = Path(name)
    try:
        table = tomllib.loads(path.read_text()).get("provesvar")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"HELSEPRAT_PROVESVAR_FILE: {exc}") from None
    if not isinstance(table, dict):
        raise ConfigError("HELSEPRAT_PROVESVAR_FILE has no [provesvar] table")
    return table, path.parent
