"""Which Redis a URL names: one server (``redis://``, ``rediss://``, ``unix://``) or a Redis
Cluster (``redis+cluster://host:port[,host:port...]``: any reachable nodes; the client learns
the rest from the cluster itself). Every process that builds a Redis client goes through
``connect`` (the web process through chat/web/runtime.py's ``make_redis``), so REDIS_URL means
the same everywhere.

The cluster client is handed out as ``aioredis.Redis``: it speaks the same commands, and the
few places where a cluster differs (pub/sub, scripts' key slots) ask ``is_cluster_client``.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection, Connection, ConnectionPool
from redis.exceptions import RedisError

from chat.errors import ConfigError
from chat.store.cluster_client import ClusterClient

CLUSTER_SCHEME = "redis+cluster://"


class BadRedisUrl(ConfigError):
    """REDIS_URL names a cluster but its node list cannot be read (raised at start-up)."""


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME)


def cluster_nodes(url: str) -> list[tuple[str, int]]:
    """``redis+cluster://h1:p1,h2:p2[/]`` -> [(h1, p1), (h2, p2)]; a port is required."""
    rest = url[len(CLUSTER_SCHEME):].rstrip("/")
    nodes: list[tuple[str, int]] = []
    for part in rest.split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadRedisUrl("REDIS_URL: a cluster is redis+cluster://host:port[,host:port]")
        nodes.append((host.strip("[]"), int(port)))
    return nodes


def connect(url: str, *, decode_responses: bool = True, **options: Any) -> aioredis.Redis:
    """A client for ``url``; ``options`` go to the connections (timeouts, keepalive, retry)."""
    if not is_cluster_url(url):
        return aioredis.from_url(url, decode_responses=decode_responses, **options)
    startup = [ClusterNode(host, port) for host, port in cluster_nodes(url)]
    client = ClusterClient(startup_nodes=startup, decode_responses=decode_responses, **options)
    return cast(aioredis.Redis, client)


async def ready(redis: aioredis.Redis) -> None:
    """A cluster client learns the slot map before its first pub/sub command needs it (its
    commands do that themselves; a pub/sub connection picks its node from the map)."""
    if isinstance(redis, RedisCluster):
        await redis.initialize()


def is_cluster_client(redis: aioredis.Redis) -> bool:
    return isinstance(redis, RedisCluster)


async def refresh_slots(redis: aioredis.Redis | RedisCluster) -> None:
    """Ask the cluster again which node holds which slot (after a node is gone or a slot has
    moved). Callers at the same moment share one refresh; each refresh tells the client's
    pub/sub, which moves its shard subscriptions to their slots' new nodes. An unreachable
    cluster is no error here: the caller's next try says so."""
    if isinstance(redis, RedisCluster):
        with contextlib.suppress(RedisError, OSError):
            await redis.nodes_manager.initialize()


async def node_left(redis: aioredis.Redis, pubsub: object) -> bool:
    """(Cluster) the node a plain pub/sub connection is bound to has left the slot map, asked
    for anew: it is gone, and the connection must be made again on another node."""
    node = getattr(pubsub, "node", None)
    if not isinstance(redis, RedisCluster) or node is None:
        return False
    await refresh_slots(redis)
    return redis.get_node(node_name=node.name) is None


class HiredisPacking:
    """A connection mixin: commands packed by hiredis's C ``pack_command`` instead of redis-py's
    asyncio one, a Python loop over the arguments (an append's EVALSHA has 26: ~15 µs of CPU
    against ~3 µs; docs/benchmarks.md). The bytes are the same (floats are written as ``repr``
    writes them, as redis-py does); anything hiredis does not take (bool, None, bytearray, an
    encoding other than strict UTF-8) goes to redis-py's packing, which refuses or packs it as
    before."""

    def pack_command(self, *args: Any) -> list[bytes]:
        encoder = cast(AbstractConnection, self).encoder
        first = args[0]
        if encoder.encoding == "utf-8" and encoder.encoding_errors == "strict":
            if isinstance(first, str):
                parts: tuple[Any, ...] = (*first.split(), *args[1:])  # "SCRIPT LOAD", as redis-py
            elif isinstance(first, bytes) and b" " in first:
                parts = (*first.split(), *args[1:])
            else:
                parts = args
            try:
                return [hiredis.pack_command(parts)]
            except (TypeError, ValueError):
                pass  # UnicodeEncodeError is a ValueError: redis-py raises it again
        packed: list[bytes] = super().pack_command(*args)  # type: ignore[misc]
        return packed


_PACKING: dict[str, type[AbstractConnection]] = {}  # one subclass per connection class


def _packing(cls: type[AbstractConnection]) -> type[AbstractConnection]:
    if issubclass(cls, HiredisPacking):
        return cls
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key not in _PACKING:
        _PACKING[key] = type(f"Hiredis{cls.__name__}", (HiredisPacking, cls), {})
    return _PACKING[key]


def pack_with_hiredis(pool: ConnectionPool) -> None:
    """The connections ``pool`` makes from now on pack commands with hiredis (``HiredisPacking``)."""
    pool.connection_class = _packing(pool.connection_class)


def cluster_packs_with_hiredis(client: RedisCluster) -> None:
    """The same for a cluster client, before it connects: the nodes it was given and those it
    learns of later (made from its connection settings) make ``HiredisPacking`` connections."""
    manager = client.nodes_manager
    settings = manager.connection_kwargs
    settings["connection_class"] = _packing(settings.get("connection_class", Connection))
    for node in manager.startup_nodes.values():
        node.connection_class = cast(type[Connection], _packing(node.connection_class))
