"""Fair use per capability token: the token's open conversations, its recent starts and a
nurse's pause of its new starts (docs/queue.md). Every key is named by the token's keyed
fair-use tag (anon/tokens.py), never the token, shares that tag's cluster slot, and expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from chat.domain import conversation as model
from chat.store import names as keys
from chat.store.lua import Scripts

TAKEN, PAUSED, TOO_MANY_OPEN, TOO_MANY_NEW = 1, -1, -2, -3


@dataclass(frozen=True)
class Pause:
    until: int
    nurse: str  # who paused (the audit log says the same); no token, no youth


@dataclass(frozen=True)
class Take:
    """What ``take`` answers: ``status`` one of the constants above; ``pause`` when PAUSED."""

    status: int
    pause: Pause | None = None


@dataclass(frozen=True)
class Bounds:
    open: int  # conversations open at once
    new: int  # starts per period
    period: int  # seconds


def parse_pause(raw: str | None) -> Pause | None:
    if not raw:
        return None
    until, _, nurse = raw.partition(" ")
    return Pause(int(until), nurse) if until.isdigit() else None


class FairUseStore:
    def __init__(self, redis: aioredis.Redis, scripts: Scripts) -> None:
        self.redis = redis
        self.scripts = scripts

    async def known(self, tag: str) -> bool:
        """Whether anything is counted under ``tag`` (a start reuses only a known token)."""
        return int(await self.redis.exists(keys.fair_open(tag), keys.fair_new(tag),
                                           keys.fair_pause(tag))) > 0

    async def take(self, tag: str, cid: str, start_id: str, now: float, bounds: Bounds,
                   lapses: float) -> Take:
        """Check and take one open place and one start of the period, in one step; the open
        place lapses at ``lapses`` (the conversation's retention) if no close frees it."""
        raw = cast(list[Any], await self.scripts.fairuse_take(
            [keys.fair_open(tag), keys.fair_new(tag), keys.fair_pause(tag)],
            [now, cid, bounds.open, bounds.new, bounds.period, lapses, start_id]))
        status = int(raw[0])
        if status == PAUSED:
            value = raw[1].decode() if isinstance(raw[1], bytes) else str(raw[1])
            return Take(status, parse_pause(value))
        return Take(status)

    async def release(self, tag: str, cid: str, start_id: str) -> None:
        """Give back what ``take`` took for a start that was then refused."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.fair_open(tag), cid)
        pipe.zrem(keys.fair_new(tag), start_id)
        await pipe.execute()

    async def tag_of(self, cid: str) -> str:
        raw = await self.redis.hget(keys.meta(cid), model.FAIR_USE)
        return raw.decode() if isinstance(raw, bytes) else str(raw or "")

    async def closed(self, cid: str) -> None:
        """A closed conversation no longer counts as open for its token. A lost call leaves
        the place taken until it lapses with the conversation's retention."""
        tag = await self.tag_of(cid)
        if tag:
            await self.redis.zrem(keys.fair_open(tag), cid)

    async def pause(self, tag: str, until: int, nurse: str, seconds: int) -> None:
        await self.redis.set(keys.fair_pause(tag), f"{until} {nurse}", ex=seconds)

    async def paused(self, tag: str) -> Pause | None:
        raw = await self.redis.get(keys.fair_pause(tag))
        return parse_pause(raw.decode() if isinstance(raw, bytes) else raw)

    async def lift(self, tag: str) -> bool:
        return int(await self.redis.delete(keys.fair_pause(tag))) > 0
