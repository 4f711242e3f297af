"""The nurse's form, checked field by field, and the report built from it (pure, no I/O).

The form is written by the nurse for the report; it is never chat content. The report adds
the child's person identifier (opened by the web process for this one step) and the sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import ConcernInvalid

# The concern's kind, as the form offers them (several may apply). The codes are ours; the
# Norwegian labels below go into the PDF and the JSON beside the code.
CATEGORIES: dict[str, str] = {
    "neglect": "Omsorgssvikt",
    "violence": "Vold i nære relasjoner",
    "sexual_abuse": "Seksuelle overgrep",
    "parental_substance": "Rus eller psykisk sykdom hos foreldre",
    "youth_substance": "Rusbruk hos ungdommen",
    "mental_health": "Ungdommens psykiske helse",
    "behaviour": "Atferd eller kriminalitet",
    "other": "Annet",
}
URGENCIES: dict[str, str] = {"normal": "Ikke akutt", "urgent": "Akutt: trenger hjelp i dag"}
MAX_DESCRIPTION = 8000
MAX_NOTE = 1000
MAX_SHORT = 200
_REF = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{4,19}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
LEGAL_BASIS = "Helsepersonelloven § 33 (opplysningsplikt til barnevernet)"


@dataclass(frozen=True)
class Reporter:
    name: str
    role: str
    phone: str
    email: str = ""


@dataclass(frozen=True)
class ConcernForm:
    conversation: str
    ref: str  # a UUID the browser made: the report's id end to end (a retry sends it again)
    categories: tuple[str, ...]
    description: str
    urgency: str
    youth_informed: bool
    youth_informed_note: str
    reporter: Reporter


def _text(raw: Any, field: str, limit: int, *, required: bool = True) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str):
        raise ConcernInvalid(field)
    value = raw.strip()
    if (required and not value) or len(value) > limit or "\x00" in value:
        raise ConcernInvalid(field)
    return value


def _match(raw: Any, field: str, pattern: re.Pattern[str], *, required: bool = True) -> str:
    value = _text(raw, field, MAX_SHORT, required=required)
    if value and not pattern.fullmatch(value):
        raise ConcernInvalid(field)
    return value


def _categories(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > len(CATEGORIES):
        raise ConcernInvalid("categories")
    if any(not isinstance(x, str) or x not in CATEGORIES for x in raw):
        raise ConcernInvalid("categories")
    return tuple(dict.fromkeys(raw))


def parse_form(body: Any) -> ConcernForm:
    """The form as the dashboard posts it, or ``ConcernInvalid`` naming the first bad field."""
    if not isinstance(body, dict):
        raise ConcernInvalid("body")
    rep = body.get("reporter")
    if not isinstance(rep, dict):
        raise ConcernInvalid("reporter")
    informed = body.get("youth_informed")
    if not isinstance(informed, bool):
        raise ConcernInvalid("youth_informed")
    urgency = body.get("urgency")
    if not isinstance(urgency, str) or urgency not in URGENCIES:
        raise ConcernInvalid("urgency")
    return ConcernForm(
        conversation=_match(body.get("conversation"), "conversation", _CID),
        ref=_match(body.get("ref"), "ref", _REF),
        categories=_categories(body.get("categories")),
        description=_text(body.get("description"), "description", MAX_DESCRIPTION),
        urgency=urgency,
        youth_informed=informed,
        youth_informed_note=_text(body.get("youth_informed_note"), "youth_informed_note",
                                  MAX_NOTE, required=False),
        reporter=Reporter(name=_text(rep.get("name"), "reporter.name", MAX_SHORT),
                          role=_text(rep.get("role"), "reporter.role", MAX_SHORT),
                          phone=_match(rep.get("phone"), "reporter.phone", _PHONE),
                          email=_match(rep.get("email") or None, "reporter.email", _EMAIL,
                                       required=False)),
    )


@dataclass(frozen=True)
class Sender:
    """Who sends: the service and municipality, from the config."""
    service: str
    municipality: str
    kommunenummer: str


def report_json(form: ConcernForm, pid: str, sender: Sender, sent_at: datetime) -> dict[str, Any]:
    """The structured part of the report (our shape; docs/concern-report.md)."""
    return {
        "versjon": 1,
        "id": form.ref,
        "sendt": sent_at.astimezone(UTC).isoformat(timespec="seconds"),
        "kommunenummer": sender.kommunenummer,
        "hjemmel": LEGAL_BASIS,
        "barn": {"fodselsnummer": pid},
        "bekymring": {
            "kategorier": [{"kode": k, "navn": CATEGORIES[k]} for k in form.categories],
            "beskrivelse": form.description,
            "hastegrad": {"kode": form.urgency, "navn": URGENCIES[form.urgency]},
            "ungdommen_kjenner_til_meldingen": form.youth_informed,
            "merknad_om_ungdommens_kjennskap": form.youth_informed_note,
        },
        "melder": {
            "navn": form.reporter.name, "rolle": form.reporter.role,
            "telefon": form.reporter.phone, "epost": form.reporter.email,
            "tjeneste": sender.service, "kommune": sender.municipality,
        },
        "kilde": "helseprat",
    }
