"""Fødselsnummer rules: property tests per rule, plus the official examples."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.no import fodselsnummer as stdnum_fnr

from identity_bridge import fnr
from identity_bridge.fnr import ChecksumRule, FnrError, Kind

TODAY = date(2025, 11, 25)
AFTER_2032 = date(2032, 1, 1)

# (first individual number, last, birth years covered) per classic century series
_SERIES = [
    (0, 499, 1900, 1999),
    (500, 749, 1854, 1899),
    (500, 999, 2000, 2039),
    (900, 999, 1940, 1999),
]


@st.composite
def classic_numbers(draw: st.DrawFn) -> tuple[str, date, Kind, bool]:
    lo, hi, y0, y1 = draw(st.sampled_from(_SERIES))
    born = draw(st.dates(min_value=date(y0, 1, 1), max_value=date(y1, 12, 31)))
    individual = draw(st.integers(lo, hi))
    kind = draw(st.sampled_from([Kind.FODSELSNUMMER, Kind.D_NUMBER, Kind.H_NUMBER]))
    synthetic = draw(st.booleans()) and kind is not Kind.H_NUMBER
    nine = fnr.first_nine(born, individual, kind=kind, synthetic=synthetic)
    digits = fnr.classic_check_digits(nine)
    assume(digits is not None)
    assert digits is not None
    return nine + digits, born, kind, synthetic


@st.composite
def rule_2032_only_numbers(draw: st.DrawFn) -> tuple[str, Kind]:
    """Numbers valid only under the 2032 rule (k1 remainder 1, 2 or 3)."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2039, 12, 31)))
    individual = draw(st.integers(0, 999))
    kind = draw(st.sampled_from([Kind.FODSELSNUMMER, Kind.D_NUMBER]))
    nine = fnr.first_nine(born, individual, kind=kind)
    options = [d for d in fnr.rule_2032_check_digits(nine) if d != fnr.classic_check_digits(nine)]
    assume(options)
    return nine + draw(st.sampled_from(options)), kind


@given(classic_numbers())
def test_classic_numbers_parse_with_their_date_and_kind(case: tuple[str, date, Kind, bool]) -> None:
    number, born, kind, synthetic = case
    parsed = fnr.parse(number, allow_synthetic=True)
    assert parsed.kind is kind
    assert parsed.synthetic is synthetic
    assert parsed.rule is ChecksumRule.CLASSIC
    assert parsed.birth_date(date(2031, 12, 31)) == born
    # stdnum agrees on the classic check digits
    assert stdnum_fnr.calc_check_digit1(number[:9]) == number[9]
    assert stdnum_fnr.calc_check_digit2(number[:10]) == number[10]


@given(classic_numbers())
def test_no_birth_date_or_sex_from_any_number_once_2032_numbers_exist(
    case: tuple[str, date, Kind, bool],
) -> None:
    parsed = fnr.parse(case[0], allow_synthetic=True)
    assert parsed.birth_date(AFTER_2032) is None
    assert parsed.age_on(AFTER_2032) is None
    assert parsed.legacy_sex(AFTER_2032) is None


@given(rule_2032_only_numbers())
def test_2032_rule_numbers_are_valid_but_tell_no_age_or_sex(case: tuple[str, Kind]) -> None:
    number, kind = case
    assert not stdnum_fnr.is_valid(number)  # the old rule refuses them
    parsed = fnr.parse(number, allow_synthetic=False)
    assert parsed.rule is ChecksumRule.RULE_2032
    assert parsed.kind is kind
    assert parsed.birth_date(TODAY) is None
    assert parsed.age_on(TODAY) is None
    assert parsed.legacy_sex(TODAY) is None


@given(
    st.one_of(classic_numbers().map(lambda c: c[0]), rule_2032_only_numbers().map(lambda c: c[0])),
    st.integers(0, 10),
    st.integers(1, 9),
)
def test_changing_any_one_digit_is_rejected(number: str, position: int, delta: int) -> None:
    digit = (int(number[position]) + delta) % 10
    mutated = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(FnrError) as err:
        fnr.parse(mutated, allow_synthetic=True)
    # k2 is unchanged by the 2032 rule and catches every single-digit change under both rules
    assert err.value.code == "fnr_checksum"


