"""The benchmark's yardsticks get the server's terms: a client offering permessage-deflate (as
browsers and the load generator do) gets no extension from the ceiling, the floor or the real
server; and both yardsticks relay the frames the load generator drives (bench/loadgen.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from bench.env import Ceiling, Floor, Yardstick
from devservices.webproc import WebProcess


@pytest.fixture(scope="module")
def yardsticks() -> Iterator[dict[str, Yardstick]]:
    sticks: dict[str, Yardstick] = {"ceiling": Ceiling(), "floor": Floor()}
    try:
        with ThreadPoolExecutor(len(sticks)) as pool:  # both start at once
            list(pool.map(Yardstick.start, sticks.values()))
        yield sticks
    finally:
        for s in sticks.values():
            s.stop()


async def offer_deflate(base: str, path: str = "/ws/youth") -> ClientConnection:
    ws = await connect(base.replace("http://", "ws://") + path, compression="deflate", open_timeout=5)
    assert ws.request is not None
    assert "permessage-deflate" in ws.request.headers.get("Sec-WebSocket-Extensions", "")
    return ws


async def test_no_extension_from_yardsticks_or_server(yardsticks: dict[str, Yardstick], web: WebProcess) -> None:
    bases = {name: s.base for name, s in yardsticks.items()} | {"server": web.base}
    for name, base in bases.items():
        ws = await offer_deflate(base)
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers, name
        await ws.close()


async def expect(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(20):
        f: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if f["type"] == kind:
            return f
    raise AssertionError(f"no {kind}")


@pytest.mark.parametrize("name", ["ceiling", "floor"])
async def test_relays_the_load_generators_frames(yardsticks: dict[str, Yardstick], name: str) -> None:
    base = yardsticks[name].base
    youth, nurse = await offer_deflate(base), await offer_deflate(base, "/ws/nurse")
    await youth.send(json.dumps({"v": 1, "type": "start", "service": "s", "key_bundle": "kb", "epoch": 1}))
    started = await expect(youth, "started")
    cid = started["conversation"]
    await expect(nurse, "hello")
    await nurse.send(json.dumps({"v": 1, "type": "claim", "conversation": cid}))
    assert (await expect(nurse, "state"))["key_bundle"] == "kb"
    assert (await expect(nurse, "history_end"))["last_seq"] == 0

    await youth.send(json.dumps({"v": 1, "type": "send", "cmid": "c1", "body": "b1"}))
    assert (await expect(youth, "ack")) | {"ts": 0} == {"v": 1, "type": "ack", "cmid": "c1", "seq": 1,
                                                       "conversation": cid, "duplicate": False, "ts": 0}
    got = await expect(nurse, "deliver")
    assert (got["seq"], got["from"], got["cmid"], got["body"]) == (1, "youth", "c1", "b1")
    await nurse.send(json.dumps({"v": 1, "type": "send", "conversation": cid, "cmid": "c2", "body": "b2"}))
    assert (await expect(nurse, "ack"))["seq"] == 2
    got = await expect(youth, "deliver")
    assert (got["seq"], got["from"], got["cmid"], got["body"]) == (2, "nurse", "c2", "b2")

    # A youth that comes back resumes after what it saw.
    await youth.close()
    again = await offer_deflate(base)
    await again.send(json.dumps({"v": 1, "type": "resume", "conversation": cid, "token": started["token"],
                                 "after": 1}))
    assert (await expect(again, "state"))["state"] == "active"
    assert (await expect(again, "deliver"))["seq"] == 2
    await again.close()
    await nurse.close()
