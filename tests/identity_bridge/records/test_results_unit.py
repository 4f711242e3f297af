"""The FHIR answer read with fhir.resources (R4B), the identity check, and the age and
consent rules that change what the results page shows (docs/records.md)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from chat.errors import ConfigError
from devservices.provesvar.data import bundle_for
from identity_bridge.epj.keys import write_client_key
from identity_bridge.records.errors import RegistryMalformed, RegistryOtherPerson
from identity_bridge.records.fhir import LabReport, parse_reports
from identity_bridge.records.provesvar_config import SCOPE, parse_provesvar
from identity_bridge.records.results import results_page

PID = "03880712345"
OTHER = "41880100095"


def _reports() -> list[LabReport]:
    return parse_reports(bundle_for(PID), PID)


def test_the_bundle_is_read_per_report_with_markings_and_held_back() -> None:
    by_code = {r.loinc: r for r in _reports()}
    assert set(by_code) == {"43304-5", "43305-2", "56888-1", "20507-0"}
    assert by_code["43304-5"].interpretations == ("NEG",)
    assert by_code["43304-5"].security == frozenset({"NORN_FORANS"})
    assert by_code["20507-0"].security == frozenset({"NORN_UNGDOM"})
    held = by_code["56888-1"]
    assert held.held_back and held.interpretations == ()


def test_one_report_about_another_person_refuses_the_whole_answer() -> None:
    with pytest.raises(RegistryOtherPerson):
        parse_reports(bundle_for(PID, subject_of=OTHER), PID)
    # Another person's complete answer, too.
    with pytest.raises(RegistryOtherPerson):
        parse_reports(bundle_for(OTHER), PID)


def _broken(change: str) -> Any:
    body = copy.deepcopy(bundle_for(PID))
    first = body["entry"][0]["resource"]
    if change == "status":
        first["status"] = {"not": "a code"}
    elif change == "no_subject":
        del first["subject"]
    elif change == "foreign_system":
        first["subject"]["identifier"]["system"] = "urn:example"
    elif change == "dangling_result":
        first["result"] = [{"reference": "Observation/nowhere"}]
    elif change == "not_a_bundle":
        body = {"resourceType": "Patient"}
    elif change == "list":
        body = [body]
    elif change == "unknown_field":
        body["surprise"] = 1
    return body


@pytest.mark.parametrize("change", ["status", "no_subject", "foreign_system", "dangling_result",
                                    "not_a_bundle", "list", "unknown_field"])
def test_malformed_fhir_is_refused_not_shown_in_part(change: str) -> None:
    with pytest.raises(RegistryMalformed):
        parse_reports(_broken(change), PID)


def test_under_12_nothing_is_shown() -> None:
    for age in (None, 10, 11):
        page = results_page(_reports(), age, "nb")
        assert not page.shown and page.results == ()


def test_12_to_15_youth_only_marked_and_norn_ungdom_left_out() -> None:
    for age in (12, 15):
        page = results_page(_reports(), age, "nb")
        kinds = {r.kind: r for r in page.results}
        assert page.shown and not page.parents_excluded
        assert set(kinds) == {"chlamydia", "gonorrhea", "hiv"}  # syphilis: NORN_UNGDOM
        assert kinds["chlamydia"].youth_only and not kinds["gonorrhea"].youth_only
        assert kinds["chlamydia"].outcome == "negative"
        assert kinds["hiv"].outcome == "held_back"


def test_from_16_parents_are_out_and_the_markings_still_hold() -> None:
    page = results_page(_reports(), 16, "en")
    assert page.parents_excluded
    assert {r.kind for r in page.results} == {"chlamydia", "gonorrhea", "hiv"}
    assert not any(r.youth_only for r in page.results)  # said once for the page instead
    assert all(r.date and "T" not in r.date and "-" not in r.date for r in page.results)


def test_unknown_test_and_unclear_interpretation_show_no_raw_code() -> None:
    body = copy.deepcopy(bundle_for(PID))
    body["entry"][0]["resource"]["code"]["coding"][0]["code"] = "99999-9"
    body["entry"][1]["resource"]["interpretation"][0]["coding"][0]["code"] = "IND"
    views = results_page(parse_reports(body, PID), 15, "nb").results
    other = next(v for v in views if v.kind == "other")
    assert other.outcome == "unclear"
    assert "99999" not in repr(views) and "IND" not in repr(views)


def test_the_provesvar_table(tmp_path: Path) -> None:
    write_client_key(tmp_path / "k.jwk")
    table = {"base_url": "https://x/fhir/", "client_id": "c", "token_endpoint": "https://x/t",
             "audience": "https://x", "key_file": "k.jwk"}
    settings = parse_provesvar(table, base=tmp_path)
    assert settings is not None and settings.base_url == "https://x/fhir"
    assert settings.helseid.scope == SCOPE and settings.timeout_s == 5.0
    assert parse_provesvar(None, base=tmp_path) is None
    for bad in ({**table, "surprise": 1}, {**table, "timeout_s": 0},
                {k: v for k, v in table.items() if k != "client_id"},
                {**table, "key_file": "missing.jwk"}, "x"):
        with pytest.raises(ConfigError):
            parse_provesvar(bad, base=tmp_path)
