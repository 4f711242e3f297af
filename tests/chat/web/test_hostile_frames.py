"""Hostile WebSocket frames over a real socket: deep nesting, lone surrogates, invalid UTF-8 and
sockets that never speak. Each gets a stable answer, the server logs no traceback, and the
connection (or, for a broken transport, only that socket) is dealt with on purpose."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from chat.client.protocol import ProtocolClient, ws_url
from devservices.webproc import WebProcess
from tests.conftest import start_clean_web
from tests.servers import BASE_SERVICES, write_test_config

FIRST_FRAME_TIMEOUT_CLOSE = 4408


def assert_quiet_log(web: WebProcess, since: int) -> None:
    """No exception reached the log (our JSON lines carry ``exc`` for one)."""
    text = web.log_text()[since:]
    for line in text.splitlines():
        assert '"exc"' not in line and "Traceback" not in line, line[:300]


async def test_deeply_nested_frames_are_bad_frames_and_the_socket_goes_on(web: WebProcess) -> None:
    since = len(web.log_text())
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    deep = [
        "[" * 2000,
        "[" * 2000 + "]" * 2000,
        '{"v": 1, "type": "ping", "x": ' + '{"a": ' * 1500 + "1" + "}" * 1500 + "}",
        '{"v": 1, "type": "send", "cmid": "goodcmid01", "body": ' + "[" * 40 + "]" * 40 + "}",
    ]
    for frame in deep:
        await c.send_raw(frame)
        error = await c.expect("error")
        assert error["code"] == "bad_frame", frame[:40]
        assert error.get("ref") is None
    # Brackets inside strings are text, not nesting.
    await c.send_raw(json.dumps({"v": 1, "type": "ping", "note": "[" * 2000}))
    assert (await c.expect("error"))["code"] == "schema_violation"
    await c.send({"type": "ping"})
    await c.expect("pong")
    await c.close()
    assert_quiet_log(web, since)


@pytest.mark.parametrize("cmid", ["\\ud800", "abcdefgh\\udfff", "\\udbff\\u0041abcdefgh"])
async def test_lone_surrogates_are_bad_input_and_never_echoed(web: WebProcess, cmid: str) -> None:
    since = len(web.log_text())
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await c.send_raw('{"v": 1, "type": "send", "cmid": "' + cmid + '", "body": "QUJD"}')
    error = await c.expect("error")
    assert error["code"] == "bad_frame"
    assert error.get("ref") is None
    # A surrogate pair is one character (here U+1F600), not a lone surrogate.
    await c.send_raw('{"v": 1, "type": "ping", "x": "\\ud83d\\ude00"}')
    assert (await c.expect("error"))["code"] == "schema_violation"
    await c.send({"type": "ping"})
    await c.expect("pong")
    await c.close()
    assert_quiet_log(web, since)


async def test_an_invalid_cmid_is_not_echoed(web: WebProcess) -> None:
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await c.send({"type": "send", "cmid": "<img src=x>", "body": "QUJD"})
    error = await c.expect("error")
    assert error["code"] == "schema_violation"
    assert error["ref"] == "send"  # the type, never the client's malformed text
    await c.close()


async def test_invalid_utf8_in_a_text_frame_closes_with_1007(web: WebProcess) -> None:
    since = len(web.log_text())
    async with connect(ws_url(web.base, "/ws/youth"), open_timeout=10) as ws:
        await ws.send(b'{"v": 1, "type": "ping", "x": "\xff\xfe"}', text=True)
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 1007
    assert_quiet_log(web, since)


async def test_invalid_utf8_in_a_binary_frame_is_a_bad_frame(web: WebProcess) -> None:
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await c.send_raw(b'{"v": 1, "type": "ping", "x": "\xff"}')
    assert (await c.expect("error"))["code"] == "bad_frame"
    await c.send({"type": "ping"})
    await c.expect("pong")
    await c.close()


@pytest.fixture(scope="module")
async def quick_first_frame(
    redis_proc: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebProcess]:
    """A web process that gives a youth socket one second to send its first frame."""
    from devservices.redis_proc import RedisProcess

    assert isinstance(redis_proc, RedisProcess)
    d: Path = tmp_path_factory.mktemp("first-frame")
    write_test_config(d, "[limits]\nfirst_frame_seconds = 1\n" + BASE_SERVICES)
    web = await start_clean_web(redis_proc.url, d)
    yield web
    await asyncio.to_thread(web.stop)


async def test_a_youth_socket_that_never_speaks_is_closed(quick_first_frame: WebProcess) -> None:
    async with connect(ws_url(quick_first_frame.base, "/ws/youth"), open_timeout=10) as ws:
        await asyncio.wait_for(ws.wait_closed(), 15)
        assert ws.close_code == FIRST_FRAME_TIMEOUT_CLOSE


async def test_a_youth_socket_that_speaks_in_time_stays_open(quick_first_frame: WebProcess) -> None:
    c = await ProtocolClient.open(ws_url(quick_first_frame.base, "/ws/youth"))
    await c.send({"type": "ping"})
    await c.expect("pong")
    await asyncio.sleep(1.5)  # past the first-frame limit: only the first frame is timed
    await c.send({"type": "ping"})
    await c.expect("pong")
    assert not c.closed.is_set()
    await c.close()
