"""Helpers for driving the outbox worker in tests and scanning Redis for leaks."""

from __future__ import annotations

import redis.asyncio as aioredis

from identity_bridge.epj.outbox import Status
from identity_bridge.epj.worker import OutboxWorker


async def drive(worker: OutboxWorker, msg_id: str, until: set[Status],
                max_steps: int = 300) -> Status:
    """Step the worker (read, send, poll receipts) until the status is one of ``until``.

    A bound on steps, not a timed assertion: each step blocks at most ``block_ms``.
    """
    for _ in range(max_steps):
        await worker.step()
        await worker.poll_receipts()
        status = await worker.status.get(msg_id)
        if status in until:
            return status
    raise AssertionError(f"status never reached {until}: {await worker.status.get(msg_id)}")


async def redis_dump(redis: aioredis.Redis) -> bytes:
    """Every value of every key, read per type (DUMP may compress, hiding a match)."""
    out: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        out.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            out.append(await redis.get(key) or b"")
        elif kind == "hash":
            for k, v in (await redis.hgetall(key)).items():  # type: ignore[misc]
                out += [k, v]
        elif kind == "stream":
            for _id, fields in await redis.xrange(key):
                for k, v in fields.items():
                    out += [k, v]
        elif kind == "list":
            out += await redis.lrange(key, 0, -1)  # type: ignore[misc]
        elif kind == "set":
            out += list(await redis.smembers(key))  # type: ignore[misc]
        elif kind == "zset":
            out += [m for m, _ in await redis.zrange(key, 0, -1, withscores=True)]
    return b"\n".join(out)
