"""How many conversations wait, read for ``GET /metrics`` (chat/metrics/registry.py): per
service the queue (``names.queue``) and the answer-later list (``names.later_queue``). Two ZCARDs
per configured service in one pipelined round trip per scrape, nothing per message."""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as aioredis

from chat.store import names as keys


async def queue_lengths(redis: aioredis.Redis, services: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Each service's (waiting, later) conversation count."""
    ids = list(services)
    pipe = redis.pipeline(transaction=False)
    for service in ids:
        pipe.zcard(keys.queue(service))
        pipe.zcard(keys.later_queue(service))
    raw = await pipe.execute() if ids else []
    return {service: (int(raw[2 * i]), int(raw[2 * i + 1])) for i, service in enumerate(ids)}
