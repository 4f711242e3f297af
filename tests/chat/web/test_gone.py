"""Waiting youths who went away: real sockets against one web process, and the gone sweep run
in-process against the same Redis with a FakeClock set past the grace (no sleeping)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.client.e2e import YouthCrypto, fetch_team
from chat.client.protocol import ProtocolClient, ws_url, youth_resume, youth_start
from chat.clock import FakeClock
from chat.config import load_config
from chat.jobs.gone import GoneResult, sweep_gone
from chat.store import names as keys
from chat.store.conversations import Store
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.conftest import start_clean_web
from tests.servers import TEST_SERVICES, write_test_config
from tests.waiting import until

SERVICE = "demo-skole"
GRACE = 60
SLOTS = 3
GONE_SERVICES = TEST_SERVICES.replace("waiting_starts_per_client = 1000", f"""\
waiting_starts_per_client = {SLOTS}
waiting_gone_grace_seconds = {GRACE}""")


@pytest.fixture(scope="module")
def gone_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gone")
    write_test_config(d, GONE_SERVICES)
    return d


@pytest.fixture(scope="module")
async def gweb(redis_proc: RedisProcess, gone_dir: Path) -> AsyncIterator[WebProcess]:
    proc = await start_clean_web(redis_proc.url, gone_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.fixture
async def r(redis_proc: RedisProcess, gweb: WebProcess) -> AsyncIterator[aioredis.Redis]:
    """A Redis client; each test starts with empty queues and no waiting slots held."""
    client = aioredis.from_url(redis_proc.url, decode_responses=True)
    stale = [k async for k in client.scan_iter("wsl:*")]
    stale += [keys.queue(SERVICE), keys.absent(SERVICE), keys.set_aside(SERVICE)]
    await client.delete(*stale)
    yield client
    await client.aclose()


@pytest.fixture
async def sweep_later(redis_proc: RedisProcess, gone_dir: Path
                      ) -> AsyncIterator[Callable[[float], Awaitable[GoneResult]]]:
    """Run the gone sweep as if ``seconds`` had passed since now (the web process's clock)."""
    config = load_config({"HELSEPRAT_DATA_DIR": str(gone_dir), "REDIS_URL": redis_proc.url})
    client = aioredis.from_url(redis_proc.url, decode_responses=True)

    async def run(seconds: float) -> GoneResult:
        clock = FakeClock(time.time() + seconds)
        return await sweep_gone(Actions(config, Store(client, clock), clock))

    yield run
    await client.aclose()



async def position(c: ProtocolClient, pos: int, waiting: int) -> None:
    await c.expect("queue", where=lambda f: f["position"] == pos and f["waiting"] == waiting)


async def test_a_youth_who_left_stops_counting_and_comes_back_at_its_place(
    gweb: WebProcess, r: aioredis.Redis,
    sweep_later: Callable[[float], Awaitable[GoneResult]],
) -> None:
    ghost_ws, ghost = await youth_start(gweb.base, SERVICE)
    real, s = await youth_start(gweb.base, SERVICE)
    await position(real, 2, 2)
    await ghost_ws.close()
    await until(lambda: _has(r, keys.absent(SERVICE), ghost.conversation), "the ghost is marked absent")

    # Within the grace nothing changes: a dropped connection is not a youth who left.
    assert (await sweep_later(GRACE - 5)).set_aside == ()
    assert await r.zscore(keys.queue(SERVICE), ghost.conversation) is not None

    done = await sweep_later(GRACE + 1)
    assert done.set_aside == (ghost.conversation,)
    await position(real, 1, 1)  # the ghost no longer counts toward her place or wait
    n, _ = await nurse_ws(gweb.base, "demo.nurse")
    await n.send({"type": "queue", "service": SERVICE})
    snap = await n.expect("queue_snapshot", where=lambda f: f["service"] == SERVICE)
    assert [i["conversation"] for i in snap["items"]] == [s.conversation]
    async with httpx.AsyncClient(base_url=gweb.base) as http:  # the public count follows
        assert "1 person står i kø nå." in (await http.get(f"/s/{SERVICE}?lang=nb")).text

    # The youth comes back within retention: counted again, at its original place.
    back = await youth_resume(gweb.base, ghost)
    await position(back, 1, 2)
    await position(real, 2, 2)
    assert await r.zscore(keys.set_aside(SERVICE), ghost.conversation) is None
    snap = await n.expect("queue_snapshot", where=lambda f: f["service"] == SERVICE
                          and len(f["items"]) == 2)  # live, as the queue changed
    assert [i["conversation"] for i in snap["items"]] == [ghost.conversation, s.conversation]
    for c in (back, real, n):
        await c.close()


async def _has(r: aioredis.Redis, key: str, member: str) -> bool:
    return await r.zscore(key, member) is not None


async def start_frame(base: str) -> dict[str, object]:
    keys_ = YouthCrypto.create(await fetch_team(base, SERVICE))
    return {"type": "start", "service": SERVICE, "key_bundle": keys_.bundle_b64,
            "epoch": keys_.epoch}


async def refused_start(base: str) -> str:
    c = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    await c.send(await start_frame(base))
    answer = await c.expect(("error", "started"))
    await c.close()
    return str(answer.get("code", ""))


async def test_one_client_has_a_bounded_number_of_waiting_starts(
    gweb: WebProcess, r: aioredis.Redis,
) -> None:
    started = [await youth_start(gweb.base, SERVICE) for _ in range(SLOTS)]
    assert await refused_start(gweb.base) == "rate_limited"
    assert await r.zcard(keys.queue(SERVICE)) == SLOTS  # nothing of the refused one stored

    # A start whose youth left still counts until the grace has run: no ghost farm by
    # starting and hanging up.
    (gone_ws, _), *rest = started
    await gone_ws.close()
    assert await refused_start(gweb.base) == "rate_limited"

    # One that a nurse has taken no longer waits: its slot is free.
    n, _ = await nurse_ws(gweb.base, "demo.nurse")
    (y, s), *_ = rest
    await n.send({"type": "claim", "conversation": s.conversation})
    await n.expect("claimed")
    await y.expect("state", where=lambda f: f["state"] == "active")
    slots = [k async for k in r.scan_iter("wsl:*")]
    assert len(slots) == 1
    await until(lambda: _count(r, slots[0], SLOTS - 1), "a start slot is given back")
    assert await refused_start(gweb.base) == ""  # started ("code" absent)
    for c in (n, *(c for c, _ in rest)):
        await c.close()


async def _count(r: aioredis.Redis, key: str, n: int) -> bool:
    return int(await r.zcard(key)) == n
