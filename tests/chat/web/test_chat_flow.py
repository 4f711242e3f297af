"""A youth and a nurse on real web processes over real sockets, one real Redis."""

from __future__ import annotations

import asyncio
import base64
import re

import httpx
import pytest

from anon.resume import parse_resume_code
from chat.client.protocol import (
    ProtocolClient,
    nurse_connect,
    nurse_login,
    youth_resume,
    youth_resume_code,
    youth_start,
)
from chat.crypto.resume import resume_auth
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def nurse(base: str, user: str = "demo.nurse") -> ProtocolClient:
    return await nurse_connect(base, await nurse_login(base, user, DEMO_PASSWORD))


async def test_compression_is_declined(web: WebProcess) -> None:
    # The client offers permessage-deflate, as browsers do; the server answers without it.
    y, _ = await youth_start(web.base, "demo-skole")
    assert y.ws.request is not None
    assert "permessage-deflate" in y.ws.request.headers.get("Sec-WebSocket-Extensions", "")
    assert y.ws.response is not None
    assert "Sec-WebSocket-Extensions" not in y.ws.response.headers
    assert (await y.expect("state"))["state"] == "waiting"  # and the conversation works
    await y.close()


async def test_conversation_across_two_web_processes(
    web_pair: tuple[WebProcess, WebProcess],
) -> None:
    a, b = web_pair
    y, session = await youth_start(a.base, "demo-skole")
    assert (await y.expect("state"))["state"] == "waiting"
    queue = await y.expect("queue")
    assert queue["position"] == 1 and queue["waiting"] == 1

    n = await nurse(b.base)
    snap = await n.expect("queue_snapshot", where=lambda f: f["service"] == "demo-skole"
                          and bool(f["items"]))
    assert [i["conversation"] for i in snap["items"]] == [session.conversation]
    assert snap["items"][0]["online"] is True

    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    assert (await y.expect("state"))["state"] == "active"

    await y.send({"type": "send", "cmid": "youthmsg01", "body": b64("hei")})
    ack = await y.expect("ack")
    assert isinstance(ack.pop("ts"), int)
    assert ack == {"v": 1, "type": "ack", "cmid": "youthmsg01", "seq": 1,
                   "conversation": session.conversation, "duplicate": False}
    got = await n.expect("deliver")
    assert (got["seq"], got["from"], got["body"]) == (1, "youth", b64("hei"))

    await n.send({"type": "send", "conversation": session.conversation, "cmid": "nursemsg01",
                  "body": b64("hei, hva lurer du på?")})
    assert (await n.expect("ack"))["seq"] == 2
    # The sender's own connection gets the ack in the message's place in the sequence, not a
    # deliver of it: the first deliver each side sees is the other side's.
    got = await y.expect("deliver")
    assert (got["seq"], got["from"]) == (2, "nurse") and got["body"] == b64("hei, hva lurer du på?")

    await n.send({"type": "typing", "conversation": session.conversation})
    assert (await y.expect("typing"))["from"] == "nurse"

    await n.send({"type": "close", "conversation": session.conversation, "outcome": "referred"})
    closed = await y.expect("state", where=lambda f: f["state"] == "closed")
    assert closed["outcome"] == "referred"
    await y.send({"type": "send", "cmid": "youthmsg02", "body": b64("hallo?")})
    assert (await y.expect("error"))["code"] == "conversation_closed"
    for c in (y, n):
        await c.close()


async def test_youth_follows_the_queue_after_a_release(web: WebProcess) -> None:
    y, session = await youth_start(web.base, "demo-skole")
    assert (await y.expect("queue"))["position"] == 1
    n = await nurse(web.base)
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    assert (await y.expect("state"))["state"] == "active"
    await n.send({"type": "release", "conversation": session.conversation})
    assert (await y.expect("state"))["state"] == "waiting"
    # Back in the queue: the position is told again (same number as before the claim).
    again = await y.expect("queue")
    assert (again["position"], again["waiting"]) == (1, 1)
    for c in (y, n):
        await c.close()


async def test_the_queue_shows_whether_the_waiting_youth_is_connected(web: WebProcess) -> None:
    y, s = await youth_start(web.base, "demo-skole")
    n = await nurse(web.base)

    def online(f: dict[str, object]) -> list[object]:
        items = f["items"]
        assert isinstance(items, list)
        return [i["online"] for i in items if i["conversation"] == s.conversation]

    await n.expect("queue_snapshot", where=lambda f: online(f) == [True])
    await y.close()  # left the page: still in the queue, no longer connected
    await n.expect("queue_snapshot", where=lambda f: online(f) == [False])
    back = await ProtocolClient.open(web.base.replace("http", "ws") + "/ws/youth")
    await back.send({"type": "resume", "conversation": s.conversation, "token": s.token,
                     "after": 0})
    await n.expect("queue_snapshot", where=lambda f: online(f) == [True])
    for c in (back, n):
        await c.close()


