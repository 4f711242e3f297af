"""Two web processes on one Redis Cluster: the youth on one, the nurse on the other. Every
frame between them crosses the cluster (the append on the conversation's primary, its event
on that node's shard channel, the other process subscribed there), and the youth, coming back
through the other process, gets what it missed."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest

from chat.client.protocol import youth_resume, youth_start
from devservices.redis_cluster import RedisCluster
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.cluster


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
async def two_sites(redis_cluster: RedisCluster,
                    tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[WebProcess, WebProcess]]:
    d = tmp_path_factory.mktemp("web-cluster-two")
    write_test_config(d)
    a = await start_clean_web(redis_cluster.url, d)
    b = WebProcess(d, redis_cluster.url)
    await asyncio.to_thread(b.start)
    yield a, b
    for p in (a, b):
        await asyncio.to_thread(p.stop)


async def test_a_conversation_across_two_web_processes_on_a_cluster(
        two_sites: tuple[WebProcess, WebProcess]) -> None:
    a, b = two_sites
    y, session = await youth_start(a.base, "demo-skole")
    assert (await y.expect("state"))["state"] == "waiting"
    n, _ = await nurse_ws(b.base, "demo.nurse")
    await n.expect("queue_snapshot", where=lambda f: f["service"] == "demo-skole" and any(
        i["conversation"] == session.conversation for i in f["items"]))
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    assert (await y.expect("state"))["state"] == "active"

    for i in range(1, 11, 2):
        await y.send({"type": "send", "cmid": f"youthmsg{i:02}", "body": b64(f"y{i}")})
        assert (await y.expect("ack"))["seq"] == i
        got = await n.expect("deliver")
        assert (got["seq"], got["from"], got["body"]) == (i, "youth", b64(f"y{i}"))
        await n.send({"type": "send", "conversation": session.conversation,
                      "cmid": f"nursemsg{i + 1:02}", "body": b64(f"n{i + 1}")})
        assert (await n.expect("ack"))["seq"] == i + 1
        got = await y.expect("deliver")
        assert (got["seq"], got["from"], got["body"]) == (i + 1, "nurse", b64(f"n{i + 1}"))

    session.last = 10
    await y.close()
    await n.send({"type": "send", "conversation": session.conversation, "cmid": "nursemsg11",
                  "body": b64("er du der?")})
    assert (await n.expect("ack"))["seq"] == 11
    back = await youth_resume(b.base, session)  # back through the nurse's process this time
    got = await back.expect("deliver")
    assert (got["seq"], got["body"]) == (11, b64("er du der?"))
    await back.send({"type": "send", "cmid": "youthmsg12", "body": b64("her")})
    assert (await back.expect("ack"))["seq"] == 12
    assert (await n.expect("deliver"))["seq"] == 12

    await n.send({"type": "close", "conversation": session.conversation, "outcome": "referred"})
    assert (await back.expect("state", where=lambda f: f["state"] == "closed"))["outcome"] == "referred"
    for c in (back, n):
        await c.close()
