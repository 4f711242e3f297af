"""A floor: the same frames relayed in memory by a Starlette app on Hypercorn, as the server runs.

The ceiling (bench/ceiling.py) is the least a relay can do in Python on raw ``websockets``; the
floor is the least a relay can do on the server's own stack: Hypercorn (same settings as
``helseprat serve``, chat/server/serving.py), wsproto, Starlette, uvloop, with the server's Hypercorn
adjustments (chat/server/serving.py: permessage-deflate declined, lean per-connection events and queues,
fewer full collections, a close for unparsable frames). What the server spends per message
above this is what helseprat adds (Redis, durability, schema, auth, fan-out); what the floor
spends above the ceiling is what Hypercorn and Starlette cost.

No Redis, no crypto checks, no schema, no auth: start/resume → started/state/queue,
claim/open → claimed/state/history/history_end, send → ack to the sender and deliver to the
other side (the server's frames, docs/protocol.md), ping → pong. Each socket writes through one
ordered writer (as the server's outbox), so a conversation's frames leave in sequence order.

    python -m bench.floor --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Writer:
    """Frames for one socket, written in the order put by one task while there are any."""

    __slots__ = ("pending", "task", "ws")

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.pending: deque[str] = deque()
        self.task: asyncio.Task[None] | None = None

    def put(self, frame: str) -> None:
        self.pending.append(frame)
        if self.task is None:
            self.task = asyncio.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self.pending:
                await self.ws.send_text(self.pending.popleft())
        except Exception:  # closed under us (OSError, RuntimeError, WebSocketDisconnect)
            self.pending.clear()
        finally:
            self.task = None


@dataclass(eq=False)
class Conv:
    cid: str
    token: str
    key_bundle: str
    state: str = "waiting"
    seq: int = 0
    log: list[str] = field(default_factory=list)  # delivered frames; seq = index + 1
    subs: set[Writer] = field(default_factory=set)


class Relay:
    def __init__(self) -> None:
        self.convs: dict[str, Conv] = {}

    def send(self, conv: Conv, role: str, f: dict[str, Any], sender: Writer) -> None:
        """Deliver to every other socket of the conversation, ack to the sender, in one turn."""
        conv.seq += 1
        ts = int(time.time())
        frame = _dumps({"v": 1, "type": "deliver", "seq": conv.seq, "conversation": conv.cid,
                        "from": role, "sender": role, "cmid": f["cmid"], "body": f["body"], "ts": ts})
        conv.log.append(frame)
        for w in conv.subs:
            if w is not sender:
                w.put(frame)
        sender.put(_dumps({"v": 1, "type": "ack", "cmid": f["cmid"], "seq": conv.seq,
                           "conversation": conv.cid, "duplicate": False, "ts": ts}))

    def youth(self, out: Writer, conv: Conv | None, f: dict[str, Any]) -> Conv | None:
        kind = f["type"]
        if kind == "start":
            cid = secrets.token_urlsafe(16)
            conv = Conv(cid, secrets.token_urlsafe(32), f.get("key_bundle", ""))
            self.convs[cid] = conv
            conv.subs.add(out)
            out.put(_dumps({"v": 1, "type": "started", "conversation": cid, "token": conv.token,
                            "service": f["service"]}))
            out.put(_dumps({"v": 1, "type": "state", "conversation": cid, "state": conv.state}))
            out.put(_dumps({"v": 1, "type": "queue", "conversation": cid, "position": 1, "waiting": 1,
                            "expected_wait_s": None}))
        elif kind == "resume":
            conv = self.convs[f["conversation"]]
            conv.subs.add(out)
            out.put(_dumps({"v": 1, "type": "state", "conversation": conv.cid, "state": conv.state}))
            for frame in conv.log[f["after"]:]:
                out.put(frame)
        elif kind == "send" and conv is not None:
            self.send(conv, "youth", f, out)
        elif kind == "ping":
            out.put('{"v":1,"type":"pong"}')
        return conv

    def nurse(self, out: Writer, mine: set[Conv], f: dict[str, Any]) -> None:
        kind = f["type"]
        if kind in ("claim", "open"):
            conv = self.convs[f["conversation"]]
            if kind == "claim":
                conv.state = "active"
                out.put(_dumps({"v": 1, "type": "claimed", "conversation": conv.cid}))
            conv.subs.add(out)
            mine.add(conv)
            out.put(_dumps({"v": 1, "type": "state", "conversation": conv.cid, "state": conv.state,
                            "key_bundle": conv.key_bundle, "epoch": 1}))
            for frame in conv.log[int(f.get("after", 0)):]:
                out.put(frame)
            out.put(_dumps({"v": 1, "type": "history_end", "conversation": conv.cid,
                            "last_seq": conv.seq}))
        elif kind == "send":
            self.send(self.convs[f["conversation"]], "nurse", f, out)
        elif kind == "ping":
            out.put('{"v":1,"type":"pong"}')

    async def youth_ws(self, ws: WebSocket) -> None:
        await ws.accept()
        out = Writer(ws)
        conv: Conv | None = None
        try:
            async for f in frames(ws):
                conv = self.youth(out, conv, f)
        finally:
            if conv is not None:
                conv.subs.discard(out)

    async def nurse_ws(self, ws: WebSocket) -> None:
        await ws.accept()
        out = Writer(ws)
        mine: set[Conv] = set()
        out.put(_dumps({"v": 1, "type": "hello", "open": []}))
        try:
            async for f in frames(ws):
                self.nurse(out, mine, f)
        finally:
            for conv in mine:
                conv.subs.discard(out)


async def frames(ws: WebSocket) -> AsyncIterator[dict[str, Any]]:
    """The text frames of ``ws``, parsed, until the client disconnects."""
    for _ in range(1 << 62):
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            return
        text = msg.get("text")
        if text is not None:
            yield json.loads(text)


class SocketApp:
    """A WebSocket route's ASGI app, as the server's (chat.app.SocketApp): the endpoint called
    without Starlette's ``websocket_session`` wrapper."""

    __slots__ = ("endpoint",)

    def __init__(self, endpoint: Callable[[WebSocket], Awaitable[None]]) -> None:
        self.endpoint = endpoint

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return self.endpoint(WebSocket(scope, receive=receive, send=send))


async def readyz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


def create_app() -> Starlette:
    relay = Relay()
    return Starlette(routes=[
        Route("/readyz", readyz),
        WebSocketRoute("/ws/youth", SocketApp(relay.youth_ws)),
        WebSocketRoute("/ws/nurse", SocketApp(relay.nurse_ws)),
    ])


async def main(port: int) -> None:
    from hypercorn.asyncio import serve

    from chat.server.serving import adjust_hypercorn, hypercorn_config

    adjust_hypercorn()
    app = create_app()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(app, hypercorn_config(f"127.0.0.1:{port}"),  # type: ignore[arg-type]
                shutdown_trigger=stop.wait)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    import uvloop  # the server's loop (chat/cli/main.py)

    uvloop.run(main(a.port))