@given(classic_numbers().filter(lambda c: c[3]))
def test_synthetic_numbers_refused_unless_test(case: tuple[str, date, Kind, bool]) -> None:
    with pytest.raises(FnrError) as err:
        fnr.parse(case[0], allow_synthetic=False)
    assert err.value.code == "fnr_synthetic_not_allowed"
    assert fnr.parse(case[0], allow_synthetic=True).synthetic


@given(st.text(max_size=14))
def test_arbitrary_text_never_crashes(value: str) -> None:
    try:
        fnr.parse(value, allow_synthetic=True)
    except FnrError as exc:
        assert exc.code in {"fnr_format", "fnr_checksum", "fnr_synthetic_not_allowed", "fnr_date"}
        assert str(exc) == exc.code  # the message is the code: no input echoed


# -- official and hand-checked examples -------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        # Skatteetaten, "Nytt fødselsnummer fra 2032": the second person born 30.10.1982 gets
        # k1 from remainder 1 (k1 = 12 - 9 = 3), and 02013299903 is the next number on 999.
        "30108299939",
        "02013299903",
    ],
)
def test_skatteetaten_2032_examples_fail_the_old_rule_and_pass_ours(number: str) -> None:
    assert not stdnum_fnr.is_valid(number)
    parsed = fnr.parse(number, allow_synthetic=False)
    assert parsed.rule is ChecksumRule.RULE_2032
    assert parsed.age_on(TODAY) is None
    assert parsed.legacy_sex(TODAY) is None


@pytest.mark.parametrize("number", ["02013299997", "30108299920"])
def test_skatteetaten_2032_examples_with_remainder_zero_also_pass_the_old_rule(number: str) -> None:
    parsed = fnr.parse(number, allow_synthetic=False)
    assert parsed.rule is ChecksumRule.CLASSIC
    # Indistinguishable from a classic number, hence no age at all from 2032 on.
    assert parsed.age_on(AFTER_2032) is None


def _skatteetaten_formula(nine: str) -> set[str]:
    """The page's formula, written out independently: k1 = {11,12,13,14} - (S mod 11),
    taken mod 11 as for the classic digit (11 → 0), dropped if 10; k2 as before (stdnum)."""
    s = sum(w * int(d) for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), nine, strict=True))
    out = set()
    for c in (11, 12, 13, 14):
        k1 = (c - s % 11) % 11
        if k1 == 10:
            continue
        k2 = stdnum_fnr.calc_check_digit2(nine + str(k1))
        if k2 != "10":
            out.add(f"{k1}{k2}")
    return out


def test_skatteetaten_2032_example_check_digit_sets() -> None:
    # 196 mod 11 = 9, so k1 ∈ {2, 3, 4, 5}; the page's two persons got 20 and 39.
    assert {d[0] for d in fnr.rule_2032_check_digits("301082999")} == {"2", "3", "4", "5"}
    assert set(fnr.rule_2032_check_digits("301082999")) == _skatteetaten_formula("301082999")
    assert {"20", "39"} <= set(fnr.rule_2032_check_digits("301082999"))
    assert {"97", "03"} <= set(fnr.rule_2032_check_digits("020132999"))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2039, 12, 31)), st.integers(0, 999))
def test_exactly_the_formulas_check_digits_are_accepted(born: date, individual: int) -> None:
    # 29.02.00 with a 1900-series individual number is 29.02.1900, a date that never was
    assume(not (born.month == 2 and born.day == 29 and born.year % 100 == 0))
    nine = fnr.first_nine(born, individual)
    candidates = (f"{k:02d}" for k in range(100))
    accepted = {k for k in candidates if fnr.is_valid(nine + k, allow_synthetic=False)}
    # the classic digits, when usable, are the remainder-0 member of the formula's set
    assert accepted == _skatteetaten_formula(nine)


