"""What the nurse dashboard and the lead overview keep: day counters and samples, risk flags,
who is on duty, sealed internal notes, and the inbox of conversations handed to a nurse.
Metadata only: counts, times, outcome codes, flag kinds."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import redis.asyncio as aioredis

from chat.domain import conversation as model
from chat.domain.conversation import State
from chat.store import names as keys
from chat.store.coalesce import Coalescer, Queue

Counters = tuple[dict[str, str], list[str], list[str], int, list[tuple[str, float]]]


def _name_of(account_key: str) -> Queue:
    return lambda p: p.hget(account_key, "name")


class DashboardStore:
    """``reads``: the store's read coalescer. What every dashboard reads when its service's
    queue changes (its inbox, notes of what it opens, names) goes through it, so the reads of
    all of a process's dashboards in one loop turn leave as one pipeline (chat/store/coalesce.py)."""

    def __init__(self, redis: aioredis.Redis, reads: Coalescer) -> None:
        self.redis = redis
        self.reads = reads

    # -- statistics -------------------------------------------------------------------------
    async def count(self, service: str, day: str, ttl: int, *names: str) -> None:
        key = keys.day_stats(service, day)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hincrby(key, name, 1)
        pipe.expire(key, ttl)
        await pipe.execute()

    async def sample(self, service: str, day: str, kind: str, seconds: float, ttl: int) -> None:
        key = keys.day_samples(service, day, kind)
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(key, max(0, int(seconds)))
        pipe.expire(key, ttl)
        await pipe.execute()

    async def day(self, service: str, day: str) -> Counters:
        """Counters, claim waits, durations, queue length and the oldest in the queue."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.day_stats(service, day))
        pipe.lrange(keys.day_samples(service, day, "claim"), 0, -1)
        pipe.lrange(keys.day_samples(service, day, "dur"), 0, -1)
        pipe.zcard(keys.queue(service))
        pipe.zrange(keys.queue(service), 0, 0, withscores=True)
        counters, waits, durs, waiting, oldest = await pipe.execute()
        return counters, waits, durs, int(waiting), oldest

    async def feedback(self, cid: str, service: str, week: str, helpful: bool, ttl: int) -> bool:
        """Count one answer unless this conversation has answered already (first one wins).
        Two steps, not one script: the marker and the counter live in different slots, and a
        crash between them loses one count, never doubles one."""
        if not await self.redis.hsetnx(keys.meta(cid), model.FEEDBACK, "1"):
            return False
        key = keys.feedback(service, week)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(key, "yes" if helpful else "no", 1)
        pipe.expire(key, ttl)
        await pipe.execute()
        return True

    async def feedback_counts(self, service: str, week: str) -> tuple[int, int]:
        """(helpful, not helpful) answers of the week."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.feedback(service, week)))
        return int(raw.get("yes", 0)), int(raw.get("no", 0))

    async def count_later(self, service: str, week: str, within: bool, ttl: int) -> None:
        """One owed answer given (``within``: by the promised time) in the week's figures."""
        key = keys.later_week(service, week)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(key, "answered", 1)
        if within:
            pipe.hincrby(key, "within", 1)
        pipe.expire(key, ttl)
        await pipe.execute()

    async def later_counts(self, service: str, week: str) -> tuple[int, int]:
        """(answered, answered by the promised time) of the week."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.later_week(service, week)))
        return int(raw.get("answered", 0)), int(raw.get("within", 0))

    async def count_intake(self, service: str, week: str, names: list[str], ttl: int) -> None:
        """What youths chose before their chats, counted per service and week: a counter per
        topic and one for "it's urgent", never tied to a conversation."""
        key = keys.intake_week(service, week)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hincrby(key, name, 1)
        pipe.expire(key, ttl)
        await pipe.execute()

    async def intake_counts(self, service: str, week: str) -> dict[str, int]:
        raw = cast(dict[str, str], await self.redis.hgetall(keys.intake_week(service, week)))
        return {k: int(v) for k, v in raw.items()}

    async def keep_notes(self, cid: str, ttl: int) -> None:
        await self.redis.expire(keys.notes(cid), ttl)

    # -- risk flags -------------------------------------------------------------------------
    async def set_flag(self, cid: str, service: str, kind: str, head: int = 0) -> None:
        """Flag (or with ``kind`` empty, unflag) a conversation, on it and in its service, with
        the head start its queue place has now (a release puts it back there)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(keys.meta(cid), model.HEAD_START, head)
        if not kind:
            pipe.hdel(keys.meta(cid), model.FLAG)
            pipe.hdel(keys.flags(service), cid)
        else:
            pipe.hset(keys.meta(cid), model.FLAG, kind)
            pipe.hset(keys.flags(service), cid, kind)
        await pipe.execute()

    async def flagged(self, service: str) -> list[tuple[str, str, State, str]]:
        """(conversation, kind, state, nurse) of the service's open flagged conversations;
        entries of closed, expired or moved conversations are dropped."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.flags(service)))
        if not raw:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for cid in raw:
            pipe.hmget(keys.meta(cid), [model.ST, model.NURSE, model.SVC])
        metas = cast(list[list[str | None]], await pipe.execute())
        out: list[tuple[str, str, State, str]] = []
        stale: list[str] = []
        for (cid, kind), (st, nurse, svc) in zip(raw.items(), metas, strict=True):
            if st is None or st == State.CLOSED or svc != service:
                stale.append(cid)
                continue
            out.append((cid, kind, State(st), nurse or ""))
        if stale:
            await self.redis.hdel(keys.flags(service), *stale)
        return out

    async def display_names(self, usernames: set[str]) -> dict[str, str]:
        if not usernames:
            return {}
        names = sorted(usernames)
        values = cast(list[str | None], await asyncio.gather(
            *(self.reads.call(_name_of(keys.nurse(u))) for u in names)))
        return {u: v or u for u, v in zip(names, values, strict=True)}

    # -- who is on duty ---------------------------------------------------------------------
    async def duty(self, services: list[str], member: str, until: float | None) -> bool:
        """Mark ``member`` on duty until ``until`` (None: off duty); True if anything changed."""
        pipe = self.redis.pipeline(transaction=False)
        for service in services:
            if until is not None:
                pipe.zadd(keys.on_duty(service), {member: until})
            else:
                pipe.zrem(keys.on_duty(service), member)
        changed = await pipe.execute()
        return any(int(x) for x in changed)

    async def on_duty(self, service: str, now: float) -> list[str]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zremrangebyscore(keys.on_duty(service), "-inf", now)
        pipe.zrange(keys.on_duty(service), 0, -1)
        _, members = await pipe.execute()
        return cast(list[str], members)

    # -- notes ------------------------------------------------------------------------------
    async def add_note(self, cid: str, fields: dict[str, str | int], ttl: int) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(keys.notes(cid), cast(Any, fields))
        pipe.expire(keys.notes(cid), ttl)
        await pipe.execute()

    async def notes(self, cid: str) -> list[tuple[str, dict[str, str]]]:
        key = keys.notes(cid)
        return cast(list[tuple[str, dict[str, str]]], await self.reads.call(lambda p: p.xrange(key)))

    # -- conversations handed to a nurse ----------------------------------------------------
    async def take_inbox(self, username: str) -> list[str]:
        """The conversations handed to ``username`` since the last look (then forgotten)."""
        key = keys.nurse_inbox(username)
        ids = cast(list[str], await self.reads.call(lambda p: p.lrange(key, 0, -1)))
        for cid in ids:
            await self.redis.lrem(key, 0, cid)
        return ids
