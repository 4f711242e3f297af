"""Appointment messages: MsgHead 1.2 + Dialogmelding 1.1 + an iCalendar VEVENT, free of I/O.

Helsenorge's appointment processes carry the appointment as an iCalendar object next to a
Dialogmelding. We put it where MsgHead puts attachments: a second ``Document`` whose
``RefDoc`` is ``MsgType V="A"`` (vedlegg), ``MimeType text/calendar``, and the object in a
``Base64Container``. The first Document is the Dialogmelding with one Notat (theme *Avtale*;
its text is the youth's reason on a cancellation, or the EPJ's answer).

Message functions (``MsgInfo/Type``):
- ``DIALOG_INNBYGGER_AVTALEUTSENDING``, from the EPJ: a new, moved or cancelled appointment;
- ``DIALOG_INNBYGGER_AVTALEAVBESTILLING``, from us for the youth (``AvbestillAvtale``): the
  VEVENT with ``STATUS:CANCELLED``, the reason in the Notat;
- ``DIALOG_INNBYGGER_AVTALEAVBESTILLING``, from the EPJ (``SvarAvbestilling``): its
  ``ConversationRef`` names our request; ``STATUS:CANCELLED`` means done, anything else
  refused (the Notat says why).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from . import codes
from .codes import Code
from .errors import AppointmentInvalid, MessageInvalid
from .ical import CalendarEvent, parse_event
from .model import ConversationRef, MsgHeadInfo, Party, Patient
from .msghead import add_document, dialog_note, read_msghead, start_msghead
from .schemas import MSGHEAD_ROOT, NS_BASE64, NS_MSGHEAD, load, serialize, validate_msghead

CALENDAR_MIME = "text/calendar"
APPOINTMENT_TYPES = frozenset({codes.AVTALEUTSENDING.v, codes.AVTALEAVBESTILLING.v,
                               codes.TIMEONSKEUNGDOM.v})
MAX_NOTE = 1000

_MH = f"{{{NS_MSGHEAD}}}"
_B64 = f"{{{NS_BASE64}}}"


@dataclass(frozen=True, slots=True)
class AppointmentMessage:
    """A parsed appointment message: routing from MsgHead, the event, the Notat's text."""

    head: MsgHeadInfo
    calendar: bytes = field(repr=False)
    event: CalendarEvent
    note: str = field(repr=False, default="")

    @property
    def msg_type(self) -> str:
        return self.head.msg_type

    @property
    def msg_id(self) -> str:
        return self.head.msg_id


def build_appointment_message(*, msg_type: Code, msg_id: str, generated_at: datetime,
                              sender: Party, receiver: Party, patient: Patient, calendar: bytes,
                              note: str = "", subject: str = "Avtale",
                              conversation_ref: ConversationRef | None = None) -> bytes:
    """UTF-8 bytes of a schema-valid message (raises SchemaInvalid: fail closed)."""
    root = start_msghead(msg_type=msg_type, msg_id=msg_id, generated_at=generated_at,
                         sender=sender, receiver=receiver, patient=patient,
                         conversation_ref=conversation_ref)
    gen = generated_at.isoformat(timespec="seconds")
    dialog_note(add_document(root, issue_date=gen), theme=codes.THEME_AVTALE, subject=subject,
                text=note[:MAX_NOTE] if note else None)
    content = add_document(root, issue_date=gen, ref_type=codes.REFDOC_ATTACHMENT,
                           mime_type=CALENDAR_MIME)
    container = etree.SubElement(content, f"{_B64}Base64Container",
                                 nsmap={None: NS_BASE64})  # type: ignore[dict-item]
    container.text = base64.b64encode(calendar).decode()
    validate_msghead(root)
    return serialize(root)


def _calendar(root: etree._Element) -> bytes:
    found: list[bytes] = []
    for refdoc in root.iter(f"{_MH}RefDoc"):
        mime = refdoc.find(f"{_MH}MimeType")
        if mime is None or (mime.text or "").strip().lower() != CALENDAR_MIME:
            continue
        container = refdoc.find(f"{_MH}Content/{_B64}Base64Container")
        if container is None:
            continue
        try:
            found.append(base64.b64decode("".join((container.text or "").split()),
                                          validate=True))
        except (binascii.Error, ValueError):
            raise AppointmentInvalid("the calendar attachment is not base64",
                                     code="epj.ical.malformed") from None
    if len(found) != 1:
        raise AppointmentInvalid("expected exactly one text/calendar attachment",
                                 code="epj.appointment.no_calendar")
    return found[0]


def read_appointment(root: etree._Element) -> AppointmentMessage:
    """From an already validated MsgHead. Raises MessageInvalid / AppointmentInvalid."""
    head = read_msghead(root)
    if head.msg_type not in APPOINTMENT_TYPES:
        raise MessageInvalid("not an appointment message", code="epj.appointment.wrong_type")
    calendar = _calendar(root)
    event = parse_event(calendar)
    note = ""
    for info in head.notes:
        if info.text:
            note = info.text[:MAX_NOTE]
            break
    return AppointmentMessage(head=head, calendar=calendar, event=event, note=note)


def parse_appointment_message(data: bytes | str) -> AppointmentMessage:
    """Load (no DTD, no network, size cap), validate against the schemas, read. Raises an
    EpjError subclass with a stable code."""
    root = load(data, MSGHEAD_ROOT)
    validate_msghead(root)
    return read_appointment(root)
