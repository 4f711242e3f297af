"""The receive loop both WebSocket endpoints share: frames in through the protocol core,
commands to ``dispatch``, and every failure answered with one ``error`` frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from redis.exceptions import OutOfMemoryError, RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from chat.errors import ClientError, InternalError, ShuttingDown, StorageFull, Unavailable
from chat.fanout.aio import LazyEvent
from chat.fanout.outbox import Outbox
from chat.metrics import registry as metrics
from chat.protocol import events
from chat.protocol.core import Connection, Rejected, Role
from chat.web.http import error_response
from chat.web.runtime import Runtime

log = logging.getLogger("helseprat.ws")

# An anonymous socket that has not said what it wants in time is closed with this code
# (docs/protocol.md): open sockets cost memory, and opening them costs an attacker nothing.
FIRST_FRAME_TIMEOUT = 4408


class Endpoint:
    """What both sides share: the receive loop, error replies, draining."""

    # Thousands of these wait idle at once (youths in a queue): slots, and nothing made up
    # front that most connections never use (docs/benchmarks.md, memory per connection).
    __slots__ = ("_idle", "_log", "conn", "conn_id", "outbox", "rt", "ws")
    role: Role
    first_frame_timed = False  # the youth side: anonymous, and it speaks first

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
        if self.rt.draining:
            # Accepted just as the drain began, after it had listed the sockets to tell: tell
            # this one now, or it would sit answering shutting_down until the drain is over.
            self.go_elsewhere()
            await self.outbox.wait_closed()
            return
        self.rt.connections.add(self)  # no await since the check: the drain will see it
        metrics.socket_opened(self.role.value)
        try:
            try:
                await self.on_open()
            except (RedisError, OSError) as exc:
                metrics.redis_error(exc)
                # Storage is away while the socket opens (e.g. every client back at once after
                # a restart): "try again", as for a frame, not a traceback per socket.
                self.log.warning("storage unavailable on open: %s", type(exc).__name__)
                self.outbox.send(events.Error.of(Unavailable()))
                self.outbox.close(1013)
            first = self.rt.config.limits.first_frame_seconds if self.first_frame_timed else None
            while self.outbox.close_code is None:
                try:
                    if first is None:
                        msg = await self.ws.receive()
                    else:
                        msg = await asyncio.wait_for(self.ws.receive(), first)
                        first = None
                except TimeoutError:
                    self.log.info("no first frame in time")
                    self.outbox.close(FIRST_FRAME_TIMEOUT)
                    break
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
            metrics.socket_closed(self.role.value)
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
        except OutOfMemoryError as exc:
            metrics.redis_error(exc)
            # Redis is at its maxmemory (noeviction): the write was refused whole and nothing
            # was acked. Say so and keep the socket: a reconnect would only resend into it.
            self.log.warning("storage full: Redis refused a write (maxmemory)")
            self.outbox.send(events.Error.of(StorageFull(), getattr(result, "cmid", None)))
        except (RedisError, OSError) as exc:
            metrics.redis_error(exc)
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
        self.go_elsewhere()

    def go_elsewhere(self) -> None:
        self.outbox.send(events.Reconnect(reason="server_restart"))
        self.outbox.close(1012)  # service restart

    async def on_open(self) -> None: ...

    async def on_close(self) -> None: ...

    async def dispatch(self, cmd: Any) -> None:
        raise NotImplementedError


async def refused_while_draining(rt: Runtime, ws: WebSocket) -> bool:
    """A draining process takes no new socket: the handshake is answered 503 shutting_down,
    which a balancer passes on to another process (nginx: ``proxy_next_upstream http_503``)
    and a page retries. Accepted, it would be told only to go away again."""
    if not rt.draining:
        return False
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(error_response(ShuttingDown()))
    else:  # a server without the denial extension: a refused handshake all the same
        await ws.close(1012)
    return True
