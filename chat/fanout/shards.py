"""Conversation channels as sharded pub/sub on a Redis Cluster (Redis 7: SSUBSCRIBE and, in
the scripts, SPUBLISH): a message crosses only the shard that holds its conversation's slot,
instead of every node of the cluster as a plain PUBLISH does.

Each node that holds a subscribed channel's slot gets its own plain pub/sub connection
(``NodeChannels``, from a small pool of its own made with the cluster client's connection
settings) and one reader task blocking on it; this module keeps which node each channel was
asked for on. (redis-py's ``ClusterPubSub`` does the same, but copies its node's whole channel
table into its own at every SSUBSCRIBE: with 10,000 waiting youths in one process, a quadratic
cost that held up every arrival.)

One SSUBSCRIBE names channels of one slot only (the cluster refuses more): each conversation's
channel is asked for on its own, and after a reconnect a node connection asks again one slot at
a time. A confirmation that no subscribe of the hub waits for is a channel subscribed anew
(after a reconnect, or on the node that holds its slot after a fail-over or a slot migration).
Messages may have been published while it was not subscribed, so the hub has that channel's
subscribers resync from the log once it is confirmed.

When a node's connection fails, its reader asks the cluster for the slot map again (until the
node is back, or its replica is promoted) and moves each channel whose slot another node holds
now to that node; a node asked for a channel whose slot it no longer holds answers with an
SUNSUBSCRIBE, which starts the same follow-up. A new node gets its own reader; the reader of a
node that is gone from the map ends once its channels are elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import ConnectionPool
from redis.crc import key_slot
from redis.exceptions import RedisError

from chat.store.client import refresh_slots

log = logging.getLogger("helseprat.hub")

_READER_BACKOFF = 1.0  # the longest a failed node's reader waits between tries


class NodeChannels(PubSub):
    """A plain pub/sub connection to one cluster node, for its shard channels. After a
    reconnect redis-py asks again for every channel in one SSUBSCRIBE, which a node holding
    several slots refuses (CROSSSLOT): this asks one slot at a time."""

    async def _resubscribe_shard_channels(self) -> None:
        by_slot: defaultdict[int, dict[Any, Any]] = defaultdict(dict)
        for channel, handler in self.shard_channels.items():
            by_slot[key_slot(self.encoder.encode(channel))][channel] = handler
        for channels in by_slot.values():
            await self.ssubscribe(*channels)


@dataclass
class Node:
    """One node's pub/sub connection (its own pool) and the task reading it."""

    name: str
    pool: ConnectionPool
    pubsub: NodeChannels
    reader: asyncio.Task[None] | None = None


class ShardChannels:
    """``confirmed``: a channel's SSUBSCRIBE is in effect (asked for by the hub or anew);
    ``message``: a channel's message."""

    def __init__(self, redis: aioredis.Redis, confirmed: Callable[[str], None],
                 message: Callable[[str, str], None]) -> None:
        self._cluster = cast(RedisCluster, redis)
        self._confirmed = confirmed
        self._message = message
        self._nodes: dict[str, Node] = {}
        self._where: dict[str, str] = {}  # channel -> the node it was asked for on
        self._following = asyncio.Lock()  # one slot-map follow-up at a time

    async def subscribe(self, channels: list[str]) -> None:
        for ch in channels:
            target = self._cluster.get_node_from_key(ch)
            if target is None:
                raise RedisError("no node holds the slot of a channel")
            await self._ask(ch, target)

    async def unsubscribe(self, channel: str) -> None:
        name = self._where.pop(channel, None)
        node = self._nodes.get(name) if name else None
        if node is not None:
            await node.pubsub.sunsubscribe(channel)

    async def _ask(self, ch: str, cluster_node: ClusterNode) -> None:
        node = self._node(cluster_node)
        self._where[ch] = node.name
        await node.pubsub.ssubscribe(ch)
        if node.reader is None or node.reader.done():
            node.reader = asyncio.create_task(self._read(node), name=f"hub-shard-{node.name}")

    def _node(self, cluster_node: ClusterNode) -> Node:
        node = self._nodes.get(cluster_node.name)
        if node is None:
            pool = ConnectionPool(connection_class=cluster_node.connection_class, max_connections=2,
                                  **cluster_node.connection_kwargs)
            node = Node(cluster_node.name, pool, NodeChannels(connection_pool=pool))
            self._nodes[node.name] = node
        return node

    async def _read(self, node: Node) -> None:
        backoff = 0.1
        while True:
            try:
                msg: dict[str, Any] | None = await node.pubsub.get_message(timeout=None)
                backoff = 0.1
            except (RedisError, OSError, RuntimeError) as exc:  # RuntimeError: closed by redis-py
                log.warning("shard pubsub connection lost: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _READER_BACKOFF)
                await self._follow_slots()
                if self._cluster.get_node(node_name=node.name) is None:
                    return  # its node is gone from the slot map: its channels are elsewhere
                with contextlib.suppress(RedisError, OSError, RuntimeError):
                    await node.pubsub.ping()  # reconnects; asks for its channels again
                continue
            if msg is None:
                continue
            kind = msg["type"]
            if kind == "ssubscribe":
                self._confirmed(msg["channel"])
            elif kind == "smessage":
                self._message(msg["channel"], msg["data"])
            elif kind == "sunsubscribe" and self._where.get(msg["channel"]) == node.name:
                await self._follow_slots()  # not ours: the node let go of it, its slot moved

    async def _follow_slots(self) -> None:
        """Ask for the slot map again; move every channel whose slot another node holds now to
        that node."""
        async with self._following:
            await refresh_slots(self._cluster)
            for ch, name in list(self._where.items()):
                with contextlib.suppress(RedisError, OSError):
                    target = self._cluster.get_node_from_key(ch)
                    if target is None or target.name == name or self._where.get(ch) != name:
                        continue
                    old = self._nodes.get(name)
                    if old is not None:
                        old.pubsub.shard_channels.pop(ch, None)  # not asked for there again
                        with contextlib.suppress(RedisError, OSError, RuntimeError):
                            await old.pubsub.sunsubscribe(ch)
                    await self._ask(ch, target)

    async def stop(self) -> None:
        readers = [n.reader for n in self._nodes.values() if n.reader is not None]
        for t in readers:
            t.cancel()
        for t in readers:
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await t
        for node in self._nodes.values():
            with contextlib.suppress(RedisError, RuntimeError, OSError):
                await node.pubsub.aclose()  # type: ignore[no-untyped-call]
            with contextlib.suppress(RedisError, RuntimeError, OSError):
                await node.pool.aclose()
