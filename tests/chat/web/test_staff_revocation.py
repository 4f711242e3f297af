"""Revoking a nurse's session or account closes her open dashboard sockets, over real sockets
against a real web process and Redis: disabling the account (the real CLI, another process),
logging out (the sockets opened with that session, not her other sessions), and the per-command
check that holds even if the revocation message is never heard."""

from __future__ import annotations

import asyncio
import re

import httpx
import redis.asyncio as aioredis

from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login, youth_start
from devservices.webproc import WebProcess
from tests.chat.cli.test_cli_admin import helseprat
from tests.conftest import DEMO_PASSWORD

CLOSED_WITHIN_S = 5.0  # how long the test waits at most; the server closes as soon as it hears


async def closed_with_session_ended(client: ProtocolClient) -> int | None:
    """Wait (at most CLOSED_WITHIN_S) for the socket to close; returns its close code, having
    checked that the last frame said why."""
    await asyncio.wait_for(client.closed.wait(), CLOSED_WITHIN_S)
    errors = [f for f in client.seen if f.get("type") == "error"]
    assert errors and errors[-1]["code"] == "session_ended", client.seen[-3:]
    return client.ws.close_code


async def still_open(client: ProtocolClient) -> None:
    await client.send({"type": "ping"})
    await client.expect("pong", timeout=5)


async def test_disabling_a_nurse_closes_her_open_sockets(web: WebProcess, redis_url: str) -> None:
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    first, second = await nurse_connect(web.base, cookie), await nurse_connect(web.base, cookie)
    colleague = await nurse_connect(web.base, await nurse_login(web.base, "demo.lead",
                                                                DEMO_PASSWORD))
    done = await asyncio.to_thread(helseprat, web.data_dir, redis_url, "nurse", "disable",
                                   "demo.nurse")
    assert done.returncode == 0, done.stderr
    assert await closed_with_session_ended(first) == 4401
    assert await closed_with_session_ended(second) == 4401
    await still_open(colleague)  # another account's socket is left alone
    await colleague.close()


async def test_logout_closes_the_sockets_of_that_session_only(web: WebProcess) -> None:
    here = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    elsewhere = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    old = await nurse_connect(web.base, here)
    other_desk = await nurse_connect(web.base, elsewhere)
    async with httpx.AsyncClient(base_url=web.base, cookies={"hp_session": here}) as http:
        page = await http.get("/nurse")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m is not None
        r = await http.post("/nurse/logout", data={"csrf": m[1]})
        assert r.status_code == 303
    assert await closed_with_session_ended(old) == 4401
    await still_open(other_desk)
    await other_desk.close()


async def test_a_missed_revocation_still_stops_the_next_command(
    web: WebProcess, redis_url: str
) -> None:
    """The session is ended in Redis without a word on the channel (as if the message was lost
    while the process's pub/sub connection was down): the next command is refused and closes."""
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    sock = await nurse_connect(web.base, cookie)
    client = aioredis.from_url(redis_url, decode_responses=True)
    async for key in client.scan_iter(match="sess:*"):
        await client.delete(key)
    await client.aclose()
    await sock.send({"type": "claim", "conversation": "c" * 22})
    assert await closed_with_session_ended(sock) == 4401
    assert not [f for f in sock.seen if f.get("type") in ("claimed", "pong")]


async def test_a_missed_revocation_stops_the_next_send_unstored(
    web: WebProcess, redis_url: str
) -> None:
    """A nurse's send to a conversation she has written in before has her session checked by
    the append itself (one Redis): once the session is gone without a word on the channel, the
    next message is refused before anything is stored, and the socket closes."""
    from chat.store import names as keys
    from tests.chat.web.test_chat_flow import b64

    y, session = await youth_start(web.base, "demo-skole")
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    sock = await nurse_connect(web.base, cookie)
    await sock.send({"type": "claim", "conversation": session.conversation})
    await sock.expect("claimed")
    await sock.send({"type": "send", "conversation": session.conversation,
                     "cmid": "nursemsg01", "body": b64("hei")})
    assert (await sock.expect("ack"))["seq"] == 1
    client = aioredis.from_url(redis_url, decode_responses=True)
    async for key in client.scan_iter(match="sess:*"):
        await client.delete(key)
    await sock.send({"type": "send", "conversation": session.conversation,
                     "cmid": "nursemsg02", "body": b64("hei igjen")})
    assert await closed_with_session_ended(sock) == 4401
    assert [f["cmid"] for f in sock.seen if f.get("type") == "ack"] == ["nursemsg01"]
    assert await client.xlen(keys.log(session.conversation)) == 1
    await client.aclose()
    await y.close()