async def test_a_waiting_youth_hears_when_its_place_moves_not_of_every_arrival(
    web: WebProcess,
) -> None:
    first, s1 = await youth_start(web.base, "demo-skole")
    assert ((await first.expect("queue"))["position"]) == 1
    n = await nurse(web.base)
    second, _ = await youth_start(web.base, "demo-skole")
    assert ((await second.expect("queue"))["position"]) == 2
    # The hub has handled the arrival once the dashboard shows two waiting (nurses are told
    # first, then youths, in the same pass).
    await n.expect("queue_snapshot", where=lambda f: len(f["items"]) == 2)
    await n.send({"type": "claim", "conversation": s1.conversation})
    await n.expect("claimed")
    moved = await second.expect("queue")
    assert (moved["position"], moved["waiting"]) == (1, 1)
    assert (await first.expect("state", where=lambda f: f["state"] == "active"))
    # The arrival behind the first youth did not move it: it was told its place once.
    assert [f["position"] for f in first.seen if f["type"] == "queue"] == [1]
    for c in (first, second, n):
        await c.close()


async def test_resume_delivers_exactly_the_missed_messages(web: WebProcess) -> None:
    y, session = await youth_start(web.base, "demo-skole")
    n = await nurse(web.base)
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    for i in range(5):
        await y.send({"type": "send", "cmid": f"youthmsg{i:02}", "body": b64(f"m{i}")})
        await y.expect("ack")
    session.last = 2
    await y.close()
    for i in range(3):
        await n.send({"type": "send", "conversation": session.conversation,
                      "cmid": f"nursemsg{i:02}", "body": b64(f"n{i}")})
        await n.expect("ack")
    y2 = await youth_resume(web.base, session)
    seqs = []
    for _ in range(6):
        seqs.append((await y2.expect("deliver"))["seq"])
    assert seqs == [3, 4, 5, 6, 7, 8]
    await asyncio.sleep(0.3)
    assert not [f for f in y2.seen if f["type"] == "deliver" and f["seq"] <= 2]
    await y2.close()
    await n.close()


async def test_duplicate_client_message_id_is_stored_once(web: WebProcess, redis_client) -> None:  # type: ignore[no-untyped-def]
    y, session = await youth_start(web.base, "demo-skole")
    frame = {"type": "send", "cmid": "samecmid01", "body": b64("once")}
    await y.send(frame)
    first = await y.expect("ack")
    await y.send(frame)
    second = await y.expect("ack")
    assert first["seq"] == second["seq"] == 1
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert await redis_client.xlen(f"c:{{{session.conversation}}}:l") == 1
    await y.close()


async def test_a_message_reaches_the_senders_other_connections(web: WebProcess) -> None:
    y, session = await youth_start(web.base, "demo-skole")
    other = await ProtocolClient.open(web.base.replace("http", "ws") + "/ws/youth")
    await other.send({"type": "resume", "conversation": session.conversation,
                      "token": session.token, "after": 0})
    await other.expect("state")
    await y.send({"type": "send", "cmid": "twodevices1", "body": b64("fra mobilen")})
    ack = await y.expect("ack")
    got = await other.expect("deliver")
    assert (got["cmid"], got["seq"], got["body"]) == ("twodevices1", ack["seq"], b64("fra mobilen"))
    # The same client message id again (a retry after a lost ack) is stored once, acked as a
    # duplicate, and delivered to nobody a second time.
    await y.send({"type": "send", "cmid": "twodevices1", "body": b64("fra mobilen")})
    again = await y.expect("ack")
    assert (again["seq"], again["duplicate"]) == (ack["seq"], True) and "ts" not in again
    await other.send({"type": "send", "cmid": "twodevices2", "body": b64("fra PC-en")})
    assert (await y.expect("deliver"))["cmid"] == "twodevices2"  # not twodevices1 again
    assert (await other.expect("ack"))["seq"] == ack["seq"] + 1
    for c in (y, other):
        await c.close()


