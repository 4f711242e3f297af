"""The record a split move keeps of itself on a Redis Cluster (chat/store/clustered.py), so
that a step lost between two others can be found and repaired without SCAN
(chat/jobs/repair.py).

A move writes its members in its service's moves under way (``keys.moves``) before the
conversation's own step, and its last step — a MULTI on the service's slot — removes them.
That MULTI also reads the record first: if another move of the conversation began since, the
two moves' list updates may have crossed (the earlier move's landing last), so the record is
put back for the repair sweep to check against the hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from chat.clock import Clock
from chat.store import names as keys
from chat.store.lua import Scripts


@dataclass(frozen=True)
class Record:
    """One move's entry in one service's moves under way."""

    service: str
    members: tuple[str, ...]  # the conversation's, then its nurses' (keys.move_members)
    began: float


class MoveRecords:
    def __init__(self, redis: aioredis.Redis, scripts: Scripts, clock: Clock) -> None:
        self.redis = redis
        self.scripts = scripts
        self.clock = clock

    async def begin(self, service: str, cid: str, *nurses: str) -> Record:
        """Before the conversation's step: the move is under way in ``service``, and may
        change these nurses' slot sets."""
        record = Record(service, tuple(keys.move_members(cid, *nurses)), self.clock.now())
        await self.redis.zadd(keys.moves(service), dict.fromkeys(record.members, record.began))
        return record

    @staticmethod
    def end_commands(record: Record) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The last two commands of the move's last MULTI: read the record, then remove it."""
        moves = keys.moves(record.service)
        return ("ZSCORE", moves, record.members[0]), ("ZREM", moves, *record.members)

    @staticmethod
    def end(pipe: Any, record: Record) -> None:
        for command in MoveRecords.end_commands(record):
            pipe.execute_command(*command)

    async def ended(self, record: Record, replies: list[Any]) -> None:
        """After that MULTI: if the record it read was not this move's, another move of the
        conversation began since, and their list updates may have crossed. The record is put
        back (with the other move's time, if it is still under way: its own end removes it)
        for the repair sweep to check."""
        seen = replies[-2]
        if seen is not None and float(seen) == record.began:
            return
        at = record.began if seen is None else float(seen)
        await self.redis.zadd(keys.moves(record.service), dict.fromkeys(record.members, at),
                              nx=True)

    async def forget(self, record: Record) -> None:
        """A refused move: its record goes, unless another move of the conversation has begun
        since (whose record it now is)."""
        await self.scripts.move_swap([keys.moves(record.service)],
                                     [record.members[0], record.began, "", *record.members[1:]])
