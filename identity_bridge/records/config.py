"""The optional ``[sysvak]`` table: where the web process asks for a youth's vaccinations.

```toml
[sysvak]
url = "https://sysvak.example"                 # the registry's base URL (make run: the stand-in)
client_id = "..."                              # the HelseID client
token_endpoint = "https://helseid-sts.test.nhn.no/connect/token"
audience = "https://helseid-sts.test.nhn.no"   # HelseID wants its issuer here
key_file = "/etc/helseprat/sysvak-client.jwk"  # the client's private key (JWK or PEM)
scope = "helseprat:sysvak"
timeout_s = 4                                  # per request; the page says "try again later"
```
Relative paths are relative to the services file. The table may instead be the only table of
a TOML file named by ``HELSEPRAT_SYSVAK_FILE`` (``make run`` writes one for the stand-in);
relative paths are then relative to that file. Without the table "Mine vaksiner" says
that the service has no registry connection and shows the school vaccines' texts only.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chat.errors import ConfigError
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.helseid import HelseIdSettings
from identity_bridge.epj.keys import ClientKey, load_client_key

_KNOWN = {"url", "client_id", "token_endpoint", "audience", "key_file", "scope", "timeout_s"}


@dataclass(frozen=True)
class SysvakSettings:
    url: str
    helseid: HelseIdSettings
    key: ClientKey = field(repr=False)
    timeout_s: float = 4.0


def _text(raw: dict[str, object], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[sysvak].{name} is required")
    return value.strip()


def sysvak_section(sections: Mapping[str, object], env: Mapping[str, str],
                   base: Path) -> tuple[object, Path]:
    """The ``[sysvak]`` table and the folder its paths are relative to."""
    name = env.get("HELSEPRAT_SYSVAK_FILE")
    if not name:
        return sections.get("sysvak"), base
    path = base / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("sysvak"), path.parent
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"HELSEPRAT_SYSVAK_FILE: cannot read {path.name}: {exc}") from None


def parse_sysvak(raw: object, *, base: Path) -> SysvakSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("[sysvak] must be a table")
    unknown = set(raw) - _KNOWN
    if unknown:
        raise ConfigError(f"[sysvak].{sorted(unknown)[0]} is not a known setting")
    timeout = raw.get("timeout_s", 4.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 30:
        raise ConfigError("[sysvak].timeout_s must be a number of seconds (0–30)")
    try:
        key = load_client_key(base / _text(raw, "key_file"))
    except EpjError as exc:
        raise ConfigError(f"[sysvak].key_file: {exc.message}") from None
    scope = raw.get("scope", "helseprat:sysvak")
    if not isinstance(scope, str):
        raise ConfigError("[sysvak].scope must be a string")
    helseid = HelseIdSettings(client_id=_text(raw, "client_id"),
                              token_endpoint=_text(raw, "token_endpoint"),
                              audience=_text(raw, "audience"), scope=scope)
    return SysvakSettings(_text(raw, "url").rstrip("/"), helseid, key, float(timeout))
