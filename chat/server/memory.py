"""Less memory per WebSocket in Hypercorn.

Most of our WebSockets sit idle for long stretches (youths waiting in a queue: the target is
10,000 per web process at <= 30 KB each). For each connection Hypercorn (0.18, asyncio worker)
makes an ``asyncio.Queue`` for the incoming ASGI events and an ``asyncio.Event`` per HTTP/1.1
protocol object. Each of those allocates ``collections.deque``s up front, ~760 bytes apiece
whether anything ever waits or not: five deques, ~3.8 KB per idle connection (measured with
tracemalloc and gc counts; see docs/benchmarks.md).

Hypercorn has no setting for this, so, as with ``chat.server.compression``, we hand it leaner parts
through its own seams, once per process (by chat.app):

* ``WorkerContext.event_class``, the class Hypercorn makes all its events from (its seam for
  trio vs asyncio), becomes ``LeanEvent``: same behaviour, no deque until something waits;
* the TCP server's task group gives a WebSocket's app an ``AppQueue`` instead of an
  ``asyncio.Queue``: the same bounded FIFO (``put`` waits while full, ``get`` while empty,
  cancellation-safe), holding only lists. HTTP requests keep Hypercorn's own queue.

``fewer_full_collections`` is about the other cost of many long-lived connections: the time a
full garbage collection stops the event loop (see its docstring).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from chat.fanout.aio import LazyEvent


class LeanEvent:
    """Hypercorn's ``Event`` protocol (async ``clear``/``set``/``wait``, ``is_set``)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = LazyEvent()

    async def clear(self) -> None:
        self._event.clear()

    async def set(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()

    def is_set(self) -> bool:
        return self._event.is_set()


def _wake_one(waiters: list[asyncio.Future[None]]) -> None:
    while waiters:
        fut = waiters.pop(0)
        if not fut.done():
            fut.set_result(None)
            return


class AppQueue:
    """A bounded FIFO with ``asyncio.Queue``'s ``put`` and ``get`` (``maxsize <= 0``: unbounded)."""

    __slots__ = ("_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = maxsize
        self._items: list[Any] = []
        self._getters: list[asyncio.Future[None]] = []
        self._putters: list[asyncio.Future[None]] = []

    def _full(self) -> bool:
        return 0 < self._maxsize <= len(self._items)

    async def put(self, item: Any) -> None:
        while self._full():
            fut = asyncio.get_running_loop().create_future()
            self._putters.append(fut)
            try:
                await fut
            except BaseException:
                fut.cancel()
                with contextlib.suppress(ValueError):
                    self._putters.remove(fut)
                if not self._full() and not fut.cancelled():
                    _wake_one(self._putters)  # we were woken but will not put: pass it on
                raise
        self._items.append(item)
        _wake_one(self._getters)

    async def get(self) -> Any:
        while not self._items:
            fut = asyncio.get_running_loop().create_future()
            self._getters.append(fut)
            try:
                await fut
            except BaseException:
                fut.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(fut)
                if self._items and not fut.cancelled():
                    _wake_one(self._getters)  # we were woken but will not get: pass it on
                raise
        item = self._items.pop(0)
        _wake_one(self._putters)
        return item


def lean_connections() -> None:
    """Hand Hypercorn ``LeanEvent`` and, for WebSockets, ``AppQueue`` (idempotent)."""
    from hypercorn.asyncio import task_group, tcp_server
    from hypercorn.asyncio.worker_context import WorkerContext
    from hypercorn.config import Config
    from hypercorn.typing import AppWrapper, ASGIReceiveEvent, ASGISendEvent, Scope

    if tcp_server.TaskGroup is not task_group.TaskGroup:  # type: ignore[attr-defined]
        return  # done already

    class LeanTaskGroup(task_group.TaskGroup):
        async def spawn_app(
            self, app: AppWrapper, config: Config, scope: Scope,
            send: Callable[[ASGISendEvent | None], Awaitable[None]],
        ) -> Callable[[ASGIReceiveEvent], Awaitable[None]]:
            if scope["type"] != "websocket":
                return await super().spawn_app(app, config, scope, send)
            # As TaskGroup.spawn_app (hypercorn/asyncio/task_group.py), with an AppQueue.
            app_queue = AppQueue(config.max_app_queue_size)
            loop = self._loop

            def _call_soon(func: Callable[..., Any], *args: Any) -> Any:
                return asyncio.run_coroutine_threadsafe(func(*args), loop).result()

            self.spawn(task_group._handle, app, config, scope, app_queue.get, send,
                       partial(loop.run_in_executor, None), _call_soon)
            return app_queue.put

    WorkerContext.event_class = LeanEvent
    setattr(tcp_server, "TaskGroup", LeanTaskGroup)  # noqa: B010 - a module global


def fewer_full_collections(gen0: int = 10_000) -> None:
    """Raise the garbage collector's first threshold (CPython's default: 700).

    Each idle WebSocket keeps ~140 objects the collector tracks; at 10,000 connections a full
    collection takes ~1 s on the benchmark machine, with the event loop stopped. CPython runs
    one whenever a quarter more objects have reached the oldest generation since the last one,
    and with a threshold of 700 the short-lived objects of every queue update (a frame, a writer
    task per waiting youth) are caught alive by young collections and promoted: the idle
    benchmark saw a full collection every few seconds at 10,000 (22 in one run, up to 1.6 s
    each). With 10,000 they mostly die young, as they should. Young collections look at up to
    ``gen0`` objects (a few ms); cyclic garbage waits at most that many allocations longer.
    """
    threshold = gc.get_threshold()
    if threshold[0] < gen0:
        gc.set_threshold(gen0, *threshold[1:])
