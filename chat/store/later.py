"""Answer-later reads: the service's answer-later list (what the nurses' dashboards show) and
its later conversations (what the later sweep closes when idle). The moves are scripts in
chat/store/conversations.py (later.lua, and claim/close/append)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from chat.domain import conversation as model
from chat.domain.conversation import State, returning
from chat.store import names as keys
from chat.store.queues import RETURNING_READS, QueueStore


@dataclass(frozen=True)
class LaterItem:
    conversation: str
    owed: int  # the youth's oldest unanswered message (unix seconds)
    returning: str  # see chat.domain.conversation.returning ("" past the first items)


class LaterStore(QueueStore):
    async def later_items(self, service: str) -> list[LaterItem]:
        """The answer-later list, oldest owed first. The first items are read for
        ``returning``; entries of conversations gone meanwhile (expired) are dropped."""
        raw = cast(list[tuple[str, float]], await self.redis.zrange(
            keys.later_queue(service), 0, -1, withscores=True))
        head = [cid for cid, _ in raw[:RETURNING_READS]]
        pipe = self.redis.pipeline(transaction=False)
        for cid in head:
            pipe.hmget(keys.meta(cid), [model.ST, *model.RETURNING_FIELDS])
        rows = cast(list[list[str | None]], await pipe.execute()) if head else []
        facts: dict[str, str] = {}
        stale: list[str] = []
        for cid, (st, *fields) in zip(head, rows, strict=True):
            if st != State.LATER:
                stale.append(cid)
                continue
            facts[cid] = returning(*(v or "" for v in fields))
        if stale:
            await self.redis.zrem(keys.later_queue(service), *stale)
        return [LaterItem(cid, int(score), facts.get(cid, "")) for cid, score in raw
                if cid not in stale]

    async def later_idle(self, service: str, before: float) -> list[str]:
        """Later conversations last seen active at or before ``before`` (candidates for the
        later sweep, which reads each one's real last activity)."""
        return cast(list[str], await self.redis.zrangebyscore(
            keys.later_all(service), "-inf", before))

    async def later_seen(self, service: str, cid: str, last: int) -> None:
        """Its last activity is ``last``: look at it again only once that is old (XX: an entry
        removed meanwhile by a claim or close is not made again)."""
        await self.redis.zadd(keys.later_all(service), {cid: last}, xx=True)

    async def forget_later(self, service: str, cids: list[str]) -> None:
        """Drop entries of conversations that are gone (expired) or no longer later."""
        if cids:
            pipe = self.redis.pipeline(transaction=False)
            pipe.zrem(keys.later_all(service), *cids)
            pipe.zrem(keys.later_queue(service), *cids)
            await pipe.execute()
