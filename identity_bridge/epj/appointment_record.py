"""What we keep of one appointment, and how messages from the EPJ and the youth move it:
free of I/O (the Redis half is appointment_store.py).

States (``AppointmentState``):

    booked ──youth cancels──▶ cancel_sent ──EPJ: SvarAvbestilling cancelled──▶ cancelled
       ▲  │                        └──────EPJ: refused────────────────────▶ cancel_refused
       │  └──EPJ: STATUS:CANCELLED──▶ cancelled_by_epj
       └──EPJ: a new SEQUENCE (moved) from any state but cancelled
    afterwards the EPJ may say fulfilled or noshow (X-HN-STATUS)

    A nurse's proposal (proposal.py) starts before the EPJ knows of it:

    proposed ──youth accepts──▶ booking_sent ──EPJ: SvarØnske with the time──▶ booked
       │                             └───────EPJ: SvarØnske cancelled / Avvist──▶ booking_refused
       └──youth asks for another time──▶ proposal_declined

A copy with a SEQUENCE lower than the one we hold is old (messages may arrive out of order)
and changes nothing; the same SEQUENCE again (a resend) changes nothing either.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .ical import CalendarEvent, EventStatus, Security


class AppointmentState(enum.StrEnum):
    BOOKED = "booked"
    CANCEL_SENT = "cancel_sent"
    CANCELLED = "cancelled"
    CANCEL_REFUSED = "cancel_refused"
    CANCELLED_BY_EPJ = "cancelled_by_epj"
    FULFILLED = "fulfilled"
    NOSHOW = "noshow"
    PROPOSED = "proposed"  # a nurse's proposal the youth has not answered
    BOOKING_SENT = "booking_sent"  # the youth accepted; the booking is on its way to the EPJ
    PROPOSAL_DECLINED = "proposal_declined"  # the youth asked for another time
    BOOKING_REFUSED = "booking_refused"  # the EPJ did not book the accepted time


class CancelRefusal(enum.StrEnum):
    """Why a youth's cancellation is refused before anything is sent (stable codes)."""

    STARTED = "appointment_started"
    NOT_CHANGEABLE = "appointment_not_changeable"
    NOT_BOOKED = "appointment_not_booked"


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    """One appointment of one person, as sealed in Redis. ``aid`` is a keyed id (the EPJ's
    UID never appears in clear outside the seal)."""

    aid: str
    uid: str = field(repr=False)
    epj_her: int
    sequence: int
    start: datetime
    end: datetime
    state: AppointmentState
    type_code: str
    summary: str = field(repr=False)
    location: str = field(repr=False)
    who: str = field(repr=False)
    service_category: str
    youth_only: bool
    cancellable: bool
    changeable: bool
    updated_at: datetime
    cancel_msg_id: str = ""  # the MsgId of our open request: a cancellation or a booking
    answer: str = field(repr=False, default="")  # the EPJ's text on a refusal
    conversation: str = ""  # a proposal's thread, whose dashboard is told how it went

    def to_json(self) -> str:
        body: dict[str, Any] = asdict(self)
        for name in ("start", "end", "updated_at"):
            body[name] = getattr(self, name).isoformat()
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> AppointmentRecord:
        body = json.loads(raw)
        for name in ("start", "end", "updated_at"):
            body[name] = datetime.fromisoformat(body[name])
        body["state"] = AppointmentState(body["state"])
        return cls(**body)

    def event(self) -> CalendarEvent:
        """The appointment as a VEVENT (the ``.ics`` download, a cancellation request)."""
        return CalendarEvent(
            uid=self.uid, sequence=self.sequence, start=self.start, end=self.end,
            status=EventStatus.BOOKED, type_code=self.type_code, summary=self.summary,
            location=self.location, who=self.who, service_category=self.service_category,
            security=Security.NORN_FORANS if self.youth_only else Security.NONE,
            cancellable=self.cancellable, changeable=self.changeable,
        )

    def upcoming(self, now: datetime) -> bool:
        return self.end > now and self.state in (
            AppointmentState.BOOKED, AppointmentState.CANCEL_SENT,
            AppointmentState.CANCEL_REFUSED)


_STATE_OF = {EventStatus.BOOKED: AppointmentState.BOOKED,
             EventStatus.CANCELLED: AppointmentState.CANCELLED_BY_EPJ,
             EventStatus.FULFILLED: AppointmentState.FULFILLED,
             EventStatus.NOSHOW: AppointmentState.NOSHOW}
