"""Norwegian person numbers: fødselsnummer, D-number, H-number, synthetic test numbers.

What the number tells us is deliberately narrow. It is checked (format, check digits under
either rule, a real calendar date), classified (kind, synthetic or not) and, only where the
number itself allows it, its birth date is derived. Sex and age are *never* derived from a
number issued under the 2032 rule, and not at all once such numbers can exist (see
``birth_date``): Skatteetaten says both must then come from Folkeregisteret.

Sources for the rules (cited because they are easy to get subtly wrong):

* Classic check digits (two mod-11 digits, weights 3 7 6 1 8 9 4 5 2 and 5 4 3 2 7 6 5 4 3 2):
  forskrift om folkeregistrering; implemented by python-stdnum ``stdnum.no.fodselsnummer``.
* The 2032 rule: Skatteetaten, "Nytt fødselsnummer fra 2032",
  https://skatteetaten.github.io/folkeregisteret-api-dokumentasjon/nytt-fodselsnummer-fra-2032/
  — "k1 = {11,12,13,14} - ((d1x3 + d2x7 + m1x6 + m2x1 + å1x8 + å2x9 + i1x4 + i2x5 + i3x2) MOD 11)
  ... k1 kan være 4 ulike sifre. Som tidligere forkastes fødselsnummeret hvis k1 blir 10.
  k2 beregnes likt som før" and "rest etter moduluskontrollen [tillates] 0, 1, 2 og 3".
  So: the weighted sum over the first ten digits (k1 with weight 1) must leave remainder
  0, 1, 2 or 3 modulo 11 (remainder 0 is the classic rule), and k2 is unchanged. The same page
  says the individual number no longer gives the century and the number no longer gives sex.
* D-number: +4 on the first digit of the day. H-number: +4 on the first digit of the month
  (KITH report 11/98). Synthetic numbers (Skatteetaten's test register / Tenor, used by
  ID-porten's test environment): +80 on the month.
* Individual number → century: 000–499 → 1900–1999; 500–749 with year ≥ 54 → 1854–1899;
  500–999 with year < 40 → 2000–2039; 900–999 with year ≥ 40 → 1940–1999.

What python-stdnum lacks (so it is used only for its classic check digits): the 2032 rule,
synthetic (+80) numbers, an explicit D-/H-number classification, and a clock that is not
``date.today()`` (its ``validate`` rejects future birth dates against the machine clock).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal

from stdnum.no import fodselsnummer as _stdnum_fnr

FnrErrorCode = Literal["fnr_format", "fnr_checksum", "fnr_synthetic_not_allowed", "fnr_date"]

#: From this day numbers under the 2032 rule are issued. A number that passes the classic
#: rule is indistinguishable from a 2032-rule number whose k1 happened to leave remainder 0,
#: so from this day on the number alone no longer tells the birth date or sex of anyone.
RULE_2032_START: Final = date(2032, 1, 1)

_K1_WEIGHTS: Final = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_RULE_2032_REMAINDERS: Final = (0, 1, 2, 3)
_D_OFFSET: Final = 40
_H_OFFSET: Final = 40
_SYNTHETIC_OFFSET: Final = 80


class FnrError(ValueError):
    """A person number was refused. ``code`` is stable; the message never holds the number."""

    def __init__(self, code: FnrErrorCode) -> None:
        super().__init__(code)
        self.code: FnrErrorCode = code


class Kind(enum.Enum):
    FODSELSNUMMER = "fnr"
    D_NUMBER = "dnr"
    H_NUMBER = "hnr"


class ChecksumRule(enum.Enum):
    """Which rule the number can be attributed to.

    ``CLASSIC``: passes the pre-2032 rule and its individual number maps to a century.
    ``RULE_2032``: only explainable as a 2032-rule number (k1 remainder 1–3, or the classic
    digits hold but the individual number maps to no century, which the 2032 rule allows).
    """

    CLASSIC = "classic"
    RULE_2032 = "2032"


@dataclass(frozen=True)
class PersonNumber:
    """A checked person number. ``value`` is kept out of ``repr`` so it cannot leak into logs."""

    value: str = field(repr=False)
    kind: Kind
    synthetic: bool
    rule: ChecksumRule
    _classic_birth_date: date | None = field(repr=False)

    def birth_date(self, as_of: date) -> date | None:
        """The birth date, or None where the number does not tell it reliably.

        None for 2032-rule numbers, and for every number once ``as_of`` is on or after
        1 January 2032 (a classic-looking number may then be a newly issued one).
        """
        if self.rule is not ChecksumRule.CLASSIC or as_of >= RULE_2032_START:
            return None
        return self._classic_birth_date

    def age_on(self, day: date) -> int | None:
        """Whole years on ``day``; None where the birth date is not derivable."""
        born = self.birth_date(day)
        if born is None or born > day:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def legacy_sex(self, as_of: date) -> Literal["female", "male"] | None:
        """The sex encoded by pre-2032 numbers (third individual digit), else None.

        Only for display of legacy data; the register's own field is authoritative.
        """
        if self.birth_date(as_of) is None:
            return None
        return "male" if int(self.value[8]) % 2 else "female"


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits, strict=False))


def classic_check_digits(first_nine: str) -> str | None:
    """k1k2 under the classic rule, or None when either would be 10 (number unusable)."""
    k1 = _stdnum_fnr.calc_check_digit1(first_nine)
    if len(k1) != 1:
        return None
    k2 = _stdnum_fnr.calc_check_digit2(first_nine + k1)
    if len(k2) != 1:
        return None
    return k1 + k2


def rule_2032_check_digits(first_nine: str) -> list[str]:
    """Every k1k2 the 2032 rule accepts (up to four), in remainder order 0, 1, 2, 3."""
    base = _weighted(first_nine, _K1_WEIGHTS) % 11
    out: list[str] = []
    for remainder in _RULE_2032_REMAINDERS:
        k1 = (remainder - base) % 11
        if k1 == 10:
            continue
        k2 = (11 - _weighted(first_nine + str(k1), _K2_WEIGHTS)) % 11
        if k2 == 10:
            continue
        out.append(f"{k1}{k2}")
    return out


def _passes_classic(number: str) -> bool:
    return classic_check_digits(number[:9]) == number[9:]


def _passes_2032(number: str) -> bool:
    if (_weighted(number[:9], _K1_WEIGHTS) + int(number[9])) % 11 not in _RULE_2032_REMAINDERS:
        return False
    k2 = (11 - _weighted(number[:10], _K2_WEIGHTS)) % 11
    return k2 != 10 and k2 == int(number[10])


def century(individual: int, yy: int) -> int | None:
    """The century (1800, 1900, 2000) the classic individual-number series gives, or None."""
    if 0 <= individual <= 499:
        return 1900
    if 500 <= individual <= 749 and yy >= 54:
        return 1800
    if 500 <= individual <= 999 and yy < 40:
        return 2000
    if 900 <= individual <= 999 and yy >= 40:
        return 1900
    return None


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Structure:
    kind: Kind
    synthetic: bool
    day: int
    month: int
    yy: int


def _structure(number: str) -> _Structure:
    day, month, yy = int(number[0:2]), int(number[2:4]), int(number[4:6])
    kind = Kind.FODSELSNUMMER
    synthetic = False
    if day > _D_OFFSET:
        kind, day = Kind.D_NUMBER, day - _D_OFFSET
    if month > _SYNTHETIC_OFFSET:
        synthetic, month = True, month - _SYNTHETIC_OFFSET
    elif month > _H_OFFSET:
        if kind is Kind.D_NUMBER:  # no number is both a D- and an H-number
            raise FnrError("fnr_date")
        kind, month = Kind.H_NUMBER, month - _H_OFFSET
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise FnrError("fnr_date")
    return _Structure(kind, synthetic, day, month, yy)


def parse(value: str, *, allow_synthetic: bool) -> PersonNumber:
    """Check ``value`` (11 digits, no separators) and classify it.

    ``allow_synthetic`` must come from the environment's typed config (true only in test):
    synthetic numbers belong to no real person and must never be linked to a record.
    """
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise FnrError("fnr_format")
    classic = _passes_classic(value)
    if not classic and not _passes_2032(value):
        raise FnrError("fnr_checksum")
    s = _structure(value)
    rule = ChecksumRule.RULE_2032
    born: date | None = None
    if classic:
        hundred = century(int(value[6:9]), s.yy)
        if hundred is not None:
            born = _real_date(hundred + s.yy, s.month, s.day)
            if born is None:
                raise FnrError("fnr_date")
            rule = ChecksumRule.CLASSIC
    if born is None:
        # The 2032 rule gives no century: the date must exist in one of the two candidates.
        if _real_date(1900 + s.yy, s.month, s.day) is None and (
            _real_date(2000 + s.yy, s.month, s.day) is None
        ):
            raise FnrError("fnr_date")
    if s.synthetic and not allow_synthetic:
        raise FnrError("fnr_synthetic_not_allowed")
    return PersonNumber(value, s.kind, s.synthetic, rule, born)


def is_valid(value: str, *, allow_synthetic: bool) -> bool:
    try:
        parse(value, allow_synthetic=allow_synthetic)
    except FnrError:
        return False
    return True


def first_nine(
    born: date, individual: int, *, kind: Kind = Kind.FODSELSNUMMER, synthetic: bool = False
) -> str:
    """The date-and-individual part of a number for ``born``; used by generators and tests."""
    if not 0 <= individual <= 999:
        raise ValueError("individual number out of range")
    day = born.day + (_D_OFFSET if kind is Kind.D_NUMBER else 0)
    month = born.month + (_H_OFFSET if kind is Kind.H_NUMBER else 0)
    if synthetic:
        if kind is Kind.H_NUMBER:
            raise ValueError("synthetic H-numbers do not exist")
        month += _SYNTHETIC_OFFSET
    return f"{day:02d}{month:02d}{born.year % 100:02d}{individual:03d}"


def make_classic(
    born: date, *, kind: Kind = Kind.FODSELSNUMMER, synthetic: bool = False, start: int = 999
) -> str:
    """A valid classic-rule number for ``born``: the highest usable individual number in
    ``born``'s century series at or below ``start`` (as Skatteetaten allocates downwards)."""
    for individual in range(start, -1, -1):
        if century(individual, born.year % 100) != born.year // 100 * 100:
            continue
        nine = first_nine(born, individual, kind=kind, synthetic=synthetic)
        digits = classic_check_digits(nine)
        if digits is not None:
            return nine + digits
    raise ValueError("no usable individual number for that date")
