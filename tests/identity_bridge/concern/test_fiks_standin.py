"""The Fiks stand-in refuses what the real service would: a wrong password, an envelope that
does not open with the municipality's key, a structured part that does not match its metadata
or lacks a field, a PDF part that is no PDF, an unknown municipality. The client turns each
into ``concern_rejected`` with Fiks's code only; a report it took answers its status."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from devservices.fiks.devsetup import INTEGRATION_ID, write_municipality
from devservices.fiks.process import FiksStandinProcess
from identity_bridge.concern.config import ConcernSettings
from identity_bridge.concern.envelope import load_certificate, seal
from identity_bridge.concern.errors import ConcernRejected
from identity_bridge.concern.fiks import FiksClient
from identity_bridge.concern.form import Sender, parse_form, report_json
from identity_bridge.concern.pdf import render_pdf

from .conftest import fiks  # noqa: F401 - fixture

PID = "13097248022"


def settings(fiks: FiksStandinProcess) -> ConcernSettings:  # noqa: F811
    password = (fiks.config_file.parent / "fiks_password").read_text().strip()
    return ConcernSettings(fiks.url, INTEGRATION_ID, password)


def report(ref: str, **change: Any) -> dict[str, Any]:
    form = parse_form({"conversation": "abcdEFGH1234", "ref": ref, "categories": ["other"],
                       "description": "Bekymret.", "urgency": "normal", "youth_informed": True,
                       "reporter": {"name": "N", "role": "R", "phone": "12345"}})
    r = report_json(form, PID, Sender("S", "M", "0301"), datetime.now(UTC))
    r.update(change)
    return r


def cert(fiks: FiksStandinProcess) -> Any:  # noqa: F811
    return load_certificate((fiks.config_file.parent / "fiks-demo.pem").read_bytes())


async def send(fiks: FiksStandinProcess, ref: str, body: bytes, pdf: bytes, *,  # noqa: F811
               nummer: str = "0301", password: str | None = None, key: Any = None) -> Any:
    s = settings(fiks)
    if password is not None:
        s = replace(s, integration_password=password)
    c = key or cert(fiks)
    client = FiksClient(s)
    try:
        return await client.send(ref, nummer, seal(body, c), seal(pdf, c))
    finally:
        await client.aclose()


def pdf_of(r: dict[str, Any]) -> bytes:
    return render_pdf(r)


async def test_a_good_report_is_received_then_asked_for(fiks: FiksStandinProcess) -> None:  # noqa: F811
    ref = str(uuid.uuid4())
    r = report(ref)
    history = await send(fiks, ref, json.dumps(r).encode(), pdf_of(r))
    assert [h.status for h in history] == ["mottatt", "levert"]
    client = FiksClient(settings(fiks))
    try:
        assert await client.status(ref) == history
    finally:
        await client.aclose()


@pytest.mark.parametrize("case", ["password", "other_key", "mismatch", "no_fnr", "not_pdf",
                                  "municipality"])
async def test_the_standin_refuses(fiks: FiksStandinProcess, tmp_path: Path,  # noqa: F811
                                   case: str) -> None:
    ref = str(uuid.uuid4())
    r = report(ref)
    body, pdf = json.dumps(r).encode(), pdf_of(r)
    kw: dict[str, Any] = {}
    expected = {"password": "IKKE_AUTORISERT", "other_key": "DEKRYPTERING_FEILET",
                "mismatch": "UGYLDIG_MELDING", "no_fnr": "UGYLDIG_MELDING",
                "not_pdf": "UGYLDIG_PDF", "municipality": "UKJENT_KOMMUNE"}[case]
    if case == "password":
        kw["password"] = "wrong"
    elif case == "other_key":
        other, _ = write_municipality(tmp_path, "other", "Other")
        kw["key"] = load_certificate(other.read_bytes())
    elif case == "mismatch":
        body = json.dumps(report(str(uuid.uuid4()))).encode()
    elif case == "no_fnr":
        body = json.dumps(report(ref, barn={"fodselsnummer": "123"})).encode()
    elif case == "not_pdf":
        pdf = b"just text"
    else:
        kw["nummer"] = "9999"
    with pytest.raises(ConcernRejected) as err:
        await send(fiks, ref, body, pdf, **kw)
    assert expected in err.value.message
    assert ref not in fiks.reports()
