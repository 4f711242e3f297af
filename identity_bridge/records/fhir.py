"""Pasientens prøvesvar's FHIR answer, parsed with fhir.resources' R4B models (the maintained
library's closest release to R4), into frozen values the rest of the bridge uses.

The answer is a searchset ``Bundle`` of ``DiagnosticReport`` (one per test) with their
``Observation`` results included. Read from each report:

- ``subject.identifier`` (system ``urn:oid:2.16.578.1.12.4.1.4.1``, the national identity
  number): must be the logged-in person's, on every report; one foreign report and the
  whole answer is refused.
- ``code.coding`` (LOINC): which test; ``issued``: when the answer came.
- ``meta.security`` (Volven 9603): ``NORN_FORANS``, ``NORN_UNGDOM``.
- ``extension`` ``HELD_BACK_URL`` with ``valueBoolean: true``: the clinician holds the result
  back for a conversation. Such a report's observations are never read.
- each result ``Observation``'s ``interpretation`` (HL7 v3 ObservationInterpretation).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport
    from fhir.resources.R4B.observation import Observation

from .errors import RegistryMalformed, RegistryOtherPerson

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
LOINC = "http://loinc.org"
SECURITY_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.9603"
HELD_BACK_URL = "https://helseprat.no/fhir/StructureDefinition/held-for-conversation"
MAX_REPORTS = 200


@dataclass(frozen=True)
class LabReport:
    report_id: str
    loinc: str
    status: str
    issued: datetime | None
    held_back: bool
    security: frozenset[str]
    interpretations: tuple[str, ...]  # the results' interpretation codes, in order


def _codes(concepts: Any, system: str | None = None) -> list[str]:
    out = []
    for concept in concepts or []:
        for coding in getattr(concept, "coding", None) or [concept]:
            if coding.code and (system is None or coding.system in (None, system)):
                out.append(str(coding.code))
    return out


def _held_back(report: DiagnosticReport) -> bool:
    return any(e.url == HELD_BACK_URL and e.valueBoolean is True
               for e in report.extension or [])


def _subject(report: DiagnosticReport) -> str:
    ident = report.subject.identifier if report.subject else None
    if ident is None or ident.system != FNR_SYSTEM or not ident.value:
        raise RegistryMalformed()
    return str(ident.value)


def _report(report: DiagnosticReport, observations: dict[str, Observation]) -> LabReport:
    held = _held_back(report)
    interpretations: list[str] = []
    if not held:
        for ref in report.result or []:
            obs = observations.get(str(ref.reference or ""))
            if obs is None:
                raise RegistryMalformed()
            interpretations.extend(_codes(obs.interpretation)[:1] or [""])
    security = frozenset(_codes(report.meta.security if report.meta else None,
                                SECURITY_SYSTEM))
    loinc = _codes([report.code], LOINC)
    return LabReport(report_id=str(report.id or ""), loinc=loinc[0] if loinc else "",
                     status=str(report.status), issued=report.issued, held_back=held,
                     security=security, interpretations=tuple(interpretations))


def parse_reports(body: object, pid: str) -> list[LabReport]:
    """The person's reports from one answer; RegistryMalformed or RegistryOtherPerson else."""
    # Loaded on the first answer, not at start: the models and pydantic are a sixth of a
    # second of every web process's start.
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport
    from fhir.resources.R4B.observation import Observation

    try:
        bundle = Bundle.model_validate(body)
    except (ValueError, TypeError):
        raise RegistryMalformed() from None
    reports: list[DiagnosticReport] = []
    observations: dict[str, Observation] = {}
    for entry in bundle.entry or []:
        res = entry.resource
        if isinstance(res, DiagnosticReport):
            reports.append(res)
        elif isinstance(res, Observation) and res.id:
            observations[f"Observation/{res.id}"] = res
    if len(reports) > MAX_REPORTS:
        raise RegistryMalformed()
    for report in reports:
        # Checked on every report before any is used: one foreign report and nothing shows.
        if not hmac.compare_digest(_subject(report), pid):
            raise RegistryOtherPerson()
    return [_report(r, observations) for r in reports if r.status != "entered-in-error"]
