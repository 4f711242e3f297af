"""Small asyncio primitives for per-connection state, where thousands of idle copies add up."""

from __future__ import annotations

import asyncio


class LazyEvent:
    """``asyncio.Event``'s ``set``/``clear``/``is_set``/``wait``, holding no waiter queue until
    something waits (an ``asyncio.Event`` allocates a deque of ~760 bytes up front)."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, None
        for fut in waiters or ():
            if not fut.done():
                fut.set_result(None)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(fut)
        try:
            await fut
        finally:
            waiters = self._waiters
            if waiters is not None and fut in waiters:
                waiters.remove(fut)
                if not waiters:
                    self._waiters = None
        return True
