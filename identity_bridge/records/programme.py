"""The school vaccines of the childhood immunisation programme, given or due for one youth.

The data file (school_vaccines.toml) names its source (FHI's barnevaksinasjonsprogrammet
page), the grade of each vaccine, the ATC codes that count as it and the plain-language
texts in nb/nn/en. Whether a vaccine is given is the registry's answer; when it is due is the
grade, from the birth date: grade 1 starts in August of the year a child turns six
(opplæringslova § 2-1), so in the school year starting in August of year Y a child born in
year B is in grade Y - B - 5.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chat.errors import ConfigError

from .sysvak import Vaccination

DATA_FILE = Path(__file__).with_name("school_vaccines.toml")
LANGS = ("nb", "nn", "en")


@dataclass(frozen=True)
class SchoolVaccine:
    id: str
    grade: int
    atc: tuple[str, ...]
    doses: int
    min_age: int
    name: Mapping[str, str]
    about: Mapping[str, str]

    def counts(self, v: Vaccination, born: date | None) -> bool:
        if not v.atc.startswith(self.atc):
            return False
        return self.min_age == 0 or (born is not None and age_on(born, v.day) >= self.min_age)


@dataclass(frozen=True)
class Programme:
    source_name: str
    source_url: str
    checked: str
    vaccines: tuple[SchoolVaccine, ...]


def _words(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or set(raw) != set(LANGS) or not all(
            isinstance(v, str) and v.strip() for v in raw.values()):
        raise ConfigError(f"{where} must give nb, nn and en")
    return dict(raw)


def _vaccine(raw: object) -> SchoolVaccine:
    if not isinstance(raw, dict):
        raise ConfigError("[[vaccine]] must be a table")
    vid = str(raw.get("id", ""))
    atc = raw.get("atc")
    grade, doses, min_age = raw.get("grade"), raw.get("doses", 1), raw.get("min_age", 0)
    if not isinstance(atc, list) or not atc or not all(isinstance(a, str) for a in atc):
        raise ConfigError(f"vaccine {vid}: atc must list ATC codes")
    if not all(isinstance(n, int) for n in (grade, doses, min_age)):
        raise ConfigError(f"vaccine {vid}: grade, doses and min_age are whole numbers")
    assert isinstance(grade, int) and isinstance(doses, int) and isinstance(min_age, int)
    return SchoolVaccine(vid, grade, tuple(atc), doses, min_age,
                         _words(raw.get("name"), f"vaccine {vid}.name"),
                         _words(raw.get("about"), f"vaccine {vid}.about"))


def load(path: Path = DATA_FILE) -> Programme:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    source = raw.get("source", {})
    if not isinstance(source, dict) or not str(source.get("url", "")).startswith("https://"):
        raise ConfigError(f"{path.name} must name its source ([source] url)")
    return Programme(str(source.get("name", "")), str(source["url"]),
                     str(source.get("checked", "")),
                     tuple(_vaccine(v) for v in raw.get("vaccine", [])))


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def grade_on(born: date, day: date) -> int:
    """The school grade in the school year ``day`` falls in (0 or less: not at school yet)."""
    school_year = day.year if day.month >= 8 else day.year - 1
    return school_year - born.year - 5


@dataclass(frozen=True)
class VaccineStatus:
    id: str
    grade: int
    name: str
    about: str
    state: str  # "given" | "due" | "later" | "unknown" (no birth date to go by)
    given_on: date | None = None
    late: bool = False  # due, and its school year is behind the youth


def status(programme: Programme, given: Sequence[Vaccination], born: date | None,
           today: date, lang: str) -> list[VaccineStatus]:
    lang = lang if lang in LANGS else "nb"
    grade = grade_on(born, today) if born is not None else None
    out = []
    for sv in programme.vaccines:
        doses = [v for v in given if sv.counts(v, born)]
        late = False
        given_on = doses[sv.doses - 1].day if len(doses) >= sv.doses else None
        if given_on is not None:
            state = "given"
        elif grade is None:
            state = "unknown"
        elif grade >= sv.grade:
            state, late = "due", grade > sv.grade
        else:
            state = "later"
        out.append(VaccineStatus(sv.id, sv.grade, sv.name[lang], sv.about[lang], state,
                                 given_on, late))
    return out
