"""A conversation's share of Redis is capped (messages and bytes, atomically in the append
script), and a full Redis (maxmemory, noeviction) is a clear answer, not a traceback. Real
sockets, real web processes, real redis-servers."""

from __future__ import annotations

import asyncio
import base64
import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from chat.client.protocol import ProtocolClient, youth_start
from chat.store import names as keys
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.servers import TEST_SERVICES, write_test_config

MAX_MESSAGES = 6
MAX_BYTES = 40_000
CAPPED = TEST_SERVICES.replace(
    "max_messages_per_conversation = 100000", f"max_messages_per_conversation = {MAX_MESSAGES}"
).replace("max_bytes_per_conversation = 1000000000", f"max_bytes_per_conversation = {MAX_BYTES}")
assert CAPPED != TEST_SERVICES


def body(size: int) -> str:
    """An opaque body of ``size`` base64 characters (the server never opens one)."""
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


@pytest.fixture(scope="module")
async def capped(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[WebProcess]:
    d = tmp_path_factory.mktemp("caps")
    write_test_config(d, CAPPED)
    proc = await start_clean_web(redis_proc.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


async def sent(c: ProtocolClient, frame: dict[str, object]) -> dict[str, object]:
    """The ack or the error for one send."""
    await c.send({"type": "send", **frame})
    return await c.expect(("ack", "error"), where=lambda f: f.get("cmid", f.get("ref"))
                          == frame["cmid"])


async def test_a_conversation_holds_at_most_the_configured_messages_whoever_sends(
    capped: WebProcess, r: aioredis.Redis,
) -> None:
    y, s = await youth_start(capped.base, "demo-skole")
    n, _ = await nurse_ws(capped.base, "demo.nurse")
    await n.send({"type": "claim", "conversation": s.conversation})
    await n.expect("claimed")
    first = await sent(y, {"cmid": "capfirst01", "body": body(400)})
    assert first["type"] == "ack"
    # Youth and nurse write at once, more than fits: exactly the cap is stored, the rest is
    # refused with a stable code and no sequence number.
    frames = [(y, {"cmid": f"capyouth{i:02}", "body": body(400)}) for i in range(6)]
    frames += [(n, {"conversation": s.conversation, "cmid": f"capnurse{i:02}",
                    "body": body(400)}) for i in range(6)]
    for c, f in frames:
        await c.send({"type": "send", **f})
    answers = [await c.expect(("ack", "error"), where=lambda x, f=f: x.get("cmid", x.get("ref"))
                              == f["cmid"]) for c, f in frames]
    acked = [a for a in answers if a["type"] == "ack"]
    refused = [a for a in answers if a["type"] == "error"]
    assert len(acked) == MAX_MESSAGES - 1
    assert {a["code"] for a in refused} == {"conversation_full"}
    assert await r.xlen(keys.log(s.conversation)) == MAX_MESSAGES
    # What was accepted stays accepted: a resend of it is still its duplicate ack.
    again = await sent(y, {"cmid": "capfirst01", "body": body(400)})
    assert again["type"] == "ack" and again["duplicate"] is True and again["seq"] == 1
    for c in (y, n):
        await c.close()


async def test_a_conversation_holds_at_most_the_configured_bytes(
    capped: WebProcess, r: aioredis.Redis,
) -> None:
    y, s = await youth_start(capped.base, "demo-skole")
    big = MAX_BYTES // 2 - 100
    assert (await sent(y, {"cmid": "bytes00001", "body": body(big)}))["type"] == "ack"
    assert (await sent(y, {"cmid": "bytes00002", "body": body(big)}))["type"] == "ack"
    refused = await sent(y, {"cmid": "bytes00003", "body": body(big)})
    assert refused["type"] == "error" and refused["code"] == "conversation_full"
    assert refused["ref"] == "bytes00003"
    # A small one still fits under the byte cap (the cap is on what is stored, not a lockout).
    assert (await sent(y, {"cmid": "bytes00004", "body": body(100)}))["type"] == "ack"
    assert await r.xlen(keys.log(s.conversation)) == 3
    await y.close()


async def test_the_youth_page_has_the_full_texts_in_every_language(capped: WebProcess) -> None:
    texts = {"nb": "Samtalen har nådd grensen", "nn": "Samtalen har nådd grensa",
             "en": "This conversation has reached its length limit"}
    async with httpx.AsyncClient(base_url=capped.base) as http:
        for lang, start in texts.items():
            page = (await http.get(f"/s/demo-skole?lang={lang}")).text
            assert f'data-t-full="{start}' in page, lang
            assert 'data-t-storage-full="' in page, lang


async def test_the_private_redis_refuses_writes_past_maxmemory_instead_of_evicting(
    redis_proc: RedisProcess,
) -> None:
    client = aioredis.from_url(redis_proc.url, decode_responses=True)
    conf = await client.config_get("maxmemory*")
    await client.aclose()
    assert conf["maxmemory-policy"] == "noeviction"
    assert int(conf["maxmemory"]) > 0


async def test_a_full_redis_is_a_clear_error_and_nothing_accepted_is_lost(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    d = tmp_path_factory.mktemp("oom")
    own = RedisProcess(d / "redis")
    own.start()
    write_test_config(d)
    web = await start_clean_web(own.url, d)
    admin = aioredis.from_url(own.url, decode_responses=True)
    try:
        y, _ = await youth_start(web.base, "demo-skole")
        assert (await sent(y, {"cmid": "beforefull", "body": body(200)}))["type"] == "ack"
        limit = (await admin.config_get("maxmemory"))["maxmemory"]
        await admin.config_set("maxmemory", 1)  # below what it holds: every write is refused
        refused = await sent(y, {"cmid": "whilefull1", "body": body(200)})
        assert refused["type"] == "error" and refused["code"] == "storage_full"
        assert refused["ref"] == "whilefull1"
        # The socket stays (a reconnect would only resend into it) and says so again.
        still = await sent(y, {"cmid": "whilefull2", "body": body(200)})
        assert still["type"] == "error" and still["code"] == "storage_full"
        async with httpx.AsyncClient(base_url=web.base) as http:
            form = await http.get("/nurse/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            # A sign-in writes (the session, or the failure count): refused, and said so.
            login = await http.post("/nurse/login", data={
                "csrf": csrf[1], "username": "demo.nurse", "password": DEMO_PASSWORD})
        assert login.status_code == 507
        assert login.json()["error"]["code"] == "storage_full"
        await admin.config_set("maxmemory", limit)
        again = await sent(y, {"cmid": "whilefull1", "body": body(200)})
        assert again["type"] == "ack" and again["seq"] == 2
        await y.close()
    finally:
        await admin.aclose()
        await asyncio.to_thread(web.stop)
        own.stop()
    log = web.log_text()
    assert "storage full" in log
    assert "Traceback" not in log
