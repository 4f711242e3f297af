"""LeanPipeline against a real Redis: the same replies as redis-py's own pipeline (response
callbacks applied, an error reply as that command's result), the first error raised when asked,
a batch retried over a connection Redis has cut, and nothing but plain commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, RedisError, ResponseError

from chat.store.lean import LeanPipeline
from chat.web.runtime import make_redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    c = make_redis(redis_url)
    yield c
    await c.delete("lean:{t}:h", "lean:{t}:s", "lean:{t}:x")
    await c.aclose()


def queue(p: Pipeline) -> None:
    p.hgetall("lean:{t}:h")
    p.hset("lean:{t}:h", mapping={"a": "1", "b": "æ"})
    p.hgetall("lean:{t}:h")
    p.set("lean:{t}:s", "text")
    p.incr("lean:{t}:s")  # an error reply: not an integer
    p.xadd("lean:{t}:x", {"f": "v"}, id="0-1")
    p.xrange("lean:{t}:x", min="-", max="+")
    p.evalsha("0" * 40, 0)  # NOSCRIPT
    p.ttl("lean:{t}:h")


def shown(replies: list[Any]) -> list[Any]:
    return [(type(r).__name__, str(r)) if isinstance(r, Exception) else r for r in replies]


async def test_replies_are_redis_pys(client: aioredis.Redis) -> None:
    plain = client.pipeline(transaction=False)
    queue(plain)
    expected = await plain.execute(raise_on_error=False)
    await client.delete("lean:{t}:h", "lean:{t}:s", "lean:{t}:x")
    lean = LeanPipeline.of(client)
    queue(lean)
    got = await lean.execute(raise_on_error=False)
    assert shown(got) == shown(expected)
    assert got[2] == {"a": "1", "b": "æ"} and got[6] == [("0-1", {"f": "v"})]
    assert isinstance(got[4], ResponseError) and isinstance(got[7], NoScriptError)
    lean.get("lean:{t}:s")  # the pipeline is empty again after execute, and reusable
    assert await lean.execute() == ["text"]


async def test_the_first_error_is_raised_when_asked(client: aioredis.Redis) -> None:
    lean = LeanPipeline.of(client)
    lean.set("lean:{t}:s", "text")
    lean.incr("lean:{t}:s")
    with pytest.raises(ResponseError):
        await lean.execute()
    assert await client.get("lean:{t}:s") == "text"  # the batch was sent whole


async def test_a_cut_connection_is_retried(client: aioredis.Redis, redis_url: str) -> None:
    lean = LeanPipeline.of(client)
    lean.client_setname("lean-test")
    await lean.execute()
    killer = aioredis.from_url(redis_url)
    assert await killer.client_kill_filter(_type="normal", skipme=True) >= 1
    await killer.aclose()
    lean = LeanPipeline.of(client)
    lean.set("lean:{t}:s", "after")
    lean.get("lean:{t}:s")
    assert await lean.execute() == [True, "after"]


async def test_only_plain_commands(client: aioredis.Redis) -> None:
    lean = LeanPipeline.of(client)
    lean.multi()
    lean.get("lean:{t}:s")
    with pytest.raises(RedisError):
        await lean.execute()
