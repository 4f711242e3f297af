"""What a nurse's queue item says about a youth having been here before, over real sockets:
new, came back with the resume code, back in the queue after a nurse had it, or a thread
linked to an ID-porten login. Only facts about the one conversation; nothing identifying."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from chat.client.protocol import ProtocolClient, youth_resume_code, youth_start
from chat.domain.conversation import returning
from chat.store import names as keys
from chat.store.queues import RETURNING_READS
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws, write_dash_config
from tests.conftest import start_clean_web

SERVICE = "dash-skole"


@pytest.fixture(scope="module")
async def dweb(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               ) -> AsyncIterator[WebProcess]:
    d: Path = tmp_path_factory.mktemp("dash-returning")
    write_dash_config(d)
    proc = await start_clean_web(redis_proc.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


def item_of(frame: dict[str, Any], cid: str) -> dict[str, Any] | None:
    return next((i for i in frame["items"] if i["conversation"] == cid), None)


async def seen_as(n: ProtocolClient, cid: str, value: str) -> dict[str, Any]:
    frame = await n.expect("queue_snapshot", where=lambda f: f["service"] == SERVICE
                           and (item_of(f, cid) or {}).get("returning") == value)
    item = item_of(frame, cid)
    assert item is not None
    return item


async def test_queue_items_say_who_has_been_here_before(
    dweb: WebProcess, redis_proc: RedisProcess,
) -> None:
    n, _ = await nurse_ws(dweb.base, "demo.nurse")
    fresh, fs = await youth_start(dweb.base, SERVICE)
    item = await seen_as(n, fs.conversation, "")
    assert item["service"] == SERVICE

    # Came back on another device with the resume code while still waiting.
    first, rs = await youth_start(dweb.base, SERVICE, resume_code=True)
    await seen_as(n, rs.conversation, "")
    await first.close()
    assert rs.resume_code is not None
    again, _ = await youth_resume_code(dweb.base, rs.resume_code, SERVICE)
    await seen_as(n, rs.conversation, "resumed")

    # A nurse had it, and put it back in the queue.
    had, hs = await youth_start(dweb.base, SERVICE)
    await n.send({"type": "claim", "conversation": hs.conversation})
    await n.expect("claimed", where=lambda f: f["conversation"] == hs.conversation)
    await n.send({"type": "release", "conversation": hs.conversation})
    await seen_as(n, hs.conversation, "earlier")

    # A thread linked to an ID-porten login carries its login level on the hash (the identity
    # bridge's link script writes it); the next queue change shows it as a follow-up.
    r = aioredis.from_url(redis_proc.url, decode_responses=True)
    try:
        await r.hset(keys.meta(fs.conversation), "acr", "idporten-loa-substantial")
        nudge, _ = await youth_start(dweb.base, SERVICE)
        await seen_as(n, fs.conversation, "idporten")
        stored = await r.hgetall(keys.meta(rs.conversation))
        assert stored.get("rs", "").isdigit()  # a time, nothing about the youth
    finally:
        await r.aclose()
    for c in (fresh, again, had, nudge, n):
        await c.close()


def test_the_strongest_fact_wins_and_zero_means_never() -> None:
    assert returning("", 0, 0) == ""
    assert returning("", "0", "") == ""
    assert returning("", "", "1700000000") == "earlier"
    assert returning("", "1700000000", "1700000000") == "resumed"
    assert returning("idporten-loa-high", "1700000000", "1700000000") == "idporten"
    assert RETURNING_READS >= 20  # at least a screenful of the longest-waiting
