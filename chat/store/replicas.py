"""Writes acknowledged only once a replica has them: ``WAIT`` on the write's own connection.

Redis answers a write before its replicas have it. ``WAIT n t`` blocks until ``n`` replicas
have acknowledged everything *this connection* has written (the replication offset of its last
write), or ``t`` ms pass, and answers how many did. So the WAIT must follow the write on the same
connection: on one Redis, in the same pipeline; on a Redis Cluster, in a pipeline on one
connection of the node that holds the key. (redis-py's cluster pipeline sends a keyless WAIT to
some node, and a retried one to any; a connection that wrote nothing is acknowledged by every
replica at once, so such a WAIT says nothing about our write. WAIT cannot run in a script;
WAITAOF needs Redis 7.2.)

What follows the WAIT in the same pipeline (an append's publish) runs only once it has
answered: nobody hears of a write before a replica has it, or before the wait ran out.

A WAIT that runs out with fewer replicas is not an error: the write is acked (it is on the
primary, as every write is with the setting at 0), counted in
``helseprat_redis_wait_short_total`` and logged, at most one line per ten seconds and without
ids. Refusing instead would stop every conversation on that shard until a replica is back,
which after a fail-over (the promoted replica has none) can be a long time; a short count says
that until a replica catches up, losing that primary too may lose what it acked.

On a cluster every such write also rides out a fail-over: while the node that held the slot is
gone (its replica not yet promoted) the write is tried again, with the slot map asked for anew,
for up to ``FAILOVER_SECONDS``. A write tried twice is harmless: appends are deduplicated by the
client's message id, and a start or close checks the state it changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import PipelineCommand, RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    NoScriptError,
    ReadOnlyError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.durability import ReplicaWait
from chat.metrics import registry as metrics
from chat.store.client import is_cluster_client, refresh_slots

log = logging.getLogger("helseprat.store")

Arg = str | int | float
# A cluster node's answers while its slot is moving to another node (a fail-over, a
# migration) or it is gone: ask for the slot map again and try once more.
MOVING = (RedisConnectionError, RedisTimeoutError, OSError, MovedError, AskError, TryAgainError,
          ClusterDownError, SlotNotCoveredError, ReadOnlyError, MasterDownError)
FAILOVER_SECONDS = 10.0  # how long a write waits for a slot's new primary (cluster only)
_SHORT_LOG_EVERY = 10.0  # seconds between log lines about short waits


@dataclass(frozen=True)
class Call:
    """One command as sent; ``fallback`` instead after NOSCRIPT (an EVAL that loads it)."""

    args: tuple[Arg, ...]
    fallback: tuple[Arg, ...] | None = None

    def sent(self, loading: bool) -> tuple[Arg, ...]:
        return self.fallback if loading and self.fallback is not None else self.args

    def loading(self) -> Call:
        """The same call, sent as its fallback at once."""
        return Call(self.sent(True))


class Replicas:
    """The WAIT after acked writes (``wait``: the settings, chat/durability.py), and how those
    writes reach the node that holds their key."""

    def __init__(self, redis: aioredis.Redis, wait: ReplicaWait) -> None:
        self.redis = redis
        self.wait = wait
        self._cluster = is_cluster_client(redis)
        self._shorts = 0  # short waits since the last log line
        self._logged = -_SHORT_LOG_EVERY

    @property
    def enabled(self) -> bool:
        return self.wait.enabled

    @property
    def command(self) -> tuple[Arg, ...]:
        return ("WAIT", self.wait.replicas, self.wait.timeout_ms)

    def queue(self, pipe: Pipeline) -> None:
        """Put the WAIT on ``pipe`` (the coalescer's barrier between appends and publishes)."""
        pipe.execute_command(*self.command)

    def settle(self, answer: object) -> None:
        """A WAIT's answer: replicas that have the writes before it (or the error instead)."""
        if isinstance(answer, BaseException):
            return  # the pipeline's other answers say what went wrong
        if int(cast(int, answer)) >= self.wait.replicas:
            return
        metrics.replica_wait_short()
        self._shorts += 1
        now = asyncio.get_running_loop().time()
        if now - self._logged >= _SHORT_LOG_EVERY:
            log.warning("acked with fewer Redis replicas than asked (%d write(s) since the "
                        "last line); durability is reduced until a replica catches up",
                        self._shorts)
            self._shorts, self._logged = 0, now

    async def run(self, key: str, calls: Sequence[Call], after: Sequence[Call] = ()) -> list[Any]:
        """``calls``, then the WAIT (when enabled), then ``after``, on one connection of the
        node that holds ``key``. Returns the answers to ``calls``; the first error among them is
        raised. An error in ``after`` is logged (what it would have told is stored)."""
        wait = [Call(self.command)] if self.enabled else []
        stack = [*calls, *wait, *after]
        answers = await self._send(key, stack, loading=False)
        if any(isinstance(a, NoScriptError) for a in answers):
            answers = await self._send(key, stack, loading=True)  # EVAL loads the scripts
        n = len(calls)
        if wait:
            self.settle(answers[n])
        for a in answers[:n]:
            if isinstance(a, BaseException):
                raise a
        for a in answers[n + len(wait):]:
            if isinstance(a, BaseException):
                log.warning("a command after the replica wait failed: %s", type(a).__name__)
        return answers[:n]

    async def _send(self, key: str, stack: Sequence[Call], loading: bool) -> list[Any]:
        if not self._cluster:
            pipe = self.redis.pipeline(transaction=False)
            for call in stack:
                pipe.execute_command(*call.sent(loading))
            return await pipe.execute(raise_on_error=False)
        return await self._on_node(key, [call.sent(loading) for call in stack])

    async def _on_node(self, key: str, commands: list[tuple[Arg, ...]]) -> list[Any]:
        """One pipeline on one connection of the node that holds ``key``'s slot, tried again
        (with the slot map asked for anew) while that slot is moving or its node is gone."""
        cluster = cast(RedisCluster, self.redis)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + FAILOVER_SECONDS
        delay = 0.05
        while True:
            try:
                node = cluster.get_node_from_key(key)
                if node is None:
                    raise SlotNotCoveredError("no node holds the key's slot")
                stack = [PipelineCommand(i, *args) for i, args in enumerate(commands)]
                await node.execute_pipeline(stack)
                answers = [c.result for c in stack]
                moving: BaseException | None = next(
                    (a for a in answers if isinstance(a, MOVING)), None)
            except MOVING as exc:
                moving = exc
            if moving is None:
                return answers
            if loop.time() + delay > give_up:
                raise moving
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
            await refresh_slots(self.redis)
