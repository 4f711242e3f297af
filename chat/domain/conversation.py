"""The one conversation model: its states, the moves between them, who may make each move,
and the codec of the conversation's Redis hash (nobody else parses it).

A new state is one line in ``TRANSITIONS`` (and a Lua script that performs the move); the
scripts receive state names as arguments derived from this table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from chat.errors import (
    AlreadyClaimed,
    ClientError,
    ConversationClosed,
    InvalidState,
    NotAuthorized,
)


class State(enum.StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"
    # No one is live on it: it waits for a nurse's answer (if the youth's latest message is
    # unanswered) or for the youth to come back and read it.
    LATER = "later"


class Move(enum.StrEnum):
    START = "start"
    START_LATER = "start_later"  # the service is closed or no nurse is on duty
    LEAVE_FOR_LATER = "leave_for_later"  # the youth leaves: "answer me later"
    PARK_LATER = "park_later"  # the holder leaves it for the youth to read and answer
    CLAIM = "claim"
    RELEASE = "release"
    TRANSFER_TO_QUEUE = "transfer_to_queue"
    TRANSFER_TO_NURSE = "transfer_to_nurse"
    CLOSE_BY_NURSE = "close_by_nurse"
    END_BY_YOUTH = "end_by_youth"
    AUTO_CLOSE = "auto_close"


class Actor(enum.StrEnum):
    YOUTH = "youth"
    HOLDER = "holder"  # the nurse who has the conversation
    MEMBER = "member"  # any nurse of the conversation's service
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[State]
    target: State
    actors: frozenset[Actor]
    # The error for a move from a state not in ``sources`` (None: conversation_closed from
    # CLOSED, else invalid_state) and for an actor not in ``actors``.
    wrong_state: type[ClientError] | None = None
    wrong_actor: type[ClientError] = NotAuthorized


def _t(sources: set[State], target: State, actors: set[Actor],
       wrong_state: type[ClientError] | None = None) -> Transition:
    return Transition(frozenset(sources), target, frozenset(actors), wrong_state)


W, A, C, L = State.WAITING, State.ACTIVE, State.CLOSED, State.LATER

TRANSITIONS: Mapping[Move, Transition] = {
    Move.START: _t(set(), W, {Actor.YOUTH}),  # creates the conversation
    Move.START_LATER: _t(set(), L, {Actor.YOUTH}),  # creates it, in no waiting queue
    Move.LEAVE_FOR_LATER: _t({W, A}, L, {Actor.YOUTH}),  # from active: frees the holder's slot
    Move.PARK_LATER: _t({A}, L, {Actor.HOLDER}, NotAuthorized),  # frees the holder's slot
    Move.CLAIM: _t({W, L}, A, {Actor.MEMBER}, AlreadyClaimed),
    Move.RELEASE: _t({A}, W, {Actor.HOLDER}, NotAuthorized),
    Move.TRANSFER_TO_QUEUE: _t({A}, W, {Actor.HOLDER}, NotAuthorized),
    Move.TRANSFER_TO_NURSE: _t({A}, A, {Actor.HOLDER}, NotAuthorized),
    Move.CLOSE_BY_NURSE: _t({W, A}, C, {Actor.HOLDER}),
    Move.END_BY_YOUTH: _t({W, A, L}, C, {Actor.YOUTH}),
    Move.AUTO_CLOSE: _t({A, L}, C, {Actor.SYSTEM}),
}


AUTO_CLOSE_OUTCOME = "inactive"  # the outcome of a close by the inactivity sweep


def check(move: Move, state: State, actor: Actor, message: str | None = None) -> State:
    """The state ``move`` leads to from ``state`` when ``actor`` makes it; raises the
    ClientError the client is told otherwise (with ``message``, if given). The state is
    checked before the actor."""
    t = TRANSITIONS[move]
    if state not in t.sources:
        if t.wrong_state is not None:
            raise t.wrong_state(message)
        raise ConversationClosed(message) if state == State.CLOSED else InvalidState(message)
    if actor not in t.actors:
        raise t.wrong_actor(message)
    return t.target


def sources_arg(move: Move) -> str:
    """The move's source states as one script argument ("waiting,active")."""
    return ",".join(sorted(TRANSITIONS[move].sources))


