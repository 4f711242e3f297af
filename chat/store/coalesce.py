"""Redis commands issued in the same event-loop turn leave as one pipeline.

After a restart every client comes back at once: thousands of connections each read their
conversation (HGETALL), history (XRANGE) and so on, one command at a time. redis-py spends
far more per command (a pool checkout, a socket write, a read, and its bookkeeping) than Redis
does, so ``Coalescer`` gathers what the connections ask for in one turn of the loop and sends
it as one pipeline (no transaction: the commands are independent) in the next turn. Each caller
still gets its own reply, or its own error. An idle server sends a pipeline of one at once.

The same holds for message appends under relay load, with two limits (``depth`` pipelines in
flight, ``spacing`` seconds between them): while one is on its way, the appends that arrive
meanwhile wait and leave together as the next one, so a busy server makes one socket write for
many (a loopback write costs ~20 µs of CPU here; a millisecond is nothing to a chat message).

A ``barrier`` (the appends' WAIT for replicas, chat/store/replicas.py) goes between the commands
of a pipeline and what their callers asked to follow them (each append's publish): one WAIT per
pipeline, however many appends it carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

Queue = Callable[[Pipeline], object]  # puts one command on the pipeline (e.g. p.hgetall(key))
PipelineFactory = Callable[[aioredis.Redis], Pipeline]  # a non-transactional pipeline on it


class Barrier(Protocol):
    def queue(self, pipe: Pipeline) -> None:
        """Put the one command that goes between the calls and what follows them."""

    def settle(self, answer: object) -> None:
        """Its answer (or the error instead)."""


class Coalescer:
    """``depth``: pipelines in flight at once (None: no limit); ``spacing``: seconds between
    pipelines while busy (0: one per loop turn); ``barrier``: a command between the calls and
    what follows them, in each pipeline; ``pipeline``: how a batch's pipeline is made (default:
    redis-py's own, ``redis.pipeline(transaction=False)``)."""

    def __init__(self, redis: aioredis.Redis, depth: int | None = None,
                 spacing: float = 0.0, barrier: Barrier | None = None,
                 pipeline: PipelineFactory | None = None) -> None:
        self._redis = redis
        self._pipeline = pipeline
        self._depth = depth
        self._spacing = spacing
        self._barrier = barrier
        self._pending: list[tuple[Queue, Queue | None, asyncio.Future[Any]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self._last_flush = 0.0

    def call(self, queue: Queue, after: Queue | None = None) -> asyncio.Future[Any]:
        """The reply to the command ``queue`` puts on a pipeline (parsed as redis-py parses it);
        with ``after`` (a command for after the barrier) the pair of both replies, the second
        one's error as a value."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending.append((queue, after, fut))
        if not self._scheduled and (self._depth is None or len(self._running) < self._depth):
            self._schedule(loop)
        return fut

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = True
        wait = self._last_flush + self._spacing - loop.time()
        if wait > 0:
            loop.call_later(wait, self._flush)
        else:
            loop.call_soon(self._flush)  # after everything else that runs in this turn

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        self._last_flush = asyncio.get_running_loop().time()
        task = asyncio.create_task(self._run(batch))
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._pending and not self._scheduled:  # what waited while the depth was full
            self._schedule(asyncio.get_running_loop())

    async def _run(self, batch: list[tuple[Queue, Queue | None, asyncio.Future[Any]]]) -> None:
        try:
            pipe = (self._redis.pipeline(transaction=False) if self._pipeline is None
                    else self._pipeline(self._redis))
            for queue, _, _ in batch:
                queue(pipe)
            if self._barrier is not None:
                self._barrier.queue(pipe)
            for _, after, _ in batch:
                if after is not None:
                    after(pipe)
            results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for _, _, fut in batch:
                if fut.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    fut.cancel()
                else:
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        n = len(batch)
        rest = iter(results[n:])
        if self._barrier is not None:
            self._barrier.settle(next(rest))
        for (_, after, fut), result in zip(batch, results[:n], strict=True):
            followed = next(rest) if after is not None else None
            if fut.done():  # the caller went away
                continue
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result if after is None else (result, followed))
