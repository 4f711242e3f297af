"""The concern report's pure parts: the form's checks, the JSON and PDF built from it, the CMS
envelope, Fiks's status history and the ``[concern]`` table (no I/O but temp files)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pypdf import PdfReader

from chat.errors import ConfigError
from devservices.fiks.devsetup import write_municipality
from identity_bridge.concern.config import parse_concern
from identity_bridge.concern.envelope import load_certificate, open_sealed, seal
from identity_bridge.concern.errors import ConcernInvalid, ConcernRejected
from identity_bridge.concern.fiks import parse_history
from identity_bridge.concern.form import Sender, parse_form, report_json
from identity_bridge.concern.pdf import render_pdf

PID = "13097248022"


def body(**override: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "conversation": "abcdEFGH1234", "ref": str(uuid.uuid4()),
        "categories": ["violence", "neglect", "violence"], "description": " Slag hjemme. ",
        "urgency": "normal", "youth_informed": False,
        "reporter": {"name": "Kari Nordmann", "role": "Helsesykepleier", "phone": "12345678"},
    }
    b.update(override)
    return b


def test_a_good_form_parses_trimmed_and_without_repeats() -> None:
    form = parse_form(body())
    assert form.categories == ("violence", "neglect")
    assert form.description == "Slag hjemme."
    assert form.reporter.email == "" and form.youth_informed_note == ""


@pytest.mark.parametrize(("override", "field"), [
    ({"conversation": "../x"}, "conversation"),
    ({"ref": "1"}, "ref"),
    ({"categories": "neglect"}, "categories"),
    ({"categories": ["neglect", 3]}, "categories"),
    ({"description": "x" * 8001}, "description"),
    ({"description": "a\x00b"}, "description"),
    ({"urgency": None}, "urgency"),
    ({"youth_informed": 1}, "youth_informed"),
    ({"youth_informed_note": 5}, "youth_informed_note"),
    ({"reporter": []}, "reporter"),
    ({"reporter": {"name": "", "role": "r", "phone": "12345"}}, "reporter.name"),
    ({"reporter": {"name": "n", "role": "r", "phone": "call me"}}, "reporter.phone"),
    ({"reporter": {"name": "n", "role": "r", "phone": "12345", "email": "a@b"}}, "reporter.email"),
])
def test_each_bad_field_is_named_with_the_stable_code(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ConcernInvalid) as err:
        parse_form(body(**override))
    assert err.value.code == "concern_invalid" and err.value.http_status == 400
    assert err.value.field == field
    assert "Slag" not in err.value.message  # the error names the field, never the text


def test_not_an_object() -> None:
    with pytest.raises(ConcernInvalid):
        parse_form(["a"])


def make_report(description: str = "Slag hjemme – «ofte». 😟 ĉ") -> dict[str, Any]:
    form = parse_form(body(description=description, youth_informed=True,
                           youth_informed_note="Hun vet det."))
    return report_json(form, PID, Sender("Skolehelsetjenesten", "Demo kommune", "0301"),
                       datetime(2026, 12, 3, 10, 0, tzinfo=UTC))


def test_the_json_carries_the_child_the_concern_and_the_sender() -> None:
    r = make_report()
    assert r["barn"] == {"fodselsnummer": PID} and r["kommunenummer"] == "0301"
    assert [k["kode"] for k in r["bekymring"]["kategorier"]] == ["violence", "neglect"]
    assert r["melder"]["tjeneste"] == "Skolehelsetjenesten" and r["sendt"].startswith("2026-12-03")


def test_the_pdf_holds_the_form_whatever_the_characters() -> None:
    pdf = render_pdf(make_report())
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (PID, "Slag hjemme", "Vold i nære relasjoner", "Omsorgssvikt", "Kari Nordmann",
                     "12345678", "Hun vet det.", "Ikke akutt", "Ja"):
        assert expected in text, expected


def test_a_long_description_flows_onto_more_pages() -> None:
    pdf = render_pdf(make_report("Avsnitt om det som skjedde. " * 250))
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1


def test_only_the_municipalitys_key_opens_the_envelope(tmp_path: Path) -> None:
    cert_file, key_file = write_municipality(tmp_path, "demo", "Demo")
    cert = load_certificate(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    sealed = seal(b"hemmelig innhold", cert)
    assert b"hemmelig" not in sealed
    assert open_sealed(sealed, cert, key) == b"hemmelig innhold"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError):
        open_sealed(sealed, cert, other)


def test_status_history_is_read_oldest_first() -> None:
    ref = str(uuid.uuid4())
    history = parse_history({"id": ref, "statuser": [
        {"status": "LEVERT", "tidspunkt": "2026-12-03T10:00:05+00:00"},
        {"status": "MOTTATT", "tidspunkt": "2026-12-03T10:00:00+00:00"}]}, ref)
    assert [h.status for h in history] == ["mottatt", "levert"]


@pytest.mark.parametrize("answer", [
    {"id": "another", "statuser": [{"status": "MOTTATT", "tidspunkt": "2026-12-03T10:00:00+00:00"}]},
    {"id": "REF", "statuser": []},
    {"id": "REF", "statuser": [{"status": "<script>", "tidspunkt": "2026-12-03T10:00:00+00:00"}]},
    {"id": "REF", "statuser": [{"status": "MOTTATT", "tidspunkt": "i går"}]},
    {"id": "REF"},
    ["MOTTATT"],
])
def test_a_bad_status_answer_is_refused(answer: Any) -> None:
    with pytest.raises(ConcernRejected):
        parse_history(answer, "REF")


def table(tmp_path: Path, **override: Any) -> dict[str, Any]:
    cert, _ = write_municipality(tmp_path, "demo", "Demo")
    (tmp_path / "pw").write_text("s3cret\n")
    muni: dict[str, Any] = {"kommunenummer": "0301", "name": "Barnevernet",
                            "certificate_file": cert.name, "phone": "23 45 67 89"}
    muni.update(override.pop("municipality", {}))
    raw: dict[str, Any] = {"fiks_url": "https://api.fiks.example", "integration_id": "i",
                           "integration_password_file": "pw", "municipality": {"demo": muni}}
    raw.update(override)
    return raw


def test_the_table_parses(tmp_path: Path) -> None:
    settings = parse_concern(table(tmp_path), tmp_path, {"demo": object()})
    assert settings is not None and settings.integration_password == "s3cret"
    assert settings.receivers["demo"].kommunenummer == "0301"
    assert "s3cret" not in repr(settings)
    assert parse_concern(None, tmp_path, {}) is None


@pytest.mark.parametrize("override", [
    {"fiks_url": "http://fiks.example"},
    {"integration_password_file": "missing"},
    {"municipality": {"kommunenummer": "301"}},
    {"municipality": {"certificate_file": "missing.pem"}},
])
def test_a_bad_table_is_a_config_error(tmp_path: Path, override: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_concern(table(tmp_path, **override), tmp_path, {"demo": object()})


def test_an_unknown_municipality_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        parse_concern(table(tmp_path), tmp_path, {"other": object()})
