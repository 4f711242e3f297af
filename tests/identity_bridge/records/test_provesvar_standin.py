"""The client against the real stand-in process: HelseID client credentials + DPoP, the FHIR
search, and each fault the registry can have (slow, down, malformed, not JSON, another
person's answer, an unknown client)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devservices.provesvar.process import ProvesvarProcess, dev_setup
from identity_bridge.epj.keys import write_client_key
from identity_bridge.records.errors import (
    RegistryMalformed,
    RegistryOtherPerson,
    RegistryUnavailable,
)
from identity_bridge.records.provesvar import ProvesvarClient
from identity_bridge.records.provesvar_config import ProvesvarSettings, parse_provesvar

PID = "03880712345"


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProvesvarProcess, Path]]:
    proc, key_file = dev_setup(tmp_path_factory.mktemp("provesvar"))
    try:
        yield proc, key_file
    finally:
        proc.stop()


def _settings(proc: ProvesvarProcess, key_file: Path, timeout_s: float = 5.0
              ) -> ProvesvarSettings:
    import tomllib
    raw = tomllib.loads(proc.table(key_file, timeout_s))["provesvar"]
    settings = parse_provesvar(raw, base=key_file.parent)
    assert settings is not None
    return settings


@pytest.fixture
async def client(standin: tuple[ProvesvarProcess, Path]) -> AsyncIterator[ProvesvarClient]:
    proc, key_file = standin
    await asyncio.to_thread(proc.set_mode, "ok")
    c = ProvesvarClient(_settings(proc, key_file))
    yield c
    await c.aclose()
    await asyncio.to_thread(proc.set_mode, "ok")


async def test_the_person_s_reports_over_helseid_and_dpop(client: ProvesvarClient) -> None:
    reports = await client.reports(PID)
    assert {r.loinc for r in reports} == {"43304-5", "43305-2", "56888-1", "20507-0"}
    assert any(r.held_back for r in reports)
    # A second view reuses the token; each request has a fresh proof (no replay refusal).
    assert len(await client.reports(PID)) == 4


@pytest.mark.parametrize(("mode", "error"), [
    ("down", RegistryUnavailable), ("malformed", RegistryMalformed),
    ("not_json", RegistryMalformed), ("other_person", RegistryOtherPerson),
    ("oversized", RegistryMalformed)])
async def test_faults_give_a_clear_error_and_no_reports(
        client: ProvesvarClient, standin: tuple[ProvesvarProcess, Path], mode: str,
        error: type[Exception]) -> None:
    await asyncio.to_thread(standin[0].set_mode, mode)
    with pytest.raises(error):
        await client.reports(PID)


async def test_slow_is_unavailable_after_the_timeout(
        standin: tuple[ProvesvarProcess, Path]) -> None:
    proc, key_file = standin
    c = ProvesvarClient(_settings(proc, key_file, timeout_s=1.0))
    try:
        await c.reports(PID)  # the token first, while the stand-in is quick
        await asyncio.to_thread(proc.set_mode, "slow")
        with pytest.raises(RegistryUnavailable):
            await c.reports(PID)
    finally:
        await asyncio.to_thread(proc.set_mode, "ok")
        await c.aclose()


async def test_a_client_the_stand_in_does_not_know_gets_nothing(
        standin: tuple[ProvesvarProcess, Path], tmp_path: Path) -> None:
    proc, key_file = standin
    stranger = write_client_key(tmp_path / "stranger.jwk")
    c = ProvesvarClient(replace(_settings(proc, key_file), key=stranger))
    try:
        with pytest.raises(RegistryUnavailable):
            await c.reports(PID)
    finally:
        await c.aclose()


async def test_the_stand_in_and_the_down_registry_log_no_identity_number(
        client: ProvesvarClient, standin: tuple[ProvesvarProcess, Path]) -> None:
    await client.reports(PID)
    assert PID not in standin[0].log_file.read_text(errors="replace")
