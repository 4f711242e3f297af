"""Colleagues a conversation's holder asks in (helpers.lua): the invitation, the join, the
leave, and the clearing away once the holder's tenure is over.

The places live in the conversation's own hash (its hash tag, one slot on Redis Cluster); the
invitee's list of invitations is a hash on her slot, written after the conversation's step
(a crash between them leaves an invitation her dashboard shows and the join refuses, or one
the conversation holds and her dashboard does not show: both harmless).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from chat.domain.conversation import State
from chat.store import names as keys
from chat.store.coalesce import Coalescer
from chat.store.lua import Scripts

# An invitation not answered within a day is no longer shown (the tenure it belongs to is
# most likely over by then anyway).
INVITE_TTL = 86_400


@dataclass(frozen=True)
class Line:
    """The line a join or leave puts in the conversation's log, as ``deliver`` (from
    ``system``): ``code`` (its ``cmid``), the helper's display name, when, and the frame split
    around its sequence number."""

    code: str
    name: str
    ts: int
    ttl: int
    prefix: str
    suffix: str


@dataclass(frozen=True)
class HelperReply:
    """1 done (``seq``: the line's, or 0 when none was written); 0 refused in ``state``;
    -1 no such conversation; -3 not the holder / not invited / not joined; -4 already in."""

    status: int
    seq: int = 0
    state: State | None = None


def _reply(raw: Any) -> HelperReply:
    items = [x.decode() if isinstance(x, bytes) else str(x) for x in cast(list[Any], raw)]
    status = int(items[0])
    if status == 1:
        return HelperReply(1, int(items[1]))
    if status == 0:
        return HelperReply(0, state=State(items[1]))
    return HelperReply(status)


class HelperStore:
    """``sharded``: a Redis Cluster, where a conversation's events go by sharded pub/sub.
    ``reads``: the store's read coalescer, for what every dashboard reads when it opens and on
    every change of its service's queue (chat/store/dashboard.py says why)."""

    def __init__(self, redis: aioredis.Redis, scripts: Scripts, sharded: bool,
                 reads: Coalescer) -> None:
        self.redis = redis
        self.scripts = scripts
        self.sharded = sharded
        self.reads = reads

    async def _run(self, cid: str, op: str, nurse: str, invitee: str = "",
                   line: Line | None = None) -> HelperReply:
        args: list[str | int | float] = [op, nurse, invitee, State.ACTIVE, State.CLOSED]
        if line is not None:
            args += [line.code, line.name, line.ts, line.ttl, keys.conversation_channel(cid),
                     line.prefix, line.suffix, "1" if self.sharded else ""]
        return _reply(await self.scripts.helpers([keys.meta(cid), keys.log(cid)], args))

    async def invite(self, cid: str, holder: str, invitee: str) -> HelperReply:
        reply = await self._run(cid, "invite", holder, invitee)
        if reply.status == 1:
            key = keys.nurse_invites(invitee)
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(key, cid, holder)
            pipe.expire(key, INVITE_TTL)
            await pipe.execute()
        return reply

    async def join(self, cid: str, helper: str, line: Line) -> HelperReply:
        reply = await self._run(cid, "join", helper, line=line)
        pipe = self.redis.pipeline(transaction=False)
        # Answered either way: joined, or the invitation no longer holds.
        pipe.hdel(keys.nurse_invites(helper), cid)
        if reply.status == 1:
            pipe.hset(keys.nurse_helping(helper), cid, "1")
            pipe.expire(keys.nurse_helping(helper), line.ttl)
        await pipe.execute()
        return reply

    async def leave(self, cid: str, helper: str, line: Line) -> HelperReply:
        reply = await self._run(cid, "leave", helper, line=line)
        await self.redis.hdel(keys.nurse_helping(helper), cid)
        return reply

    async def clear(self, cid: str, helpers: tuple[str, ...], invited: tuple[str, ...]) -> int:
        """Remove every helper and invitation of ``cid`` (how many fields went)."""
        reply = await self._run(cid, "clear", "")
        pipe = self.redis.pipeline(transaction=False)
        for username in helpers:
            pipe.hdel(keys.nurse_helping(username), cid)
        for username in invited:
            pipe.hdel(keys.nurse_invites(username), cid)
        await pipe.execute()
        return reply.seq

    async def helping(self, username: str) -> list[str]:
        """The conversations ``username`` joined (some may have ended since)."""
        key = keys.nurse_helping(username)
        return sorted(cast(dict[str, str], await self.reads.call(lambda p: p.hgetall(key))))

    async def forget_helping(self, username: str, cid: str) -> None:
        await self.redis.hdel(keys.nurse_helping(username), cid)

    async def invitations(self, username: str) -> dict[str, str]:
        """The conversations ``username`` was asked to join: conversation -> who asked."""
        key = keys.nurse_invites(username)
        return cast(dict[str, str], await self.reads.call(lambda p: p.hgetall(key)))

    async def decline(self, username: str, cid: str) -> None:
        await self.redis.hdel(keys.nurse_invites(username), cid)
