"""Fair use without tracking, over real sockets on a real web process and Redis: the limits
per capability token on open and new conversations (another token unaffected), a nurse's
pause of a token's new starts (audited, the youth told, lifted), a nurse's break (off duty,
so a start becomes an answer-later one; no claims; back again), and that no token is in
Redis or the log in clear."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from anon import tokens
from chat.client.e2e import YouthCrypto, fetch_team
from chat.client.protocol import ProtocolClient, ws_url, youth_start
from chat.store import names as keys
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.conftest import start_clean_web
from tests.servers import FAST_LIMITS, write_test_config
from tests.system.test_privacy import dump_everything

FAIR_SERVICES = FAST_LIMITS + """open_conversations_per_token = 2
new_conversations_per_token = 4

[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "fair-skole"
municipality = "demo"
name = "Rettferdig skole"
members = ["demo.nurse", "demo.lead"]
max_chats_per_nurse = 3
[service.hours]
daily = "00:00-24:00"

[[service]]
id = "fair-pause"
municipality = "demo"
name = "Pause skole"
members = ["demo.nurse", "demo.lead", "other.nurse"]
[service.hours]
daily = "00:00-24:00"

[[service]]
id = "fair-break"
municipality = "demo"
name = "Friminutt skole"
members = ["other.nurse"]
max_chats_per_nurse = 4
[service.hours]
daily = "00:00-24:00"
"""


@pytest.fixture(scope="module")
async def fweb(redis_proc: RedisProcess,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    d: Path = tmp_path_factory.mktemp("fairuse-web")
    write_test_config(d, FAIR_SERVICES, answer_later=True)
    proc = await start_clean_web(redis_proc.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


async def refused_start(base: str, service: str, capability: str) -> dict[str, Any]:
    """A start (sealed to the team, as the browser does) that the server should refuse: the
    frame it answers with."""
    keys_ = YouthCrypto.create(await fetch_team(base, service))
    client = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    await client.send({"type": "start", "service": service, "capability": capability,
                       "key_bundle": keys_.bundle_b64, "epoch": keys_.epoch})
    error = await client.expect(("error", "started"))
    await client.close()
    return error


async def end(client: ProtocolClient) -> None:
    await client.send({"type": "end"})
    await client.expect("state", where=lambda f: f["state"] == "closed")
    await client.close()


async def test_open_conversations_per_token(fweb: WebProcess, r: aioredis.Redis) -> None:
    n, _ = await nurse_ws(fweb.base, "demo.nurse")  # on duty: starts wait live
    first, s1 = await youth_start(fweb.base, "fair-skole")
    second, s2 = await youth_start(fweb.base, "fair-skole", capability=s1.token)
    assert s2.token == s1.token and s2.conversation != s1.conversation  # the same capability
    error = await refused_start(fweb.base, "fair-skole", s1.token)
    assert (error["type"], error["code"]) == ("error", "too_many_open")
    assert await r.zscore(keys.queue("fair-skole"), s1.conversation) is not None
    # Another token is not held to this one's limit.
    other, s3 = await youth_start(fweb.base, "fair-skole")
    assert s3.token != s1.token
    # A close frees a place: the same token may start again.
    await end(first)
    third, s4 = await youth_start(fweb.base, "fair-skole", capability=s1.token)
    assert s4.token == s1.token
    tag = tokens.fair_use_tag(secrets_key(fweb), s1.token)
    assert set(await r.zrange(keys.fair_open(tag), 0, -1)) == {s2.conversation, s4.conversation}
    assert 0 < await r.ttl(keys.fair_open(tag)) <= 30 * 86_400 + 1
    for c in (second, other, third, n):
        await c.close()


async def test_new_conversations_per_token(fweb: WebProcess) -> None:
    client, first = await youth_start(fweb.base, "fair-skole")
    await end(client)
    for _ in range(3):  # four starts in all: the period's allowance
        client, again = await youth_start(fweb.base, "fair-skole", capability=first.token)
        assert again.token == first.token
        await end(client)
    error = await refused_start(fweb.base, "fair-skole", first.token)
    assert error["code"] == "too_many_new"
    fresh, other = await youth_start(fweb.base, "fair-skole")  # another token may
    assert other.token != first.token
    await fresh.close()


async def test_an_unknown_token_is_not_taken_over(fweb: WebProcess) -> None:
    made_up = secrets.token_urlsafe(32)
    client, session = await youth_start(fweb.base, "fair-skole", capability=made_up)
    assert session.token != made_up  # the server mints its own
    await client.close()


async def audit_entries(r: aioredis.Redis, service: str) -> list[dict[str, str]]:
    return [fields for _, fields in await r.xrange(keys.audit(service))]


async def test_nurse_pauses_new_starts_and_a_lead_lifts_it(fweb: WebProcess,
                                                           r: aioredis.Redis) -> None:
    y, session = await youth_start(fweb.base, "fair-pause")
    n, _ = await nurse_ws(fweb.base, "demo.nurse")
    before = time.time()
    await n.send({"type": "pause_starts", "conversation": session.conversation, "hours": 24})
    paused = await n.expect("start_pause")
    assert paused["conversation"] == session.conversation
    assert before + 86_400 - 5 <= paused["until"] <= time.time() + 86_400 + 5
    entry = (await audit_entries(r, "fair-pause"))[-1]
    assert (entry["a"], entry["x"], entry["c"], entry["d"]) == (
        "demo.nurse", "pause_starts", session.conversation[:6], "24 h")
    await n.send({"type": "start_pause", "conversation": session.conversation})
    assert (await n.expect("start_pause"))["until"] == paused["until"]

    # The youth trying to start again is told, with a code the page words kindly.
    error = await refused_start(fweb.base, "fair-pause", session.token)
    assert error["code"] == "starts_paused" and "crisis" in error["message"]
    # A pause holds for the token, not the address: another youth starts.
    other, _ = await youth_start(fweb.base, "fair-pause")
    await other.close()

    # Another nurse who is not a lead may not lift it; a bad choice of hours is refused.
    o, _ = await nurse_ws(fweb.base, "other.nurse")
    await o.send({"type": "lift_pause", "conversation": session.conversation})
    assert (await o.expect("error"))["code"] == "not_authorized"
    await o.send({"type": "pause_starts", "conversation": session.conversation, "hours": 2})
    assert (await o.expect("error"))["code"] == "schema_violation"
    lead, _ = await nurse_ws(fweb.base, "demo.lead")
    await lead.send({"type": "lift_pause", "conversation": session.conversation})
    assert (await lead.expect("start_pause"))["until"] is None
    entry = (await audit_entries(r, "fair-pause"))[-1]
    assert (entry["a"], entry["x"]) == ("demo.lead", "lift_pause")
    again, s2 = await youth_start(fweb.base, "fair-pause", capability=session.token)
    assert s2.token == session.token
    for c in (y, n, o, lead, again):
        await c.close()


async def test_break_takes_the_nurse_off_duty_and_claims(fweb: WebProcess,
                                                         r: aioredis.Redis) -> None:
    n, _ = await nurse_ws(fweb.base, "other.nurse")  # the only nurse of fair-break
    load = await n.expect("load")
    assert (load["capacity"], load["on_break"]) == (4, False)
    live, waiting = await youth_start(fweb.base, "fair-break")
    assert (await live.expect("state"))["state"] == "waiting"

    await n.send({"type": "set_break", "on": True})
    assert (await n.expect("load", where=lambda f: f["on_break"]))["used"] == 0
    assert await r.zcard(keys.on_duty("fair-break")) == 0
    await n.send({"type": "ping"})  # a ping on a break does not put her on duty again
    await n.expect("pong")
    assert await r.zcard(keys.on_duty("fair-break")) == 0
    y, later = await youth_start(fweb.base, "fair-break")
    assert (await y.expect("state"))["state"] == "later"  # nobody on duty: answer later
    await n.send({"type": "claim", "conversation": waiting.conversation})
    assert (await n.expect("error"))["code"] == "on_break"
    assert await r.hget(keys.meta(waiting.conversation), "st") == "waiting"

    await n.send({"type": "set_break", "on": False})
    assert (await n.expect("load", where=lambda f: not f["on_break"]))["used"] == 0
    assert await r.zcard(keys.on_duty("fair-break")) == 1
    back, again = await youth_start(fweb.base, "fair-break")
    assert (await back.expect("state"))["state"] == "waiting"
    await n.send({"type": "claim", "conversation": waiting.conversation})
    await n.expect("claimed", where=lambda f: f["conversation"] == waiting.conversation)
    assert (await n.expect("load", where=lambda f: f["used"] == 1))["capacity"] == 4
    for c in (live, y, back, n):
        await c.close()
    assert later.conversation and again.conversation


async def test_no_token_in_redis_in_clear(fweb: WebProcess, redis_proc: RedisProcess) -> None:
    first, s1 = await youth_start(fweb.base, "fair-skole")
    second, s2 = await youth_start(fweb.base, "fair-skole", capability=s1.token)
    n, _ = await nurse_ws(fweb.base, "demo.nurse")
    await n.send({"type": "pause_starts", "conversation": s2.conversation, "hours": 1})
    await n.expect("start_pause")
    everything = await dump_everything(redis_proc.url)
    assert s1.token not in everything
    tag = tokens.fair_use_tag(secrets_key(fweb), s1.token)
    assert tag in everything  # counted under the keyed tag only
    assert fweb.log_path is not None
    assert s1.token not in fweb.log_path.read_text(encoding="utf-8", errors="replace")
    for c in (first, second, n):
        await c.close()


def secrets_key(web: WebProcess) -> bytes:
    return (web.data_dir / "secrets" / "token_key").read_bytes().strip()
