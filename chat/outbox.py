"""A bounded send queue per WebSocket, drained by one writer task.

Fan-out never awaits a slow socket: it puts the frame here and moves on. A client that falls
more than ``maxsize`` frames behind is disconnected (back-pressure); it resumes from its last
sequence on reconnect, so nothing is lost, and one slow phone cannot hold memory hostage.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.websockets import WebSocket, WebSocketState

CLOSE = object()


class Outbox:
    def __init__(self, ws: WebSocket, maxsize: int = 1024) -> None:
        self._ws = ws
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self.close_code: int | None = None

    def put(self, frame: str) -> None:
        if self.close_code is not None:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(1013)  # try again later

    def close(self, code: int = 1000) -> None:
        if self.close_code is not None:
            return
        self.close_code = code
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(CLOSE)
        if self._queue.full():
            # Drop pending frames: the client resumes from its last sequence anyway.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(CLOSE)

    async def run(self) -> None:
        ws = self._ws
        try:
            while True:
                item = await self._queue.get()
                if item is CLOSE:
                    break
                assert isinstance(item, str)
                await ws.send_text(item)
        except (OSError, RuntimeError):
            return
        finally:
            if ws.application_state is WebSocketState.CONNECTED:
                with contextlib.suppress(OSError, RuntimeError):
                    await ws.close(self.close_code or 1000)
