"""Fair use per capability token on a Redis Cluster: the token's keys share one slot, so the
check and the take stay one step there too; the close that frees a place and a nurse's pause
work across the slots of the conversation and the token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chat.client.protocol import youth_start
from devservices.redis_cluster import RedisCluster
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.chat.web.test_fairuse import FAIR_SERVICES, end, refused_start
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
async def csite(redis_cluster: RedisCluster,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    d = tmp_path_factory.mktemp("web-cluster-fairuse")
    write_test_config(d, FAIR_SERVICES, answer_later=True)
    proc = await start_clean_web(redis_cluster.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_fair_use_on_a_cluster(csite: WebProcess) -> None:
    first, s1 = await youth_start(csite.base, "fair-pause")
    second, s2 = await youth_start(csite.base, "fair-pause", capability=s1.token)
    assert s2.token == s1.token
    assert (await refused_start(csite.base, "fair-pause", s1.token))["code"] == "too_many_open"
    await end(first)
    n, _ = await nurse_ws(csite.base, "demo.nurse")
    await n.send({"type": "pause_starts", "conversation": s2.conversation, "hours": 1})
    assert (await n.expect("start_pause"))["until"] is not None
    assert (await refused_start(csite.base, "fair-pause", s1.token))["code"] == "starts_paused"
    await n.send({"type": "lift_pause", "conversation": s2.conversation})
    assert (await n.expect("start_pause"))["until"] is None
    third, s3 = await youth_start(csite.base, "fair-pause", capability=s1.token)
    assert s3.token == s1.token
    for c in (second, third, n):
        await c.close()
