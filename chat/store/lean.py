"""A non-transactional pipeline that costs less per execution than redis-py's own.

redis-py 8's ``Pipeline.execute`` does more per call than sending the commands and reading the
replies: script and HIMPORT bookkeeping, observability records before and after, closures for
its retry. For the store's coalescers, which execute a pipeline for every batch (one per append
at a few hundred messages a second), that was ~45 µs of CPU per execution on this machine,
about as much again as packing, writing and reading (docs/benchmarks.md). ``LeanPipeline``
queues commands exactly as ``Pipeline`` does (it is one) and executes them the plain way: one
pooled connection, one write, every reply read in order (an error reply is that command's
result), the whole batch retried as redis-py retries it on a connection error. No WATCH, no
MULTI, no client-side scripts: ``execute`` refuses a pipeline that asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError, ResponseError

Stack = list[tuple[tuple[Any, ...], Mapping[str, Any]]]


class LeanPipeline(Pipeline):
    @classmethod
    def of(cls, redis: aioredis.Redis) -> LeanPipeline:
        """A pipeline on ``redis``'s pool (as ``redis.pipeline(transaction=False)``)."""
        return cls(redis.connection_pool, redis.response_callbacks, False, None)

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack, self.command_stack = self.command_stack, []
        if self.is_transaction or self.explicit_transaction or self.watching or self.scripts:
            raise RedisError("LeanPipeline runs plain commands only (no MULTI, WATCH or Script)")
        if not stack:
            return []
        pool = self.connection_pool
        conn = cast(Connection, await pool.get_connection())  # type: ignore[no-untyped-call]
        try:
            replies: list[Any] = await conn.retry.call_with_retry(
                lambda: self._send(conn, stack), lambda _error: conn.disconnect())
        finally:
            await pool.release(conn)
        if raise_on_error:
            self.raise_first_error(stack, replies)
        return replies

    async def _send(self, conn: Connection, stack: Stack) -> list[Any]:
        await conn.send_packed_command(conn.pack_commands([args for args, _ in stack]))
        replies: list[Any] = []
        for args, options in stack:
            try:
                replies.append(await self.parse_response(conn, args[0], **options))
            except ResponseError as exc:  # read whole: the connection stays in step
                replies.append(exc)
        return replies
