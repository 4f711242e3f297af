"""A nurse's proposal of a time and place for a youth (from the dashboard), free of I/O.

The nurse proposes from a thread the youth linked to an ID-porten login; the proposal becomes
one of the youth's appointment records (appointment_record.py) in the state ``proposed``,
sealed at rest like every appointment. Its time, place and type are not chat text: they pass
the web process in clear (they must, to reach the EPJ as a booking when the youth accepts)
and are never written anywhere but into the sealed record and the booking message.

What the nurse's frame says, checked here (each failure has a stable code):

| field | rule | code |
|---|---|---|
| ``start`` | ``YYYY-MM-DDTHH:MM`` Europe/Oslo, a time that exists, ≤ 180 days | ``proposal_bad_time`` |
| ``start`` | after now | ``proposal_in_past`` |
| ``minutes`` | 5 to 240 | ``proposal_bad_duration`` |
| ``place`` | 1 to 200 characters, no control characters | ``proposal_bad_place`` |
| ``type_code`` | the service's type codes' shape (``[A-Z0-9_-]{1,40}``) | schema |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .appointment_record import AppointmentRecord, AppointmentState
from .ical import OSLO

MIN_MINUTES, MAX_MINUTES = 5, 240
MAX_AHEAD = timedelta(days=180)
MAX_PLACE = 200
UID_SUFFIX = "@helseprat"
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ProposalInvalid(ValueError):
    """A proposal the rules refuse; ``code`` is stable (chat/errors.py style)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Proposal:
    proposal_id: str  # the dashboard's UUID: the same one again is the same proposal
    start: datetime  # aware, UTC
    end: datetime
    type_code: str
    place: str = field(repr=False)
    who: str = field(repr=False)

    @property
    def uid(self) -> str:
        """The VEVENT UID the booking carries (the EPJ keeps it for the appointment)."""
        return self.proposal_id + UID_SUFFIX


def local_start(text: str) -> datetime:
    """A wall-clock time in Europe/Oslo, as a ``datetime-local`` input gives it, in UTC.
    A time in the hour skipped in spring does not exist and is refused (a nurse should not
    propose a time the clock never shows); the hour that happens twice in autumn is the first."""
    if not _LOCAL.fullmatch(text):
        raise ProposalInvalid("proposal_bad_time", "The time must be YYYY-MM-DDTHH:MM.")
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise ProposalInvalid("proposal_bad_time", "The time is not a date and time.") from None
    local = naive.replace(tzinfo=OSLO)
    back = local.astimezone(UTC).astimezone(OSLO)
    if back.replace(tzinfo=None) != naive:
        raise ProposalInvalid("proposal_bad_time", "That time does not exist in Norway "
                                                   "(the clocks go forward).")
    return local.astimezone(UTC)


def check_proposal(*, proposal_id: str, start: str, minutes: int, place: str, type_code: str,
                   who: str, now: datetime) -> Proposal:
    at = local_start(start)
    if at <= now:
        raise ProposalInvalid("proposal_in_past", "The proposed time has passed.")
    if at > now + MAX_AHEAD:
        raise ProposalInvalid("proposal_bad_time", "At most 180 days ahead.")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ProposalInvalid("proposal_bad_duration",
                              f"The length must be {MIN_MINUTES} to {MAX_MINUTES} minutes.")
    place = place.strip()
    if not place or len(place) > MAX_PLACE or _CONTROL.search(place):
        raise ProposalInvalid("proposal_bad_place", "Say where, in at most 200 characters.")
    return Proposal(proposal_id=proposal_id, start=at, end=at + timedelta(minutes=minutes),
                    type_code=type_code, place=place, who=who[:MAX_PLACE])


def proposal_id_of(record: AppointmentRecord) -> str:
    """The dashboard's id of a proposal record ("" for an appointment from the EPJ)."""
    return record.uid.removesuffix(UID_SUFFIX) if record.conversation else ""


def proposed_record(proposal: Proposal, *, aid: str, epj_her: int, service_category: str,
                    summary: str, conversation: str, now: datetime) -> AppointmentRecord:
    return AppointmentRecord(
        aid=aid, uid=proposal.uid, epj_her=epj_her, sequence=0, start=proposal.start,
        end=proposal.end, state=AppointmentState.PROPOSED, type_code=proposal.type_code,
        summary=summary, location=proposal.place, who=proposal.who,
        service_category=service_category, youth_only=True, cancellable=True,
        changeable=True, updated_at=now.astimezone(UTC), conversation=conversation)


def answer_refusal(record: AppointmentRecord, now: datetime) -> str | None:
    """Whether the youth may still accept or decline: a proposal not yet answered, before
    its time. The code if not."""
    if record.state is not AppointmentState.PROPOSED:
        return "proposal_not_open"
    if record.start <= now:
        return "proposal_in_past"
    return None
