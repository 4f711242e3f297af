"""The access log on a real Redis: what ``record_access`` keeps (a time and a kind) and what
"Hvem har sett opplysningene mine" reads back, per person."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from identity_bridge.records.access import MAX_ENTRIES, record_access
from identity_bridge.records.access_log import accesses
from identity_bridge.web import keys

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def leave_nothing(redis_client: aioredis.Redis) -> AsyncIterator[None]:
    """The garbage these tests write into access logs must not meet a later module's scan of
    the same Redis."""
    yield
    await redis_client.flushall()


def _at(moment: datetime) -> int:
    return int(moment.timestamp())


async def test_accesses_are_read_back_newest_first_per_person(
        redis_client: aioredis.Redis) -> None:
    await record_access(redis_client, "tag-a", "prøvesvar", _at(T0))
    await record_access(redis_client, "tag-a", "vaksiner", _at(T0 + timedelta(minutes=5)))
    await record_access(redis_client, "tag-b", "vaksiner", _at(T0))
    got = await accesses(redis_client, "tag-a")
    assert [(a.kind, a.at) for a in got] == [("vaksiner", T0 + timedelta(minutes=5)),
                                             ("prøvesvar", T0)]
    assert [a.kind for a in await accesses(redis_client, "tag-b")] == ["vaksiner"]
    assert await accesses(redis_client, "tag-c") == []
    # Only the time and the kind, under the person's own hash tag.
    key = keys.person_access("tag-a")
    assert key.startswith("yp:{tag-a}")
    stored = [json.loads(x) for x in await redis_client.lrange(key, 0, -1)]
    assert stored == [{"at": _at(T0) + 300, "k": "vaksiner"}, {"at": _at(T0), "k": "prøvesvar"}]


async def test_unknown_kinds_are_refused_and_garbage_is_skipped(
        redis_client: aioredis.Redis) -> None:
    with pytest.raises(ValueError, match="unknown record kind"):
        await record_access(redis_client, "tag-d", "journal", _at(T0))
    await record_access(redis_client, "tag-d", "prøvesvar", _at(T0))
    key = keys.person_access("tag-d")
    await redis_client.lpush(key, "garbage", json.dumps({"at": 1, "k": "journal"}),
                             json.dumps({"at": "x", "k": "vaksiner"}), json.dumps([1]))
    assert [a.kind for a in await accesses(redis_client, "tag-d")] == ["prøvesvar"]


async def test_the_log_is_bounded(redis_client: aioredis.Redis) -> None:
    for i in range(MAX_ENTRIES + 3):
        await record_access(redis_client, "tag-e", "prøvesvar", _at(T0) + i)
    got = await accesses(redis_client, "tag-e")
    assert len(got) == MAX_ENTRIES and got[0].at == T0 + timedelta(seconds=MAX_ENTRIES + 2)
