"""Hostile HTTP over real sockets: deep JSON, oversized and abandoned bodies, foreign Host
headers. Each gets its stable code; the server logs no traceback."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chat.client.protocol import nurse_login
from chat.errors import BadHost, BadJson, BodyTooLarge, ClientError, CsrfFailed
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import csrf_of
from tests.chat.web.test_hostile_frames import assert_quiet_log
from tests.conftest import DEMO_PASSWORD


def assert_error(response: httpx.Response, err: ClientError) -> None:
    assert response.status_code == err.http_status
    assert response.json()["error"]["code"] == err.code


async def raw_request(web: WebProcess, head: str, body: bytes = b"", *,
                      hang_up: bool = False) -> bytes:
    """Send ``head`` (and ``body``) on a fresh TCP connection; the answer's first bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
    writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    await writer.drain()
    if hang_up:
        writer.close()
        return b""
    try:
        return await asyncio.wait_for(read_response(reader), 10)
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 response with a Content-Length: its head and its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:80]
    return int(answer[9:12])


async def test_deeply_nested_json_body_is_bad_json(web: WebProcess) -> None:
    since = len(web.log_text())
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    csrf = await csrf_of(web.base, cookie)
    headers = {"x-csrf-token": csrf, "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=web.base, cookies={"hp_session": cookie}) as http:
        for body in ("[" * 2000, '{"wrapped": ' * 1000 + "1" + "}" * 1000, '{"box": "\\ud800"}'):
            assert_error(await http.post("/api/nurse/device", content=body.encode(),
                                         headers=headers), BadJson())
    assert_quiet_log(web, since)


async def test_a_declared_body_over_the_limit_is_refused_unread(web: WebProcess) -> None:
    """50 MB announced and none sent: the answer comes without waiting for a byte of it."""
    for path, cookie in (("/nurse/login", "hp_login_csrf=abc"), ("/api/nurse/device", "")):
        answer = await raw_request(web, f"""POST {path} HTTP/1.1
Host: 127.0.0.1:{web.port}
Content-Type: multipart/form-data; boundary=x
Content-Length: 50000000
Cookie: {cookie}
""")
        assert status_of(answer) == BodyTooLarge.http_status, path
        assert b'"body_too_large"' in answer


async def test_a_chunked_body_is_cut_off_at_the_limit(web: WebProcess) -> None:
    """No length announced: the login form's reading stops once it passes its 4 KiB."""
    reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
    writer.write(f"POST /nurse/login HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n"
                 "Cookie: hp_login_csrf=abc\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"a" * 1024
    answered = asyncio.ensure_future(read_response(reader))
    for _ in range(512):  # up to 512 KiB, a chunk at a time, until the server answers
        if answered.done():
            break
        try:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.sleep(0.02)
    answer = await asyncio.wait_for(answered, 10)
    writer.close()
    assert status_of(answer) == BodyTooLarge.http_status
    assert b'"body_too_large"' in answer


async def test_login_without_its_csrf_cookie_is_refused_before_the_body(web: WebProcess) -> None:
    """The body is announced and never sent: a refusal that waited for it would never come."""
    answer = await raw_request(web, f"""POST /nurse/login HTTP/1.1
Host: 127.0.0.1:{web.port}
Content-Type: application/x-www-form-urlencoded
Content-Length: 2000
""")
    assert status_of(answer) == CsrfFailed.http_status


async def test_a_non_ascii_csrf_field_is_a_csrf_failure(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        await http.get("/nurse/login")
        r = await http.post("/nurse/login", data={"csrf": "æøå", "username": "x", "password": "y"})
        assert r.status_code == CsrfFailed.http_status


async def test_a_client_hanging_up_mid_body_is_no_traceback(web: WebProcess) -> None:
    since = len(web.log_text())
    await raw_request(web, f"""POST /nurse/login HTTP/1.1
Host: 127.0.0.1:{web.port}
Content-Type: application/x-www-form-urlencoded
Content-Length: 1000
Cookie: hp_login_csrf=abc
""", b"username=demo.nurse&pass", hang_up=True)
    for _ in range(200):  # until the server has noticed (its info line), at most 10 s
        if "hung up" in web.log_text()[since:] or '"exc"' in web.log_text()[since:]:
            break
        await asyncio.sleep(0.05)
    assert "hung up" in web.log_text()[since:]
    assert_quiet_log(web, since)
    async with httpx.AsyncClient(base_url=web.base) as http:
        assert (await http.get("/healthz")).status_code == 200


@pytest.mark.parametrize("path", ["/nurse/", "/nurse", "/", "/api/team/demo-skole"])
async def test_a_foreign_host_is_bad_host(web: WebProcess, path: str) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        r = await http.get(path, headers={"host": "evil.example"})
        assert_error(r, BadHost())
        assert "evil" not in r.headers.get("location", "")


async def test_redirects_stay_on_our_own_origin(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        r = await http.get("/nurse/")
        assert r.status_code in (301, 307, 308)
        assert r.headers["location"] == "/nurse"
        # The scheme's default port spelt out is the same host.
        r = await http.get("/nurse/", headers={"host": f"127.0.0.1:{web.port}"})
        assert r.headers["location"] == "/nurse"
        # Health probes come by the instance's own address: they are answered anyway.
        assert (await http.get("/healthz", headers={"host": "10.0.0.7:8000"})).status_code == 200


async def test_a_websocket_to_a_foreign_host_is_refused(web: WebProcess) -> None:
    handshake = """GET /ws/youth HTTP/1.1
Host: {host}
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
"""
    answer = await raw_request(web, handshake.format(host="evil.example"))
    assert status_of(answer) == BadHost.http_status
    assert b'"bad_host"' in answer
    reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
    writer.write(handshake.format(host=f"127.0.0.1:{web.port}").replace("\n", "\r\n").encode()
                 + b"\r\n")
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).startswith(
        b"HTTP/1.1 101")
    writer.close()
