"""The Redis store: conversation state, message log, queues. Atomic steps are Lua scripts.

Each script touches only the keys of one conversation (one hash slot), writes first and
publishes after, in the same atomic step: an event is never seen before the change is stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from chat.clock import Clock, SystemClock
from chat.store import names as keys
from chat.store.coalesce import Coalescer

_APPEND_DEPTH = 2  # append pipelines in flight at once (see chat/store/coalesce.py)
_APPEND_SPACING = 0.001  # seconds between append pipelines while busy

# Append a message. KEYS: meta, log, dedup. ARGV: cmid, role, sender, body, ts, ttl, channel,
# frame prefix, frame suffix, writer (a nurse who must have the conversation, or '').
# Returns {status, seq}: 1 new, 0 duplicate (seq of the original), -1 no such conversation,
# -2 closed, -3 the nurse does not have the conversation.
_APPEND = """
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return {-1, 0} end
if st == 'closed' then return {-2, 0} end
if ARGV[10] ~= '' and (st ~= 'active' or redis.call('HGET', KEYS[1], 'nurse') ~= ARGV[10]) then
  return {-3, 0}
end
local prev = redis.call('HGET', KEYS[3], ARGV[1])
if prev then return {0, tonumber(prev)} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '0-' .. seq, 'r', ARGV[2], 's', ARGV[3], 'c', ARGV[1], 'b', ARGV[4], 't', ARGV[5])
redis.call('HSET', KEYS[3], ARGV[1], seq)
redis.call('HSET', KEYS[1], 'last', ARGV[5])
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
end
redis.call('PUBLISH', ARGV[7], seq .. ' ' .. ARGV[8] .. seq .. ARGV[9])
return {1, seq}
"""

# Claim a waiting conversation. KEYS: meta. ARGV: nurse, now, channel, state frame.
# Returns 1 claimed, 0 not waiting (someone else won), -1 no such conversation.
_CLAIM = """
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return -1 end
if st ~= 'waiting' then return 0 end
redis.call('HSET', KEYS[1], 'st', 'active', 'nurse', ARGV[1], 'claimed_at', ARGV[2], 'last', ARGV[2])
redis.call('PUBLISH', ARGV[3], '0 ' .. ARGV[4])
return 1
"""

# Close. KEYS: conversation keys (meta first). ARGV: outcome, now, ttl, channel, state frame,
# nurse ('' = anyone may close, e.g. the youth ending it). Returns the previous state or
# 'none' / 'closed' / 'forbidden'.
_CLOSE = """
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return 'none' end
if st == 'closed' then return 'closed' end
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'nurse') ~= ARGV[6] then return 'forbidden' end
redis.call('HSET', KEYS[1], 'st', 'closed', 'outcome', ARGV[1], 'closed_at', ARGV[2], 'last', ARGV[2])
local ttl = tonumber(ARGV[3])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
redis.call('PUBLISH', ARGV[4], '0 ' .. ARGV[5])
return st
"""

# Release an active conversation back to the queue. KEYS: meta. ARGV: nurse, channel, frame.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'st') ~= 'active' then return 0 end
if redis.call('HGET', KEYS[1], 'nurse') ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'st', 'waiting', 'nurse', '')
redis.call('PUBLISH', ARGV[2], '0 ' .. ARGV[3])
return 1
"""

# Reserve a chat slot for a nurse (exact capacity). KEYS: nurse open set. ARGV: cid, limit.
_RESERVE = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""


@dataclass(frozen=True)
class AppendResult:
    status: int  # 1 new, 0 duplicate
    seq: int
    ts: int = 0  # the message's time, when this append stored it (not for a duplicate)


@dataclass(frozen=True)
class QueueView:
    """One service's queue, oldest first, with the figures a waiting youth is shown."""

    service: str
    items: tuple[dict[str, object], ...]
    recent_waits: tuple[int, ...]

    def position(self, cid: str) -> int | None:
        return self._positions.get(cid)

    @cached_property
    def _positions(self) -> dict[str, int]:
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

    def expected_wait(self, position: int) -> int | None:
        """Median of the last 20 claim waits, times the position; None without history.

        Deliberately simple and explained in docs/queue.md: it uses only claim times (metadata),
        and it errs on the long side for the first in line rather than promising "now".
        """
        median = self.median_wait
        if median is None:
            return None
        return max(30, median) * position


@dataclass(frozen=True)
class LogEntry:
    seq: int
    role: str
    sender: str
    cmid: str
    body: str
    ts: int


