"""Redis commands issued in the same event-loop turn leave as one pipeline.

After a restart every client comes back at once: thousands of connections each read their
conversation (HGETALL), history (XRANGE) and so on, one command at a time. redis-py spends
far more per command (a pool checkout, a socket write, a read, and its bookkeeping) than Redis
does, so ``Coalescer`` gathers what the connections ask for in one turn of the loop and sends
it as one pipeline (no transaction: the commands are independent) in the next turn. Each caller
still gets its own reply, or its own error. An idle server sends a pipeline of one at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

Queue = Callable[[Pipeline], object]  # puts one command on the pipeline (e.g. p.hgetall(key))


class Coalescer:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._pending: list[tuple[Queue, asyncio.Future[Any]]] = []
        self._running: set[asyncio.Task[None]] = set()

    def call(self, queue: Queue) -> asyncio.Future[Any]:
        """The reply to the command ``queue`` puts on a pipeline (parsed as redis-py parses it)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)  # after everything else that runs in this turn
        self._pending.append((queue, fut))
        return fut

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._run(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Queue, asyncio.Future[Any]]]) -> None:
        try:
            pipe = self._redis.pipeline(transaction=False)
            for queue, _ in batch:
                queue(pipe)
            results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for _, fut in batch:
                if fut.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    fut.cancel()
                else:
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, fut), result in zip(batch, results, strict=True):
            if fut.done():  # the caller went away
                continue
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result)
