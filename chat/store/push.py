"""Web Push in Redis: sealed subscriptions (opaque base64url text; chat/push/keys.py seals and
opens them), the queue of deliveries and the per-hour count. Deliveries name a conversation id, a nurse's
username, or a logged-in person's lookup tag with a reference of the identity bridge's (an
appointment reminder), and nothing else."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from chat.clock import Clock
from chat.store import names as keys

NURSE_SUBSCRIPTION_DAYS = 90  # a nurse's subscription lapses unless her browser renews it


class PushStore:
    def __init__(self, redis: aioredis.Redis, clock: Clock) -> None:
        self.redis = redis
        self.clock = clock

    # -- subscriptions ------------------------------------------------------------------------
    async def save_youth(self, cid: str, sealed: str) -> bool:
        """Beside the conversation, for as long as it is kept; False if it is gone."""
        ttl = int(await self.redis.pttl(keys.meta(cid)))
        if ttl <= 0:
            return False
        await self.redis.set(keys.push_subscription(cid), sealed, px=ttl)
        return True

    async def youth(self, cid: str) -> str | None:
        return cast(str | None, await self.redis.get(keys.push_subscription(cid)))

    async def forget_youth(self, cid: str) -> None:
        await self.redis.delete(keys.push_subscription(cid))

    async def save_nurse(self, username: str, sealed: str) -> None:
        await self.redis.set(keys.nurse_push(username), sealed,
                             ex=NURSE_SUBSCRIPTION_DAYS * 86_400)

    async def nurse(self, username: str) -> str | None:
        return cast(str | None, await self.redis.get(keys.nurse_push(username)))

    async def nurses_subscribed(self, usernames: tuple[str, ...]) -> list[str]:
        if not usernames:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for u in usernames:
            pipe.exists(keys.nurse_push(u))
        found = await pipe.execute()
        return [u for u, n in zip(usernames, found, strict=True) if int(n)]

    async def forget_nurse(self, username: str) -> None:
        await self.redis.delete(keys.nurse_push(username))

    async def save_owner(self, owner: str, sealed: str, ttl_s: int) -> None:
        await self.redis.set(keys.owner_push(owner), sealed, ex=ttl_s)

    async def owner(self, owner: str) -> str | None:
        return cast(str | None, await self.redis.get(keys.owner_push(owner)))

    async def forget_owner(self, owner: str) -> None:
        await self.redis.delete(keys.owner_push(owner))

    # -- presence, as the rest of the store keeps it -------------------------------------------
    async def youth_online(self, cid: str, service: str) -> bool:
        until = await self.redis.zscore(keys.online(service), cid)
        return until is not None and float(until) > self.clock.now()

    async def dashboard_open(self, username: str, services: tuple[str, ...]) -> bool:
        """A dashboard connection of ``username`` is on duty in one of ``services``."""
        now = self.clock.now()
        pipe = self.redis.pipeline(transaction=False)
        for service in services:
            pipe.zrangebyscore(keys.on_duty(service), now, "+inf")
        members = cast(list[list[str]], await pipe.execute())
        return any(m.split(" ", 1)[0] == username for ms in members for m in ms)

    # -- deliveries ----------------------------------------------------------------------------
    async def enqueue(self, delivery: str, due: float) -> None:
        """Due at ``due`` unless it is queued already (several replies make one notice)."""
        await self.redis.zadd(keys.push_due(), {delivery: due}, nx=True)

    async def schedule(self, delivery: str, due: float) -> None:
        """Due at ``due``, whether it was queued already or not (a reminder moves with its
        appointment)."""
        await self.redis.zadd(keys.push_due(), {delivery: due})

    async def due(self, now: float, limit: int) -> list[str]:
        return cast(list[str], await self.redis.zrangebyscore(
            keys.push_due(), "-inf", now, start=0, num=limit))

    async def postpone(self, delivery: str, due: float, tries: int | None = None) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(keys.push_due(), {delivery: due}, xx=True)
        if tries is not None:
            pipe.hset(keys.push_tries(), delivery, tries)
        await pipe.execute()

    async def tries(self, delivery: str) -> int:
        return int(await self.redis.hget(keys.push_tries(), delivery) or 0)

    async def done(self, delivery: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(keys.push_due(), delivery)
        pipe.hdel(keys.push_tries(), delivery)
        await pipe.execute()

    async def count_sent(self, name: str, hour: int) -> int:
        """One more notice about ``name`` this hour; how many that makes."""
        key = keys.push_sent(name, hour)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 7200)
        n, _ = await pipe.execute()
        return int(n)

    async def sent(self, name: str, hour: int) -> int:
        return int(await self.redis.get(keys.push_sent(name, hour)) or 0)
