"""The outbound events of the identity bridge's dashboard features (the journal link, the
proposed appointments): chat/protocol/events.py re-exports them, so the protocol stays one
document; they live here to keep that module small."""

from __future__ import annotations

from dataclasses import dataclass

from chat.protocol.eventbase import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalStatus(Event):
    """A journal note's status; ``at`` is left out when None."""

    type = "journal_status"
    optional = frozenset({"at"})
    conversation: str
    msg_id: str
    status: str
    code: str
    text: str
    at: int | None = None



@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentStatus(Event):
    """How a nurse's proposal of a time stands (``start`` Europe/Oslo, ``place``: what the
    nurse proposed, to the dashboard of the thread only)."""

    type = "appointment_status"
    optional = frozenset({"start", "place"})
    conversation: str
    proposal_id: str
    status: str
    start: str | None = None
    place: str | None = None
