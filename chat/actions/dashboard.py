"""What the dashboard records as things happen, and what it reads back for nurses and leads.

Called from ``chat.actions.conversations.Actions`` (which owns one ``Dashboard``) after each state change has
been stored; every figure here is metadata: counts, times, outcome codes, flag kinds.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import redis.asyncio as aioredis

from chat.clock import Clock
from chat.config import Config, Service
from chat.domain import stats
from chat.errors import ClientError, NotAuthorized, UnknownService
from chat.store import names as keys
from chat.store.audit import Audit
from chat.store.canned import Canned

if TYPE_CHECKING:
    from chat.actions.conversations import Conversation, Nurse
    from chat.store.conversations import Store

DUTY_TTL = 60  # seconds a dashboard counts as on duty after its last ping
LEAD_ROLES = ("lead", "admin")


class BadFlag(ClientError):
    code = "bad_flag"
    message = "A flag is concern, acute or none."


@dataclass(frozen=True)
class Flagged:
    conversation: str
    kind: str
    state: str
    nurse: str  # display name of the nurse who has it ("" while waiting)

    def as_json(self) -> dict[str, str]:
        return {"conversation": self.conversation, "kind": self.kind, "state": self.state,
                "nurse": self.nurse}


def _failed(fut: asyncio.Future[Any]) -> bool:
    return fut.done() and (fut.cancelled() or fut.exception() is not None)


def is_lead(nurse: Nurse) -> bool:
    return nurse.role in LEAD_ROLES


def lead_services(config: Config, nurse: Nurse) -> list[Service]:
    """Services whose overview and audit log this account may see (server-side rule)."""
    if nurse.role == "admin":
        return list(config.services.values())
    if nurse.role == "lead":
        return [s for s in config.services.values() if s.id in nurse.services]
    return []


def require_lead(config: Config, nurse: Nurse, service: str) -> Service:
    svc = config.service(service)
    if svc is None:
        raise UnknownService()
    if svc not in lead_services(config, nurse):
        raise NotAuthorized("Only the service's leads can see this.")
    return svc


class Dashboard:
    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.redis: aioredis.Redis = store.redis
        self.clock = clock
        self.audit = Audit(config, store.redis, clock)
        self.canned = Canned(store.redis)
        # Boards being (or last) read per service, with the tick at which the read began.
        self._ticks = itertools.count(1)
        self._boards: dict[str, tuple[int, asyncio.Future[dict[str, object]]]] = {}

    # -- statistics (per service and local day) -------------------------------------------------
    def _day(self, service: str, ts: float | None = None) -> str:
        svc = self.config.service(service)
        assert svc is not None
        return stats.local_day(self.clock.now() if ts is None else ts, svc.timezone)

    def _stats_ttl(self, service: str) -> int:
        svc = self.config.service(service)
        return (svc.audit_retention_days if svc else 365) * 86_400

    async def count(self, service: str, *names: str) -> None:
        key = keys.day_stats(service, self._day(service))
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hincrby(key, name, 1)
        pipe.expire(key, self._stats_ttl(service))
        await pipe.execute()

    async def sample(self, service: str, kind: str, seconds: float) -> None:
        key = keys.day_samples(service, self._day(service), kind)
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(key, max(0, int(seconds)))
        pipe.expire(key, self._stats_ttl(service))
        await pipe.execute()

    # -- events from the actions layer ----------------------------------------------------------
    async def on_started(self, service: str) -> None:
        await self.count(service, "started")

    async def on_claimed(self, nurse: Nurse, conv: Conversation, waited: float) -> None:
        await self.sample(conv.service, "claim", waited)
        await self.redis.zadd(keys.active(conv.service), {conv.id: self.clock.now()})
        await self.audit.record(conv.service, nurse.username, "claim", conv.id,
                                f"waited {int(waited)} s")
        await self._publish_team(conv.service)

    async def on_released(self, nurse: Nurse, conv: Conversation) -> None:
        await self.redis.zrem(keys.active(conv.service), conv.id)
        await self.audit.record(conv.service, nurse.username, "release", conv.id)

    async def on_closed(self, conv: Conversation, outcome: str, actor: str, previous: str,
                        meta: dict[str, str], auto: bool = False) -> None:
        now = self.clock.now()
        names = ["closed", "o:" + outcome] + (["auto_closed"] if auto else [])
        await self.count(conv.service, *names)
        claimed_at = int(meta.get("claimed_at", 0) or 0)
        if previous == "active" and claimed_at:
            await self.sample(conv.service, "dur", now - claimed_at)
        svc = self.config.service(conv.service)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(keys.active(conv.service), conv.id)
        pipe.hdel(keys.flags(conv.service), conv.id)
        if svc is not None:
            pipe.expire(keys.notes(conv.id), svc.retention_seconds)
        await pipe.execute()
        await self.audit.record(conv.service, actor or "youth",
                                "auto_close" if auto else "close", conv.id, outcome)
        if meta.get("flag"):
            await self._publish_team(conv.service)

    # -- risk flags -----------------------------------------------------------------------------
    async def flag(self, nurse: Nurse, conv: Conversation, kind: str) -> None:
        if kind not in (*stats.FLAG_KINDS, "none"):
            raise BadFlag()
        if conv.state == "closed":
            from chat.errors import ConversationClosed

            raise ConversationClosed()
        pipe = self.redis.pipeline(transaction=False)
        if kind == "none":
            pipe.hdel(keys.meta(conv.id), "flag")
            pipe.hdel(keys.flags(conv.service), conv.id)
        else:
            pipe.hset(keys.meta(conv.id), "flag", kind)
            pipe.hset(keys.flags(conv.service), conv.id, kind)
        await pipe.execute()
        if kind != "none" and kind != conv.flag:
            await self.count(conv.service, "f:" + kind)
        await self.audit.record(conv.service, nurse.username, "flag", conv.id, kind)
        await self._publish_team(conv.service)

    async def flagged(self, service: str) -> list[Flagged]:
        raw = cast(dict[str, str], await self.redis.hgetall(keys.flags(service)))
        if not raw:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for cid in raw:
            pipe.hmget(keys.meta(cid), ["st", "nurse", "svc"])
        metas = cast(list[list[str | None]], await pipe.execute())
        names = await self.display_names({m[1] for m in metas if m[1]})
        out: list[Flagged] = []
        stale: list[str] = []
        for (cid, kind), (st, nurse, svc) in zip(raw.items(), metas, strict=True):
            if st is None or st == "closed" or svc != service:
                stale.append(cid)
                continue
            out.append(Flagged(cid, kind, st, names.get(nurse or "", "")))
        if stale:
            await self.redis.hdel(keys.flags(service), *stale)
        order = {"acute": 0, "concern": 1}
        out.sort(key=lambda f: (order.get(f.kind, 2), f.conversation))
        return out

    async def display_names(self, usernames: set[str]) -> dict[str, str]:
        if not usernames:
            return {}
        names = sorted(usernames)
        pipe = self.redis.pipeline(transaction=False)
        for u in names:
            pipe.hget(keys.nurse(u), "name")
        values = cast(list[str | None], await pipe.execute())
        return {u: v or u for u, v in zip(names, values, strict=True)}

    # -- who is on duty -------------------------------------------------------------------------
    async def duty(self, nurse: Nurse, conn: str, on: bool) -> bool:
        """Mark one dashboard connection on (or off) duty in each of the nurse's services.

        Returns True when the set of on-duty entries changed (callers then tell the team).
        """
        member = f"{nurse.username} {conn}"
        now = self.clock.now()
        pipe = self.redis.pipeline(transaction=False)
        for service in sorted(nurse.services):
            if on:
                pipe.zadd(keys.on_duty(service), {member: now + DUTY_TTL})
            else:
                pipe.zrem(keys.on_duty(service), member)
        changed = await pipe.execute()
        return any(int(x) for x in changed)

    async def on_duty(self, service: str) -> list[str]:
        now = self.clock.now()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zremrangebyscore(keys.on_duty(service), "-inf", now)
        pipe.zrange(keys.on_duty(service), 0, -1)
        _, members = await pipe.execute()
        users = {m.split(" ", 1)[0] for m in cast(list[str], members)}
        names = await self.display_names(users)
        return sorted(names.values())

    # -- what a nurse's dashboard shows besides the queue --------------------------------------
    async def board(self, service: str) -> dict[str, object]:
        svc = self.config.service(service)
        return {"service": service,
                "flags": [f.as_json() for f in await self.flagged(service)],
                "on_duty": await self.on_duty(service),
                "target_wait_s": svc.target_wait_seconds if svc else 120}

    def tick(self) -> int:
        """A point in time for ``shared_board``: take it when told that a board changed."""
        return next(self._ticks)

    async def shared_board(self, service: str, since: int) -> dict[str, object]:
        """The board, as read after ``since`` (a ``tick``): every dashboard of a service is told
        of each change at once (hundreds when all reconnect after a restart), and those told
        before a read began share that read instead of making one each."""
        current = self._boards.get(service)
        if current is None or current[0] <= since or _failed(current[1]):
            read: asyncio.Future[Any] = asyncio.ensure_future(self.board(service))
            read.add_done_callback(_failed)  # a failure is logged by those who waited, if any
            current = (self.tick(), read)
            self._boards[service] = current
        return cast(dict[str, object], await asyncio.shield(current[1]))

    async def _publish_team(self, service: str) -> None:
        # The service channel's "queue changed" signal makes every dashboard re-read its board.
        await self.store.publish_queue_changed(service)

    # -- notes (nurse-only, sealed) -------------------------------------------------------------
    async def add_note(self, conv: Conversation, nurse: Nurse, body: str) -> None:
        svc = self.config.service(conv.service)
        ttl = svc.retention_seconds if svc else 30 * 86_400
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(keys.notes(conv.id), {"s": nurse.display_name, "svc": conv.service,
                                       "b": body, "t": int(self.clock.now())})
        pipe.expire(keys.notes(conv.id), ttl)
        await pipe.execute()

    async def notes(self, cid: str) -> list[dict[str, object]]:
        raw = cast(list[tuple[str, dict[str, str]]], await self.redis.xrange(keys.notes(cid)))
        return [{"id": i, "sender": f.get("s", ""), "service": f.get("svc", ""),
                 "body": f.get("b", ""), "ts": int(f.get("t", 0))} for i, f in raw]

    # -- the lead overview ------------------------------------------------------------------------
    async def overview(self, service: str, day: str) -> stats.DayFigures:
        svc = self.config.service(service)
        if svc is None:
            raise UnknownService()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.day_stats(service, day))
        pipe.lrange(keys.day_samples(service, day, "claim"), 0, -1)
        pipe.lrange(keys.day_samples(service, day, "dur"), 0, -1)
        pipe.zcard(keys.queue(service))
        pipe.zrange(keys.queue(service), 0, 0, withscores=True)
        counters, waits, durs, waiting, oldest = await pipe.execute()
        now = self.clock.now()
        longest = int(max(0.0, now - float(oldest[0][1]))) if oldest else None
        return stats.figures(service, day, counters, (int(x) for x in waits),
                             (int(x) for x in durs), svc.outcomes, int(waiting), longest,
                             len(await self.on_duty(service)))

    def today(self, service: str) -> str:
        return self._day(service)
