"""Queues, the active sets and youth presence: what the waiting room and the sweep read."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from chat.clock import Clock
from chat.domain import conversation as model
from chat.domain.conversation import RETURNING_FIELDS, State, returning
from chat.store import names as keys
from chat.store.client import is_cluster_client
from chat.store.coalesce import Coalescer
from chat.store.lua import Scripts

PRESENCE_TTL = 45  # seconds a youth counts as connected after its last ping (pings: 20-25 s)


@dataclass(frozen=True)
class WaitingSlot:
    """A start's hold on one of its client's waiting slots. The id is random, not the
    conversation's: the slots count a client's waiting starts without naming them."""

    client_key: str
    id: str
    limit: int  # the most slots the client may hold at once
    ttl: float  # how long it holds without a ping: presence, then the grace


@dataclass(frozen=True)
class GoneView:
    """What the gone sweep reads of one service, in one round trip."""

    queued: frozenset[str]
    online: frozenset[str]
    absent: dict[str, float]  # conversation -> since when it has had no connection
    set_aside: tuple[str, ...]

# Queue items that carry ``returning`` and the intake: the first in line, which is where a
# nurse looks; a read per item of a queue of thousands on every change would cost more than it
# tells.
RETURNING_READS = 100
CARD_FIELDS = (model.TOPIC, model.URGENT, model.FLAG, model.QUEUED, model.CREATED)


@dataclass(frozen=True)
class QueueView:
    """One service's queue, oldest first, with the figures a waiting youth is shown."""

    service: str
    items: tuple[dict[str, object], ...]
    recent_waits: tuple[int, ...]

    def position(self, cid: str) -> int | None:
        return self.positions.get(cid)

    @cached_property
    def positions(self) -> dict[str, int]:
        # Every waiting youth asks for its position on every queue change: an index built
        # once per view keeps that O(1) instead of O(queue) (10k waiting: 10^8 compares).
        out: dict[str, int] = {}
        for i, item in enumerate(self.items):
            out.setdefault(str(item["conversation"]), i + 1)
        return out

    @cached_property
    def median_wait(self) -> int | None:
        if not self.recent_waits:
            return None
        waits = sorted(self.recent_waits)
        return waits[len(waits) // 2]

    def expected_wait(self, position: int, default_s: int | None = None) -> int | None:
        """Median of the last 20 claim waits, times the position; without history the
        service's configured wait per place (``default_s``), else None.

        Deliberately simple and explained in docs/queue.md: it uses only claim times (metadata),
        and it errs on the long side for the first in line rather than promising "now".
        """
        median = self.median_wait if self.median_wait is not None else default_s
        if median is None:
            return None
        return max(30, median) * position


class QueueStore:
    """Reads of the queues and active sets, presence marks, and youths who went away."""

    scripts: Scripts  # set by the Store

    def __init__(self, redis: aioredis.Redis, clock: Clock, reads: Coalescer) -> None:
        self.redis = redis
        self.clock = clock
        self.reads = reads

    async def queue_ids(self, service: str) -> list[tuple[str, float]]:
        raw = await self.redis.zrange(keys.queue(service), 0, -1, withscores=True)
        return cast(list[tuple[str, float]], raw)

    async def waiting_counts(self, services: list[str]) -> list[int]:
        pipe = self.redis.pipeline(transaction=False)
        for s in services:
            pipe.zcard(keys.queue(s))
        return [int(x) for x in await pipe.execute()]

    async def active_ids(self, service: str) -> list[str]:
        return cast(list[str], await self.redis.zrange(keys.active(service), 0, -1))

    async def forget_active(self, service: str, cid: str) -> None:
        """Drop a stale entry (expired or moved) from a service's active set."""
        await self.redis.zrem(keys.active(service), cid)

    async def open_of(self, username: str) -> list[str]:
        key = keys.nurse_open(username)  # read by every dashboard that opens: coalesced
        return sorted(cast(set[str], await self.reads.call(lambda p: p.smembers(key))))

    async def queue_view(self, service: str) -> QueueView:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrange(keys.queue(service), 0, -1, withscores=True)
        pipe.lrange(keys.recent_waits(service), 0, 19)
        # One read for the whole queue's presence (not a read per waiting youth: 10,000
        # waiting made every queue update 10,000 commands).
        pipe.zrangebyscore(keys.online(service), self.clock.now(), "+inf")
        entries, waits, here = await pipe.execute()
        online = set(here)
        more = await self._details([cid for cid, _ in entries[:RETURNING_READS]])
        items = tuple(
            {"conversation": cid, "service": service, "since": int(score),
             "online": cid in online, **more.get(cid, {})}
            for cid, score in entries
        )
        return QueueView(service, items, tuple(int(w) for w in waits))

    async def _details(self, cids: list[str]) -> dict[str, dict[str, object]]:
        """What a nurse's queue card shows beyond the place: been here before, the intake, the
        acute flag, and when it really entered the queue (its score is moved up by its head
        start; beyond the first ``RETURNING_READS`` the score stands in)."""
        if not cids:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for cid in cids:
            pipe.hmget(keys.meta(cid), [*RETURNING_FIELDS, *CARD_FIELDS])
        rows = await pipe.execute()
        out: dict[str, dict[str, object]] = {}
        for cid, row in zip(cids, rows, strict=True):
            v = [x or "" for x in row]
            n = len(RETURNING_FIELDS)
            topic, urgent, flag, queued, created = v[n:]
            item: dict[str, object] = {"returning": returning(*v[:n])}
            if queued or created:
                item["since"] = int(queued or created)
            if topic:
                item["topic"] = topic
            if urgent == "1":
                item["urgent"] = True
            if flag == "acute":
                item["acute"] = True
            out[cid] = item
        return out

    async def rescore(self, cid: str, service: str, score: float) -> int:
        """Move a waiting (or set-aside) conversation to ``score``, only if it is still there
        (1 moved in the queue, 2 set aside, 0 neither); on one slot of a cluster."""
        return int(await self.scripts.rescore(
            [keys.queue(service), keys.set_aside(service)],
            [cid, score, keys.service_channel(service)]))

    async def oldest_since(self, service: str) -> float | None:
        """When the longest-waiting conversation entered the queue. Not simply the first in
        line (urgency moves others ahead): whoever waited longest has a score at or before the
        first one's entry time, so only those are read."""
        first = cast(list[tuple[str, float]],
                     await self.redis.zrange(keys.queue(service), 0, 0, withscores=True))
        if not first:
            return None
        head = await self._details([first[0][0]])
        t0 = float(cast(int, head.get(first[0][0], {}).get("since", first[0][1])))
        ahead = cast(list[str], await self.redis.zrangebyscore(
            keys.queue(service), "-inf", t0, start=0, num=RETURNING_READS))
        found = [float(cast(int, d["since"])) for d in (await self._details(ahead)).values()
                 if "since" in d]
        return min([t0, *found])

    async def publish_queue_changed(self, service: str) -> None:
        await self.redis.publish(keys.service_channel(service), "q")

    async def set_presence(self, cid: str, service: str, ttl: int = PRESENCE_TTL) -> None:
        """The youth of ``cid`` is connected (for ``ttl`` seconds, renewed by its pings)."""
        now = self.clock.now()
        key = keys.online(service)
        r = self.reads  # in the same pipeline as other connections' reads and marks
        replies = await asyncio.gather(
            r.call(lambda p: p.zadd(key, {cid: now + ttl})),
            r.call(lambda p: p.zremrangebyscore(key, "-inf", now)),  # the expired, e.g. after a crash
            r.call(lambda p: p.expire(key, ttl * 2)),  # gone when nobody has been connected for a while
            return_exceptions=True)
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply

    async def clear_presence(self, cid: str, service: str, waiting: bool = False) -> None:
        """A youth's socket went away; ``waiting``: note since when its conversation has had no
        connection (another socket of the same youth that is still there clears it)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(keys.online(service), cid)
        if waiting:
            pipe.zadd(keys.absent(service), {cid: self.clock.now()}, nx=True)
        await pipe.execute()

    # -- waiting youths who went away (chat/jobs/gone.py) --------------------------------------
    async def hold_slot(self, slot: WaitingSlot) -> None:
        """Keep a start's waiting slot while its socket pings (XX: never re-create one)."""
        key, until, sid = keys.waiting_slots(slot.client_key), self.clock.now() + slot.ttl, slot.id
        await self.reads.call(lambda p: p.zadd(key, {sid: until}, xx=True))

    async def drop_slot(self, slot: WaitingSlot) -> None:
        await self.redis.zrem(keys.waiting_slots(slot.client_key), slot.id)

    async def gone_view(self, service: str) -> GoneView:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrange(keys.queue(service), 0, -1)
        pipe.zrangebyscore(keys.online(service), self.clock.now(), "+inf")
        pipe.zrange(keys.absent(service), 0, -1, withscores=True)
        pipe.zrange(keys.set_aside(service), 0, -1)
        queued, online, absent, aside = await pipe.execute()
        return GoneView(frozenset(queued), frozenset(online),
                        {str(c): float(t) for c, t in absent}, tuple(aside))

    async def mark_absent(self, service: str, cids: list[str]) -> None:
        """First seen with no connection now (e.g. its web process died: no close was seen)."""
        if cids:
            now = self.clock.now()
            await self.redis.zadd(keys.absent(service), dict.fromkeys(cids, now), nx=True)

    async def forget_absent(self, service: str, cids: list[str]) -> None:
        if cids:
            await self.redis.zrem(keys.absent(service), *cids)

    async def forget_set_aside(self, service: str, cids: list[str]) -> None:
        if cids:
            await self.redis.zrem(keys.set_aside(service), *cids)

    async def park(self, cid: str, service: str, grace: float) -> bool:
        """Set a waiting conversation aside if its youth has been away longer than ``grace``
        (re-checked inside Redis)."""
        now = self.clock.now()
        done = await self.scripts.park(
            [keys.meta(cid), keys.queue(service), keys.set_aside(service), keys.absent(service),
             keys.online(service)],
            [State.WAITING, service, now, now - grace, keys.service_channel(service)])
        return bool(done)

    async def unpark(self, cid: str, service: str) -> bool:
        """The youth is back: a set-aside conversation counts in the queue again, at its place."""
        done = await self.scripts.unpark(
            [keys.meta(cid), keys.queue(service), keys.set_aside(service), keys.absent(service)],
            [State.WAITING, service, keys.service_channel(service)])
        return bool(done)

    async def ping(self) -> None:
        """Redis answers; on a cluster every primary of the slot map answers (a primary that
        is gone fails this until its replica is promoted and the map is asked for again, which
        the client does on that failure), so readiness says when a shard cannot be written."""
        if is_cluster_client(self.redis):
            await self.redis.ping(target_nodes=RedisCluster.PRIMARIES)
        else:
            await self.redis.ping()
