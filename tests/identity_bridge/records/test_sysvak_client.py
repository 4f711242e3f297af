"""The SYSVAK client against the real stand-in process (HelseID client credentials with DPoP,
the XML call) and the answer parser against hostile and wrong answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from devservices.sysvak import xml as standin_xml
from devservices.sysvak.app import API_PATH, OTHER_PID
from devservices.sysvak.devsetup import sysvak_table
from devservices.sysvak.process import SysvakProcess
from devservices.sysvak.programme import Given
from identity_bridge.records.config import parse_sysvak
from identity_bridge.records.errors import (
    RegistryMalformed,
    RegistryOtherPerson,
    RegistryRefused,
    RegistryUnavailable,
)
from identity_bridge.records.sysvak import SysvakClient, parse_answer, request_body

from .conftest import CLIENT_TIMEOUT_S, person, sysvak  # noqa: F401 - fixtures

PID = person(15).pid


def settings_for(proc: SysvakProcess, **override: object) -> object:
    import tomllib

    raw = tomllib.loads(sysvak_table(proc.config_file.parent, proc.url,
                                     timeout_s=CLIENT_TIMEOUT_S))["sysvak"]
    raw.update(override)
    return parse_sysvak(raw, base=Path("/"))


@pytest.fixture
async def client(sysvak: SysvakProcess) -> AsyncIterator[SysvakClient]:  # noqa: F811
    settings = settings_for(sysvak)
    assert settings is not None
    async with httpx.AsyncClient(timeout=10) as http:
        yield SysvakClient(settings, http)  # type: ignore[arg-type]


@pytest.fixture
def mode(sysvak: SysvakProcess) -> Iterator[None]:  # noqa: F811
    yield
    sysvak.set_mode("ok")


async def test_the_registry_answers_with_the_persons_vaccinations(client: SysvakClient) -> None:
    got = await client.vaccinations(PID)
    assert [v.atc for v in got][:3] == ["J07CA09"] * 3
    assert any(v.atc == "J07BM03" for v in got)  # HPV in 7th grade
    assert got == sorted(got, key=lambda v: v.day)
    # A second call reuses the DPoP-bound token (fresh proof, the jti is not replayed).
    assert await client.vaccinations(PID) == got


@pytest.mark.parametrize(("fault", "error"), [
    ("down", RegistryUnavailable), ("slow", RegistryUnavailable),
    ("malformed", RegistryMalformed), ("other_person", RegistryOtherPerson)])
async def test_faults_raise_a_stable_error(
    client: SysvakClient, sysvak: SysvakProcess, mode: None,  # noqa: F811
    fault: str, error: type[Exception],
) -> None:
    sysvak.set_mode(fault)
    with pytest.raises(error) as exc:
        await client.vaccinations(PID)
    assert PID not in str(exc.value) and OTHER_PID not in str(exc.value)


async def test_the_registry_refuses_a_call_without_a_dpop_bound_token(
    sysvak: SysvakProcess,  # noqa: F811
) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(sysvak.url + API_PATH, content=request_body(PID),
                            headers={"Authorization": "Bearer x"})
    assert r.status_code == 401 and "DPoP" in r.headers["www-authenticate"]


async def test_a_client_key_the_registry_does_not_know_is_refused(
    sysvak: SysvakProcess, tmp_path: Path,  # noqa: F811
) -> None:
    from identity_bridge.epj.keys import write_client_key

    write_client_key(tmp_path / "other.jwk")
    settings = settings_for(sysvak, key_file=str(tmp_path / "other.jwk"))
    async with httpx.AsyncClient() as http:
        with pytest.raises(RegistryUnavailable):  # HelseID refused: nothing to show
            await SysvakClient(settings, http).vaccinations(PID)  # type: ignore[arg-type]


def answer(pid: str) -> bytes:
    return standin_xml.answer(pid, [Given(date(2023, 11, 15), "J07BM03", "Gardasil 9", 1)])


def test_parse_takes_the_persons_own_answer() -> None:
    (v,) = parse_answer(answer(PID), PID)
    assert (v.day, v.atc, v.dose) == (date(2023, 11, 15), "J07BM03", 1)


def test_an_answer_about_another_person_is_refused_whole() -> None:
    with pytest.raises(RegistryOtherPerson):
        parse_answer(answer(OTHER_PID), PID)


@pytest.mark.parametrize("body", [
    b"not xml",
    b"<?xml version='1.0'?><Vaksinasjoner/>",  # no namespace: not the schema's
    answer(PID).replace(b"J07BM03", b"<b>x</b>"),
    answer(PID).replace(b"2023-11-15", b"2023-13-45"),
    # An entity bomb and an external entity: never expanded, never fetched.
    b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    b'<Vaksinasjoner xmlns="urn:helseprat:sysvak-standin:v1"><Pasient><Fodselsnummer>&b;'
    b"</Fodselsnummer></Pasient></Vaksinasjoner>",
    b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<Vaksinasjoner xmlns="urn:helseprat:sysvak-standin:v1"><Pasient><Fodselsnummer>&x;'
    b"</Fodselsnummer></Pasient></Vaksinasjoner>",
    b"<a>" + b"x" * 300_000 + b"</a>",
], ids=["text", "no-namespace", "markup-in-atc", "bad-date", "entity-bomb", "external-entity",
        "oversized"])
def test_a_malformed_answer_is_refused(body: bytes) -> None:
    with pytest.raises(RegistryMalformed):
        parse_answer(body, PID)


def test_registry_refused_has_its_own_code() -> None:
    assert RegistryRefused().code == "registry_refused"
