"""The optional ``[concern]`` table: where concern reports go (KS Fiks) and, per
municipality, its child welfare service's certificate and phone numbers.

```toml
[concern]
fiks_url = "https://api.fiks.ks.no"          # the stand-in's URL for make run and tests
integration_id = "..."                        # the Fiks integration (IntegrasjonId)
integration_password_file = "fiks_password"   # relative to the services file; a secret file

[concern.municipality.demo]                   # a municipality id of the services file
kommunenummer = "0301"
name = "Barneverntjenesten i Demo kommune"
certificate_file = "fiks-demo.pem"            # the municipality's X.509 certificate (RSA, PEM)
phone = "23 45 67 89"                         # the child welfare service, shown in the guidance
emergency_phone = "23 45 67 00"               # Barnevernvakten, optional
```

The table may instead be the only table of a TOML file named by ``HELSEPRAT_CONCERN_FILE``
(``make run`` writes one for the Fiks stand-in); relative paths are then relative to that file.
Without either the dashboard shows only the guidance (the duty to notify and the national
numbers); a report cannot be sent.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from chat.errors import ConfigError

from .envelope import load_certificate

_KOMMUNENUMMER = re.compile(r"^[0-9]{4}$")


@dataclass(frozen=True)
class ChildWelfare:
    """One municipality's child welfare service as the report's receiver."""
    municipality: str
    kommunenummer: str
    name: str
    certificate: x509.Certificate = field(repr=False)
    phone: str = ""
    emergency_phone: str = ""


@dataclass(frozen=True)
class ConcernSettings:
    fiks_url: str
    integration_id: str
    integration_password: str = field(repr=False)
    receivers: Mapping[str, ChildWelfare] = field(default_factory=dict)


def _str(raw: Mapping[str, object], name: str, where: str, *, required: bool = True) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}.{name} must be a non-empty string")
    return value.strip()


def _receiver(mid: str, raw: object, base: Path) -> ChildWelfare:
    where = f"concern.municipality.{mid}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    nummer = _str(raw, "kommunenummer", where)
    if not _KOMMUNENUMMER.fullmatch(nummer):
        raise ConfigError(f"{where}.kommunenummer must be four digits")
    path = base / _str(raw, "certificate_file", where)
    try:
        cert = load_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where}.certificate_file: {exc}") from None
    return ChildWelfare(mid, nummer, _str(raw, "name", where), cert,
                        _str(raw, "phone", where, required=False),
                        _str(raw, "emergency_phone", where, required=False))


def parse_concern(raw: Mapping[str, object] | None, base: Path,
                  municipalities: Mapping[str, object]) -> ConcernSettings | None:
    if raw is None:
        return None
    url = _str(raw, "fiks_url", "concern").rstrip("/")
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError("concern.fiks_url must be https (or loopback for the stand-in)")
    password_file = base / _str(raw, "integration_password_file", "concern")
    try:
        password = password_file.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"concern.integration_password_file: {exc}") from None
    table = raw.get("municipality", {})
    if not isinstance(table, dict):
        raise ConfigError("concern.municipality must be a table of municipalities")
    receivers = {}
    for mid, entry in table.items():
        if mid not in municipalities:
            raise ConfigError(f"concern.municipality.{mid}: no such municipality")
        receivers[mid] = _receiver(mid, entry, base)
    return ConcernSettings(url, _str(raw, "integration_id", "concern"), password, receivers)


def concern_section(sections: Mapping[str, Mapping[str, object]], env: Mapping[str, str],
                    services_dir: Path) -> tuple[Mapping[str, object] | None, Path]:
    """The raw ``[concern]`` table and the folder its paths are relative to."""
    if "concern" in sections:
        return sections["concern"], services_dir
    name = env.get("HELSEPRAT_CONCERN_FILE", "")
    if not name:
        return None, services_dir
    path = Path(name)
    try:
        table = tomllib.loads(path.read_text()).get("concern")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"HELSEPRAT_CONCERN_FILE: {exc}") from None
    if not isinstance(table, dict):
        raise ConfigError("HELSEPRAT_CONCERN_FILE has no [concern] table")
    return table, path.parent
