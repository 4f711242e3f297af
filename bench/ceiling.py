"""A ceiling: the least a relay of this protocol can do in Python, on raw ``websockets``.

In-memory routing, no Redis, no durability, no schema validation, no auth: it speaks just
enough of the helseprat frames (start/resume → started/state, claim/open → claimed/state/
history_end, send → ack to the sender, deliver to the other side) for bench.loadgen to drive
it unchanged. It declines permessage-deflate, as the server does: same terms, same frames.
bench/floor.py is the same relay on the server's own stack (Starlette on Hypercorn).
Every throughput figure of the real server is reported as a ratio to this one, measured in the
same run on the same machine.

    python -m bench.ceiling --port 9000 [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import http
import json
import secrets
import signal
import time
from dataclasses import dataclass, field

from websockets.asyncio.server import Request, Response, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed

_pending: set[asyncio.Future[None]] = set()
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(eq=False)
class Conv:
    cid: str
    token: str
    key_bundle: str
    state: str = "waiting"
    seq: int = 0
    log: list[str] = field(default_factory=list)  # delivered frames; seq = index + 1
    subs: set[ServerConnection] = field(default_factory=set)


def post(ws: ServerConnection, frame: str) -> None:
    """Write ``frame`` from a task of its own: tasks start in creation order, so frames posted to
    one socket leave in the order posted (a deliver before a later message's ack)."""
    t = asyncio.ensure_future(ws.send(frame))
    _pending.add(t)
    t.add_done_callback(_pending.discard)


class Relay:
    def __init__(self) -> None:
        self.convs: dict[str, Conv] = {}

    def deliver(self, conv: Conv, role: str, cmid: str, body: str, sender: ServerConnection) -> int:
        conv.seq += 1
        frame = _dumps({"v": 1, "type": "deliver", "seq": conv.seq, "conversation": conv.cid,
                        "from": role, "sender": role, "cmid": cmid, "body": body,
                        "ts": int(time.time())})
        conv.log.append(frame)
        for ws in conv.subs:
            if ws is not sender:  # the sender gets the ack instead, as from the real server
                post(ws, frame)
        return conv.seq

    async def youth(self, ws: ServerConnection) -> None:
        conv: Conv | None = None
        try:
            async for raw in ws:
                f = json.loads(raw)
                kind = f["type"]
                if kind == "start":
                    cid = secrets.token_urlsafe(16)
                    conv = Conv(cid, secrets.token_urlsafe(32), f.get("key_bundle", ""))
                    self.convs[cid] = conv
                    conv.subs.add(ws)
                    await ws.send(_dumps({"v": 1, "type": "started", "conversation": cid,
                                          "token": conv.token, "service": f["service"]}))
                    await ws.send(_dumps({"v": 1, "type": "state", "conversation": cid,
                                          "state": conv.state}))
                    await ws.send(_dumps({"v": 1, "type": "queue", "conversation": cid, "position": 1,
                                          "waiting": 1, "expected_wait_s": None}))
                elif kind == "resume":
                    conv = self.convs[f["conversation"]]
                    conv.subs.add(ws)
                    await ws.send(_dumps({"v": 1, "type": "state", "conversation": conv.cid,
                                          "state": conv.state}))
                    for frame in conv.log[f["after"]:]:
                        await ws.send(frame)
                elif kind == "send" and conv is not None:
                    seq = self.deliver(conv, "youth", f["cmid"], f["body"], ws)
                    # Posted, not awaited: an ack written ahead of an earlier message's deliver
                    # still waiting in its task made the client drop that deliver as old.
                    post(ws, _dumps({"v": 1, "type": "ack", "cmid": f["cmid"], "seq": seq,
                                     "conversation": conv.cid, "duplicate": False, "ts": int(time.time())}))
                elif kind == "ping":
                    await ws.send('{"v":1,"type":"pong"}')
        except ConnectionClosed:
            pass
        finally:
            if conv is not None:
                conv.subs.discard(ws)

    async def nurse(self, ws: ServerConnection) -> None:
        mine: set[Conv] = set()
        await ws.send(_dumps({"v": 1, "type": "hello", "open": []}))
        try:
            async for raw in ws:
                f = json.loads(raw)
                kind = f["type"]
                if kind in ("claim", "open"):
                    conv = self.convs[f["conversation"]]
                    if kind == "claim":
                        conv.state = "active"
                        await ws.send(_dumps({"v": 1, "type": "claimed", "conversation": conv.cid}))
                    conv.subs.add(ws)
                    mine.add(conv)
                    await ws.send(_dumps({"v": 1, "type": "state", "conversation": conv.cid,
                                          "state": conv.state, "key_bundle": conv.key_bundle,
                                          "epoch": 1}))
                    for frame in conv.log[int(f.get("after", 0)):]:
                        await ws.send(frame)
                    await ws.send(_dumps({"v": 1, "type": "history_end", "conversation": conv.cid,
                                          "last_seq": conv.seq}))
                elif kind == "send":
                    conv = self.convs[f["conversation"]]
                    seq = self.deliver(conv, "nurse", f["cmid"], f["body"], ws)
                    post(ws, _dumps({"v": 1, "type": "ack", "cmid": f["cmid"], "seq": seq,
                                     "conversation": conv.cid, "duplicate": False, "ts": int(time.time())}))
                elif kind == "ping":
                    await ws.send('{"v":1,"type":"pong"}')
        except ConnectionClosed:
            pass
        finally:
            for conv in mine:
                conv.subs.discard(ws)

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path == "/ws/youth":
            await self.youth(ws)
        elif path == "/ws/nurse":
            await self.nurse(ws)


def _http(ws: ServerConnection, request: Request) -> Response | None:
    if request.path == "/readyz":
        return Response(http.HTTPStatus.OK, "OK", Headers(), b"ok\n")
    return None


async def main(port: int) -> None:
    relay = Relay()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # compression=None: permessage-deflate declined, as the server does (chat/server/compression.py);
    # the generator offers it, as browsers do, and inflating it would flatter every ratio to this.
    async with serve(relay.handler, "127.0.0.1", port, process_request=_http, ping_interval=None,
                     max_size=2**20, compression=None):
        await stop


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--uvloop", action="store_true")
    a = ap.parse_args()
    if a.uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(main(a.port))
