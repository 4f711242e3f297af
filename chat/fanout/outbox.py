"""A bounded send queue per WebSocket, drained by a writer task while there is something to send.

Fan-out never awaits a slow socket: it puts the frame here and moves on. A client that falls
more than ``maxsize`` frames behind is disconnected (back-pressure); it resumes from its last
sequence on reconnect, so nothing is lost, and one slow phone cannot hold memory hostage.

An idle outbox holds no queue and no task: the writer task starts with the first frame put
while none is running and ends once everything put is written (most connections are idle;
memory per idle socket: docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from starlette.websockets import WebSocket, WebSocketState

from chat.metrics import registry as metrics
from chat.protocol.events import Event, encode

T = TypeVar("T")


class EncodedOnce:
    """The frame text of the object last encoded, for every other socket sent the same object.

    The hub hands one queue view to every dashboard of a service in a loop turn, and the
    dashboards share one board read: encoding it again for each of them was, with many
    dashboards open, most of what a queue change cost (docs/benchmarks.md, the reconnect storm).
    Keyed by identity: a new view or board is a new object."""

    __slots__ = ("_frame", "_of")

    def __init__(self) -> None:
        self._of: object = None
        self._frame = ""

    def frame(self, of: T, event: Callable[[T], Event]) -> str:
        """``event(of)``'s frame text, encoded only when ``of`` is not the object last asked for."""
        if of is not self._of:
            self._of, self._frame = of, encode(event(of))
        return self._frame


class Outbox:
    __slots__ = ("_finished", "_maxsize", "_pending", "_writer", "_ws", "close_code")

    def __init__(self, ws: WebSocket, maxsize: int = 1024) -> None:
        self._ws = ws
        self._maxsize = maxsize
        # Frames put and not yet taken by the writer; a timed one (a live deliver) with the
        # moment it was put, for the relay histogram (chat/metrics/registry.py)
        self._pending: deque[str | tuple[str, float]] | None = None
        self._writer: asyncio.Task[None] | None = None  # while there is something to write
        self._finished = False  # the socket was closed (or writing failed): nothing more to write
        self.close_code: int | None = None

    def put(self, frame: str, since: float = 0.0) -> None:
        """Queue ``frame`` (never awaits); frames are written in the order they were put.
        ``since``: a live message's frame, put at that ``metrics.monotonic()``; its relay time
        is observed once it is written."""
        if self.close_code is not None:
            return
        if self._writer is None and not self._finished:
            self._writer = asyncio.create_task(self._write(frame, since))  # the writer takes it
            return
        pending = self._pending
        if pending is None:
            self._pending = pending = deque()
        elif len(pending) >= self._maxsize:
            self.close(1013)  # try again later
            return
        pending.append((frame, since) if since else frame)

    def send(self, event: Event) -> None:
        """Queue ``event``, encoded (see ``put``)."""
        self.put(encode(event))

    def close(self, code: int = 1000) -> None:
        """Write what is queued, then close the socket with ``code``; frames put later are
        dropped. A client that is (nearly) a full queue behind is closed without them."""
        if self.close_code is not None:
            return
        self.close_code = code
        pending = self._pending
        if pending is not None and len(pending) >= self._maxsize - 1:
            # Drop pending frames: the client resumes from its last sequence anyway.
            pending.clear()
        if self._writer is None and not self._finished:
            self._writer = asyncio.create_task(self._write(None))

    async def wait_closed(self) -> None:
        """After ``close()``: until the queued frames are written and the socket is closed."""
        writer = self._writer
        if writer is not None:
            await writer

    async def _write(self, frame: str | None, since: float = 0.0) -> None:
        ws = self._ws
        idle = False
        try:
            if frame is not None:
                await ws.send_text(frame)
                if since:
                    metrics.relayed(since)
            while pending := self._pending:
                item = pending.popleft()
                if isinstance(item, str):
                    await ws.send_text(item)
                else:
                    await ws.send_text(item[0])
                    metrics.relayed(item[1])
            idle = self.close_code is None
        except (OSError, RuntimeError):
            pass
        finally:
            if idle:  # all written: an idle outbox holds neither a queue nor a task
                self._pending = None
                self._writer = None
            else:  # closed, failed or cancelled: close the socket; this task stays, for wait_closed
                self._finished = True
                if ws.application_state is WebSocketState.CONNECTED:
                    with contextlib.suppress(OSError, RuntimeError):
                        await ws.close(self.close_code or 1000)
