"""A dashboard socket's session check against a real Redis: the same answers with or without
the web process's read coalescer, and with it the checks of many sockets in one loop turn
leave as one pipeline (every nurse back at once after a restart opens all her conversations,
each command checked)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from chat.store import names as keys
from chat.store.accounts import AccountStore
from chat.store.coalesce import Coalescer
from chat.store.lean import LeanPipeline
from chat.web.runtime import make_redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    c = make_redis(redis_url)
    await c.hset(keys.nurse("anna"), mapping={"disabled": "0"})
    await c.hset(keys.nurse("berit"), mapping={"disabled": "1"})
    await c.hset(keys.session("t-anna"), mapping={"nurse": "anna"})
    await c.hset(keys.session("t-berit"), mapping={"nurse": "berit"})
    yield c
    await c.aclose()


CASES = [("t-anna", "anna", True), ("t-anna", "berit", False), ("t-berit", "berit", False),
         ("t-gone", "anna", False), ("t-anna", "nobody", False)]


async def test_the_same_answers_with_and_without_the_coalescer(client: aioredis.Redis) -> None:
    plain, coalesced = AccountStore(client), AccountStore(client, Coalescer(client))
    for tag, user, valid in CASES:
        assert await plain.session_alive(tag, user) is valid
        assert await coalesced.session_alive(tag, user) is valid


async def test_one_turns_checks_leave_as_one_pipeline(client: aioredis.Redis) -> None:
    made: list[Pipeline] = []

    def pipeline(redis: aioredis.Redis) -> Pipeline:
        made.append(LeanPipeline.of(redis))
        return made[-1]

    store = AccountStore(client, Coalescer(client, pipeline=pipeline))
    answers = await asyncio.gather(*(store.session_alive(tag, user) for tag, user, _ in CASES * 8))
    assert answers == [valid for _, _, valid in CASES * 8]
    assert len(made) == 1
