"""The actions layer in-process against the real test Redis, with a FakeClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.config import Config, load_config
from chat.domain.staff import Nurse
from chat.store.client import connect
from devservices.redis_cluster import RedisCluster
from tests.servers import FAST_LIMITS, write_test_config

SERVICES = FAST_LIMITS + """starts_per_client_per_hour = 100000

[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "core-a"
municipality = "demo"
name = "Kjerne A"
kind = "school"
retention_days = 30
members = ["nurse.a", "nurse.b"]
max_chats_per_nurse = 2
outcomes = ["advice_given", "other"]
[service.hours]
daily = "00:00-24:00"

[[service]]
id = "core-b"
municipality = "demo"
name = "Kjerne B"
kind = "clinic"
retention_days = 30
members = ["nurse.c"]
max_chats_per_nurse = 2
[service.hours]
daily = "00:00-24:00"
"""

NURSE_A = Nurse("nurse.a", "Nurse A", "nurse", frozenset({"core-a"}))
NURSE_B = Nurse("nurse.b", "Nurse B", "nurse", frozenset({"core-a"}))
NURSE_C = Nurse("nurse.c", "Nurse C", "nurse", frozenset({"core-b"}))


def write_core_config(data_dir: Path) -> None:
    write_test_config(data_dir, SERVICES)


@pytest.fixture
def core_config(tmp_path: Path, redis_url: str) -> Config:
    write_core_config(tmp_path)
    return load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def actions(core_config: Config, r: aioredis.Redis, clock: FakeClock) -> Actions:
    from chat.store.conversations import Store

    return Actions(core_config, Store(r, clock), clock)


# -- the same on the test Redis Cluster (tests marked ``cluster``) ----------------------------------
@pytest.fixture
async def cluster_r(redis_cluster: RedisCluster) -> AsyncIterator[aioredis.Redis]:
    """A client of the loopback Redis Cluster, every primary emptied first."""
    client = connect(redis_cluster.url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
def cluster_actions(tmp_path: Path, redis_cluster: RedisCluster, cluster_r: aioredis.Redis,
                    clock: FakeClock) -> Actions:
    from chat.store.conversations import Store

    write_core_config(tmp_path)
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_cluster.url})
    return Actions(config, Store(cluster_r, clock), clock)
