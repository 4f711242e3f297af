"""The appointment round trip's real parts: the NHN lookalike with two clients (helseprat
and the EPJ stand-in), the EPJ stand-in as a subprocess, and the worker's config with
``[appointments]``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from devservices.epj.process import EpjStandinProcess
from devservices.idporten.persons import make_persons
from devservices.nhn.process import NhnProcess
from identity_bridge.epj.keys import write_client_key
from identity_bridge.web.config import write_person_key

from .conftest import RECEIVER_HER, SENDER_HER, SENDER_UNIT_HER, Keys, write_config

EPJ_CLIENT_ID = "epj-standin-test"


def synthetic_pid(age: int = 15) -> str:
    """A synthetic person number of the ID-porten lookalike's test persons."""
    return next(p.pid for p in make_persons(date.today()) if p.age == age)


@dataclass
class ApptWorld:
    nhn: NhnProcess
    epj: EpjStandinProcess
    worker_config: Path
    person_key_file: Path


def start_world(tmp: Path, keys: Keys) -> tuple[NhnProcess, EpjStandinProcess, Path, Path]:
    standin_key_file = tmp / "epj-standin.jwk"
    standin_key = write_client_key(standin_key_file, "EC")
    clients = tmp / "clients.json"
    clients.write_text(json.dumps({"clients": [
        {"client_id": "helseprat-test", "jwk": keys.client_key.public_jwk(),
         "her_ids": [SENDER_HER, SENDER_UNIT_HER]},
        {"client_id": EPJ_CLIENT_ID, "jwk": standin_key.public_jwk(), "her_ids": [RECEIVER_HER]},
    ]}))
    nhn = NhnProcess(data_dir=tmp / "nhn", keys_file=clients, receivers=frozenset({RECEIVER_HER}))
    nhn.start()
    standin_config = tmp / "epj-standin.json"
    standin_config.write_text(json.dumps({
        "nhn_url": nhn.url, "client_id": EPJ_CLIENT_ID, "key_file": standin_key_file.name,
        "epj": {"name": "Testkommune EPJ", "her_id": RECEIVER_HER},
        "service": {"name": "Testkommune", "org_number": "999999999", "her_id": SENDER_HER,
                    "unit_name": "Helsestasjon for ungdom", "unit_her_id": SENDER_UNIT_HER},
        "poll_s": 0.1,
    }))
    epj = EpjStandinProcess(config_file=standin_config, log_dir=tmp / "epj-standin")
    epj.start()
    person_key_file = tmp / "secrets" / "person_key"
    write_person_key(person_key_file)
    config = write_config(tmp / "epj.toml", nhn.url, keys)
    with config.open("a") as f:
        f.write(f'\n[appointments]\nperson_key_file = "{person_key_file}"\n'
                "retention_days = 30\ntest_persons = true\n")
    return nhn, epj, config, person_key_file


@pytest.fixture
def appt_world(tmp_path: Path, keys: Keys) -> Iterator[ApptWorld]:
    nhn, epj, config, person_key_file = start_world(tmp_path, keys)
    yield ApptWorld(nhn, epj, config, person_key_file)
    epj.stop()
    nhn.stop()