async def test_two_nurses_race_for_one_claim(web_pair: tuple[WebProcess, WebProcess]) -> None:
    a, b = web_pair
    y, session = await youth_start(a.base, "demo-skole")
    n1 = await nurse(a.base, "demo.nurse")
    n2 = await nurse(b.base, "demo.lead")
    claim = {"type": "claim", "conversation": session.conversation}
    await asyncio.gather(n1.send(claim), n2.send(claim))
    results = await asyncio.gather(n1.expect(("claimed", "error")), n2.expect(("claimed", "error")))
    kinds = sorted(r["type"] for r in results)
    assert kinds == ["claimed", "error"]
    assert next(r for r in results if r["type"] == "error")["code"] == "already_claimed"
    for c in (y, n1, n2):
        await c.close()


async def test_resume_code_on_another_device_and_attempt_limit(web: WebProcess) -> None:
    y, session = await youth_start(web.base, "demo-skole", resume_code=True)
    assert session.resume_code and session.keys
    assert len(session.resume_code.replace("-", "")) == 16
    await y.send({"type": "send", "cmid": "beforemove", "body": session.keys.seal("før flytting")})
    await y.expect("ack")
    await y.close()

    # A second device with only the code: new token, and the key to read the history.
    other, moved = await youth_resume_code(web.base, session.resume_code.upper(), "demo-skole")
    assert moved.conversation == session.conversation and moved.token != session.token
    got = await other.expect("deliver")
    assert moved.keys and moved.keys.open(got["body"]) == "før flytting"
    await other.close()

    # The old token no longer works once the code has been used.
    stale = await ProtocolClient.open(web.base.replace("http", "ws") + "/ws/youth")
    await stale.send({"type": "resume", "conversation": session.conversation,
                      "token": session.token, "after": 0})
    assert (await stale.expect("error"))["code"] == "bad_token"
    await stale.close()

    # Wrong secret words with the right handle: refused, then locked after the limit.
    code = parse_resume_code(session.resume_code)
    assert code is not None
    wrong = resume_auth("0" * 16)
    codes = []
    for _ in range(6):
        c = await ProtocolClient.open(web.base.replace("http", "ws") + "/ws/youth")
        await c.send({"type": "resume_code", "handle": code.handle_text, "auth": wrong})
        codes.append((await c.expect("error"))["code"])
        await c.close()
    assert codes[:5] == ["bad_resume_code"] * 5
    assert codes[5] == "too_many_attempts"
    # Even the right code is refused while the conversation is locked.
    c = await ProtocolClient.open(web.base.replace("http", "ws") + "/ws/youth")
    await c.send({"type": "resume_code", "handle": code.handle_text,
                  "auth": resume_auth(code.secret_text)})
    assert (await c.expect("error"))["code"] == "too_many_attempts"
    await c.close()


async def test_pages_health_and_security_headers(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).json() == {"status": "ready"}
        page = await http.get("/s/demo-skole")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "default-src 'none'" in csp
        assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp  # /sw.js, the manifest
        assert "set-cookie" not in page.headers  # no cookies for anonymous youths
        assert (await http.get("/s/nope")).status_code == 404
        # Static assets are compressed on the wire; pages (which carry CSRF tokens) are not.
        script = re.search(r'<script type="module" src="([^"]+)"', page.text)
        assert script is not None
        js = await http.get(script[1], headers={"accept-encoding": "gzip"})
        assert js.headers.get("content-encoding") == "gzip"
        login = await http.get("/nurse/login", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in login.headers
        assert (await http.get("/nurse", follow_redirects=False)).status_code == 303


async def test_nurse_login_csrf_and_lockout(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        r = await http.post("/nurse/login", data={"username": "demo.nurse",
                                                  "password": DEMO_PASSWORD})
        assert r.status_code == 403  # no CSRF token
    for _ in range(5):
        with pytest.raises(PermissionError):
            await nurse_login(web.base, "demo.nurse", "wrong password")
    with pytest.raises(PermissionError):
        await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)  # locked now


async def test_nurse_socket_needs_session_and_same_origin(web: WebProcess) -> None:
    url = web.base.replace("http", "ws") + "/ws/nurse"
    with pytest.raises(Exception, match=r"403|1008|rejected|closed"):
        c = await ProtocolClient.open(url, additional_headers={"Origin": web.base})
        await c.expect("hello", timeout=3)
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    with pytest.raises(Exception, match=r"403|1008|rejected|closed"):
        c = await ProtocolClient.open(url, additional_headers={
            "Cookie": f"hp_session={cookie}", "Origin": "https://evil.example"})
        await c.expect("hello", timeout=3)
