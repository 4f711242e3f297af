"""Answer later, the whole way: a youth writes while the service is closed and asks to be told,
the service opens (the web process's clock is moved), a nurse comes on duty, claims the
conversation from the answer-later list and answers, and the push-service stand-in receives
the one fixed notice, decrypted with the subscription's own keys, with TTL, Topic and Urgency.
Nothing of the subscription is in clear in Redis or the log."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from chat.client.protocol import later_snapshot, youth_start
from chat.store import names as keys
from devservices.pushservice.client import AsyncPushServiceClient
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.push.test_push_web import all_of_redis, until
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.clockfile import write_clock
from tests.conftest import start_clean_web
from tests.servers import FAST_LIMITS, write_test_config

OSLO = ZoneInfo("Europe/Oslo")
SERVICES = FAST_LIMITS + """
[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "later-hfu"
municipality = "demo"
name = "Helsestasjon for ungdom"
kind = "clinic"
members = ["demo.nurse"]
[service.hours]
mon = "14:00-18:00"
tue = "14:00-18:00"
wed = "14:00-18:00"
thu = "14:00-18:00"
fri = "14:00-18:00"
[service.answer_later]
working_days = 1
"""


def next_monday(hour: int, minute: int = 0) -> float:
    today = dt.datetime.now(OSLO).date()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    return dt.datetime.combine(monday, dt.time(hour, minute), tzinfo=OSLO).timestamp()


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               push_web_env: dict[str, str]) -> AsyncIterator[WebProcess]:
    data_dir: Path = tmp_path_factory.mktemp("answer-later")
    write_test_config(data_dir, SERVICES, answer_later=True)
    clock = tmp_path_factory.mktemp("clock") / "now"
    clock.write_text(str(next_monday(10)), encoding="utf-8")  # closed until 14.00
    proc = await start_clean_web(redis_proc.url, data_dir, extra_env={
        **push_web_env, "HELSEPRAT_TEST_CLOCK_FILE": str(clock)})
    proc.clock_file = clock  # type: ignore[attr-defined]
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.fixture
async def r(redis_proc: RedisProcess) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_proc.url, decode_responses=True)
    yield client
    await client.aclose()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_written_while_closed_then_answered_and_told_by_push(
    site: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    y, session = await youth_start(site.base, "later-hfu")
    cid = session.conversation
    assert (await y.expect("state"))["state"] == "later"  # closed: it waits for a written answer
    await y.send({"type": "send", "cmid": "m0000000001", "body": b64("Kan jeg spørre om noe?")})
    await y.expect("ack", where=lambda f: f["cmid"] == "m0000000001")
    await y.send({"type": "push_subscribe", **sub.info(), "lang": "nb"})
    told = await y.expect("push")
    assert told["on"] is True and told["tag"]
    await y.close()  # the youth goes; nobody has a socket to tell her on

    async def offline() -> bool:
        return await r.zscore(keys.online("later-hfu"), cid) is None
    await until(offline, "the youth's presence is cleared")
    assert await push_client.messages(sub.id) == []  # nothing to tell yet

    clock: Path = site.clock_file  # type: ignore[attr-defined]
    await asyncio.to_thread(write_clock, clock, next_monday(14, 30))
    n, _ = await nurse_ws(site.base, "demo.nurse")  # the service has opened; she comes on duty
    items = await later_snapshot(n, "later-hfu", lambda items: bool(items))
    assert [i["conversation"] for i in items] == [cid]
    await n.send({"type": "claim", "conversation": cid})
    await n.expect("claimed", where=lambda f: f["conversation"] == cid)
    await n.send({"type": "send", "conversation": cid, "cmid": "n0000000001",
                  "body": b64("Hei! Klamydiatesten din var negativ.")})
    await n.expect("ack", where=lambda f: f.get("cmid") == "n0000000001")

    [notice] = await push_client.wait_messages(sub.id, timeout=30)
    assert notice.json() == {"title": "Du har fått svar", "tag": told["tag"]}  # exactly that
    assert notice.ttl == 345_600 and notice.urgency == "normal"
    assert notice.topic is not None and len(notice.topic) == 22 and notice.topic not in cid
    await n.close()

    everything, log = await all_of_redis(r), site.log_text()
    for secret in (sub.endpoint, sub.id, sub.p256dh, sub.auth):
        assert secret not in everything and secret not in log
