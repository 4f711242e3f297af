"""Typed outbound events: one frozen dataclass per server-to-client frame type in schema.json.

``encode(event)`` gives the frame's text: compact JSON, ``"v"`` and ``"type"`` first, then the
fields in the order they are declared. A field listed in the class's ``optional`` is left out
when it is None; every other field is always there (None encodes as null). A field whose
Python name ends in ``_`` (``from_``) goes on the wire without it. Each frame is encoded once;
fan-out forwards the same text to every receiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from chat.protocol import PROTOCOL_VERSION
from chat.protocol.eventbase import Event as Event
from chat.protocol.eventbase import JSONObject as JSONObject
from chat.protocol.eventbase import dumps as _dumps
from chat.protocol.extension_events import AppointmentStatus as AppointmentStatus
from chat.protocol.extension_events import JournalStatus as JournalStatus
from chat.protocol.helper_events import Invited as Invited
from chat.protocol.helper_events import InviteSent as InviteSent
from chat.protocol.helper_events import Left as Left
from chat.protocol.load_events import Load as Load
from chat.protocol.load_events import StartPause as StartPause

if TYPE_CHECKING:
    from chat.errors import ClientError


def encode(event: Event) -> str:
    """The frame's text, exactly as the protocol sends it."""
    if isinstance(event, Deliver):
        prefix, suffix = event.split()
        return f"{prefix}{event.seq}{suffix}"
    return _dumps(event.payload())


def every_event_type() -> dict[str, type[Event]]:
    """Frame type -> its event class, for every outbound type."""
    out: dict[str, type[Event]] = {}
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "type" in vars(cls):
            out[cls.type] = cls
    return out


# -- conversation -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Started(Event):
    type = "started"
    conversation: str
    token: str
    service: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Event):
    """``token`` and ``backup`` only after a resume code (a new token)."""

    type = "resumed"
    optional = frozenset({"token", "backup"})
    conversation: str
    service: str
    last_seq: int
    key_bundle: str
    epoch: int
    token: str | None = None
    backup: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack(Event):
    """The sender's confirmation that ``cmid`` is stored as ``seq``; ``ts`` is None for a
    duplicate (left out), ``conversation`` is left out when None."""

    type = "ack"
    optional = frozenset({"conversation", "ts"})
    cmid: str
    seq: int
    conversation: str | None = None
    duplicate: bool
    ts: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver(Event):
    type = "deliver"
    seq: int
    conversation: str
    from_: str  # youth · nurse · system
    sender: str
    cmid: str
    body: str
    ts: int

    def split(self) -> tuple[str, str]:
        """This frame split around its sequence number (``seq`` itself is not used)."""
        return deliver_template(self.conversation, self.from_, self.sender, self.cmid,
                                self.body, self.ts)


def deliver_template(
    conversation: str, sender_role: str, sender: str, cmid: str, body: str, ts: int
) -> tuple[str, str]:
    """A deliver frame split around its sequence number, which only the store knows.

    The append script joins prefix + seq + suffix and publishes the result, so the frame is
    encoded once, here, and never parsed again on its way to the receivers.
    """
    prefix = f'{{"v":{PROTOCOL_VERSION},"type":"deliver","seq":'
    suffix = "," + _dumps(
        {"conversation": conversation, "from": sender_role, "sender": sender,
         "cmid": cmid, "body": body, "ts": ts}
    )[1:]
    return prefix, suffix


@dataclass(frozen=True, slots=True, kw_only=True)
class Typing(Event):
    type = "typing"
    optional = frozenset({"stopped"})
    conversation: str
    from_: str
    stopped: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue(Event):
    """A waiting youth's place; ``expected_wait_s`` is null when there is no estimate."""

    type = "queue"
    conversation: str
    position: int
    waiting: int
    expected_wait_s: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class State(Event):
    """The conversation's state; the other fields are left out when None."""

    type = "state"
    optional = frozenset({"service", "transferred", "key_bundle", "epoch", "nurse", "outcome",
                          "verified", "flag", "history", "due", "helpers", "helping"})
    conversation: str
    state: str  # waiting · active · closed · later
    service: str | None = None
    transferred: bool | None = None
    key_bundle: str | None = None
    epoch: int | None = None
    nurse: str | None = None
    outcome: str | None = None
    verified: JSONObject | None = None  # identity bridge: an ID-porten-verified thread
    flag: str | None = None
    history: list[JSONObject] | None = None
    # later: when the owed answer is promised by (unix seconds); null while none is promised.
    due: int | None = None
    # nurse only, on open: the helpers' display names, and whether the receiver is one.
    helpers: list[str] | None = None
    helping: bool | None = None

    def payload(self) -> JSONObject:
        out = Event.payload(self)
        if self.due is None and self.state == "later":
            out["due"] = None  # a later state always says whether an answer is promised
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEnd(Event):
    type = "history_end"
    conversation: str
    last_seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed(Event):
    type = "claimed"
    conversation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback(Event):  # "was this helpful?": counted is False when already answered
    type = "feedback"
    conversation: str
    counted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Push(Event):  # the youth's push subscription for the conversation: on or off
    type = "push"
    conversation: str
    on: bool
    tag: str | None = None  # the notices' tag (random per subscription), when on


