"""The transition table, exhaustively: every (move, state, actor)."""

from __future__ import annotations

import itertools

import pytest

from chat.domain.conversation import (
    TRANSITIONS,
    Actor,
    Conversation,
    Move,
    State,
    check,
    new_hash,
)
from chat.errors import ClientError

# The code a refused move answers with, per move, for a wrong state (closed, other) and a
# wrong actor: today's codes.
EXPECTED = {
    Move.START: ("conversation_closed", "invalid_state", "not_authorized"),
    Move.START_LATER: ("conversation_closed", "invalid_state", "not_authorized"),
    Move.LEAVE_FOR_LATER: ("conversation_closed", "invalid_state", "not_authorized"),
    Move.PARK_LATER: ("not_authorized", "not_authorized", "not_authorized"),
    Move.CLAIM: ("already_claimed", "already_claimed", "not_authorized"),
    Move.RELEASE: ("not_authorized", "not_authorized", "not_authorized"),
    Move.TRANSFER_TO_QUEUE: ("not_authorized", "not_authorized", "not_authorized"),
    Move.TRANSFER_TO_NURSE: ("not_authorized", "not_authorized", "not_authorized"),
    Move.CLOSE_BY_NURSE: ("conversation_closed", "invalid_state", "not_authorized"),
    Move.END_BY_YOUTH: ("conversation_closed", "invalid_state", "not_authorized"),
    Move.AUTO_CLOSE: ("conversation_closed", "invalid_state", "not_authorized"),
}

RULES = {  # (sources, target, actors), written out again by hand
    Move.START: (set(), State.WAITING, {Actor.YOUTH}),
    Move.START_LATER: (set(), State.LATER, {Actor.YOUTH}),
    Move.LEAVE_FOR_LATER: ({State.WAITING, State.ACTIVE}, State.LATER, {Actor.YOUTH}),
    Move.PARK_LATER: ({State.ACTIVE}, State.LATER, {Actor.HOLDER}),
    Move.CLAIM: ({State.WAITING, State.LATER}, State.ACTIVE, {Actor.MEMBER}),
    Move.RELEASE: ({State.ACTIVE}, State.WAITING, {Actor.HOLDER}),
    Move.TRANSFER_TO_QUEUE: ({State.ACTIVE}, State.WAITING, {Actor.HOLDER}),
    Move.TRANSFER_TO_NURSE: ({State.ACTIVE}, State.ACTIVE, {Actor.HOLDER}),
    Move.CLOSE_BY_NURSE: ({State.WAITING, State.ACTIVE}, State.CLOSED, {Actor.HOLDER}),
    Move.END_BY_YOUTH: ({State.WAITING, State.ACTIVE, State.LATER}, State.CLOSED,
                        {Actor.YOUTH}),
    Move.AUTO_CLOSE: ({State.ACTIVE, State.LATER}, State.CLOSED, {Actor.SYSTEM}),
}


def test_every_move_is_in_the_table_with_a_state_as_target() -> None:
    assert set(TRANSITIONS) == set(Move) == set(RULES) == set(EXPECTED)
    for move, t in TRANSITIONS.items():
        assert isinstance(t.target, State)
        assert (set(t.sources), t.target, set(t.actors)) == RULES[move], move


@pytest.mark.parametrize(("move", "state", "actor"),
                         list(itertools.product(Move, State, Actor)))
def test_check_allows_exactly_the_table(move: Move, state: State, actor: Actor) -> None:
    sources, target, actors = RULES[move]
    closed_code, state_code, actor_code = EXPECTED[move]
    if state in sources and actor in actors:
        assert check(move, state, actor) == target
        return
    with pytest.raises(ClientError) as err:
        check(move, state, actor)
    if state not in sources:
        assert err.value.code == (closed_code if state == State.CLOSED else state_code)
    else:
        assert err.value.code == actor_code


def test_a_message_given_is_kept() -> None:
    with pytest.raises(ClientError) as err:
        check(Move.RELEASE, State.ACTIVE, Actor.MEMBER, "Only the holder.")
    assert err.value.message == "Only the holder."


def test_the_hash_codec_reads_the_short_names() -> None:
    conv = Conversation.from_hash("c1", {
        "st": "active", "svc": "s", "seq": "4", "nurse": "n", "kb": "b", "ep": "2",
        "created": "10", "queued": "", "last": "12", "claimed_at": "11", "ptag": "p",
        "th": "t", "warned": "12"})
    assert (conv.state, conv.seq, conv.epoch, conv.queued_since, conv.claimed_at) == (
        State.ACTIVE, 4, 2, 10, 11)
    assert (conv.person_tag, conv.token_hash, conv.warned) == ("p", "t", 12)
    assert conv.actor("n") == Actor.HOLDER and conv.actor("m") == Actor.MEMBER


def test_the_hash_codec_reads_what_is_owed() -> None:
    conv = Conversation.from_hash("c1", {"st": "later", "svc": "s", "owed": "100",
                                         "lowed": "100"})
    assert (conv.state, conv.owed, conv.later_owed) == (State.LATER, 100, 100)
    assert Conversation.from_hash("c2", {"st": "later"}).owed == 0


def test_a_later_start_makes_a_later_hash() -> None:
    assert new_hash("s", 5, "t", "kb", 1)["st"] == "waiting"
    assert new_hash("s", 5, "t", "kb", 1, move=Move.START_LATER)["st"] == "later"
