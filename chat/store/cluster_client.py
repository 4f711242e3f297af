"""The Redis Cluster client the processes use: redis-py's asyncio ``RedisCluster`` with two
changes that keep it working with thousands of connected youths in one process.

**MULTI/EXEC queues its commands in place.** redis-py 8's cluster transaction
(``TransactionStrategy``) finds each queued command's slot with an ``async`` lookup, and since
queuing is a plain call it does so by starting a thread that runs a fresh event loop
(``asyncio.run``) and waiting for it. The process's own loop stands still meanwhile, and each
such loop, as it closes, walks every task of the process (Python keeps one set of all tasks): a
few tens of thousands with 10,000 youths connected. A start's rate-limit count (INCR + EXPIRE
in one MULTI) then cost milliseconds of a stopped loop, and the idle benchmark on the cluster
stalled at 4,400-5,800 waiting youths (docs/benchmarks.md). For the commands our transactions
use, the key is the first argument, so the slot is ``keyslot(args[1])``, a pure function:
``InPlaceTransaction`` computes it and queues the command as redis-py's pipeline does. Anything
else (WATCH, a command with several or no keys, a client that has not yet read the slot map)
goes the library's way. The EXEC, its node, the cross-slot check and the retries are redis-py's.

**Commands wait for a connection instead of failing.** A cluster node's pool raises
``MaxConnectionsError`` when all its connections are in use, where the single-server client's
``BlockingConnectionPool`` waits; in an arrival burst youths were turned away with "storage
unavailable". ``ClusterClient`` lets at most ``in_flight`` commands and pipelines run at once
(each holds at most one connection per node, so no node's pool reaches its limit when
``in_flight`` is below it, leaving room for pub/sub connections); the rest wait their turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio.cluster import AbstractStrategy, ClusterPipeline, RedisCluster, TransactionStrategy

# Commands whose only key is their first argument (DEL, UNLINK and EXISTS only with one key).
FIRST_KEY_COMMANDS = frozenset({
    "SET", "GET", "GETDEL", "SETEX", "DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE",
    "EXPIREAT", "PEXPIREAT", "PERSIST", "INCR", "INCRBY", "INCRBYFLOAT", "DECR", "DECRBY",
    "HSET", "HSETNX", "HDEL", "HINCRBY", "HINCRBYFLOAT", "HGET", "HMGET", "HGETALL", "HLEN",
    "SADD", "SREM", "SCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "ZADD", "ZREM", "ZINCRBY",
    "ZSCORE", "ZCARD", "ZCOUNT", "ZRANK", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE",
    "ZREMRANGEBYSCORE", "ZREMRANGEBYRANK", "LPUSH", "RPUSH", "LTRIM", "LRANGE", "LREM", "LLEN",
    "XADD", "XTRIM", "XDEL", "XACK",
})
ONE_KEY_ONLY = frozenset({"DEL", "UNLINK", "EXISTS"})
PUBSUB_ROOM = 16  # connections of a node's pool left for pub/sub (the hub holds one or two)


class InPlaceTransaction(TransactionStrategy):
    """redis-py's cluster transaction, queuing first-key commands without a thread."""

    def execute_command(self, *args: Any, **kwargs: Any) -> ClusterPipeline:
        client = self._pipe.cluster_client
        name = str(args[0]).upper() if args else ""
        if (name in FIRST_KEY_COMMANDS and len(args) >= 2 and not self._watching
                and not client._initialize and not kwargs.get("target_nodes")
                and (name not in ONE_KEY_ONLY or len(args) == 2)):
            self._pipeline_slots.add(client.keyslot(args[1]))
            return AbstractStrategy.execute_command(self, *args, **kwargs)
        return super().execute_command(*args, **kwargs)  # type: ignore[no-any-return]


class GatedPipeline(ClusterPipeline):
    """A cluster pipeline whose ``execute`` takes its turn at the client's gate."""

    def __init__(self, client: ClusterClient, transaction: bool | None) -> None:
        super().__init__(client, transaction)
        self.gate = client.gate
        if transaction:
            self._execution_strategy = InPlaceTransaction(self)

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        async with self.gate:
            return await super().execute(raise_on_error, allow_redirections)


class ClusterClient(RedisCluster):
    """``RedisCluster`` with in-place transactions and at most ``in_flight`` commands at once
    (default: a node's ``max_connections`` less ``PUBSUB_ROOM``)."""

    def __init__(self, *args: Any, in_flight: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        per_node = int(kwargs.get("max_connections", 2**31))
        self.gate = asyncio.Semaphore(in_flight or max(1, min(per_node - PUBSUB_ROOM, 2**20)))

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.gate:
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # redis-py's refusal
        return GatedPipeline(self, transaction)  # type: ignore[abstract]  # as redis-py's own
