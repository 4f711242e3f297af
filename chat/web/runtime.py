"""Everything a request handler needs, built once per process in the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from typing import Protocol, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.actions.accounts import Accounts
from chat.actions.conversations import Actions
from chat.actions.push import PushActions
from chat.clock import Clock
from chat.config import Config
from chat.errors import Unavailable
from chat.extensions import Extension
from chat.fanout.hub import Hub
from chat.store.client import (
    cluster_packs_with_hiredis,
    connect,
    is_cluster_url,
    pack_with_hiredis,
)
from chat.store.conversations import Store
from chat.store.teamkeys import TeamKeys
from chat.web.revocation import Revocations


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
    extensions: tuple[Extension[Runtime], ...] = ()
    connections: set[Drainable] = field(default_factory=set)
    revocations: Revocations = field(default_factory=Revocations)
    draining: bool = False
    push: PushActions | None = None  # Web Push subscriptions (chat/actions/push.py)

    def push_actions(self) -> PushActions:
        if self.push is None:
            raise Unavailable("Push notices are not set up on this server.")
        return self.push

    async def drain(self, timeout: float = 10.0) -> None:
        """Tell every connected client to reconnect elsewhere, after its in-flight work."""
        self.draining = True
        conns = list(self.connections)
        if conns:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(c.drain() for c in conns), return_exceptions=True), timeout)


# A Redis that stops answering (host gone, no reset) is noticed by TCP, not by a timer per
# command: keepalive probes after 10 s idle, every 5 s, 3 misses; unacknowledged writes give up
# after 20 s. (All IPPROTO_TCP options: that is how redis-py sets socket_keepalive_options.)
_KEEPALIVE = {socket.TCP_KEEPIDLE: 10, socket.TCP_KEEPINTVL: 5, socket.TCP_KEEPCNT: 3,
              socket.TCP_USER_TIMEOUT: 20_000}


def make_redis(url: str) -> aioredis.Redis:
    # A blocking pool waits for a free connection instead of failing past the limit.
    # socket_timeout=None on purpose (redis-py 8 defaults to 5 s): a timeout wraps every
    # command's write in asyncio.wait_for, a task per command, which the profile showed among
    # the largest costs per relayed message; and a timeout shorter than a blocking read would
    # kill the pub/sub reader. Dead connections are found by TCP instead (see _KEEPALIVE).
    # Retries ride out a Redis restart or fail-over of a few seconds.
    # A redis+cluster:// URL (chat/store/client.py) gets the cluster client with the same
    # settings; it keeps a pool per node (up to 256 connections each) instead of one pool.
    if is_cluster_url(url):
        client = connect(
            url, max_connections=256, socket_timeout=None, socket_connect_timeout=5,
            health_check_interval=30, socket_keepalive=True, socket_keepalive_options=_KEEPALIVE,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=8),
            retry_on_error=[RedisConnectionError, RedisTimeoutError])
        cluster_packs_with_hiredis(cast(RedisCluster, client))
        return client
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=64, timeout=20, decode_responses=True,
        socket_timeout=None, socket_connect_timeout=5,
        health_check_interval=30, socket_keepalive=True, socket_keepalive_options=_KEEPALIVE,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=8),
        retry_on_error=[RedisConnectionError, RedisTimeoutError])
    pack_with_hiredis(pool)  # the C packer: ~12 µs less CPU per append (chat/store/client.py)
    return aioredis.Redis(connection_pool=pool)