class Store:
    def __init__(self, redis: aioredis.Redis, clock: Clock | None = None) -> None:
        self.redis = redis
        self.clock = clock or SystemClock()  # presence expiry (set_presence, queue_view)
        self._append = redis.register_script(_APPEND)
        self._claim = redis.register_script(_CLAIM)
        self._close = redis.register_script(_CLOSE)
        self._release = redis.register_script(_RELEASE)
        self._reserve = redis.register_script(_RESERVE)
        # Appends leave as pipelines, at most two in flight and 1 ms apart while busy: a busy
        # server makes one socket write for many (chat/store/coalesce.py).
        self._appends = Coalescer(redis, depth=_APPEND_DEPTH, spacing=_APPEND_SPACING)
        # Reads and presence marks that many connections make at once (all of them re-attach
        # after a restart) leave together, one pipeline per loop turn (chat/store/coalesce.py).
        self._reads = Coalescer(redis)

    async def create_conversation(
        self, cid: str, service: str, fields: dict[str, str | int], ttl: int, now: float
    ) -> None:
        pipe = self.redis.pipeline(transaction=False)
        mapping: dict[str, Any] = {"svc": service, "st": "waiting", "seq": 0,
                                   "created": int(now), "last": int(now), **fields}
        pipe.hset(keys.meta(cid), mapping=mapping)  # type: ignore[arg-type]
        pipe.expire(keys.meta(cid), ttl)
        pipe.zadd(keys.queue(service), {cid: now})
        pipe.publish(keys.service_channel(service), "q")
        await pipe.execute()

    async def meta(self, cid: str) -> dict[str, str]:
        key = keys.meta(cid)
        return cast(dict[str, str], await self._reads.call(lambda p: p.hgetall(key)))

    async def append(
        self, cid: str, cmid: str, role: str, sender: str, body: str, ts: int, ttl: int,
        frame_prefix: str, frame_suffix: str, writer: str = "",
    ) -> int | AppendResult:
        """``writer``: a nurse's username, who must have the conversation (checked in the same
        atomic step, so a nurse's send needs no separate read); empty for the youth."""
        k = [keys.meta(cid), keys.log(cid), keys.dedup(cid)]
        a: list[str | int] = [cmid, role, sender, body, ts, ttl, keys.conversation_channel(cid),
                              frame_prefix, frame_suffix, writer]
        sha = self._append.sha
        try:
            status, seq = await self._appends.call(lambda p: p.evalsha(sha, len(k), *k, *a))
        except NoScriptError:  # Redis restarted or flushed its scripts: the call loads it
            status, seq = await self._append(keys=k, args=a)
        if status < 0:
            return int(status)
        return AppendResult(int(status), int(seq))

    async def read_after(self, cid: str, after: int, count: int = 500) -> list[LogEntry]:
        key, start = keys.log(cid), f"0-{after + 1}"
        raw = cast(list[tuple[str, dict[str, str]]], await self._reads.call(
            lambda p: p.xrange(key, min=start, max="+", count=count)))
        out = []
        for entry_id, f in raw:
            out.append(LogEntry(seq=int(entry_id.split("-")[1]), role=f["r"], sender=f["s"],
                                cmid=f["c"], body=f["b"], ts=int(f["t"])))
        return out

    async def claim(self, cid: str, nurse: str, now: float, state_frame: str) -> int:
        r = await self._claim(keys=[keys.meta(cid)],
                              args=[nurse, int(now), keys.conversation_channel(cid), state_frame])
        return int(r)

    async def close(
        self, cid: str, outcome: str, now: float, ttl: int, state_frame: str, nurse: str = ""
    ) -> str:
        r = await self._close(
            keys=list(keys.conversation_keys(cid)),
            args=[outcome, int(now), ttl, keys.conversation_channel(cid), state_frame, nurse],
        )
        return str(r)

    async def release(self, cid: str, nurse: str, state_frame: str) -> int:
        r = await self._release(keys=[keys.meta(cid)],
                                args=[nurse, keys.conversation_channel(cid), state_frame])
        return int(r)

    async def reserve_slot(self, nurse: str, cid: str, limit: int) -> bool:
        return bool(await self._reserve(keys=[keys.nurse_open(nurse)], args=[cid, limit]))

    async def free_slot(self, nurse: str, cid: str) -> None:
        await self.redis.srem(keys.nurse_open(nurse), cid)

    async def queue_ids(self, service: str) -> list[tuple[str, float]]:
        raw = await self.redis.zrange(keys.queue(service), 0, -1, withscores=True)
        return cast(list[tuple[str, float]], raw)

    async def queue_view(self, service: str) -> QueueView:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrange(keys.queue(service), 0, -1, withscores=True)
        pipe.lrange(keys.recent_waits(service), 0, 19)
        # One read for the whole queue's presence (not a read per waiting youth: 10,000
        # waiting made every queue update 10,000 commands).
        pipe.zrangebyscore(keys.online(service), self.clock.now(), "+inf")
        entries, waits, here = await pipe.execute()
        online = set(here)
        items = tuple(
            {"conversation": cid, "service": service, "since": int(score),
             "online": cid in online}
            for cid, score in entries
        )
        return QueueView(service, items, tuple(int(w) for w in waits))

    async def dequeue(self, service: str, cid: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(keys.queue(service), cid)
        pipe.publish(keys.service_channel(service), "q")
        await pipe.execute()

    async def requeue(self, service: str, cid: str, since: float) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(keys.queue(service), {cid: since})
        pipe.publish(keys.service_channel(service), "q")
        await pipe.execute()

    async def record_wait(self, service: str, seconds: float) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(keys.recent_waits(service), int(seconds))
        pipe.ltrim(keys.recent_waits(service), 0, 19)
        await pipe.execute()

    async def publish_queue_changed(self, service: str) -> None:
        await self.redis.publish(keys.service_channel(service), "q")

    async def publish(self, channel: str, payload: str) -> None:
        await self.redis.publish(channel, payload)

    async def set_presence(self, cid: str, service: str, ttl: int = 45) -> None:
        """The youth of ``cid`` is connected (for ``ttl`` seconds, renewed by its pings)."""
        now = self.clock.now()
        key = keys.online(service)
        r = self._reads  # in the same pipeline as other connections' reads and marks
        replies = await asyncio.gather(
            r.call(lambda p: p.zadd(key, {cid: now + ttl})),
            r.call(lambda p: p.zremrangebyscore(key, "-inf", now)),  # the expired, e.g. after a crash
            r.call(lambda p: p.expire(key, ttl * 2)),  # gone when nobody has been connected for a while
            return_exceptions=True)
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply

    async def clear_presence(self, cid: str, service: str) -> None:
        await self.redis.zrem(keys.online(service), cid)
