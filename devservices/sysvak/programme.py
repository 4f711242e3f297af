"""The vaccinations the stand-in says a synthetic person has had: generated from the birth date.

A person has had the infant vaccines and every school vaccine whose grade lies behind them,
except the latest one reached: that one is left out, so each person has one school vaccine
due (what the demo and the tests want to show). ``extra`` persons in the config replace this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Given:
    day: date
    atc: str
    name: str
    dose: int


INFANT = (
    (timedelta(days=91), "J07CA09", "Hexyon (DTP-IPV-Hib-HepB)", 1),
    (timedelta(days=152), "J07CA09", "Hexyon (DTP-IPV-Hib-HepB)", 2),
    (timedelta(days=365), "J07CA09", "Hexyon (DTP-IPV-Hib-HepB)", 3),
    (timedelta(days=456), "J07BD52", "Priorix (MMR)", 1),
    (timedelta(days=7 * 365 + 30), "J07CA02", "Tetravac (DTP-IPV)", 1),
)
# (grade, month after the school year starts in August, ATC, product, dose)
SCHOOL = (
    (6, 2, "J07BD52", "Priorix (MMR)", 2),
    (7, 3, "J07BM03", "Gardasil 9 (HPV)", 1),
    (10, 2, "J07CA02", "Boostrix Polio (dTap-IPV)", 1),
)


def school_day(born: date, grade: int, month: int) -> date:
    """Grade 1 starts in August of the year a child turns six."""
    start_year = born.year + 5 + grade
    return date(start_year + (7 + month) // 12, (7 + month) % 12 + 1, 15)


def vaccinations(born: date, today: date) -> list[Given]:
    out = [Given(born + after, atc, name, dose) for after, atc, name, dose in INFANT
           if born + after <= today]
    school = [Given(school_day(born, g, m), atc, name, dose) for g, m, atc, name, dose in SCHOOL]
    reached = [g for g in school if g.day <= today]
    return out + reached[:-1]
