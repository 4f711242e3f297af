""""Mine vaksiner" with a Redis Cluster behind the web process: the person (sealed pid) and
the access log share the person's hash tag, the login session is on another slot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from chat.store.client import connect
from devservices.redis_cluster import RedisCluster
from devservices.redis_proc import free_port
from devservices.sysvak.devsetup import sysvak_table
from devservices.sysvak.process import SysvakProcess
from identity_bridge.web import keys

from .conftest import (  # noqa: F401 - fixtures
    CLIENT_TIMEOUT_S,
    FakeSite,
    VaccineSite,
    fake_idp,
    idporten_table,
    logged_in,
    person,
    rp_key,
    rp_key_file,
    start_site,
    sysvak,
)


@pytest.fixture(scope="module")
async def cluster_vaccine_site(
    redis_cluster: RedisCluster, fake_idp: Any, rp_key_file: Path,  # noqa: F811
    sysvak: SysvakProcess, tmp_path_factory: pytest.TempPathFactory,  # noqa: F811
) -> AsyncIterator[VaccineSite]:
    table = idporten_table(fake_idp.issuer, rp_key_file) + sysvak_table(
        sysvak.config_file.parent, sysvak.url, timeout_s=CLIENT_TIMEOUT_S)
    web = await start_site(tmp_path_factory.mktemp("vacc-cluster"), redis_cluster.url, table,
                           free_port())
    yield VaccineSite(web, FakeSite(web, fake_idp), sysvak)
    await asyncio.to_thread(web.stop)


async def test_the_vaccine_page_and_its_access_log_on_a_cluster(
    cluster_vaccine_site: VaccineSite, redis_cluster: RedisCluster,
) -> None:
    b = await logged_in(cluster_vaccine_site, person(15).pid)
    try:
        r = await b.http.get("/mine/vaksiner")
    finally:
        await b.aclose()
    assert 'data-vaccine="dtap-ipv" data-state="due"' in r.text
    redis = connect(redis_cluster.url)
    try:
        (found,) = [k async for k in redis.scan_iter(match="yp:*:access")]
        (entry,) = [json.loads(e) for e in await redis.lrange(found, 0, -1)]
    finally:
        await redis.aclose()
    assert entry["k"] == "vaksiner"
    tag = found.split("{", 1)[1].split("}", 1)[0]
    assert found == keys.person_access(tag)
    assert key_slot(found.encode()) == key_slot(keys.person(tag).encode())
