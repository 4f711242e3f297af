"""What the youth's results page shows, by the rules in docs/records.md ("Alder og samtykke").

- under 12 (or age unknown): nothing; the page says to ask at the health service.
- every age: a report marked ``NORN_UNGDOM`` (the youth may not see it) is left out
  altogether, its existence too; a report the clinician holds back for a conversation shows
  only that it is there ("svaret får du i en samtale"), never its value.
- 12–15: a report marked ``NORN_FORANS`` (parents may not see it) says so; from 16 the
  parents have no right to the results at all, and the page says that once.

The page words each result by ``kind`` and ``outcome`` (chat/templates/youth_results.html,
through Babel): no LOINC or interpretation code ever reaches the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date

from identity_bridge.epj.ical import OSLO

from .fhir import LabReport

MIN_AGE = 12
CONSENT_AGE = 16
KINDS = {
    "43304-5": "chlamydia",
    "43305-2": "gonorrhea",
    "56888-1": "hiv",
    "20507-0": "syphilis",
    "2106-3": "pregnancy",
}
POSITIVE = frozenset({"POS", "DET", "A", "AA", "H", "HH"})
NEGATIVE = frozenset({"NEG", "ND", "N"})
_BABEL_LOCALE = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}


@dataclass(frozen=True)
class ResultView:
    kind: str  # chlamydia, gonorrhea, hiv, syphilis, pregnancy, or other
    outcome: str  # negative, positive, unclear, waiting, held_back
    date: str
    youth_only: bool


@dataclass(frozen=True)
class ResultsPage:
    shown: bool  # False: the age rule says nothing is shown
    results: tuple[ResultView, ...]
    parents_excluded: bool  # 16 or older: parents never see the results


def _outcome(report: LabReport) -> str:
    if report.held_back:
        return "held_back"
    if report.status not in ("final", "amended", "corrected", "appended"):
        return "waiting"
    codes = set(report.interpretations)
    if codes & POSITIVE:
        return "positive"
    if codes and codes <= NEGATIVE:
        return "negative"
    return "unclear"


def _date(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return format_date(moment.astimezone(OSLO).date(), format="long",
                       locale=_BABEL_LOCALE.get(lang, "nb_NO"))


def results_page(reports: list[LabReport], age: int | None, lang: str) -> ResultsPage:
    if age is None or age < MIN_AGE:
        return ResultsPage(False, (), False)
    views = []
    ordered = sorted(reports, key=lambda r: r.issued.timestamp() if r.issued else 0.0,
                     reverse=True)
    for report in ordered:
        if "NORN_UNGDOM" in report.security:
            continue
        views.append(ResultView(
            kind=KINDS.get(report.loinc, "other"), outcome=_outcome(report),
            date=_date(report.issued, lang),
            youth_only=age < CONSENT_AGE and "NORN_FORANS" in report.security))
    return ResultsPage(True, tuple(views), age >= CONSENT_AGE)
