"""The moves whose one-Redis script spans hash slots, as steps that each fit one slot: what
``Store`` runs on a Redis Cluster instead (docs/scaling.md: the order of the steps, and what a
lost later step leaves behind). On one Redis none of this runs.

Each step is a script or a MULTI on one slot; the service's "queue changed" notice is a plain
PUBLISH sent after the service's step, so a dashboard that reads the queue on it sees the move.
Before the conversation's own step a move records itself in the service's moves under way
(chat/store/moving.py: the conversation, and each nurse whose slot set it may change), and its
last step, on the service's slot, removes that record: a record left past a grace is a move
whose process died between steps, which the repair sweep (chat/jobs/repair.py) completes from
the hash. A refused move removes its record itself.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aioredis

from chat.clock import Clock
from chat.domain import conversation as model
from chat.domain.conversation import Conversation, Move, State
from chat.store import names as keys
from chat.store.lua import Scripts
from chat.store.moving import MoveRecords, Record
from chat.store.queues import WaitingSlot
from chat.store.replicas import Call


class ClusterMoves:
    def __init__(self, redis: aioredis.Redis, scripts: Scripts, clock: Clock) -> None:
        self.redis = redis
        self.scripts = scripts
        self.records = MoveRecords(redis, scripts, clock)

    async def create(self, cid: str, pairs: list[str | int | float], service: str, ttl: int,
                     now: float, slot: WaitingSlot | None, head: int = 0) -> bool:
        """The client's slot, then the hash, then the queue (or the later conversations)."""
        if slot is not None and not await self.scripts.slot_take(
                [keys.waiting_slots(slot.client_key)],
                [now, slot.limit, slot.id, now + slot.ttl]):
            return False
        record = await self.records.begin(service, cid)
        # The hash and the queue entry are what the youth's "started" stands for: each waits
        # for replicas on its node when that is asked for (chat/store/replicas.py). The queue
        # step is the move's last: it ends the record in the same MULTI.
        acked = self.scripts.replicas
        meta = keys.meta(cid)
        await acked.run(meta, [Call(("MULTI",)), Call(("HSET", meta, *pairs)),
                               Call(("EXPIRE", meta, ttl)), Call(("EXEC",))])
        listed = keys.later_all(service) if slot is None else keys.queue(service)
        replies = await acked.run(listed, [
            Call(("MULTI",)), Call(("ZADD", listed, now - head if slot else now, cid)),
            *(Call(c) for c in MoveRecords.end_commands(record)), Call(("EXEC",))])
        await self.records.ended(record, list(replies[-1]))
        if slot is not None:
            await self.redis.publish(keys.service_channel(service), "q")
        return True

    async def listed_later(self, cid: str, service: str, owed: int) -> None:
        """The rest of an append that made a later conversation owe an answer."""
        await self.redis.zadd(keys.later_queue(service), {cid: owed}, nx=True)
        await self.redis.publish(keys.service_channel(service), "l")

    async def claim(self, conv: Conversation, nurse: str, capacity: int, now: float,
                    state_frame: str) -> Any:
        """The nurse's slot, then the conversation, then the service's lists."""
        cid, svc = conv.id, conv.service
        record = await self.records.begin(svc, cid, nurse)
        held = int(await self.scripts.nurse_slot([keys.nurse_open(nurse)], [cid, capacity]))
        if held == 0:
            await self.records.forget(record)
            return [-3]
        raw = cast(list[Any], await self.scripts.claim_conv([keys.meta(cid)], [
            model.sources_arg(Move.CLAIM), model.TRANSITIONS[Move.CLAIM].target, nurse, svc,
            int(now), keys.conversation_channel(cid), state_frame]))
        if int(raw[0]) != 1:
            if held == 1:
                await self.redis.srem(keys.nurse_open(nurse), cid)
            await self.records.forget(record)
            return raw
        waited, came_from = int(raw[1]), str(raw[2])
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(keys.active(svc), {cid: int(now)})
        if came_from == State.LATER:
            pipe.zrem(keys.later_queue(svc), cid)
            pipe.zrem(keys.later_all(svc), cid)
        else:
            pipe.zrem(keys.queue(svc), cid)
            pipe.lpush(keys.recent_waits(svc), waited)
            pipe.ltrim(keys.recent_waits(svc), 0, 19)
        self.records.end(pipe, record)
        await self.records.ended(record, await pipe.execute())
        await self.redis.publish(keys.service_channel(svc), "q")
        return raw

    async def close(self, conv: Conversation, move: Move, outcome: str, now: float, ttl: int,
                    state_frame: str, holder: str, only_if_last: str, notice: str) -> Any:
        """The conversation, then the holder's slot, then the service's lists."""
        cid, svc = conv.id, conv.service
        record = await self.records.begin(svc, cid, conv.nurse)
        raw = cast(list[Any], await self.scripts.close_conv(
            [*keys.conversation_keys(cid), keys.notes(cid)],
            [model.sources_arg(move), model.TRANSITIONS[move].target, outcome, int(now), ttl,
             keys.conversation_channel(cid), state_frame, holder, svc, conv.nurse,
             only_if_last, notice]))
        if int(raw[0]) != 1:
            await self.records.forget(record)
            return raw
        if conv.nurse:
            await self.redis.srem(keys.nurse_open(conv.nurse), cid)
        pipe = self.redis.pipeline(transaction=True)
        for key in (keys.queue(svc), keys.later_queue(svc), keys.later_all(svc),
                    keys.active(svc)):
            pipe.zrem(key, cid)
        pipe.hdel(keys.flags(svc), cid)
        self.records.end(pipe, record)
        removed = await pipe.execute()
        await self.records.ended(record, removed)
        if int(removed[0]) + int(removed[1]) > 0 or int(removed[4]) > 0:
            await self.redis.publish(keys.service_channel(svc), "q")
        return raw

    async def release(self, conv: Conversation, nurse: str, state_frame: str) -> Any:
        """The conversation, then her slot freed, then back in the queue at its old place."""
        cid, svc = conv.id, conv.service
        record = await self.records.begin(svc, cid, nurse)
        raw = cast(list[Any], await self.scripts.release_conv([keys.meta(cid)], [
            model.sources_arg(Move.RELEASE), model.TRANSITIONS[Move.RELEASE].target, nurse,
            svc, keys.conversation_channel(cid), state_frame]))
        if int(raw[0]) != 1:
            await self.records.forget(record)
            return raw
        await self.redis.srem(keys.nurse_open(nurse), cid)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.active(svc), cid)
        pipe.zadd(keys.queue(svc), {cid: float(raw[1])})
        self.records.end(pipe, record)
        await self.records.ended(record, await pipe.execute())
        await self.redis.publish(keys.service_channel(svc), "q")
        return raw[:1]

    async def leave_for_later(self, conv: Conversation, move: Move, holder: str, now: float,
                              state_frame: str) -> Any:
        """The conversation, then the holder's slot freed, then the service's lists."""
        cid, svc = conv.id, conv.service
        owed = str(conv.owed) if conv.owed else ""
        record = await self.records.begin(svc, cid, conv.nurse)
        raw = cast(list[Any], await self.scripts.later_conv([keys.meta(cid)], [
            model.sources_arg(move), model.TRANSITIONS[move].target, holder, svc, conv.nurse,
            owed, int(now), keys.conversation_channel(cid), state_frame]))
        if int(raw[0]) != 1:
            await self.records.forget(record)
            return raw
        if conv.nurse:
            await self.redis.srem(keys.nurse_open(conv.nurse), cid)
        pipe = self.redis.pipeline(transaction=True)
        for key in (keys.queue(svc), keys.active(svc), keys.absent(svc), keys.set_aside(svc)):
            pipe.zrem(key, cid)
        pipe.zadd(keys.later_all(svc), {cid: int(now)})
        if owed:
            pipe.zadd(keys.later_queue(svc), {cid: int(owed)}, nx=True)
        self.records.end(pipe, record)
        await self.records.ended(record, await pipe.execute())
        await self.redis.publish(keys.service_channel(svc), "q")
        return raw

    async def transfer(self, conv: Conversation, move: Move, nurse: str, to_nurse: str,
                       to_service: str, key_bundle: str, epoch: int, now: int,
                       state_frame: str, history: str, capacity: int) -> Any:
        """The colleague's slot, the conversation, the sender's slot, the services' lists, the
        colleague's inbox."""
        cid, svc = conv.id, conv.service
        records = {svc: await self.records.begin(svc, cid, nurse, to_nurse)}
        if to_service != svc:
            records[to_service] = await self.records.begin(to_service, cid)
        held = 2
        if to_nurse:
            held = int(await self.scripts.nurse_slot([keys.nurse_open(to_nurse)],
                                                     [cid, capacity]))
        raw: list[Any] = [-3]
        if held != 0:
            raw = cast(list[Any], await self.scripts.transfer_conv([keys.meta(cid)], [
                model.sources_arg(move), model.TRANSITIONS[move].target, nurse, to_nurse,
                to_service, key_bundle, epoch, now, keys.conversation_channel(cid),
                state_frame, history, svc]))
        if int(raw[0]) != 1:
            if held == 1:
                await self.redis.srem(keys.nurse_open(to_nurse), cid)
            for record in records.values():
                await self.records.forget(record)
            return raw
        await self.redis.srem(keys.nurse_open(nurse), cid)
        place = now if to_nurse else now - int(raw[2])  # a queue place has its head start
        await self.transferred_lists(cid, svc, to_service, to_nurse, place, str(raw[1]), records)
        if to_nurse:
            pipe = self.redis.pipeline(transaction=True)
            pipe.rpush(keys.nurse_inbox(to_nurse), cid)
            pipe.expire(keys.nurse_inbox(to_nurse), 86400)
            await pipe.execute()
        for service in records:
            await self.redis.publish(keys.service_channel(service), "q")
        return raw[:1]

    async def transferred_lists(self, cid: str, svc: str, to_service: str, to_nurse: str,
                                place: int, flag: str, records: dict[str, Record]) -> None:
        """Out of the old service's active set, into the new one's queue or active set (with
        the risk flag when it moves service), each service's record removed with its part."""
        into = keys.active(to_service) if to_nurse else keys.queue(to_service)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.active(svc), cid)
        if to_service == svc:
            pipe.zadd(into, {cid: place})
        elif flag:
            pipe.hdel(keys.flags(svc), cid)
        self.records.end(pipe, records[svc])
        await self.records.ended(records[svc], await pipe.execute())
        if to_service == svc:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(into, {cid: place})
        if flag:
            pipe.hset(keys.flags(to_service), cid, flag)
        self.records.end(pipe, records[to_service])
        await self.records.ended(records[to_service], await pipe.execute())

    async def link(self, cid: str, threads_key: str, session_key: str, person_ttl: int,
                   args: list[str | int | float]) -> Any:
        """The person's thread set, then the conversation, then the login's pending link. The
        thread set is an index of the hashes that name the person: an entry whose hash does
        not (yet) is not shown (identity_bridge/web/service.py: ``threads``), so a lost or
        refused second step leaves nothing the youth sees; a lost third step leaves a pending
        link whose next try is refused (the token is retired) and ends with the session."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(threads_key, cid)
        pipe.expire(threads_key, person_ttl)
        added = int((await pipe.execute())[0])
        raw = cast(list[Any], await self.scripts.link([keys.meta(cid)], [*args, "1"]))
        if int(raw[0]) != 1:
            if added:
                await self.redis.srem(threads_key, cid)
            return raw
        await self.redis.hdel(session_key, "lc")
        return raw

    async def waits_in(self, cid: str, service: str) -> str:
        """'1' if the hash says the conversation waits in ``service`` ('' otherwise)."""
        st, svc = await self.redis.hmget(keys.meta(cid), [model.ST, model.SVC])
        return "1" if st == State.WAITING and svc == service else ""

    async def park(self, cid: str, service: str, now: float, grace: float) -> bool:
        """Read the hash, then the service's part (a claim in between: a claimed conversation
        set aside; the claim's own step has taken it out of the queue, so it stays out)."""
        here = await self.waits_in(cid, service)
        return bool(await self.scripts.park_svc(
            [keys.queue(service), keys.set_aside(service), keys.absent(service),
             keys.online(service)],
            [cid, here, now, now - grace, keys.service_channel(service)]))

    async def unpark(self, cid: str, service: str) -> bool:
        """Read the hash, then the service's part (a claim in between may put a claimed
        conversation back in the queue: a nurse's claim of it is then refused)."""
        here = await self.waits_in(cid, service)
        return bool(await self.scripts.unpark_svc(
            [keys.queue(service), keys.set_aside(service), keys.absent(service)],
            [cid, here, keys.service_channel(service)]))
