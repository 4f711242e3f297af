"""The outbox vocabulary and decisions, free of I/O (unit-tested without Redis or HTTP).

Redis layout (every key is a single slot, so it runs unchanged on Redis Cluster):
  epj:outbox               stream, consumer group "epj": one entry per note to deliver
  epj:dead                 stream: entries given up on, with the error code (still sealed)
  epj:receipts:invalid     stream: receipts we could not read or attribute (ids and codes)
  epj:status:{<msgid>}     hash: status, code, text, attempts, nhn_id, conversation, service
  epj:thread:{<conv id>}   hash: first and last MsgId of a conversation (ConversationRef)
  epj:status               pub/sub channel: JSON of every status change
Nothing here is secret: the note and the person identifier live only inside ``sealed``.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import PayloadInvalid
from .model import AppRec, AppRecStatus

STREAM = "epj:outbox"
GROUP = "epj"
DEAD_STREAM = "epj:dead"
INVALID_RECEIPTS_STREAM = "epj:receipts:invalid"
STATUS_CHANNEL = "epj:status"


def status_key(msg_id: str) -> str:
    return f"epj:status:{{{msg_id}}}"


def thread_key(conversation_id: str) -> str:
    return f"epj:thread:{{{conversation_id}}}"


class Status(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RECEIPT_INVALID = "receipt_invalid"
    DEAD = "dead"


# Status only moves forward: a late duplicate "sent" must not hide an "accepted".
RANK = {
    Status.QUEUED: 0,
    Status.SENT: 1,
    Status.ACCEPTED: 2,
    Status.REJECTED: 2,
    Status.RECEIPT_INVALID: 2,
    Status.DEAD: 2,
}
TERMINAL = frozenset(s for s, r in RANK.items() if r == 2)


def rank(status: Status) -> int:
    return RANK[status]


def may_move(current: Status | None, new: Status) -> bool:
    return current is None or rank(new) > rank(current)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One stream entry. ``sealed`` is base64 crypto_box_seal ciphertext; with
    ``sealed_person`` it is the browser's note part and ``sealed_person`` the web process's
    person part (sealed.py, version 2)."""

    msg_id: str
    conversation_id: str
    service_id: str
    nurse_id: str
    sealed: str = field(repr=False)
    ref_parent: str | None = None
    ref_conversation: str | None = None
    sealed_person: str | None = field(default=None, repr=False)

    def to_fields(self) -> dict[str, str]:
        out = {
            "msg_id": self.msg_id,
            "conversation_id": self.conversation_id,
            "service_id": self.service_id,
            "nurse_id": self.nurse_id,
            "sealed": self.sealed,
        }
        if self.ref_parent and self.ref_conversation:
            out["ref_parent"] = self.ref_parent
            out["ref_conversation"] = self.ref_conversation
        if self.sealed_person:
            out["sealed_person"] = self.sealed_person
        return out

    @classmethod
    def from_fields(cls, raw: Mapping[bytes, bytes] | Mapping[str, str]) -> OutboxEntry:
        fields = {_s(k): _s(v) for k, v in raw.items()}
        try:
            entry = cls(
                msg_id=fields["msg_id"],
                conversation_id=fields["conversation_id"],
                service_id=fields["service_id"],
                nurse_id=fields["nurse_id"],
                sealed=fields["sealed"],
                ref_parent=fields.get("ref_parent"),
                ref_conversation=fields.get("ref_conversation"),
                sealed_person=fields.get("sealed_person") or None,
            )
        except KeyError as missing:
            raise PayloadInvalid(f"outbox entry lacks {missing.args[0]}",
                                 code="epj.outbox.bad_entry") from None
        if not is_uuid(entry.msg_id):
            raise PayloadInvalid("outbox entry msg_id is not a UUID", code="epj.outbox.bad_entry")
        return entry


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: base * factor**(attempt-1), capped; dead after max_attempts.

    The cap must stay well below the worker's claim idle time, or a live worker's entry
    would be reclaimed by another while it waits (the worker also refreshes idle time).
    """

    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 60.0
    max_attempts: int = 8

    def delay(self, attempt: int) -> float:
        return float(min(self.cap_s, self.base_s * self.factor ** max(0, attempt - 1)))


@dataclass(frozen=True, slots=True)
class Sent:
    nhn_id: str


@dataclass(frozen=True, slots=True)
class Failed:
    code: str
    transient: bool


SendOutcome = Sent | Failed


@dataclass(frozen=True, slots=True)
class MarkSent:
    nhn_id: str


@dataclass(frozen=True, slots=True)
class RetryAfter:
    seconds: float
    code: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    code: str


Decision = MarkSent | RetryAfter | GiveUp


def decide(outcome: SendOutcome, attempt: int, policy: RetryPolicy) -> Decision:
    """What to do after the ``attempt``-th send (1-based) ended with ``outcome``."""
    if isinstance(outcome, Sent):
        return MarkSent(outcome.nhn_id)
    if not outcome.transient:
        return GiveUp(outcome.code)
    if attempt >= policy.max_attempts:
        return GiveUp("epj.outbox.retries_exhausted")
    return RetryAfter(policy.delay(attempt), outcome.code)


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: Status
    code: str = ""
    text: str = ""


def receipt_change(receipt: AppRec) -> StatusChange:
    """The status a parsed AppRec puts on the message it acknowledges."""
    if receipt.status is AppRecStatus.AVVIST:
        return StatusChange(Status.REJECTED, "epj.apprec.avvist", receipt.text()[:500])
    if receipt.status is AppRecStatus.OK_FEIL_I_DELMELDING:
        return StatusChange(Status.ACCEPTED, "epj.apprec.ok_feil_i_delmelding",
                            receipt.text()[:500])
    return StatusChange(Status.ACCEPTED)
