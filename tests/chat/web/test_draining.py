"""A draining web process (after SIGTERM) takes no new socket: a handshake is refused with 503
shutting_down, which nginx passes on to another process, and a socket accepted just as the
drain began is told to go elsewhere at once. Either, accepted and kept, would sit answering
shutting_down until the drain was over (the graceful timeout: 15 s)."""

from __future__ import annotations

import asyncio
import base64
import os
import signal

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.exceptions import InvalidStatus

from chat.client.protocol import ProtocolClient, nurse_login, ws_url, youth_start
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD
from tests.waiting import until


async def held_write(r: aioredis.Redis) -> bool:
    """Some client (the web process) waits in a paused write script."""
    return any("b" in c.get("flags", "") and c.get("cmd", "").startswith(("eval", "fcall"))
               for c in await r.client_list())



async def test_a_socket_opened_while_draining_is_refused_503(
    web: WebProcess, redis_client: aioredis.Redis
) -> None:
    busy, session = await youth_start(web.base, "demo-skole")
    await busy.expect("queue")  # in the queue: nothing more of the start is on its way
    # A write that Redis holds keeps the drain waiting for that socket to finish its frame.
    await redis_client.execute_command("CLIENT", "PAUSE", "10000", "WRITE")
    try:
        await busy.send({"type": "send", "cmid": "sentjustbeforesigterm",
                         "body": base64.b64encode(b"x").decode()})
        await until(lambda: held_write(redis_client), "the send waits in Redis")
        os.kill(web.pid, signal.SIGTERM)
        async with httpx.AsyncClient() as http:
            async def draining() -> bool:
                return (await http.get(web.base + "/readyz")).status_code == 503
            await until(draining, "/readyz says draining")
        with pytest.raises(InvalidStatus) as refused:
            await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
        assert refused.value.response.status_code == 503
        assert b'"shutting_down"' in refused.value.response.body
    finally:
        await redis_client.execute_command("CLIENT", "UNPAUSE")
    # The busy socket finishes its frame (the message is stored), then is told to reconnect;
    # the process exits cleanly.
    await busy.expect("reconnect", timeout=30)
    assert await asyncio.to_thread(web.proc.wait, 30) == 0  # type: ignore[union-attr]
    stored = await redis_client.xrange(f"c:{{{session.conversation}}}:l")
    assert [f[b"c"] for _, f in stored] == [b"sentjustbeforesigterm"]
    assert "Traceback" not in web.log_text()

async def test_a_socket_accepted_as_the_drain_begins_is_sent_elsewhere_at_once(
    web: WebProcess, redis_client: aioredis.Redis
) -> None:
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    # Every Redis client waits 2.5 s (the pause cannot be lifted early in this mode): the
    # nurse's handshake waits in its session check, past the "draining?" question.
    await redis_client.execute_command("CLIENT", "PAUSE", "2500", "ALL")
    opening = asyncio.ensure_future(ProtocolClient.open(
        ws_url(web.base, "/ws/nurse"),
        additional_headers={"Cookie": f"hp_session={cookie}", "Origin": web.base}))
    await asyncio.sleep(0.8)  # the handshake is in; nothing is asserted on this time
    os.kill(web.pid, signal.SIGTERM)
    client = await opening
    first = await client.expect(("hello", "reconnect"), timeout=30)
    assert first["type"] == "reconnect"
    await client.closed.wait()
    assert client.ws.close_code == 1012
    assert await asyncio.to_thread(web.proc.wait, 30) == 0  # type: ignore[union-attr]
