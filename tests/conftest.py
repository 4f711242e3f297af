"""Shared fixtures: a real redis-server on a free port, started for the session.

Integration tests get a clean database (FLUSHALL) per test through ``redis_url``.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from chat.store.client import connect
from devservices.pushservice.client import AsyncPushServiceClient
from devservices.pushservice.process import PushServiceProcess
from devservices.redis_cluster import RedisCluster
from devservices.redis_proc import RedisProcess

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def redis_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    proc = RedisProcess(data_dir=tmp_path_factory.mktemp("redis"))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A 3+3 Redis Cluster on loopback (devservices/redis_cluster.py), started only for the
    tests that ask for it; ``.url`` is the ``redis+cluster://`` REDIS_URL."""
    cluster = RedisCluster(data_dir=tmp_path_factory.mktemp("cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def redis_url(redis_proc: RedisProcess) -> AsyncIterator[str]:
    client = aioredis.from_url(redis_proc.url)
    await client.flushall()
    await client.aclose()
    yield redis_proc.url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


# -- the push-service stand-in ----------------------------------------------------------------
PUSH_ORIGINS_ENV = "HELSEPRAT_PUSH_EXTRA_ORIGINS"


@pytest.fixture(scope="session")
def push_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushServiceProcess]:
    """The Web Push stand-in (devservices/pushservice) for the session; ``.base`` is its origin
    (the endpoints' prefix and the ``aud`` a VAPID token must name)."""
    proc = PushServiceProcess(log_dir=tmp_path_factory.mktemp("pushservice"))
    proc.start()
    yield proc
    proc.stop()


def push_origins_env(push_service: PushServiceProcess) -> dict[str, str]:
    """The env that lets a web process send to the stand-in (its endpoints are http://127.0.0.1:…,
    not on the built-in list of push services): pass as ``extra_env`` to start_clean_web or
    WebProcess."""
    return {PUSH_ORIGINS_ENV: push_service.base}


@pytest.fixture(scope="session")
def push_web_env(push_service: PushServiceProcess) -> dict[str, str]:
    """``push_origins_env(push_service)`` as a fixture."""
    return push_origins_env(push_service)


@pytest.fixture
async def push_client(push_service: PushServiceProcess) -> AsyncIterator[AsyncPushServiceClient]:
    """A client for the stand-in's test controls, after forgetting every earlier test's messages,
    counts and modes (subscriptions stay valid)."""
    client = AsyncPushServiceClient(push_service.base)
    await client.clear()
    yield client


def chromium_path() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


# -- web processes --------------------------------------------------------------------------------
from devservices.webproc import WebProcess  # noqa: E402
from tests.servers import write_test_config  # noqa: E402

DEMO_PASSWORD = "demo-helseprat-2026"


@functools.cache
def _demo_hash() -> str:
    from chat.actions.accounts import hash_password

    return hash_password(DEMO_PASSWORD)


async def _add_accounts(redis_url: str, data_dir: Path) -> None:
    from chat.actions.accounts import Accounts
    from chat.clock import SystemClock
    from chat.config import load_config
    from devservices.demo import ensure_demo_teams

    config = load_config({"HELSEPRAT_DATA_DIR": str(data_dir), "REDIS_URL": redis_url})
    client = connect(redis_url)
    accounts = Accounts(config, client, SystemClock())
    h = _demo_hash()
    await accounts.add("demo.nurse", "", "nurse", "Demo Helsesykepleier", password_hash=h)
    await accounts.add("demo.lead", "", "lead", "Demo Leder", password_hash=h)
    await accounts.add("other.nurse", "", "nurse", "Annen Sykepleier", password_hash=h)
    await ensure_demo_teams(client, data_dir, {s.id: s.members for s in config.services.values()},
                            DEMO_PASSWORD)
    await client.aclose()


async def clean_accounts(redis_url: str, data_dir: Path) -> None:
    """An empty Redis with only the demo accounts and teams (for ``data_dir``'s services)."""
    client = connect(redis_url)
    await client.flushall()
    await client.aclose()
    await _add_accounts(redis_url, data_dir)


async def start_clean_web(
    redis_url: str, data_dir: Path, port: int = 0, extra_env: dict[str, str] | None = None,
) -> WebProcess:
    """A web process on an empty Redis with the demo accounts and teams: what every
    module-scoped site fixture starts from (a redis+cluster:// URL: every primary emptied)."""
    await clean_accounts(redis_url, data_dir)
    proc = WebProcess(data_dir, redis_url, port=port, extra_env=dict(extra_env or {}))
    await asyncio.to_thread(proc.start)
    return proc


@pytest.fixture(scope="session")
def web_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("web")
    write_test_config(d)
    return d


@pytest.fixture
async def web(redis_url: str, web_data_dir: Path) -> AsyncIterator[WebProcess]:
    """One real web process (Hypercorn) on a free port, talking to the test Redis."""
    await _add_accounts(redis_url, web_data_dir)
    proc = WebProcess(web_data_dir, redis_url)
    proc.start()
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.fixture
async def web_default_limits(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebProcess]:
    """A web process with the production rate limits (no [limits] table)."""
    from tests.servers import BASE_SERVICES

    d = tmp_path_factory.mktemp("web-default-limits")
    write_test_config(d, BASE_SERVICES)
    await _add_accounts(redis_url, d)
    proc = WebProcess(d, redis_url)
    proc.start()
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.fixture
async def web_pair(redis_url: str, web_data_dir: Path) -> AsyncIterator[tuple[WebProcess, WebProcess]]:
    """Two web processes on one Redis."""
    await _add_accounts(redis_url, web_data_dir)
    a = WebProcess(web_data_dir, redis_url)
    b = WebProcess(web_data_dir, redis_url)
    a.start()
    b.start()
    yield a, b
    await asyncio.gather(asyncio.to_thread(a.stop), asyncio.to_thread(b.stop))
