"""Less memory per idle WebSocket in Hypercorn: a ``LeanEvent`` for its events and, for
WebSockets, an ``AppQueue`` for the app's incoming events, handed in through Hypercorn's own
seams once per process (by chat.app). Why and how much: docs/benchmarks.md, "Why the code is
shaped this way"."""

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
    """Raise the garbage collector's first threshold (CPython's default: 700), so the
    short-lived objects of queue updates die young instead of setting off full collections
    that stop the loop for ~1 s at 10,000 sockets (docs/benchmarks.md)."""
    threshold = gc.get_threshold()
    if threshold[0] < gen0:
        gc.set_threshold(gen0, *threshold[1:])