# -- the conversation's Redis hash ---------------------------------------------------------------
ST = "st"
SVC = "svc"
SEQ = "seq"
NURSE = "nurse"
KEY_BUNDLE = "kb"
EPOCH = "ep"
CREATED = "created"
FLAG = "flag"
QUEUED = "queued"
HISTORY = "hist"
ACR = "acr"
AGE = "age"
TOKEN_HASH = "th"  # noqa: S105 (a field name)
RESUME_HASH = "rh"
RESUME_BACKUP = "rb"
LAST = "last"
CLAIMED_AT = "claimed_at"
CLOSED_AT = "closed_at"
OUTCOME = "outcome"
WARNED = "warned"
PERSON_TAG = "ptag"
YOUTH_PK = "ypk"
FEEDBACK = "fb"  # set once the youth has answered "was this helpful?" (not the answer)
RESUMED_AT = "rs"  # when the youth last came back to it with the resume code
# The keyed fair-use tag of the capability token that started it (anon/tokens.py), never the
# token: what a close frees and a nurse's pause of new starts finds (docs/queue.md).
FAIR_USE = "fu"
# The time of the youth's oldest message no nurse message has followed yet ("" = none owed);
# set by a youth append when empty, cleared by a nurse append (append.lua).
OWED = "owed"
# Set (to the owed time) once the conversation has waited in the answer-later list with that
# answer owed: the nurse message that clears it counts in the answered-within-target figures.
LATER_OWED = "lowed"
# What the youth chose to say before the chat (never required): a topic code of the service,
# "1" for "it's urgent", and the head start in seconds its queue place has (chat/domain/ordering.py).
TOPIC = "tp"
URGENT = "urg"
HEAD_START = "hs"
# A colleague the holder asked in ("h:<username>") or invited ("i:<username>"); the value is
# the holder's tenure when it was given (``tenure``): a release, transfer, park or close ends
# the tenure, so whatever is left of it no longer counts, even before it is cleared away.
HELPER_PREFIX = "h:"
INVITE_PREFIX = "i:"


def tenure(nurse: str, claimed_at: int | str) -> str:
    """Who has the conversation since when: what a helper's place is tied to."""
    return f"{nurse} {claimed_at}"


def _int(fields: Mapping[str, str], name: str) -> int:
    raw = fields.get(name, "")
    return int(raw) if raw else 0


def _of_tenure(fields: Mapping[str, str], prefix: str) -> tuple[str, ...]:
    """The usernames under ``prefix`` given in the current holder's tenure (sorted)."""
    if fields.get(ST) != State.ACTIVE or not fields.get(NURSE):
        return ()
    now = tenure(fields[NURSE], fields.get(CLAIMED_AT, ""))
    return tuple(sorted(k[len(prefix):] for k, v in fields.items()
                        if k.startswith(prefix) and v == now))


