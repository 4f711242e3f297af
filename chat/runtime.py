"""Everything a request handler needs, built once per process in the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.actions import Actions
from chat.auth import Accounts
from chat.clock import Clock
from chat.config import Config
from chat.hub import Hub
from chat.store import Store
from chat.teamkeys import TeamKeys


class Drainable(Protocol):
    async def drain(self) -> None: ...


@dataclass
class Runtime:
    config: Config
    redis: aioredis.Redis
    store: Store
    actions: Actions
    accounts: Accounts
    hub: Hub
    clock: Clock
    teamkeys: TeamKeys
    connections: set[Drainable] = field(default_factory=set)
    draining: bool = False

    async def drain(self, timeout: float = 10.0) -> None:
        """Tell every connected client to reconnect elsewhere, after its in-flight work."""
        self.draining = True
        conns = list(self.connections)
        if conns:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(c.drain() for c in conns), return_exceptions=True), timeout)


def make_redis(url: str) -> aioredis.Redis:
    # A blocking pool waits for a free connection instead of failing past the limit, and no
    # socket_timeout: a timeout shorter than a blocking read would kill the pub/sub reader.
    # Retries ride out a Redis restart or fail-over of a few seconds.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=64, timeout=20, decode_responses=True,
        health_check_interval=30, socket_keepalive=True,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=8),
        retry_on_error=[RedisConnectionError, RedisTimeoutError])
    return aioredis.Redis(connection_pool=pool)
