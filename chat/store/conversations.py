"""The Redis store of conversations: state, message log, and each move as one Lua script.

A script writes first and publishes after, in the same atomic step: an event is never seen
before the change is stored. State names reach the scripts as arguments, from the transition
table in chat/domain/conversation.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from chat.clock import Clock, SystemClock
from chat.domain import conversation as model
from chat.domain.conversation import Conversation, Move, State
from chat.store import names as keys
from chat.store.coalesce import Coalescer
from chat.store.leases import LeaseStore
from chat.store.lua import Scripts
from chat.store.queues import QueueStore
from chat.store.queues import QueueView as QueueView

_APPEND_DEPTH = 2  # append pipelines in flight at once (see chat/store/coalesce.py)
_APPEND_SPACING = 0.001  # seconds between append pipelines while busy


@dataclass(frozen=True)
class AppendResult:
    status: int  # 1 new, 0 duplicate
    seq: int
    ts: int = 0  # the message's time, when this append stored it (not for a duplicate)


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
    -3 the nurse's slots are full. ``value``: the wait (claim) or previous state (close)."""

    status: int
    state: State | None = None
    holder: bool = False
    value: str = ""


def _reply(raw: Any, done_value: bool = True) -> Reply:
    items = [x.decode() if isinstance(x, bytes) else str(x) for x in cast(list[Any], raw)]
    status = int(items[0])
    if status == 1:
        return Reply(1, value=items[1] if done_value and len(items) > 1 else "")
    if status == 0:
        state = State(items[1]) if len(items) > 1 else None
        return Reply(0, state, holder=len(items) > 2 and items[2] == "1")
    return Reply(status)


class Store(QueueStore):
    def __init__(self, redis: aioredis.Redis, clock: Clock | None = None) -> None:
        # Reads and presence marks that many connections make at once (all of them re-attach
        # after a restart) leave together, one pipeline per loop turn (chat/store/coalesce.py).
        super().__init__(redis, clock or SystemClock(), Coalescer(redis))
        self.scripts = Scripts(redis)
        self.leases = LeaseStore(redis, self.scripts)
        # Appends leave as pipelines, at most two in flight and 1 ms apart while busy: a busy
        # server makes one socket write for many (chat/store/coalesce.py).
        self.appends = Coalescer(redis, depth=_APPEND_DEPTH, spacing=_APPEND_SPACING)

    async def create(self, cid: str, fields: dict[str, str | int], ttl: int, now: float) -> None:
        """Store a new conversation (``model.new_hash``) and queue it, in one step. The queue
        is ordered by ``now`` to the fraction of a second: two starts in one second keep their
        order."""
        service = str(fields[model.SVC])
        pairs: list[str | int | float] = [x for kv in fields.items() for x in kv]
        await self.scripts.start([keys.meta(cid), keys.queue(service)],
                                 [ttl, now, keys.service_channel(service), *pairs])

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
        frame_prefix: str, frame_suffix: str, writer: str = "",
    ) -> int | AppendResult:
        """``writer``: a nurse's username, who must have the conversation (checked in the same
        atomic step, so a nurse's send needs no separate read); empty for the youth."""
        k = [keys.meta(cid), keys.log(cid), keys.dedup(cid)]
        a: list[str | int | float] = [
            cmid, role, sender, body, ts, ttl, keys.conversation_channel(cid), frame_prefix,
            frame_suffix, writer, State.CLOSED, State.ACTIVE]
        status, seq = await self.scripts.append(k, a, via=self.appends)
        if status < 0:
            return int(status)
        return AppendResult(int(status), int(seq))

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
        cid, svc = conv.id, conv.service
        raw = await self.scripts.claim(
            [keys.meta(cid), keys.queue(svc), keys.active(svc), keys.nurse_open(nurse),
             keys.recent_waits(svc)],
            [model.sources_arg(Move.CLAIM), model.TRANSITIONS[Move.CLAIM].target, nurse, svc,
             capacity, int(now), keys.conversation_channel(cid), state_frame,
             keys.service_channel(svc)])
        return _reply(raw)

    async def release(self, conv: Conversation, nurse: str, state_frame: str) -> Reply:
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
        cid, svc = conv.id, conv.service
        raw = await self.scripts.close(
            [*keys.conversation_keys(cid), keys.notes(cid), keys.queue(svc), keys.active(svc),
             keys.flags(svc), keys.nurse_open(conv.nurse)],
            [model.sources_arg(move), model.TRANSITIONS[move].target, outcome, int(now), ttl,
             keys.conversation_channel(cid), state_frame, holder, svc, conv.nurse,
             only_if_last, notice, keys.service_channel(svc)])
        return _reply(raw)

    async def transfer(self, conv: Conversation, move: Move, nurse: str, to_nurse: str,
                       to_service: str, key_bundle: str, epoch: int, now: int,
                       state_frame: str, history: str, capacity: int) -> Reply:
        """Move an active conversation to a colleague (``to_nurse``) or a queue, in one step."""
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

    async def warn(self, cid: str, last: str, frame: str) -> bool:
        """Publish an inactivity warning once per period of silence (``last`` unchanged)."""
        raw = await self.scripts.warn([keys.meta(cid)], [
            State.ACTIVE, last, keys.conversation_channel(cid), frame])
        return bool(raw)

    async def link(self, cid: str, threads_key: str, session_key: str, person_tag: str,
                   acr: str, age: str, youth_pk: str, now: int, person_ttl: int,
                   seen: State, state_frame: str) -> Reply:
        """Link to a logged-in youth (see chat/actions/links.py)."""
        raw = await self.scripts.link(
            [keys.meta(cid), threads_key, session_key],
            [person_tag, acr, age, now, youth_pk, person_ttl, keys.conversation_channel(cid),
             seen, state_frame, State.CLOSED])
        return _reply(raw)

    async def notify(self, cid: str, frame: str) -> None:
        """Publish an event of the conversation that changes no sequence (seq 0)."""
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
