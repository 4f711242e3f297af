"""Fixtures for the EPJ link: key files, the NHN lookalike as a real subprocess, config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from nacl.public import PrivateKey

from devservices.nhn.process import NhnProcess
from identity_bridge.epj.config import EpjConfig, load_config
from identity_bridge.epj.keys import ClientKey, write_client_key, write_gateway_key
from identity_bridge.epj.model import Nurse, Patient
from identity_bridge.epj.sealed import SealedNote

ROOT = Path(__file__).resolve().parents[3]
SHARED_KITH = ROOT.parent / "shared" / "standards" / "kith"

CLIENT_ID = "helseprat-test"
SENDER_HER = 8000001
SENDER_UNIT_HER = 8000002
RECEIVER_HER = 8000100
UNKNOWN_RECEIVER_HER = 8000999
# A made-up 11-digit person number and a note marker: neither may ever reach Redis or logs.
FNR = "29917345281"
MARKER = "MARKER-7f3c9e2a-ikke-i-redis"


@dataclass(frozen=True)
class Keys:
    dir: Path
    client_key_file: Path
    client_key: ClientKey
    gateway_key_file: Path
    gateway_key: PrivateKey
    clients_file: Path


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    d = tmp_path_factory.mktemp("epj-keys")
    client_key = write_client_key(d / "client.jwk", "EC")
    gateway = write_gateway_key(d / "gateway.key")
    clients = d / "clients.json"
    clients.write_text(json.dumps({"clients": [
        {"client_id": CLIENT_ID, "jwk": client_key.public_jwk(),
         "her_ids": [SENDER_HER, SENDER_UNIT_HER]},
    ]}))
    return Keys(d, d / "client.jwk", client_key, d / "gateway.key", gateway, clients)


@pytest.fixture
def nhn(tmp_path: Path, keys: Keys) -> Iterator[NhnProcess]:
    proc = NhnProcess(data_dir=tmp_path / "nhn", keys_file=keys.clients_file,
                      receivers=frozenset({RECEIVER_HER}))
    proc.start()
    yield proc
    proc.stop()


def write_config(path: Path, nhn_url: str, keys: Keys, *, max_attempts: int = 6,
                 claim_idle_ms: int = 60_000, receipt_poll_s: float = 0.0) -> Path:
    path.write_text(f"""
[sender]
name = "Testkommune"
org_number = "999999999"
her_id = {SENDER_HER}
unit_name = "Helsestasjon for ungdom"
unit_her_id = {SENDER_UNIT_HER}

[receivers.skole-1]
name = "Testkommune EPJ"
her_id = {RECEIVER_HER}

[receivers.ukjent]
name = "Ukjent EPJ"
her_id = {UNKNOWN_RECEIVER_HER}

[helseid]
client_id = "{CLIENT_ID}"
token_endpoint = "{nhn_url}/connect/token"
audience = "{nhn_url}"
key_file = "{keys.client_key_file}"

[msh]
base_url = "{nhn_url}"

[worker]
gateway_key_file = "{keys.gateway_key_file}"
claim_idle_ms = {claim_idle_ms}
receipt_poll_s = {receipt_poll_s}
block_ms = 50
retry_base_s = 0.5
retry_cap_s = 4
max_attempts = {max_attempts}
""")
    return path


@pytest.fixture
def config(tmp_path: Path, nhn: NhnProcess, keys: Keys) -> EpjConfig:
    return load_config(write_config(tmp_path / "epj.toml", nhn.url, keys))


def sample_note(text: str = f"Samtale om søvn og stress. {MARKER}") -> SealedNote:
    return SealedNote(
        patient=Patient(ident=FNR, given_name="Test", family_name="Ungdom"),
        nurse=Nurse(given_name="Helle", family_name="Sykepleier", hpr="9144900"),
        subject="Samtale i helseprat",
        text=text,
        note_date=date(2025, 3, 14),
    )


def stored_messages(nhn: NhnProcess) -> list[dict[str, object]]:
    body = httpx.get(nhn.url + "/_dev/messages", timeout=5).json()
    assert isinstance(body, list)
    return body


def set_faults(nhn: NhnProcess, **faults: object) -> None:
    httpx.post(nhn.url + "/_dev/faults", json=faults, timeout=5).raise_for_status()
