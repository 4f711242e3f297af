"""GET /metrics on a real web process over real sockets: what a youth and a nurse exchanging
messages does to the numbers, and who may read them."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest

from chat.client.protocol import nurse_connect, nurse_login, youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.metrics_scrape import read, scrape, value
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.servers import write_test_config

SERVICE = "demo-skole"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def until(base: str, name: str, want: float, **labels: str) -> str:
    """Scrape until ``name{labels}`` reads ``want`` (a socket's open and close are seen by the
    server a moment after the client's); the text of that scrape."""
    for _ in range(200):
        text = await read(base)
        if value(text, name, **labels) == want:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name}{labels} never read {want}: {value(text, name, **labels)}")


async def test_a_conversation_shows_in_the_metrics(web: WebProcess) -> None:
    before = await read(web.base)
    y, session = await youth_start(web.base, SERVICE)
    assert (await y.expect("state"))["state"] == "waiting"
    text = await until(web.base, "helseprat_queue_length", 1, service=SERVICE, kind="waiting")
    assert value(text, "helseprat_sockets", role="youth") == 1
    assert value(text, "helseprat_queue_length", service=SERVICE, kind="later") == 0

    n = await nurse_connect(web.base, await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD))
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    assert (await y.expect("state"))["state"] == "active"
    await y.send({"type": "send", "cmid": "metricsy01", "body": b64("hei")})
    await y.expect("ack")
    await n.expect("deliver")
    await n.send({"type": "send", "conversation": session.conversation, "cmid": "metricsn01",
                  "body": b64("hei du")})
    await n.expect("ack")
    await y.expect("deliver")

    after = await until(web.base, "helseprat_queue_length", 0, service=SERVICE, kind="waiting")
    for role in ("youth", "nurse"):
        grew = (value(after, "helseprat_messages_total", role=role)
                - value(before, "helseprat_messages_total", role=role))
        assert grew == 1, role
    assert value(after, "helseprat_sockets", role="youth") == 1
    assert value(after, "helseprat_sockets", role="nurse") == 1
    # Each side's deliver was written to its socket (a live one is timed; one the nurse's feed
    # happened to read from history while it caught up is not, hence not exactly 2).
    relayed = (value(after, "helseprat_relay_seconds_count")
               - value(before, "helseprat_relay_seconds_count"))
    assert 0 < relayed <= 2
    assert value(after, "helseprat_relay_seconds_bucket", le="+Inf") == \
        value(after, "helseprat_relay_seconds_count")

    await y.close()
    await n.close()
    await until(web.base, "helseprat_sockets", 0, role="youth")
    await until(web.base, "helseprat_sockets", 0, role="nurse")


async def test_a_peer_not_allowed_gets_404(web: WebProcess) -> None:
    # Any 127/8 address reaches loopback; only 127.0.0.1 (and ::1) may scrape by default.
    r = await scrape(web.base, local_address="127.0.0.2")
    assert r.status_code == 404
    assert "helseprat" not in r.text
    assert (await scrape(web.base)).status_code == 200


@pytest.fixture
async def behind_proxy(redis_proc: RedisProcess,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    """The test's own address (127.0.0.1) is the load balancer; scrapers are 10.9.0.0/16."""
    d = tmp_path_factory.mktemp("metrics-proxy")
    write_test_config(d)
    web = await start_clean_web(redis_proc.url, d, extra_env={
        "HELSEPRAT_TRUSTED_PROXIES": "127.0.0.0/8", "HELSEPRAT_METRICS_ALLOW": "10.9.0.0/16"})
    yield web
    await asyncio.to_thread(web.stop)


async def test_behind_a_proxy_the_forwarded_client_decides(behind_proxy: WebProcess) -> None:
    base = behind_proxy.base
    allowed = await scrape(base, {"X-Forwarded-For": "10.9.3.4"})
    assert allowed.status_code == 200 and "helseprat_sockets" in allowed.text
    for forwarded in ("198.51.100.7", "10.8.0.1", "10.9.3.4, 198.51.100.7"):
        refused = await scrape(base, {"X-Forwarded-For": forwarded})
        assert refused.status_code == 404, forwarded
        assert "helseprat" not in refused.text
    # The load balancer itself (loopback, not in the allow list) is not a scraper either.
    assert (await scrape(base)).status_code == 404
