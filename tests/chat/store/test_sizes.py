"""The queue lengths a scrape reads, on a real Redis: the queue and the answer-later list of
each service asked for, by their names in chat/store/names.py."""

from __future__ import annotations

import redis.asyncio as aioredis

from chat.store import names as keys
from chat.store.sizes import queue_lengths


async def test_waiting_and_later_per_service(redis_client: aioredis.Redis) -> None:
    await redis_client.zadd(keys.queue("a"), {"c1": 1, "c2": 2, "c3": 3})
    await redis_client.zadd(keys.later_queue("a"), {"c4": 4})
    await redis_client.zadd(keys.later_all("a"), {"c4": 4, "c5": 5})  # not the answer-later list
    await redis_client.zadd(keys.later_queue("b"), {"c6": 6, "c7": 7})
    assert await queue_lengths(redis_client, ["a", "b", "none"]) == {
        "a": (3, 1), "b": (0, 2), "none": (0, 0)}
    assert await queue_lengths(redis_client, []) == {}
