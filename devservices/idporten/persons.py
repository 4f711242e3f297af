"""Synthetic test persons for the ID-porten lookalike: aged 13 to 19, synthetic numbers.

Every number has +80 on the month (Skatteetaten's synthetic series), so it can never be a
real person's; the RP accepts it only with ``test_environment`` on. Generated, not stored,
because ages move with the calendar.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from identity_bridge import fnr

_NAMES = (
    "Testa Fjellheim",
    "Prøve Nordvik",
    "Ola Syntetisk",
    "Kari Testesen",
    "Emil Prøvestad",
    "Sara Testdal",
    "Jonas Fiktiv",
)


@dataclass(frozen=True)
class TestPerson:
    pid: str
    name: str
    birth_date: str
    age: int
    kind: str


def _birthday(today: date, age: int, days_since_birthday: int) -> date:
    """Exactly ``age`` years old today: the last birthday was ``days_since_birthday`` ago
    (< 1 year). Day clamped to 28 so 29 February never comes up."""
    last = today - timedelta(days=days_since_birthday)
    return date(last.year - age, last.month, min(last.day, 28))


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def make_persons(today: date) -> list[TestPerson]:
    """One person per age 13–19; the last one holds a synthetic D-number."""
    persons: list[TestPerson] = []
    for i, age in enumerate(range(13, 20)):
        born = _birthday(today, age, days_since_birthday=30 * (i + 1))
        if _age(born, today) != age:
            raise AssertionError("test person generator is off by a year")
        kind = fnr.Kind.D_NUMBER if age == 19 else fnr.Kind.FODSELSNUMMER
        pid = fnr.make_classic(born, kind=kind, synthetic=True)
        fnr.parse(pid, allow_synthetic=True)  # raises if the generator made a bad number
        persons.append(TestPerson(pid, _NAMES[i], born.isoformat(), age, kind.value))
    return persons


def write_persons(path: Path, today: date) -> Path:
    path.write_text(
        json.dumps([asdict(p) for p in make_persons(today)], ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    return path
