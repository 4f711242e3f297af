"""Per-conversation receive/send state: known senders, accepted epochs, replay windows.

Immutable: every operation returns a new ``ConversationSession``; the caller stores it
(sessionStorage in the youth's browser, memory in the nurse's). Nothing is committed for a
message that fails any check, so a forged message cannot poison the replay window.

Replay rule, per sender key id: remember the highest sequence accepted and the set of
accepted sequences within REPLAY_WINDOW below it. A sequence already in the set, or at or
below highest - REPLAY_WINDOW (too old to tell), is ``e2e_replay``. Gaps are allowed (a
message may be lost or arrive late within the window).

Epoch rule for messages: the epoch must be one this conversation's CK is known to be sealed
to (``epochs``). Newer than all of them: ``e2e_unknown_epoch`` (refresh statements, retry);
older than all of them: ``e2e_stale_epoch``. CK does not change on rotation, so accepting a
message under an older epoch of the same conversation exposes nothing new.

Senders: the youth's key comes from the bundle; nurse keys only from verified member
statements for the current epoch. Removing a member from ``senders`` makes their later
messages ``e2e_unknown_sender``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from chat.crypto import envelope as ev
from chat.crypto.errors import BadEnvelope, Replay, StaleEpoch, UnknownEpoch, UnknownSender
from chat.crypto.keys import SignKeyPair, key_id

REPLAY_WINDOW = 64


@dataclass(frozen=True)
class ReplayWindow:
    highest: int = -1
    seen: frozenset[int] = frozenset()


@dataclass(frozen=True)
class OpenedMessage:
    sender_key_id: bytes
    sender_public_key: bytes
    epoch: int
    sequence: int
    plaintext: bytes


_V = TypeVar("_V")


def _freeze(m: Mapping[bytes, _V]) -> Mapping[bytes, _V]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True)
class ConversationSession:
    conversation_id: str
    ck: bytes = field(repr=False)
    epochs: frozenset[int]
    senders: Mapping[bytes, bytes]  # key id -> Ed25519 public key
    me: SignKeyPair | None = None
    next_sequence: int = 0
    windows: Mapping[bytes, ReplayWindow] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def current_epoch(self) -> int:
        return max(self.epochs)


def new_session(
    conversation_id: str,
    ck: bytes,
    epoch: int,
    senders: Iterable[bytes],
    me: SignKeyPair | None = None,
) -> ConversationSession:
    """``senders``: Ed25519 public keys allowed to write (own key is added automatically)."""
    if len(ck) != 32:
        raise BadEnvelope("CK must be 32 bytes")
    keys = list(senders) + ([me.public_key] if me is not None else [])
    return ConversationSession(
        conversation_id=conversation_id,
        ck=ck,
        epochs=frozenset({epoch}),
        senders=_freeze({key_id(k): k for k in keys}),
        me=me,
    )


def with_epoch(session: ConversationSession, epoch: int) -> ConversationSession:
    """Record that CK is now (also) sealed to ``epoch`` (after a verified reseal)."""
    return replace(session, epochs=session.epochs | {epoch})


def with_senders(
    session: ConversationSession,
    add: Iterable[bytes] = (),
    remove: Iterable[bytes] = (),
) -> ConversationSession:
    """Add / remove sender public keys (e.g. after a member list change)."""
    senders = dict(session.senders)
    for k in remove:
        senders.pop(key_id(k), None)
    for k in add:
        senders[key_id(k)] = k
    return replace(session, senders=_freeze(senders))


def _check_epoch(session: ConversationSession, epoch: int) -> None:
    if epoch in session.epochs:
        return
    if epoch > max(session.epochs):
        raise UnknownEpoch("message epoch is newer than any known")
    raise StaleEpoch("message epoch is not one this conversation is sealed to")


def _check_replay(window: ReplayWindow, seq: int) -> ReplayWindow:
    if seq in window.seen or seq <= window.highest - REPLAY_WINDOW:
        raise Replay("sequence already seen")
    highest = max(window.highest, seq)
    floor = highest - REPLAY_WINDOW
    return ReplayWindow(
        highest=highest, seen=frozenset(s for s in window.seen | {seq} if s > floor)
    )


def seal_message(
    session: ConversationSession, plaintext: bytes, nonce: bytes | None = None
) -> tuple[ConversationSession, str]:
    """Encrypt as ``session.me`` at the current epoch; returns (new session, base64 body)."""
    if session.me is None:
        raise UnknownSender("this session has no signing key")
    seq = session.next_sequence
    data = ev.encrypt_envelope(
        session.ck,
        session.conversation_id,
        session.current_epoch,
        session.me,
        seq,
        plaintext,
        nonce,
    )
    return replace(session, next_sequence=seq + 1), ev.envelope_to_body(data)


def open_message(
    session: ConversationSession, body: str
) -> tuple[ConversationSession, OpenedMessage]:
    """Parse, check epoch and sender, verify, check replay, decrypt; commit only on success.

    Opening one's own earlier messages (e.g. history after a reload) also advances
    ``next_sequence`` past them, so a reloaded sender never reuses a sequence number.
    """
    env = ev.decode_envelope(ev.body_to_envelope(body))
    _check_epoch(session, env.epoch)
    sender_pk = session.senders.get(env.sender_key_id)
    if sender_pk is None:
        raise UnknownSender("sender is not a known member of this conversation")
    ev.verify_envelope(env, session.conversation_id, sender_pk)
    window = _check_replay(session.windows.get(env.sender_key_id, ReplayWindow()), env.sequence)
    plaintext = ev.decrypt_envelope(env, session.ck, session.conversation_id)
    windows = dict(session.windows)
    windows[env.sender_key_id] = window
    next_seq = session.next_sequence
    if session.me is not None and env.sender_key_id == key_id(session.me.public_key):
        next_seq = max(next_seq, env.sequence + 1)
    new = replace(session, windows=_freeze(windows), next_sequence=next_seq)
    return new, OpenedMessage(env.sender_key_id, sender_pk, env.epoch, env.sequence, plaintext)
