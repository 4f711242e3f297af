"""What the repair sweep reads and writes on a Redis Cluster (chat/jobs/repair.py decides): the
moves under way past a grace, the guarded mark that keeps a repair from racing a new move, a
service's lists made to agree with a placement, a nurse's slot, and the later conversations
owing an answer that are not on the answer-later list.

A move on a cluster (chat/store/clustered.py) writes its members in ``keys.moves`` before the
conversation's own step and removes them in its last step; docs/scaling.md has the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis

from chat.domain import conversation as model
from chat.domain.conversation import State
from chat.domain.placement import Placement
from chat.store import names as keys
from chat.store.lua import Scripts

_READ_CHUNK = 500  # hashes read per pipeline when looking for unlisted owed answers


@dataclass(frozen=True)
class LostMove:
    """A move of one conversation under way in one service for longer than the grace."""

    cid: str
    began: float | None  # the service's member (None: only nurses' members are left)
    nurses: tuple[str, ...] = ()  # whose slot sets it may have changed


def _score(value: float | int | None) -> str | float | int:
    return "" if value is None else value


class RepairStore:
    def __init__(self, redis: aioredis.Redis, scripts: Scripts) -> None:
        self.redis = redis
        self.scripts = scripts

    async def lost_moves(self, service: str, before: float) -> list[LostMove]:
        """Moves that began at or before ``before`` and are still recorded; a conversation with
        a later move under way is left to that move."""
        raw = cast(list[tuple[str, float]], await self.redis.zrange(
            keys.moves(service), 0, -1, withscores=True))
        began: dict[str, float] = {}
        nurses: dict[str, list[str]] = {}
        for member, score in raw:
            cid, nurse = keys.move_member_parts(member)
            if not nurse:
                began[cid] = score
            elif score <= before:
                nurses.setdefault(cid, []).append(nurse)
        out: list[LostMove] = []
        for cid in dict.fromkeys([*began, *nurses]):
            start = began.get(cid)
            if start is not None and start > before:
                continue
            if start is not None or cid in nurses:
                out.append(LostMove(cid, start, tuple(nurses.get(cid, ()))))
        return out

    async def mark(self, service: str, lost: LostMove, mark: float) -> bool:
        """Mark the move as being repaired, if it is still as seen (False: it changed)."""
        return bool(await self.scripts.move_swap(
            [keys.moves(service)], [lost.cid, _score(lost.began), mark]))

    async def mend(self, service: str, cid: str, mark: float, place: Placement) -> int:
        """The service's lists made to agree with ``place``: the entries changed, or -1 when a
        move of the conversation began since the mark (left to that move)."""
        return int(await self.scripts.repair_svc(
            [keys.moves(service), keys.queue(service), keys.set_aside(service),
             keys.active(service), keys.later_all(service), keys.later_queue(service),
             keys.flags(service)],
            [cid, mark, _score(place.queue), _score(place.active), _score(place.later),
             _score(place.owed), place.flag, keys.service_channel(service)]))

    async def fix_slot(self, nurse: str, cid: str, holds: bool) -> bool:
        """Her slot set names the conversation exactly when she has it. True if it changed."""
        key = keys.nurse_open(nurse)
        changed = await (self.redis.sadd(key, cid) if holds else self.redis.srem(key, cid))
        return bool(changed)

    async def finish(self, service: str, lost: LostMove, mark: float) -> bool:
        """Forget the repaired move, unless a move of it began since the mark (then its
        nurses' members stay for the next round)."""
        members = keys.move_members(lost.cid, *lost.nurses)
        return bool(await self.scripts.move_swap(
            [keys.moves(service)], [lost.cid, mark, "", *members[1:]]))

    async def unlisted_owed(self, service: str) -> list[str]:
        """Later conversations of the service whose hash says an answer is owed but that are
        not on its answer-later list (an append's listing step was lost)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrange(keys.later_all(service), 0, -1)
        pipe.zrange(keys.later_queue(service), 0, -1)
        every, listed = cast(list[list[str]], await pipe.execute())
        listed_set = set(listed)
        candidates = [cid for cid in every if cid not in listed_set]
        out: list[str] = []
        for i in range(0, len(candidates), _READ_CHUNK):
            chunk = candidates[i:i + _READ_CHUNK]
            pipe = self.redis.pipeline(transaction=False)
            for cid in chunk:
                pipe.hmget(keys.meta(cid), [model.ST, model.SVC, model.OWED])
            rows = cast(list[list[str | None]], await pipe.execute())
            out += [cid for cid, (st, svc, owed) in zip(chunk, rows, strict=True)
                    if st == State.LATER and svc == service and owed]
        return out
