"""The school vaccines' data file, grades from the birth date, given / due / later, the
age bands, and the ``[sysvak]`` table's refusals (no I/O but the data file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chat.errors import ConfigError
from identity_bridge import fnr
from identity_bridge.records.config import parse_sysvak
from identity_bridge.records.programme import (
    DATA_FILE,
    Programme,
    grade_on,
    load,
    status,
)
from identity_bridge.records.rules import AgeBand, band
from identity_bridge.records.sysvak import Vaccination

PROGRAMME = load()
BORN = date(2011, 9, 20)  # grade 1 in autumn 2017


def mmr(day: date) -> Vaccination:
    return Vaccination(day, "J07BD52", "Priorix", 1)


def states(given: list[Vaccination], today: date, born: date | None = BORN) -> dict[str, str]:
    return {s.id: s.state for s in status(PROGRAMME, given, born, today, "nb")}


def test_the_data_file_names_fhi_and_the_three_school_vaccines() -> None:
    assert PROGRAMME.source_url == "https://www.fhi.no/va/barnevaksinasjonsprogrammet/"
    assert [(v.id, v.grade) for v in PROGRAMME.vaccines] == [
        ("mmr2", 6), ("hpv", 7), ("dtap-ipv", 10)]
    for v in PROGRAMME.vaccines:
        assert set(v.name) == set(v.about) == {"nb", "nn", "en"}


@pytest.mark.parametrize(("today", "grade"), [
    (date(2017, 7, 31), 0), (date(2017, 8, 1), 1), (date(2023, 6, 1), 6),
    (date(2023, 8, 15), 7), (date(2027, 5, 31), 10), (date(2027, 8, 1), 11)])
def test_grade_from_birth_year_and_school_year(today: date, grade: int) -> None:
    assert grade_on(BORN, today) == grade


def test_a_vaccine_is_later_then_due_then_late_and_given_once_registered() -> None:
    infant = [mmr(date(2012, 12, 20))]
    assert states(infant, date(2022, 6, 1)) == {"mmr2": "later", "hpv": "later",
                                                "dtap-ipv": "later"}
    assert states(infant, date(2022, 9, 1))["mmr2"] == "due"
    late = status(PROGRAMME, infant, BORN, date(2024, 9, 1), "nb")
    assert (late[0].state, late[0].late) == ("due", True)
    given = [*infant, mmr(date(2022, 10, 1))]
    first = status(PROGRAMME, given, BORN, date(2022, 11, 1), "en")[0]
    assert (first.state, first.given_on, first.late) == ("given", date(2022, 10, 1), False)
    assert first.name.startswith("Measles")


def test_one_mmr_dose_is_not_the_second() -> None:
    assert states([mmr(date(2012, 12, 20))], date(2026, 12, 1))["mmr2"] == "due"


def test_the_dtp_ipv_dose_at_seven_is_not_the_tenth_grade_booster() -> None:
    at_seven = Vaccination(date(2018, 10, 1), "J07CA02", "Tetravac", 1)
    assert states([at_seven], date(2026, 12, 1))["dtap-ipv"] == "due"
    booster = Vaccination(date(2026, 10, 15), "J07CA02", "Boostrix Polio", 1)
    assert states([at_seven, booster], date(2026, 12, 1))["dtap-ipv"] == "given"


def test_without_a_birth_date_nothing_is_called_due() -> None:
    hpv = Vaccination(date(2023, 11, 1), "J07BM03", "Gardasil 9", 1)
    assert states([hpv], date(2026, 12, 1), born=None) == {
        "mmr2": "unknown", "hpv": "given", "dtap-ipv": "unknown"}


@pytest.mark.parametrize(("age", "expected"), [
    (11, AgeBand.UNDER_12), (12, AgeBand.YOUNG), (15, AgeBand.YOUNG),
    (16, AgeBand.OWN_CONSENT), (19, AgeBand.OWN_CONSENT), (None, AgeBand.YOUNG)])
def test_age_bands(age: int | None, expected: AgeBand) -> None:
    assert band(age) is expected


def test_the_birth_date_comes_from_the_synthetic_fodselsnummer() -> None:
    pid = fnr.make_classic(BORN, synthetic=True)
    assert fnr.parse(pid, allow_synthetic=True).birth_date(date(2026, 1, 1)) == BORN


def test_a_data_file_without_its_source_is_refused(tmp_path: Path) -> None:
    text = DATA_FILE.read_text(encoding="utf-8").replace("https://www.fhi.no", "www.fhi.no")
    (tmp_path / "v.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="source"):
        load(tmp_path / "v.toml")


def test_a_vaccine_without_all_three_languages_is_refused(tmp_path: Path) -> None:
    text = DATA_FILE.read_text(encoding="utf-8").replace(', en = "HPV (human papillomavirus)"', "")
    (tmp_path / "v.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="nb, nn and en"):
        load(tmp_path / "v.toml")


@pytest.mark.parametrize(("raw", "message"), [
    ("x", "must be a table"),
    ({"url": "http://x", "surprise": 1}, "surprise is not a known setting"),
    ({"url": "http://x", "timeout_s": 0}, "timeout_s"),
    ({"url": "http://x", "client_id": "c", "token_endpoint": "t", "audience": "a",
      "key_file": "missing.jwk"}, "key_file"),
])
def test_the_sysvak_table_refuses_what_it_cannot_use(raw: object, message: str,
                                                     tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sysvak(raw, base=tmp_path)


def test_no_table_no_registry() -> None:
    assert parse_sysvak(None, base=Path("/")) is None
    assert isinstance(PROGRAMME, Programme)
