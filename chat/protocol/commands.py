"""Frozen dataclasses: what a validated inbound frame asks the service to do.

They are the vocabulary between the protocol core (which parses and checks) and the endpoint
(which carries them out through chat.actions.conversations). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ResumeSetup:
    """A resume code made on the youth's device: the handle, proof and key backup it allows."""

    handle: str
    auth: str
    backup: str


@dataclass(frozen=True)
class Start:
    service: str
    key_bundle: str
    epoch: int
    resume: ResumeSetup | None
    # The optional intake: a topic code of the service ("" = none chosen), "it's urgent".
    topic: str = ""
    urgent: bool = False
    capability: str = ""  # the token of an earlier start, if the browser holds one


@dataclass(frozen=True)
class Resume:
    conversation: str
    token: str
    after: int


@dataclass(frozen=True)
class ResumeWithCode:
    handle: str
    auth: str
    after: int


@dataclass(frozen=True)
class Send:
    conversation: str
    cmid: str
    body: str


@dataclass(frozen=True)
class Typing:
    conversation: str
    stopped: bool = False  # the writer cleared the field: hide the indicator now


@dataclass(frozen=True)
class End:
    conversation: str


@dataclass(frozen=True)
class Feedback:
    """The youth's one answer to "was this helpful?" after the conversation ended."""

    conversation: str
    helpful: bool


@dataclass(frozen=True)
class Later:
    """The youth leaves: "answer me later" (LEAVE_FOR_LATER)."""

    conversation: str


@dataclass(frozen=True)
class PushSubscribe:
    """Tell me by Web Push when a nurse answers: the browser's subscription, unchecked yet
    (chat/push/subscription.py checks it), and the language of the notice."""

    conversation: str
    subscription: Mapping[str, object]


@dataclass(frozen=True)
class PushUnsubscribe:
    conversation: str


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Claim:
    conversation: str


@dataclass(frozen=True)
class Open:
    conversation: str
    after: int


@dataclass(frozen=True)
class Close:
    conversation: str
    outcome: str


@dataclass(frozen=True)
class Release:
    conversation: str


@dataclass(frozen=True)
class ParkLater:
    """The holder leaves it for the youth to read and answer (PARK_LATER)."""

    conversation: str


@dataclass(frozen=True)
class Rekey:
    """A nurse's client re-sealed the conversation key to the team's new epoch."""

    conversation: str
    key_bundle: str
    epoch: int


# -- the nurse dashboard -------------------------------------------------------------------------
@dataclass(frozen=True)
class Transfer:
    """Hand an active conversation to a colleague or another service's queue.

    ``key_bundle``/``epoch``: the conversation key re-sealed by the sender's browser to the
    receiving team ("" / 0 when the team is the same). ``note``: an internal note sealed with
    the conversation key, kept in a nurse-only stream.
    """

    conversation: str
    to_service: str
    to_nurse: str
    key_bundle: str
    epoch: int
    note: str


@dataclass(frozen=True)
class Flag:
    conversation: str
    kind: str  # "concern" | "acute" | "none"


@dataclass(frozen=True)
class QueueRequest:
    service: str


@dataclass(frozen=True)
class OverviewRequest:
    service: str
    day: str  # "" = today


@dataclass(frozen=True)
class AuditRequest:
    service: str


@dataclass(frozen=True)
class PauseStarts:
    """Pause new starts from the token that started ``conversation`` for ``hours``."""

    conversation: str
    hours: int


@dataclass(frozen=True)
class LiftPause:
    conversation: str


@dataclass(frozen=True)
class StartPauseRequest:
    """Ask whether new starts from ``conversation``'s token are paused."""

    conversation: str


@dataclass(frozen=True)
class SetBreak:
    on: bool


DashboardCommand = (Transfer | Flag | QueueRequest | OverviewRequest | AuditRequest
                    | PauseStarts | LiftPause | StartPauseRequest | SetBreak)


# -- a colleague asked in (chat/actions/helpers.py) ----------------------------------------------
@dataclass(frozen=True)
class Invite:
    """The holder asks ``nurse`` (a colleague or lead of the service, by username) to join."""

    conversation: str
    nurse: str


@dataclass(frozen=True)
class Join:
    conversation: str


@dataclass(frozen=True)
class Leave:
    """A helper leaves the conversation (the holder keeps it)."""

    conversation: str


@dataclass(frozen=True)
class Decline:
    """The invited colleague says no: the invitation leaves her dashboard."""

    conversation: str


HelperCommand = Invite | Join | Leave | Decline

@dataclass(frozen=True)
class ResumeSession:
    """A logged-in youth (identity bridge) reattaches by session cookie, not by token."""

    conversation: str
    after: int


@dataclass(frozen=True)
class Reseal:
    """A team member's browser sealed CK to a logged-in youth's new device."""

    conversation: str
    device: str
    sealed_ck: str
    key_bundle: str


@dataclass(frozen=True)
class Journal:
    """Send to journal: the nurse's browser sealed the note part to the EPJ gateway;
    ``msg_id`` (a UUID the browser made, also inside the seal) is the MsgId end to end."""

    conversation: str
    msg_id: str
    sealed_note: str


@dataclass(frozen=True)
class ProposeAppointment:
    """A nurse proposes a time and place to the youth of a linked thread (not chat text:
    the server reads it, seals it with the youth's appointments, and books it with the EPJ
    when the youth accepts). ``start`` is Europe/Oslo wall-clock time, ``YYYY-MM-DDTHH:MM``."""

    conversation: str
    proposal_id: str
    start: str
    minutes: int
    place: str
    type_code: str


Command = (
    Start | Resume | ResumeWithCode | Send | Typing | End | Feedback | Ping | Claim | Open | Close | Release | Rekey
    | Later | ParkLater
    | PushSubscribe | PushUnsubscribe
    | DashboardCommand | HelperCommand
    | ResumeSession | Reseal | Journal | ProposeAppointment
)
