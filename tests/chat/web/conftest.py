"""Fixtures shared by the web tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from devservices.redis_proc import RedisProcess


@pytest.fixture
async def r(redis_proc: RedisProcess) -> AsyncIterator[aioredis.Redis]:
    """A text client of the session's Redis that, unlike ``redis_client``, flushes nothing:
    the modules that use it keep one web process and its data for all their tests."""
    client = aioredis.from_url(redis_proc.url, decode_responses=True)
    yield client
    await client.aclose()
