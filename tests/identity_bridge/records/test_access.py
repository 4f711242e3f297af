"""The access log on a real Redis: what is kept (a time and a kind), for whom, how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from identity_bridge.records.access import (
    KEEP,
    RETENTION,
    UnknownAccessKind,
    access_key,
    accesses,
    record_access,
)

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


async def test_accesses_are_read_back_newest_first_per_person(
        redis_client: aioredis.Redis) -> None:
    await record_access(redis_client, "tag-a", "prøvesvar", T0)
    await record_access(redis_client, "tag-a", "vaksiner", T0 + timedelta(minutes=5))
    await record_access(redis_client, "tag-b", "vaksiner", T0.timestamp())
    got = await accesses(redis_client, "tag-a")
    assert [(a.kind, a.at) for a in got] == [("vaksiner", T0 + timedelta(minutes=5)),
                                             ("prøvesvar", T0)]
    assert [a.kind for a in await accesses(redis_client, "tag-b")] == ["vaksiner"]
    assert await accesses(redis_client, "tag-c") == []
    # Only the time and the kind are stored, under the person's own hash tag.
    assert access_key("tag-a") == "ya:{tag-a}"
    assert await redis_client.lrange("ya:{tag-a}", 0, -1) == [
        f"{int(T0.timestamp()) + 300} vaksiner".encode(),
        f"{int(T0.timestamp())} prøvesvar".encode()]
    ttl = await redis_client.ttl("ya:{tag-a}")
    assert RETENTION.total_seconds() - 60 < ttl <= RETENTION.total_seconds()


async def test_an_unknown_kind_is_refused_and_the_list_is_bounded(
        redis_client: aioredis.Redis) -> None:
    with pytest.raises(UnknownAccessKind):
        await record_access(redis_client, "tag-a", "journal", T0)
    for i in range(KEEP + 5):
        await record_access(redis_client, "tag-d", "prøvesvar", T0 + timedelta(seconds=i))
    got = await accesses(redis_client, "tag-d")
    assert len(got) == KEEP and got[0].at == T0 + timedelta(seconds=KEEP + 4)
    await redis_client.lpush("ya:{tag-d}", "garbage", "12 unknown")
    assert len(await accesses(redis_client, "tag-d")) == KEEP
