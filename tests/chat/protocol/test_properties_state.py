"""A stateful property test of the protocol core with the conversation model behind it.

A youth's and a nurse's ``Connection`` are fed random valid and invalid frames, time passes,
connections flood, close and come back, and the inactivity sweep runs. Each command the core
lets through is applied to one conversation the way the endpoint and actions do it: through
``chat.domain.conversation.check``. Checked at every step:

* nothing raises but ClientError (a refusal, or the model refusing a move);
* a connection's state only moves NEW → BOUND → CLOSED, a bound youth speaks only for its own
  conversation, and a closed connection refuses everything;
* the conversation's state only moves along chat/domain's TRANSITIONS, and a closed one stays so;
* every frame the server would send for the step encodes to UTF-8 and validates against
  chat/protocol/schema.json.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chat.domain.conversation import TRANSITIONS, Actor, Move, State, check
from chat.errors import BadToken, ClientError, ConversationClosed, InvalidState, NotAuthorized
from chat.limits import Limits
from chat.protocol import commands as c
from chat.protocol import events as ev
from chat.protocol.core import Connection, ConnState, Rejected, Role
from tests.chat.protocol import strategies as fs

CID = "AbCdEfGhIjKlMnOpQrStUv"
TOKEN = "t" * 43
# Small enough that random runs meet the send limit; the flood rule meets the frame limit.
LIMITS = Limits(frames_per_second=4.0, frame_burst=12, sends_per_second=1.0, send_burst=3)
YOUTH_MOVES = ["start", "resume", "send", "end", "typing", "feedback", "later"]
NURSE_MOVES = ["claim", "release", "close", "transfer", "send", "flag", "later"]
IDLE_S = 20.0  # quiet this long (in model seconds) and the sweep closes an active conversation
EDGES = {(s, t.target) for t in TRANSITIONS.values() for s in t.sources}
RANK = {ConnState.NEW: 0, ConnState.BOUND: 1, ConnState.CLOSED: 2}


def sent(event: ev.Event) -> None:
    """What the endpoint would write: it must be UTF-8 and valid against its schema."""
    text = ev.encode(event)
    text.encode("utf-8")
    obj = json.loads(text)
    errors = [e.message for e in fs.outbound_validator(event.type).iter_errors(obj)]
    assert errors == [], (event, errors)


def moving(kinds: list[str], role: str) -> st.SearchStrategy[str | bytes]:
    """Valid frames of the kinds that move a conversation."""
    return st.sampled_from(kinds).flatmap(lambda k: st.builds(json.dumps, fs.valid_frame(role, k)))


def aimed(frame: str | bytes, cid: str) -> str | bytes:
    """A nurse's frame about the conversation in play (random ids would find nothing)."""
    try:
        obj = json.loads(frame)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return frame
    if isinstance(obj, dict) and isinstance(obj.get("conversation"), str):
        obj["conversation"] = cid
        return json.dumps(obj)
    return frame


class ConversationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.youth = Connection(Role.YOUTH, LIMITS)
        self.nurse = Connection(Role.NURSE, LIMITS)
        self.seen = {id(self.youth): ConnState.NEW, id(self.nurse): ConnState.BOUND}
        self.state: State | None = None  # the conversation's; None before the start
        self.holder = False  # our nurse has it
        self.seq = 0
        self.last = 0.0  # the last message, by the model's clock
        self.moves: list[tuple[State | None, State]] = []
        self.feedback_counted = False  # "was this helpful?" counts once, after the end

    @initialize(how=st.sampled_from(["nothing yet", "started", "claimed"]))
    def begin(self, how: str) -> None:
        """Most runs begin with a conversation in play, reached through frames as always."""
        if how != "nothing yet":
            self.youth_frame(json.dumps({"v": 1, "type": "start", "service": "demo"}))
            assert self.state == State.WAITING
        if how == "claimed":
            self.nurse_frame(json.dumps({"v": 1, "type": "claim", "conversation": CID}))
            assert self.state == State.ACTIVE and self.holder

    # -- time and connections ------------------------------------------------------------
    @rule(seconds=st.floats(0, 3) | st.just(IDLE_S))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def youth_reconnects(self) -> None:
        self.youth.close()
        self.youth = Connection(Role.YOUTH, LIMITS)
        self.seen[id(self.youth)] = ConnState.NEW

    @rule()
    def nurse_reconnects(self) -> None:
        self.nurse.close()
        self.nurse = Connection(Role.NURSE, LIMITS)
        self.seen[id(self.nurse)] = ConnState.BOUND

    @precondition(lambda self: self.state is not None)
    @rule()
    def inactivity_sweep(self) -> None:
        """The sweep closes only what has been quiet long enough (model time)."""
        if self.now - self.last >= IDLE_S:
            self.move(Move.AUTO_CLOSE, Actor.SYSTEM)

    # -- frames --------------------------------------------------------------------------
    @precondition(lambda self: ConnState.CLOSED not in (self.youth.state, self.nurse.state))
    @rule(nurse=st.booleans())
    def flood(self, nurse: bool) -> None:
        """More frames at one instant than the burst allows: refusals, then the end."""
        conn = self.nurse if nurse else self.youth
        results = [conn.receive('{"v":1,"type":"ping"}', self.now)
                   for _ in range(LIMITS.frame_burst * 3)]
        for result in results:
            if isinstance(result, Rejected):
                self.refused(conn, result)
        assert isinstance(results[-1], Rejected) and results[-1].fatal
        assert conn.state is ConnState.CLOSED

    @rule(frame=fs.any_frame("youth", 40))
    def youth_noise(self, frame: str | bytes) -> None:
        self.youth_frame(frame)

    @rule(frame=fs.any_frame("nurse", 40))
    def nurse_noise(self, frame: str | bytes) -> None:
        self.nurse_frame(frame)

    @rule(frame=moving(YOUTH_MOVES, "youth"))
    def youth_frame(self, frame: str | bytes) -> None:
        result = self.youth.receive(frame, self.now)
        if self.refused(self.youth, result):
            return
        bound = self.youth.conversation
        match result:
            case c.Start():
                if self.state is None:
                    self.youth.bind(CID)
                    sent(ev.Started(conversation=CID, token=TOKEN, service=result.service))
                    self.move(Move.START, Actor.YOUTH)
                # else: one conversation in this model; a second start would be another's
            case c.Resume() | c.ResumeWithCode() | c.ResumeSession():
                self.resume()
            case c.Send():
                assert result.conversation == bound == CID
                self.append(result.cmid, result.body, "youth")
            case c.Typing() | c.End():
                assert result.conversation == bound == CID
                if isinstance(result, c.End):
                    self.move(Move.END_BY_YOUTH, Actor.YOUTH)
                else:
                    sent(ev.Typing(conversation=CID, from_="youth"))
            case c.Feedback():
                assert result.conversation == bound == CID
                if self.state != State.CLOSED:
                    sent(ev.Error.of(InvalidState(), CID))
                else:
                    sent(ev.Feedback(conversation=CID, counted=not self.feedback_counted))
                    self.feedback_counted = True
            case c.Later():
                assert result.conversation == bound == CID
                self.move(Move.LEAVE_FOR_LATER, Actor.YOUTH)
            case c.PushSubscribe() | c.PushUnsubscribe():  # no move: the subscription only
                assert result.conversation == bound == CID
                on = isinstance(result, c.PushSubscribe)
                sent(ev.Push(conversation=CID, on=on, tag="Zm9vYmFyYmF6cXV4" if on else None))
            case c.Ping():
                sent(ev.Pong())
            case _:
                raise AssertionError(f"a youth cannot say {result}")

    @rule(frame=moving(NURSE_MOVES, "nurse"))
    def nurse_frame(self, frame: str | bytes) -> None:
        frame = aimed(frame, CID)
        result = self.nurse.receive(frame, self.now)
        if self.refused(self.nurse, result):
            return
        conversation = getattr(result, "conversation", CID)
        if conversation != CID or self.state is None:
            sent(ev.Error.of(NotAuthorized(), conversation))
            return
        actor = Actor.HOLDER if self.holder else Actor.MEMBER
        match result:
            case c.Claim():
                self.holder = self.move(Move.CLAIM, actor) or self.holder
            case c.Release():
                self.holder = not self.move(Move.RELEASE, actor) and self.holder
            case c.ParkLater():
                self.holder = not self.move(Move.PARK_LATER, actor) and self.holder
            case c.Close():
                self.move(Move.CLOSE_BY_NURSE, actor, outcome=result.outcome)
            case c.Transfer():
                move = Move.TRANSFER_TO_NURSE if result.to_nurse else Move.TRANSFER_TO_QUEUE
                if self.move(move, actor):
                    self.holder = False
                    sent(ev.Transferred(conversation=CID, service=result.to_service or "demo",
                                        state=str(self.state), to_nurse=result.to_nurse))
            case c.Send():
                self.append(result.cmid, result.body, "nurse")
            case c.Flag():
                sent(ev.Flagged(conversation=CID, flag=result.kind, escalation=""))
            case _:
                sent(ev.Pong())  # the dashboard's requests answer with their own frames

    # -- the model, as the endpoint and actions apply it ---------------------------------
    def refused(self, conn: Connection, result: c.Command | Rejected) -> bool:
        if not isinstance(result, Rejected):
            assert conn.state is not ConnState.CLOSED
            return False
        assert isinstance(result.error, ClientError)
        sent(ev.Error.of(result.error, result.ref))
        if result.fatal:
            conn.close()  # the endpoint closes the socket after a fatal refusal
        return True

    def resume(self) -> None:
        if self.state is None:
            sent(ev.Error.of(BadToken()))
            return
        self.youth.bind(CID)
        sent(ev.Resumed(conversation=CID, service="demo", last_seq=self.seq, key_bundle="",
                        epoch=0))
        sent(ev.State(conversation=CID, state=str(self.state)))

    def append(self, cmid: str, body: str, role: str) -> None:
        if self.state is None or self.state == State.CLOSED:
            sent(ev.Error.of(ConversationClosed(), cmid))
            return
        self.seq += 1
        self.last = self.now
        sent(ev.Ack(cmid=cmid, seq=self.seq, conversation=CID, duplicate=False, ts=int(self.now)))
        sent(ev.Deliver(seq=self.seq, conversation=CID, from_=role, sender=role, cmid=cmid,
                        body=body, ts=int(self.now)))

    def move(self, move: Move, actor: Actor, outcome: str | None = None) -> bool:
        before = self.state
        try:
            after = TRANSITIONS[move].target if move == Move.START else check(move, before, actor)  # type: ignore[arg-type]
        except ClientError as err:
            sent(ev.Error.of(err, CID))
            return False
        assert (before, after) in EDGES or (before is None and move == Move.START), (move, before)
        self.state = after
        self.holder = self.holder and after == State.ACTIVE  # a closed one is nobody's
        self.moves.append((before, after))
        sent(ev.State(conversation=CID, state=str(after),
                      outcome=outcome if after == State.CLOSED else None))
        return True

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def connections_only_move_forward(self) -> None:
        for conn in (self.youth, self.nurse):
            assert RANK[conn.state] >= RANK[self.seen[id(conn)]]
            self.seen[id(conn)] = conn.state
        assert self.nurse.state is not ConnState.NEW
        if self.youth.state is ConnState.BOUND:
            assert self.youth.conversation == CID

    @invariant()
    def closed_stays_closed(self) -> None:
        for (_, a), (b, _) in itertools.pairwise(self.moves):
            assert a == b  # each move starts where the last one ended
        if any(a == State.CLOSED for _, a in self.moves):
            assert self.state == State.CLOSED
        assert not self.holder or self.state == State.ACTIVE


ConversationMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_the_conversation_machine = ConversationMachine.TestCase


@pytest.mark.parametrize("move", list(Move), ids=str)
@pytest.mark.parametrize("state", list(State), ids=str)
@pytest.mark.parametrize("actor", list(Actor), ids=str)
def test_check_allows_exactly_the_table(move: Move, state: State, actor: Actor) -> None:
    """Every move from every state by every actor: the table's target, or a ClientError."""
    t = TRANSITIONS[move]
    try:
        after = check(move, state, actor)
    except ClientError:
        assert state not in t.sources or actor not in t.actors
    else:
        assert state in t.sources and actor in t.actors and after == t.target