def test_idporten_test_pid_is_a_synthetic_d_number() -> None:
    # The pid in ID-porten's documented test id_token (docs.digdir.no, "id_token from ID-porten").
    with pytest.raises(FnrError) as err:
        fnr.parse("47906701517", allow_synthetic=False)
    assert err.value.code == "fnr_synthetic_not_allowed"
    parsed = fnr.parse("47906701517", allow_synthetic=True)
    assert (parsed.kind, parsed.synthetic) == (Kind.D_NUMBER, True)
    assert parsed.birth_date(TODAY) == date(1967, 10, 7)


def test_stdnum_doc_examples() -> None:
    parsed = fnr.parse("15108695088", allow_synthetic=False)
    assert parsed.birth_date(TODAY) == date(1986, 10, 15)
    assert parsed.legacy_sex(TODAY) == "female"
    with pytest.raises(FnrError) as err:
        fnr.parse("15108695077", allow_synthetic=False)
    assert err.value.code == "fnr_checksum"


@pytest.mark.parametrize(
    ("individual", "yy", "century"),
    [
        (0, 99, 1900),
        (499, 0, 1900),
        (500, 54, 1800),
        (749, 99, 1800),
        (500, 39, 2000),
        (999, 0, 2000),
        (900, 40, 1900),
        (999, 99, 1900),
        (750, 40, None),
        (500, 53, None),
        (899, 45, None),
    ],
)
def test_individual_number_to_century(individual: int, yy: int, century: int | None) -> None:
    assert fnr.century(individual, yy) == century


def _with_classic_digits(nine: str) -> str:
    digits = fnr.classic_check_digits(nine)
    assert digits is not None
    return nine + digits


def test_impossible_date_is_refused() -> None:
    number = _with_classic_digits("310299" + "512")  # 31 February
    with pytest.raises(FnrError) as err:
        fnr.parse(number, allow_synthetic=False)
    assert err.value.code == "fnr_date"


def test_29_february_follows_the_century() -> None:
    leap = fnr.make_classic(date(2000, 2, 29))  # 2000 is a leap year
    assert fnr.parse(leap, allow_synthetic=False).birth_date(TODAY) == date(2000, 2, 29)
    # individual numbers 000–499 put 29.02.00 in 1900, which was not a leap year
    nines = [f"290200{i:03d}" for i in range(500)]
    nine = next(n for n in nines if fnr.classic_check_digits(n) is not None)
    with pytest.raises(FnrError) as err:
        fnr.parse(_with_classic_digits(nine), allow_synthetic=False)
    assert err.value.code == "fnr_date"


def test_d_and_h_numbers() -> None:
    born = date(2010, 3, 17)
    d = fnr.parse(fnr.make_classic(born, kind=Kind.D_NUMBER), allow_synthetic=False)
    h = fnr.parse(fnr.make_classic(born, kind=Kind.H_NUMBER), allow_synthetic=False)
    assert d.value.startswith("57") and d.kind is Kind.D_NUMBER
    assert h.value[2:4] == "43" and h.kind is Kind.H_NUMBER
    assert d.birth_date(TODAY) == h.birth_date(TODAY) == born


def test_age_turns_on_the_birthday() -> None:
    parsed = fnr.parse(fnr.make_classic(date(2010, 6, 15)), allow_synthetic=False)
    assert parsed.age_on(date(2025, 6, 14)) == 14
    assert parsed.age_on(date(2025, 6, 15)) == 15


@pytest.mark.parametrize(
    "value", ["", "1510869508", "151086950888", "151086 95088", "1510869508a", "١٥١٠٨٦٩٥٠٨٨"]
)
def test_format_errors(value: str) -> None:
    with pytest.raises(FnrError) as err:
        fnr.parse(value, allow_synthetic=True)
    assert err.value.code == "fnr_format"


def test_number_stays_out_of_repr() -> None:
    parsed = fnr.parse("15108695088", allow_synthetic=False)
    assert "15108695088" not in repr(parsed)
