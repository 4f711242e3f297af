"""The worker's configuration: read once from a TOML file into frozen dataclasses.

Secrets are files named in the config (the HelseID client key, the gateway key); Redis comes
from REDIS_URL. Example (see docs/epj.md):

    [sender]                       # the municipality's service, as in the address register
    name = "Eksempel kommune"
    org_number = "999999999"
    her_id = 8000001
    unit_name = "Helsestasjon for ungdom"
    unit_her_id = 8000002

    [receivers.skole-1]            # service id -> the EPJ that documents for it
    name = "Eksempel kommune EPJ"
    her_id = 8000100

    [helseid]
    client_id = "..."
    token_endpoint = "https://helseid-sts.test.nhn.no/connect/token"
    audience = "https://helseid-sts.test.nhn.no"
    scope = "nhn:msh/api"
    key_file = "/run/secrets/helseid-client.jwk"

    [msh]
    base_url = "https://api.tjener.test.melding.nhn.no"
    source_system = "helseprat"

    [worker]
    gateway_key_file = "/run/secrets/epj-gateway.key"
    claim_idle_ms = 300000
    receipt_poll_s = 10
    retry_base_s = 1
    retry_cap_s = 60
    max_attempts = 8

    [appointments]                 # optional: take appointment messages from the EPJ
    person_key_file = "/run/secrets/person_key"   # the web process's person key (same file)
    retention_days = 30            # kept this long after the appointment ended
    test_persons = false           # true: synthetic person numbers too (never in production)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identity_bridge.personseal import parse_person_key

from .errors import ConfigError
from .helseid import HelseIdSettings
from .model import Party
from .msh import MshSettings
from .outbox import RetryPolicy


@dataclass(frozen=True)
class WorkerSettings:
    gateway_key_file: Path
    claim_idle_ms: int = 300_000
    receipt_poll_s: float = 10.0
    block_ms: int = 1000
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class AppointmentSettings:
    person_key: bytes = field(repr=False)
    retention_days: int = 30
    test_persons: bool = False  # accept synthetic person numbers (test environments only)


@dataclass(frozen=True)
class EpjConfig:
    sender: Party
    receivers: dict[str, Party]
    helseid: HelseIdSettings
    helseid_key_file: Path
    msh: MshSettings
    worker: WorkerSettings
    appointments: AppointmentSettings | None = None

    def receiver_for(self, service_id: str) -> Party | None:
        return self.receivers.get(service_id)


def _party(obj: dict[str, Any], where: str) -> Party:
    try:
        unit = None
        if "unit_her_id" in obj:
            unit = Party(str(obj["unit_name"]), int(obj["unit_her_id"]))
        return Party(str(obj["name"]), int(obj["her_id"]),
                     str(obj["org_number"]) if "org_number" in obj else None, unit)
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"[{where}] needs name and her_id (and unit_name with unit_her_id)") \
            from None


def load_config(path: Path) -> EpjConfig:
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        raise ConfigError(f"cannot read the EPJ config {path.name}") from None
    base = path.parent
    try:
        h, m, w = raw["helseid"], raw["msh"], raw["worker"]
        receivers = {sid: _party(r, f"receivers.{sid}") for sid, r in raw["receivers"].items()}
        return EpjConfig(
            sender=_party(raw["sender"], "sender"),
            receivers=receivers,
            helseid=HelseIdSettings(
                client_id=str(h["client_id"]),
                token_endpoint=str(h["token_endpoint"]),
                audience=str(h["audience"]),
                scope=str(h.get("scope", "nhn:msh/api")),
            ),
            helseid_key_file=base / str(h["key_file"]),
            msh=MshSettings(str(m["base_url"]), str(m.get("source_system", "helseprat"))),
            worker=WorkerSettings(
                gateway_key_file=base / str(w["gateway_key_file"]),
                claim_idle_ms=int(w.get("claim_idle_ms", 300_000)),
                receipt_poll_s=float(w.get("receipt_poll_s", 10.0)),
                block_ms=int(w.get("block_ms", 1000)),
                retry=RetryPolicy(
                    base_s=float(w.get("retry_base_s", 1.0)),
                    cap_s=float(w.get("retry_cap_s", 60.0)),
                    max_attempts=int(w.get("max_attempts", 8)),
                ),
            ),
            appointments=_appointments(raw.get("appointments"), base),
        )
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"EPJ config is incomplete or wrong: {exc!s:.80}") from None


def _appointments(table: Any, base: Path) -> AppointmentSettings | None:
    if table is None:
        return None
    key_file = base / str(table["person_key_file"])
    try:
        key = parse_person_key(key_file.read_bytes())
    except OSError:
        raise ConfigError(f"cannot read the person key {key_file.name}") from None
    except ValueError:
        raise ConfigError(f"{key_file.name} must hold 32 bytes (64 hex characters)") from None
    days = int(table.get("retention_days", 30))
    if days < 0:
        raise ConfigError("[appointments].retention_days must not be negative")
    test = table.get("test_persons", False)
    if not isinstance(test, bool):
        raise ConfigError("[appointments].test_persons must be true or false")
    return AppointmentSettings(person_key=key, retention_days=days, test_persons=test)