REMINDERS = {"24h": timedelta(hours=24), "2h": timedelta(hours=2)}
REMINDING = frozenset({AppointmentState.BOOKED, AppointmentState.CANCEL_REFUSED})


def reminder_times(record: AppointmentRecord) -> dict[str, datetime | None]:
    """When to remind, per reminder: 24 and 2 hours before the start, counted in real time
    (UTC), so across a daylight-saving change the 24 h reminder comes at another hour on the
    clock than the appointment. None: no reminder (not booked, or that time had already passed
    when the appointment was booked or last changed)."""
    out: dict[str, datetime | None] = {}
    for kind, before in REMINDERS.items():
        at = record.start - before
        out[kind] = at if record.state in REMINDING and at > record.updated_at else None
    return out


def from_event(aid: str, epj_her: int, event: CalendarEvent, now: datetime) -> AppointmentRecord:
    return AppointmentRecord(
        aid=aid, uid=event.uid, epj_her=epj_her, sequence=event.sequence,
        start=event.start, end=event.end,
        state=_STATE_OF[event.status],
        type_code=event.type_code, summary=event.summary, location=event.location,
        who=event.who, service_category=event.service_category,
        youth_only=event.security is Security.NORN_FORANS, cancellable=event.cancellable,
        changeable=event.changeable, updated_at=now.astimezone(UTC),
    )


def merge(current: AppointmentRecord | None, incoming: AppointmentRecord) -> AppointmentRecord | None:
    """The record after an ``Avtale`` from the EPJ, or None when it changes nothing."""
    if current is None:
        return incoming
    if incoming.sequence <= current.sequence:
        return None
    if current.state is AppointmentState.CANCELLED:
        return None  # the youth's cancellation was accepted: a later copy cannot revive it
    return incoming


def cancel_refusal(record: AppointmentRecord, now: datetime) -> CancelRefusal | None:
    """Whether the youth may cancel now; the reason if not."""
    if record.state not in (AppointmentState.BOOKED, AppointmentState.CANCEL_REFUSED):
        return CancelRefusal.NOT_BOOKED
    if record.start <= now:
        return CancelRefusal.STARTED
    if not record.cancellable:
        return CancelRefusal.NOT_CHANGEABLE
    return None


def cancel_sent(record: AppointmentRecord, msg_id: str, now: datetime) -> AppointmentRecord:
    return replace(record, state=AppointmentState.CANCEL_SENT, cancel_msg_id=msg_id,
                   answer="", updated_at=now.astimezone(UTC))


def cancel_answered(record: AppointmentRecord, msg_id: str, accepted: bool, answer: str,
                    now: datetime) -> AppointmentRecord | None:
    """The EPJ's SvarAvbestilling for our request ``msg_id``; None if it is not the open one."""
    if record.state is not AppointmentState.CANCEL_SENT or record.cancel_msg_id != msg_id:
        return None
    return replace(record, state=(AppointmentState.CANCELLED if accepted
                                  else AppointmentState.CANCEL_REFUSED),
                   answer="" if accepted else answer, updated_at=now.astimezone(UTC))


def booking_sent(record: AppointmentRecord, msg_id: str, now: datetime) -> AppointmentRecord:
    """The youth accepted a proposal: the booking (``ØnskeReserver`` with this time) goes out."""
    return replace(record, state=AppointmentState.BOOKING_SENT, cancel_msg_id=msg_id,
                   answer="", updated_at=now.astimezone(UTC))


def booking_answered(record: AppointmentRecord, msg_id: str, event: CalendarEvent | None,
                     note: str, now: datetime) -> AppointmentRecord | None:
    """The EPJ's SvarØnske to our booking ``msg_id`` (``event`` None: an AppRec Avvist, its
    text in ``note``); None if it is not the open one. A time from the EPJ is taken as it
    gives it (it may book another hour than proposed)."""
    if record.state is not AppointmentState.BOOKING_SENT or record.cancel_msg_id != msg_id:
        return None
    if event is None or event.status is EventStatus.CANCELLED:
        return replace(record, state=AppointmentState.BOOKING_REFUSED, answer=note,
                       updated_at=now.astimezone(UTC))
    return replace(record, state=AppointmentState.BOOKED, start=event.start, end=event.end,
                   answer="", updated_at=now.astimezone(UTC))
