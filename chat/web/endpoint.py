"""The receive loop both WebSocket endpoints share: frames in through the protocol core,
commands to ``dispatch``, and every failure answered with one ``error`` frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from chat.errors import ClientError, InternalError, ShuttingDown, Unavailable
from chat.fanout.aio import LazyEvent
from chat.fanout.outbox import Outbox
from chat.protocol import events
from chat.protocol.core import Connection, Rejected, Role
from chat.web.runtime import Runtime

log = logging.getLogger("helseprat.ws")


class Endpoint:
    """What both sides share: the receive loop, error replies, draining."""

    # Thousands of these wait idle at once (youths in a queue): slots, and nothing made up
    # front that most connections never use (docs/benchmarks.md, memory per connection).
    __slots__ = ("_idle", "_log", "conn", "conn_id", "outbox", "rt", "ws")
    role: Role

    def __init__(self, rt: Runtime, ws: WebSocket) -> None:
        self.rt = rt
        self.ws = ws
        self.conn = Connection(self.role, rt.config.limits)
        self.outbox = Outbox(ws)
        self.conn_id = secrets.token_hex(6)  # logs say which connection, never who
        self._idle = LazyEvent(True)
        self._log: logging.LoggerAdapter[logging.Logger] | None = None

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        if self._log is None:
            self._log = logging.LoggerAdapter(log, {"conn": self.conn_id, "role": self.role.value})
        return self._log

    async def run(self) -> None:
        self.rt.connections.add(self)
        try:
            try:
                await self.on_open()
            except (RedisError, OSError) as exc:
                # Storage is away while the socket opens (e.g. every client back at once after
                # a restart): "try again", as for a frame, not a traceback per socket.
                self.log.warning("storage unavailable on open: %s", type(exc).__name__)
                self.outbox.send(events.Error.of(Unavailable()))
                self.outbox.close(1013)
            while self.outbox.close_code is None:
                try:
                    msg = await self.ws.receive()
                except (WebSocketDisconnect, RuntimeError):
                    break
                if msg["type"] == "websocket.disconnect":
                    break
                data = msg.get("text")
                if data is None:
                    data = msg.get("bytes") or b""
                await self._handle(data)
        finally:
            self.rt.connections.discard(self)
            self.outbox.close()
            with contextlib.suppress(Exception):
                await self.on_close()
            await self.outbox.wait_closed()

    async def _handle(self, data: str | bytes) -> None:
        result = self.conn.receive(data, self.rt.clock.monotonic())
        if isinstance(result, Rejected):
            self.outbox.send(events.Error.of(result.error, result.ref))
            if result.fatal:
                self.outbox.close(1008)
            return
        if self.rt.draining:
            self.outbox.send(events.Error.of(ShuttingDown()))
            return
        self._idle.clear()
        try:
            await self.dispatch(result)
        except ClientError as err:
            ref = getattr(result, "cmid", None) or getattr(result, "conversation", None)
            self.outbox.send(events.Error.of(err, ref))
        except (RedisError, OSError) as exc:
            # Storage is away: nothing was acked, so the client resumes and resends elsewhere.
            self.log.warning("storage unavailable: %s", type(exc).__name__)
            self.outbox.send(events.Error.of(Unavailable(), getattr(result, "cmid", None)))
            self.outbox.close(1013)
        except Exception:
            # The log gets the reference, the type and where (chat/server/logs.py keeps the
            # message out); the client gets the reference only.
            ref = secrets.token_hex(4)
            self.log.exception("internal error ref=%s", ref)
            self.outbox.send(events.Error.of(InternalError(), ref))
        finally:
            self._idle.set()

    async def drain(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), 5)
        self.outbox.send(events.Reconnect(reason="server_restart"))
        self.outbox.close(1012)  # service restart

    async def on_open(self) -> None: ...

    async def on_close(self) -> None: ...

    async def dispatch(self, cmd: Any) -> None:
        raise NotImplementedError
