"""The synthetic results every person asked for gets, relative to today.

- chlamydia (LOINC 43304-5): negative, marked ``NORN_FORANS`` (parents may not see it)
- gonorrhoea (43305-2): negative
- HIV (56888-1): held back by the clinician for a conversation: the extension
  ``HELD_BACK_URL`` with ``valueBoolean: true``, and no observation sent with it
- syphilis (20507-0): positive, marked ``NORN_UNGDOM`` (the youth may not see it): the page
  must never show it, nor that it exists
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from identity_bridge.records.fhir import FNR_SYSTEM, HELD_BACK_URL, LOINC, SECURITY_SYSTEM

INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
TESTS = (
    # (id, LOINC, display, interpretation or None when held back, security, days ago)
    ("ct", "43304-5", "Chlamydia trachomatis rRNA [Presence] by NAA", "NEG", "NORN_FORANS", 9),
    ("gc", "43305-2", "Neisseria gonorrhoeae rRNA [Presence] by NAA", "NEG", "", 9),
    ("hiv", "56888-1", "HIV 1+2 Ab + HIV1 p24 Ag [Presence]", None, "", 8),
    ("syf", "20507-0", "Reagin Ab [Presence] in Serum by RPR", "POS", "NORN_UNGDOM", 8),
)


def _subject(pid: str) -> dict[str, Any]:
    return {"identifier": {"system": FNR_SYSTEM, "value": pid}}


def _report(pid: str, rid: str, loinc: str, display: str, interp: str | None, security: str,
            issued: str) -> dict[str, Any]:
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport", "id": f"{rid}-{pid[-4:]}", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                                  "code": "MB"}]}],
        "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}]},
        "subject": _subject(pid), "issued": issued,
    }
    if security:
        report["meta"] = {"security": [{"system": SECURITY_SYSTEM, "code": security}]}
    if interp is None:
        report["extension"] = [{"url": HELD_BACK_URL, "valueBoolean": True}]
    else:
        report["result"] = [{"reference": f"Observation/{rid}-{pid[-4:]}-1"}]
    return report


def _observation(pid: str, rid: str, loinc: str, interp: str, issued: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": f"{rid}-{pid[-4:]}-1", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]}, "subject": _subject(pid),
        "issued": issued,
        "interpretation": [{"coding": [{"system": INTERPRETATION, "code": interp}]}],
    }


def bundle_for(pid: str, now: datetime | None = None, *, subject_of: str | None = None
               ) -> dict[str, Any]:
    """The searchset; ``subject_of`` names another person on the first report (a fault)."""
    now = now or datetime.now(UTC)
    entries: list[dict[str, Any]] = []
    for rid, loinc, display, interp, security, days in TESTS:
        issued = (now - timedelta(days=days)).replace(microsecond=0).isoformat()
        entries.append({"resource": _report(pid, rid, loinc, display, interp, security,
                                            issued), "search": {"mode": "match"}})
        if interp is not None:
            entries.append({"resource": _observation(pid, rid, loinc, interp, issued),
                            "search": {"mode": "include"}})
    if subject_of is not None:
        entries[0]["resource"]["subject"] = _subject(subject_of)
    return {"resourceType": "Bundle", "type": "searchset", "total": len(TESTS),
            "entry": entries}
