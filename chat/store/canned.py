"""Canned replies per service, kept by leads. Staff texts, not youth content: stored in clear.

The nurse's browser inserts one into the composer; it is then sealed like any other message.
"""

from __future__ import annotations

import secrets
from typing import cast

import redis.asyncio as aioredis

from chat.store import names as keys

MAX_TEXT = 1000
MAX_PER_SERVICE = 100


class Canned:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def list(self, service: str) -> list[dict[str, str]]:
        raw = cast(dict[str, str], await self.redis.hgetall(keys.canned(service)))
        # Ids start with a time-ordered prefix, so sorting by id keeps the order they were added.
        return [{"id": k, "text": v} for k, v in sorted(raw.items())]

    async def add(self, service: str, text: str, now: float) -> str | None:
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            return None
        if await self.redis.hlen(keys.canned(service)) >= MAX_PER_SERVICE:
            return None
        cid = f"{int(now * 1000):013d}{secrets.token_hex(3)}"
        await self.redis.hset(keys.canned(service), cid, text)
        return cid

    async def remove(self, service: str, cid: str) -> bool:
        return bool(await self.redis.hdel(keys.canned(service), cid))
