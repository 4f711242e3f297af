"""A bounded fuzz run against a real web process over real sockets.

A few hundred malformed WebSocket frames (youth and nurse) and HTTP requests, made from a fixed
seed so every run sends the same bytes. Each one is answered or the connection is closed
cleanly (no 1011, no 5xx), the server keeps serving, and its log has no traceback.

The random corpus leaves out what is pinned in ``test_known_inputs_*`` below (nesting deeper than
100, lone surrogates, invalid UTF-8 in a text frame, a client gone mid-body): each once crashed
the server and has its own test there, so a regression names itself.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chat.client.protocol import nurse_login, ws_url
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import csrf_of
from tests.conftest import DEMO_PASSWORD

SEED = 20261202
FRAMES = 300
REQUESTS = 300
CID = "AbCdEfGhIjKlMnOpQrStUv"
CLEAN_CLOSES = {1000, 1001, 1008, 1009, 1012, 1013}  # never 1011 (internal error)
PING = '{"v":1,"type":"ping"}'

YOUTH_FRAMES: list[dict[str, Any]] = [
    {"v": 1, "type": "start", "service": "demo-skole"},
    {"v": 1, "type": "start", "service": "demo-skole", "key_bundle": "QUJD", "epoch": 1,
     "resume": {"handle": "abandon ability able", "auth": "ab" * 32, "backup": "QUJD"}},
    {"v": 1, "type": "resume", "conversation": CID, "token": "t" * 43, "after": 0},
    {"v": 1, "type": "resume_code", "handle": "abandon ability able", "auth": "ab" * 32},
    {"v": 1, "type": "resume_session", "conversation": CID, "after": 0},
    {"v": 1, "type": "send", "cmid": "fuzz00000001", "body": "QUJD"},
    {"v": 1, "type": "typing"},
    {"v": 1, "type": "end"},
]
NURSE_FRAMES: list[dict[str, Any]] = [
    {"v": 1, "type": "claim", "conversation": CID},
    {"v": 1, "type": "open", "conversation": CID, "after": 3},
    {"v": 1, "type": "send", "conversation": CID, "cmid": "fuzz00000002", "body": "QUJD"},
    {"v": 1, "type": "close", "conversation": CID, "outcome": "advice_given"},
    {"v": 1, "type": "release", "conversation": CID},
    {"v": 1, "type": "rekey", "conversation": CID, "key_bundle": "QUJD", "epoch": 2},
    {"v": 1, "type": "transfer", "conversation": CID, "to_service": "other-service"},
    {"v": 1, "type": "flag", "conversation": CID, "kind": "acute"},
    {"v": 1, "type": "queue", "service": "demo-skole"},
    {"v": 1, "type": "overview", "service": "demo-skole", "day": "2026-01-05"},
    {"v": 1, "type": "audit", "service": "demo-skole"},
    {"v": 1, "type": "journal", "conversation": CID,
     "msg_id": "5b0c1f4e-8b7a-4e0e-9f6e-1a2b3c4d5e6f", "sealed_note": "QUJD"},
    {"v": 1, "type": "reseal", "conversation": CID, "device": "0123456789abcdef",
     "sealed_ck": "QUJD"},
]


# -- the corpus -----------------------------------------------------------------------------------
def text(rng: random.Random, n: int) -> str:
    """Any characters but lone surrogates: controls, quotes, backslashes, astral planes."""
    alphabet = "\"\\/\n\r\t\x00\x1f{}[]:,é漢\u2028\ufeff𝄞"
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.4:
            out.append(rng.choice(alphabet))
        elif r < 0.7:
            out.append(chr(rng.randrange(32, 127)))
        else:
            c = rng.randrange(0x80, 0x110000)
            out.append(chr(c if not 0xD800 <= c <= 0xDFFF else 0xE000))
    return "".join(out)


def value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth < 4 and r < 0.15:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 4 and r < 0.25:
        return {text(rng, 4): value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return rng.choice([
        None, True, False, 0, -1, 1.5, 1e308, 2**53, 2**64, -(2**63), "", "x" * rng.randrange(200),
        text(rng, rng.randrange(40)), "QUJD" * rng.randrange(50), CID, "t" * 43,
    ])


def nested(rng: random.Random) -> str:
    depth = rng.randrange(1, 101)  # deeper is a known case (test_known_inputs_ws)
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    return opener * depth + "1" + closer * depth


def mutate(rng: random.Random, frame: dict[str, Any]) -> str:
    obj = dict(frame)
    for _ in range(rng.randrange(1, 4)):
        how = rng.randrange(6)
        key = rng.choice(sorted(obj)) if obj else "type"
        if how == 0:
            obj.pop(key, None)
        elif how == 1:
            obj[text(rng, rng.randrange(1, 10))] = value(rng)
        elif how in (2, 3):
            obj[key] = value(rng)
        elif how == 4:
            obj["v"] = rng.choice([0, 2, "1", 1.0, None, True, -1])
        else:
            obj["type"] = rng.choice(["", "START", "ping ", text(rng, 6), 7, None, ["send"]])
    out = json.dumps(obj, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.1:  # cut short
        out = out[: rng.randrange(len(out))]
    return out


def frame_corpus(seed: int, bases: list[dict[str, Any]], n: int) -> list[str | bytes]:
    rng = random.Random(seed)
    out: list[str | bytes] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            out.append(mutate(rng, rng.choice(bases)))
        elif r < 0.7:
            out.append(json.dumps(rng.choice(bases)))  # valid: moves the conversation along
        elif r < 0.8:
            out.append(nested(rng))
        elif r < 0.9:
            out.append(text(rng, rng.randrange(100)))
        else:  # a binary frame; the parser decodes it as JSON text would be
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(100))))
    return out


# -- the WebSocket run ------------------------------------------------------------------------------
async def answered(ws: ClientConnection, seen: Counter[str]) -> None:
    """A ping after the frame: once its pong is back, the frame was handled and the socket
    lives. Whatever came before (errors, state frames) must be a JSON object with a type."""
    await ws.send(PING)
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert isinstance(reply, dict) and isinstance(reply.get("type"), str), reply
        if reply["type"] == "pong":
            return
        seen[reply["code"] if reply["type"] == "error" else reply["type"]] += 1


async def fuzz_socket(url: str, frames: list[str | bytes], headers: dict[str, str]) -> Counter[str]:
    """Send every frame; reconnect after a clean close. Counts the replies (error codes by
    code, other frames by type, closes as "close <code>")."""
    seen: Counter[str] = Counter()
    ws = await connect(url, additional_headers=headers)
    try:
        for frame in frames:
            try:
                await ws.send(frame)
                await answered(ws, seen)
            except ConnectionClosed:
                code = ws.close_code
                assert code in CLEAN_CLOSES, (code, ws.close_reason, frame)
                seen[f"close {code}"] += 1
                ws = await connect(url, additional_headers=headers)
    finally:
        await ws.close()
    return seen


def tracebacks(log: str) -> list[str]:
    """The log lines that carry an exception: the JSON log (chat/server/logs.py) puts it in
    "exc"/"trace" fields, so the word "Traceback" alone would never show up there."""
    found = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            if "exc" in record or "trace" in record:
                found.append(line)
        elif "Traceback" in line:
            found.append(line)
    return found


def assert_no_traceback(web: WebProcess) -> None:
    assert tracebacks(web.log_text()) == []


async def test_malformed_frames_are_answered_or_closed_cleanly(web: WebProcess) -> None:
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    youth = await fuzz_socket(ws_url(web.base, "/ws/youth"),
                              frame_corpus(SEED, YOUTH_FRAMES, FRAMES), {})
    nurse = await fuzz_socket(ws_url(web.base, "/ws/nurse"),
                              frame_corpus(SEED + 1, NURSE_FRAMES, FRAMES),
                              {"Cookie": f"hp_session={cookie}", "Origin": web.base})
    # The corpus reaches every refusal of the parser and real moves, and the server serves on.
    refusals = {"bad_frame", "unknown_type", "schema_violation", "unsupported_version"}
    assert refusals <= set(youth) and refusals <= set(nurse), (youth, nurse)
    assert youth["started"] > 0 and nurse["queue_snapshot"] > 0, (youth, nurse)
    async with httpx.AsyncClient(base_url=web.base) as http:
        assert (await http.get("/readyz")).status_code == 200
    assert_no_traceback(web)


# -- the HTTP run -----------------------------------------------------------------------------------
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data",
                 "multipart/form-data; boundary=x", "text/plain", "application/json; charset=latin-1",
                 "", "application/octet-stream", "*/*", "application/x-www-form-urlencoded; charset=x"]


def body(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.3:
        return json.dumps(value(rng)).encode()
    if r < 0.5:
        return "&".join(f"{text(rng, 5)}={text(rng, 8)}" for _ in range(rng.randrange(6))).encode()
    if r < 0.6:
        return nested(rng).encode()
    if r < 0.8:
        return text(rng, rng.randrange(300)).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randrange(300)))


def requests(seed: int, n: int, csrf: str) -> Iterator[tuple[str, str, dict[str, str], bytes]]:
    rng = random.Random(seed)
    posts = ["/nurse/login", "/nurse/logout", "/api/nurse/device", "/lead/canned",
             "/login/idporten/start", "/api/youth/key", "/api/youth/link"]
    gets = ["/api/team/{}", "/s/{}", "/api/lead/overview?service={}&day={}",
            "/api/lead/audit?service={}", "/lead/overview.csv?service={}&day={}",
            "/api/nurse/queue/{}", "/?lang={}", "/personvern?lang={}", "/static/{}"]
    for _ in range(n):
        headers = {"content-type": rng.choice(CONTENT_TYPES)}
        if rng.random() < 0.5:
            headers["x-csrf-token"] = csrf if rng.random() < 0.7 else "".join(
                chr(rng.randrange(33, 127)) for _ in range(rng.randrange(60)))
        if rng.random() < 0.7:
            yield "POST", rng.choice(posts), headers, body(rng)
        else:
            parts = [quote(text(rng, rng.randrange(20)), safe="") for _ in range(2)]
            path = rng.choice(gets).format(*parts)
            yield "GET", path, headers, b""


async def test_malformed_http_requests_get_4xx_not_5xx(web: WebProcess) -> None:
    cookie = await nurse_login(web.base, "demo.lead", DEMO_PASSWORD)
    csrf = await csrf_of(web.base, cookie)
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=web.base) as anonymous, \
            httpx.AsyncClient(base_url=web.base, cookies={"hp_session": cookie}) as lead:
        for i, (method, path, headers, content) in enumerate(requests(SEED, REQUESTS, csrf)):
            http = lead if i % 2 else anonymous
            r = await http.request(method, path, headers=headers, content=content)
            assert r.status_code < 500, (method, path, headers, content[:200], r.text[:500])
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert (await anonymous.get("/readyz")).status_code == 200
    assert any(400 <= s < 500 for s in statuses), statuses
    assert_no_traceback(web)


# -- inputs that once crashed the server, one each -------------------------------------------------


@pytest.mark.parametrize("frame", [
    pytest.param("[" * 2000, id="deep-nesting"),
    pytest.param('{"v":1,"type":"send","cmid":"\\ud800abcdefgh","body":"QUJD"}',
                 id="lone-surrogate-cmid"),
    pytest.param(b'{"v":1,"type":"ping","x":"\xff\xfe"}', id="invalid-utf8-text-frame"),
])
async def test_known_inputs_ws(web: WebProcess, frame: str | bytes) -> None:
    async with connect(ws_url(web.base, "/ws/youth")) as ws:
        try:
            # Raw bytes go out as a text frame: a browser never sends invalid UTF-8 there.
            await ws.send(frame, text=True)
            await answered(ws, Counter())
        except ConnectionClosed:  # a refusal may end the connection, with a reason
            expected = {1007} if isinstance(frame, bytes) else {1007, 1008, 1009}
            assert ws.close_code in expected, ws.close_code
    assert_no_traceback(web)


async def test_known_inputs_client_gone_mid_body(web: WebProcess) -> None:
    def half_a_request() -> None:
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as s:
            s.sendall(b"POST /nurse/login HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 1000\r\n\r\ncsrf=abc")
    await asyncio.to_thread(half_a_request)
    async with httpx.AsyncClient(base_url=web.base) as http:
        assert (await http.get("/readyz")).status_code == 200
    await asyncio.sleep(0.5)  # the server notices the gone client on its own time
    assert_no_traceback(web)