@dataclass(frozen=True, slots=True, kw_only=True)
class Rekeyed(Event):
    type = "rekeyed"
    conversation: str
    epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class System(Event):
    """A plaintext notice from the server, in every language (``text``: lang -> text)."""

    type = "system"
    optional = frozenset({"minutes"})
    conversation: str
    code: str
    minutes: int | None = None
    text: dict[str, str]


# -- connection ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Error(Event):
    type = "error"
    optional = frozenset({"ref"})
    code: str
    message: str
    ref: str | None = None

    @classmethod
    def of(cls, err: ClientError, ref: str | None = None) -> Error:
        return cls(code=err.code, message=err.message, ref=ref)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconnect(Event):
    type = "reconnect"
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong(Event):
    type = "pong"


# -- nurse dashboard ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Event):
    """A nurse's first frame; ``journal`` only with the EPJ link, ``concern`` only with the
    identity bridge."""

    type = "hello"
    optional = frozenset({"journal", "concern"})
    nurse: str
    role: str
    services: list[JSONObject]
    open: list[str]
    journal: JSONObject | None = None
    concern: JSONObject | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard(Event):
    type = "dashboard"
    services: list[JSONObject]
    transfer_services: list[JSONObject]
    lead: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSnapshot(Event):
    type = "queue_snapshot"
    service: str
    items: list[JSONObject]


@dataclass(frozen=True, slots=True, kw_only=True)
class LaterSnapshot(Event):
    """The service's answer-later list, oldest owed first: items of conversation, owed (unix
    seconds), due (unix seconds or null) and returning."""

    type = "later_snapshot"
    service: str
    items: list[JSONObject]


@dataclass(frozen=True, slots=True, kw_only=True)
class Board(Event):
    type = "board"
    service: str
    flags: list[JSONObject]
    on_duty: list[str]
    target_wait_s: int

    @classmethod
    def of(cls, board: JSONObject) -> Board:
        """From the dashboard's board dict (service, flags, on_duty, target_wait_s)."""
        return cls(service=cast(str, board["service"]),
                   flags=cast(list[JSONObject], board["flags"]),
                   on_duty=cast(list[str], board["on_duty"]),
                   target_wait_s=cast(int, board["target_wait_s"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class Assigned(Event):
    type = "assigned"
    conversation: str
    service: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred(Event):
    type = "transferred"
    conversation: str
    service: str
    state: str
    to_nurse: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Flagged(Event):
    type = "flagged"
    conversation: str
    flag: str
    escalation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Event):
    type = "note"
    conversation: str
    id: str
    sender: str
    service: str
    body: str
    ts: int

    @classmethod
    def of(cls, conversation: str, note: JSONObject) -> Note:
        """From the dashboard's note dict (id, sender, service, body, ts)."""
        return cls(conversation=conversation, id=cast(str, note["id"]),
                   sender=cast(str, note["sender"]), service=cast(str, note["service"]),
                   body=cast(str, note["body"]), ts=cast(int, note["ts"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview(Event):
    type = "overview"
    service: str
    day: str
    figures: JSONObject


@dataclass(frozen=True, slots=True, kw_only=True)
class Audit(Event):
    type = "audit"
    service: str
    entries: list[JSONObject]


# -- identity bridge ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DevicePending(Event):
    """A logged-in youth's new device waits for the conversation key."""

    type = "device_pending"
    conversation: str
    device: str
    box: str
    sign: str
    acr: str
    at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceReady(Event):
    type = "device_ready"
    conversation: str
    device: str
    sign: str
    key_bundle: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resealed(Event):
    type = "resealed"
    conversation: str
    device: str