@dataclass(frozen=True)
class Conversation:
    id: str
    service: str
    state: State
    seq: int
    nurse: str
    key_bundle: str
    epoch: int
    created: int
    flag: str = ""  # risk flag
    queued: int = 0  # when it (re)entered a queue
    history: str = ""  # earlier "service:epoch"s
    # Set when linked to an ID-porten login; age in whole years or "unknown".
    acr: str = ""
    age: str = ""
    last: int = 0
    claimed_at: int = 0
    closed_at: int = 0
    outcome: str = ""
    warned: int = 0
    person_tag: str = ""
    youth_pk: str = ""
    resumed_at: int = 0
    owed: int = 0
    later_owed: int = 0
    # Colleagues joined (``helpers``) or invited (``invited``) in the holder's current tenure.
    helpers: tuple[str, ...] = ()
    invited: tuple[str, ...] = ()
    topic: str = ""
    urgent: bool = False
    head_start: int = 0
    token_hash: str = field(default="", repr=False)
    resume_hash: str = field(default="", repr=False)
    resume_backup: str = field(default="", repr=False)

    @classmethod
    def from_hash(cls, cid: str, fields: Mapping[str, str]) -> Conversation:
        return cls(
            id=cid, service=fields.get(SVC, ""), state=State(fields.get(ST) or State.WAITING),
            seq=_int(fields, SEQ), nurse=fields.get(NURSE, ""),
            key_bundle=fields.get(KEY_BUNDLE, ""), epoch=_int(fields, EPOCH),
            created=_int(fields, CREATED), flag=fields.get(FLAG, ""),
            queued=_int(fields, QUEUED), history=fields.get(HISTORY, ""),
            acr=fields.get(ACR, ""), age=fields.get(AGE, ""), last=_int(fields, LAST),
            claimed_at=_int(fields, CLAIMED_AT), closed_at=_int(fields, CLOSED_AT),
            outcome=fields.get(OUTCOME, ""), warned=_int(fields, WARNED),
            person_tag=fields.get(PERSON_TAG, ""), youth_pk=fields.get(YOUTH_PK, ""),
            resumed_at=_int(fields, RESUMED_AT), owed=_int(fields, OWED),
            later_owed=_int(fields, LATER_OWED), topic=fields.get(TOPIC, ""),
            urgent=fields.get(URGENT) == "1", head_start=_int(fields, HEAD_START),
            helpers=_of_tenure(fields, HELPER_PREFIX), invited=_of_tenure(fields, INVITE_PREFIX),
            token_hash=fields.get(TOKEN_HASH, ""), resume_hash=fields.get(RESUME_HASH, ""),
            resume_backup=fields.get(RESUME_BACKUP, ""),
        )

    @property
    def queued_since(self) -> int:
        """When it entered its queue (a transfer re-queues; else its creation)."""
        return self.queued or self.created

    @property
    def tenure(self) -> str:
        return tenure(self.nurse, self.claimed_at)

    def actor(self, username: str) -> Actor:
        """A nurse of the service, as seen by this conversation."""
        return Actor.HOLDER if self.nurse and self.nurse == username else Actor.MEMBER


# What a nurse may be told about a waiting youth having been here before, without anything
# that identifies them: only facts about this one conversation (nothing links conversations).
RETURNING_FIELDS = (ACR, RESUMED_AT, CLAIMED_AT)


def returning(acr: str, resumed_at: int | str, claimed_at: int | str) -> str:
    """``idporten`` (a thread linked to an ID-porten login: a follow-up), ``resumed`` (the youth
    came back to it with the resume code), ``earlier`` (a nurse had it before it came back to a
    queue: released or transferred), or ``""`` (new). The strongest fact wins."""
    if acr:
        return "idporten"
    if resumed_at and str(resumed_at) != "0":
        return "resumed"
    if claimed_at and str(claimed_at) != "0":
        return "earlier"
    return ""


def new_hash(service: str, now: float, token_hash: str, key_bundle: str, epoch: int,
             resume_hash: str = "", resume_backup: str = "",
             move: Move = Move.START, intake: tuple[str, bool, int] = ("", False, 0),
             ) -> dict[str, str | int]:
    """The hash of a conversation just started (state WAITING, or LATER by START_LATER);
    ``intake``: the topic, the youth's urgency and the head start they give."""
    out: dict[str, str | int] = {
        SVC: service, ST: TRANSITIONS[move].target, SEQ: 0, CREATED: int(now),
        LAST: int(now), TOKEN_HASH: token_hash, KEY_BUNDLE: key_bundle, EPOCH: epoch}
    topic, urgent, head = intake
    if topic:
        out[TOPIC] = topic
    if urgent:
        out[URGENT] = "1"
    if head:
        out[HEAD_START] = head
    if resume_hash:
        out[RESUME_HASH] = resume_hash
        out[RESUME_BACKUP] = resume_backup
    return out
