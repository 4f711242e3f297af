"""The Redis store of conversations: state, message log, and each move as one Lua script.

A script writes first and publishes after, in the same atomic step: an event is never seen
before the change is stored. (When acked writes wait for replicas, an append's publish is a
script of its own after the WAIT, in the same pipeline: chat/store/replicas.py.) State names
reach the scripts as arguments, from the transition table in chat/domain/conversation.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from chat.clock import Clock, SystemClock
from chat.domain import conversation as model
from chat.domain.conversation import Conversation, Move, State
from chat.durability import ReplicaWait
from chat.store import names as keys
from chat.store.client import is_cluster_client
from chat.store.clustered import ClusterMoves
from chat.store.coalesce import Coalescer
from chat.store.later import LaterStore
from chat.store.lean import LeanPipeline
from chat.store.leases import LeaseStore
from chat.store.lua import Scripts
from chat.store.queues import QueueView as QueueView
from chat.store.queues import WaitingSlot
from chat.store.repair import RepairStore
from chat.store.replicas import Call, Replicas

_APPEND_DEPTH = 2  # append pipelines in flight at once (see chat/store/coalesce.py)
_APPEND_SPACING = 0.001  # seconds between append pipelines while busy


@dataclass(frozen=True)
class AppendResult:
    status: int  # 1 new, 0 duplicate
    seq: int
    ts: int = 0  # the message's time, when this append stored it (not for a duplicate)
    # A nurse's message that answered what was owed: the owed time it cleared, and that time
    # again if the conversation had waited in the answer-later list with it (else 0).
    owed: int = 0
    later_owed: int = 0
    # A youth's message that put a later conversation in the answer-later list (its time).
    listed: int = 0
    # A nurse's message to a youth who asked to be told by push (the subscription renewed).
    subscribed: bool = False


@dataclass(frozen=True)
class LogEntry:
    seq: int
    role: str
    sender: str
    cmid: str
    body: str
    ts: int


@dataclass(frozen=True)
class Reply:
    """A move script's answer: ``status`` 1 done, 0 refused (in ``state``; ``holder`` tells
    whether the caller has it), -1 no such conversation, -2 changed since the caller looked,
    -3 the nurse's slots are full. ``value``: the wait (claim) or previous state (close);
    ``came_from``: the state a claim took it from."""

    status: int
    state: State | None = None
    holder: bool = False
    value: str = ""
    came_from: State | None = None


def _reply(raw: Any, done_value: bool = True) -> Reply:
    items = [x.decode() if isinstance(x, bytes) else str(x) for x in cast(list[Any], raw)]
    status = int(items[0])
    if status == 1:
        return Reply(1, value=items[1] if done_value and len(items) > 1 else "",
                     came_from=State(items[2]) if len(items) > 2 else None)
    if status == 0:
        state = State(items[1]) if len(items) > 1 else None
        return Reply(0, state, holder=len(items) > 2 and items[2] == "1")
    return Reply(status)


class Store(LaterStore):
    """``replica_wait``: how many replicas an acked write (an append, a start, a close) waits
    for before it is answered (chat/durability.py; none by default)."""

    def __init__(self, redis: aioredis.Redis, clock: Clock | None = None,
                 replica_wait: ReplicaWait | None = None) -> None:
        # Reads and presence marks that many connections make at once (all of them re-attach
        # after a restart) leave together, one pipeline per loop turn (chat/store/coalesce.py).
        # On one Redis, their pipelines are executed without redis-py's per-call extras
        # (chat/store/lean.py); a cluster client's pipeline is its own kind.
        lean = None if is_cluster_client(redis) else LeanPipeline.of
        super().__init__(redis, clock or SystemClock(), Coalescer(redis, pipeline=lean))
        self.replicas = Replicas(redis, replica_wait or ReplicaWait())
        self.scripts = Scripts(redis, self.replicas)
        self.leases = LeaseStore(redis, self.scripts)
        # Appends leave as pipelines, at most two in flight and 1 ms apart while busy: a busy
        # server makes one socket write for many (chat/store/coalesce.py). Waiting for
        # replicas, each pipeline is the appends, one WAIT, then their publishes.
        self.appends = Coalescer(redis, depth=_APPEND_DEPTH, spacing=_APPEND_SPACING,
                                 pipeline=lean,
                                 barrier=self.replicas if self.replicas.enabled else None)
        # On a Redis Cluster the moves whose script spans slots run as steps (clustered.py).
        self.split = (ClusterMoves(redis, self.scripts, self.clock)
                      if is_cluster_client(redis) else None)
        # There a lost step is repaired by the repair sweep (chat/jobs/repair.py).
        self.repairs = RepairStore(redis, self.scripts) if self.split is not None else None

    @property
    def append_checks_session(self) -> bool:
        """Whether ``append`` can check a nurse's session in its own step (one Redis: the
        session and account keys are not on the conversation's cluster slot)."""
        return self.split is None

    async def create(self, cid: str, fields: dict[str, str | int], ttl: int, now: float,
                     slot: WaitingSlot | None) -> bool:
        """Store a new conversation (``model.new_hash``) and queue it, in one step, if the
        client has a free waiting slot (False: refused, nothing stored). The queue is ordered
        by ``now`` to the fraction of a second, moved up by the hash's head start: two starts
        in one second keep their order.
        ``slot`` None: a later start (START_LATER), in no queue and holding no slot."""
        service = str(fields[model.SVC])
        pairs: list[str | int | float] = [x for kv in fields.items() for x in kv]
        if self.split is not None:
            return await self.split.create(cid, pairs, service, ttl, now, slot,
                                           int(fields.get(model.HEAD_START, 0)))
        client = slot.client_key if slot is not None else ""
        slot_args: list[str | int | float] = (
            [slot.limit, slot.id, now + slot.ttl, 0] if slot is not None else [0, "", 0, 1])
        done = await self.scripts.start(
            [keys.meta(cid), keys.queue(service), keys.waiting_slots(client),
             keys.later_all(service)],
            [ttl, now, keys.service_channel(service), *slot_args, *pairs])
        return bool(done)

    async def park(self, cid: str, service: str, grace: float) -> bool:
        if self.split is not None:
            return await self.split.park(cid, service, self.clock.now(), grace)
        return await super().park(cid, service, grace)

    async def unpark(self, cid: str, service: str) -> bool:
        if self.split is not None:
            return await self.split.unpark(cid, service)
        return await super().unpark(cid, service)

    async def meta(self, cid: str) -> dict[str, str]:
        """The raw hash (empty when there is no such conversation)."""
        key = keys.meta(cid)
        return cast(dict[str, str], await self.reads.call(lambda p: p.hgetall(key)))

    async def get(self, cid: str) -> Conversation | None:
        fields = await self.meta(cid)
        return Conversation.from_hash(cid, fields) if fields else None

    async def get_many(self, cids: list[str]) -> list[Conversation | None]:
        pipe = self.redis.pipeline(transaction=False)
        for cid in cids:
            pipe.hgetall(keys.meta(cid))
        rows = cast(list[dict[str, str]], await pipe.execute())
        return [Conversation.from_hash(c, f) if f else None for c, f in zip(cids, rows, strict=True)]

    async def set_fields(self, cid: str, fields: dict[str, str | int]) -> None:
        await self.redis.hset(keys.meta(cid), mapping=cast(Any, fields))

    async def set_field_once(self, cid: str, name: str, value: str) -> None:
        """Set ``name`` unless it is already set (first write wins)."""
        await self.redis.hsetnx(keys.meta(cid), name, value)

    async def append(
        self, cid: str, cmid: str, role: str, sender: str, body: str, ts: int, ttl: int,
        frame_prefix: str, frame_suffix: str, writer: str = "", *, caps: tuple[int, int],
        service: str, session: str = "",
    ) -> int | AppendResult:
        """``writer``: a nurse's username, who must have the conversation (checked in the same
        atomic step, so a nurse's send needs no separate read); empty for the youth.
        ``session``: the writer's session tag, checked in the same step too (-5 when it has
        ended or her account is disabled); only where ``append_checks_session``.
        ``caps``: the most messages and body bytes the conversation may hold (-4 past them).
        What is owed is kept in the same step (append.lua): a youth's message in a later
        conversation puts it in ``service``'s answer-later list."""
        k = [keys.meta(cid), keys.log(cid), keys.dedup(cid), keys.push_subscription(cid),
             keys.later_queue(service)]
        if self.split is not None:  # the answer-later list is on another slot: not in KEYS
            k = k[:4]
        sharded = "1" if self.split is not None else ""
        waits = self.replicas.enabled  # then the publish follows the WAIT (publish.lua)
        frame = ("", "") if waits else (frame_prefix, frame_suffix)
        a: list[str | int | float] = [
            cmid, role, sender, body, ts, ttl, keys.conversation_channel(cid), *frame, writer,
            State.CLOSED, State.ACTIVE, *caps, State.LATER, keys.service_channel(service),
            sharded, "1" if waits else "", "1" if session else ""]
        if session:
            if self.split is not None:
                raise ValueError("a cluster's append cannot check a session (another slot)")
            k += [keys.session(session), keys.nurse(writer)]
        if waits:
            publish = self.scripts.publish.call([keys.dedup(cid), keys.log(cid)], [
                cmid, keys.conversation_channel(cid), frame_prefix, frame_suffix, sharded, role,
                sender, ts, hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()])
            raw = await self._append_acked(k, a, publish)
        else:
            # The script publishes the message itself; batched by the coalescer on a cluster
            # too (one pipeline per node, chat/store/coalesce.py).
            raw = await self.scripts.append(k, a, via=self.appends)
        status, seq = int(raw[0]), int(raw[1])
        if status < 0:
            return status
        listed = int(raw[4] or 0) if len(raw) > 4 else 0
        if self.split is not None and listed:
            await self.split.listed_later(cid, service, listed)
        stored_ts = ts if status == 1 else 0
        if len(raw) > 2:
            return AppendResult(status, seq, stored_ts, owed=int(raw[2] or 0),
                                later_owed=int(raw[3] or 0), listed=listed,
                                subscribed=len(raw) > 5 and int(raw[5]) == 1)
        return AppendResult(status, seq, stored_ts)

    async def _append_acked(self, k: list[str], a: list[str | int | float],
                            publish: Call) -> Any:
        """The append, a WAIT for replicas, then its publish, on one connection (one Redis: in
        the appends' pipeline, one WAIT for all of them; a cluster: on the slot's node)."""
        append = self.scripts.append.call(k, a)
        if self.split is not None:
            return (await self.replicas.run(k[0], [append], [publish]))[0]
        try:
            raw, published = await self.appends.call(
                lambda p: p.execute_command(*append.args),
                after=lambda p: p.execute_command(*publish.args))
        except NoScriptError:  # Redis lost its scripts: both go again, as EVAL, in order
            return (await self.replicas.run(k[0], [append.loading()], [publish.loading()]))[0]
        if isinstance(published, NoScriptError):  # (only the publish script was missing)
            await self.replicas.run(k[0], [publish.loading()])
        return raw

    async def read_after(self, cid: str, after: int, count: int = 500) -> list[LogEntry]:
        key, start = keys.log(cid), f"0-{after + 1}"
        raw = cast(list[tuple[str, dict[str, str]]], await self.reads.call(
            lambda p: p.xrange(key, min=start, max="+", count=count)))
        out = []
        for entry_id, f in raw:
            out.append(LogEntry(seq=int(entry_id.split("-")[1]), role=f["r"], sender=f["s"],
                                cmid=f["c"], body=f["b"], ts=int(f["t"])))
        return out

    async def claim(self, conv: Conversation, nurse: str, capacity: int, now: float,
                    state_frame: str) -> Reply:
        """Claim, reserve the nurse's slot, dequeue and record the wait, in one step."""
        if self.split is not None:
            return _reply(await self.split.claim(conv, nurse, capacity, now, state_frame))
        cid, svc = conv.id, conv.service
        raw = await self.scripts.claim(
            [keys.meta(cid), keys.queue(svc), keys.active(svc), keys.nurse_open(nurse),
             keys.recent_waits(svc), keys.later_queue(svc), keys.later_all(svc)],
            [model.sources_arg(Move.CLAIM), model.TRANSITIONS[Move.CLAIM].target, nurse, svc,
             capacity, int(now), keys.conversation_channel(cid), state_frame,
             keys.service_channel(svc), State.LATER])
        return _reply(raw)

    async def leave_for_later(self, conv: Conversation, move: Move, holder: str, now: float,
                              state_frame: str) -> Reply:
        """LEAVE_FOR_LATER (``holder`` '') or PARK_LATER (``holder``: the nurse who must have
        it), in one step (later.lua). ``conv`` as the caller read it: -2 when its holder or
        what is owed changed since (``state_frame`` would say the wrong thing)."""
        if self.split is not None:
            return _reply(await self.split.leave_for_later(conv, move, holder, now, state_frame))
        cid, svc = conv.id, conv.service
        raw = await self.scripts.later(
            [keys.meta(cid), keys.queue(svc), keys.active(svc), keys.nurse_open(conv.nurse),
             keys.later_queue(svc), keys.later_all(svc), keys.absent(svc), keys.set_aside(svc)],
            [model.sources_arg(move), model.TRANSITIONS[move].target, holder, svc, conv.nurse,
             str(conv.owed) if conv.owed else "", int(now), keys.conversation_channel(cid),
             state_frame, keys.service_channel(svc)])
        return _reply(raw)

    async def release(self, conv: Conversation, nurse: str, state_frame: str) -> Reply:
        if self.split is not None:
            return _reply(await self.split.release(conv, nurse, state_frame))
        cid, svc = conv.id, conv.service
        raw = await self.scripts.release(
            [keys.meta(cid), keys.queue(svc), keys.active(svc), keys.nurse_open(nurse)],
            [model.sources_arg(Move.RELEASE), model.TRANSITIONS[Move.RELEASE].target, nurse,
             svc, keys.conversation_channel(cid), state_frame, keys.service_channel(svc)])
        return _reply(raw)

    async def close(self, conv: Conversation, move: Move, outcome: str, now: float, ttl: int,
                    state_frame: str, holder: str = "", only_if_last: str = "",
                    notice: str = "") -> Reply:
        """Close (nurse, youth or sweep). ``holder``: the nurse who must have it ('' = anyone);
        ``only_if_last``: close only if nothing happened since (the sweep); ``notice``: a
        frame published just before the state frame. ``value`` of a done reply: the state
        it was closed from."""
        if self.split is not None:
            return _reply(await self.split.close(conv, move, outcome, now, ttl, state_frame,
                                                 holder, only_if_last, notice))
        cid, svc = conv.id, conv.service
        raw = await self.scripts.close(
            [*keys.conversation_keys(cid), keys.notes(cid), keys.queue(svc), keys.active(svc),
             keys.flags(svc), keys.nurse_open(conv.nurse), keys.later_queue(svc),
             keys.later_all(svc)],
            [model.sources_arg(move), model.TRANSITIONS[move].target, outcome, int(now), ttl,
             keys.conversation_channel(cid), state_frame, holder, svc, conv.nurse,
             only_if_last, notice, keys.service_channel(svc)])
        return _reply(raw)

    async def transfer(self, conv: Conversation, move: Move, nurse: str, to_nurse: str,
                       to_service: str, key_bundle: str, epoch: int, now: int,
                       state_frame: str, history: str, capacity: int) -> Reply:
        """Move an active conversation to a colleague (``to_nurse``) or a queue, in one step."""
        if self.split is not None:
            return _reply(await self.split.transfer(
                conv, move, nurse, to_nurse, to_service, key_bundle, epoch, now, state_frame,
                history, capacity))
        cid, svc = conv.id, conv.service
        receiver = to_nurse or nurse
        raw = await self.scripts.transfer(
            [keys.meta(cid), keys.active(svc), keys.queue(to_service), keys.active(to_service),
             keys.nurse_open(nurse), keys.nurse_open(receiver), keys.flags(svc),
             keys.flags(to_service), keys.nurse_inbox(receiver)],
            [model.sources_arg(move), model.TRANSITIONS[move].target, nurse, to_nurse,
             to_service, key_bundle, epoch, now, keys.conversation_channel(cid), state_frame,
             history, capacity, svc, keys.service_channel(svc),
             keys.service_channel(to_service)])
        return _reply(raw)

    async def rekey(self, conv: Conversation, nurse: str, lead: bool, key_bundle: str,
                    epoch: int) -> Reply:
        """Replace the key bundle if ``nurse`` may (``rekey.lua``: waiting, or the holder or a
        ``lead`` while active), in one step."""
        raw = await self.scripts.rekey([keys.meta(conv.id)], [
            nurse, 1 if lead else 0, key_bundle, epoch, State.WAITING, State.ACTIVE,
            conv.service])
        return _reply(raw)

    async def warn(self, cid: str, last: str, frame: str) -> bool:
        """Publish an inactivity warning once per period of silence (``last`` unchanged)."""
        sharded: list[str | int | float] = ["1"] if self.split is not None else []
        raw = await self.scripts.warn([keys.meta(cid)], [
            State.ACTIVE, last, keys.conversation_channel(cid), frame, *sharded])
        return bool(raw)

    async def link(self, cid: str, threads_key: str, session_key: str, person_tag: str,
                   acr: str, age: str, youth_pk: str, now: int, person_ttl: int,
                   seen: State, state_frame: str) -> Reply:
        """Link to a logged-in youth (see chat/actions/links.py)."""
        args: list[str | int | float] = [
            person_tag, acr, age, now, youth_pk, person_ttl, keys.conversation_channel(cid),
            seen, state_frame, State.CLOSED]
        if self.split is not None:
            return _reply(await self.split.link(cid, threads_key, session_key, person_ttl, args))
        return _reply(await self.scripts.link([keys.meta(cid), threads_key, session_key], args))

    async def notify(self, cid: str, frame: str) -> None:
        """Publish an event of the conversation that changes no sequence (seq 0)."""
        if self.split is not None:  # sharded pub/sub on a cluster (chat/fanout/shards.py)
            await self.redis.spublish(keys.conversation_channel(cid), "0 " + frame)
        else:
            await self.redis.publish(keys.conversation_channel(cid), "0 " + frame)

    async def expires_in(self, cid: str) -> int:
        """Seconds until the conversation's keys expire (0: no expiry or gone)."""
        ttl = int(await self.redis.ttl(keys.meta(cid)))
        return max(ttl, 0)

    async def relink_login(self, threads_key: str, person_tag: str, acr: str, age: str) -> None:
        """The person's linked threads learn the level and age of a newer login."""
        for cid in cast(set[str], await self.redis.smembers(threads_key)):
            if await self.redis.hget(keys.meta(cid), model.PERSON_TAG) == person_tag:
                await self.set_fields(cid, {model.ACR: acr, model.AGE: age})
