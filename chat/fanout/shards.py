"""Conversation channels as sharded pub/sub on a Redis Cluster (Redis 7: SSUBSCRIBE and, in
the scripts, SPUBLISH): a message crosses only the shard that holds its conversation's slot,
instead of every node of the cluster as a plain PUBLISH does.

redis-py's cluster pub/sub (``ClusterPubSub``) keeps one connection per node that holds a
subscribed channel's slot and routes SSUBSCRIBE / SUNSUBSCRIBE to it; its own reader
(``get_sharded_message``) visits those connections in turn with a timeout, which fits no
waiting reader. So this keeps one reader task per node connection, each blocking on its own
connection, and hands confirmations and messages to the hub.

One SSUBSCRIBE names channels of one slot only (the cluster refuses more): each conversation's
channel is asked for on its own. A confirmation that no subscribe of the hub waits for is a
channel subscribed anew: after a node connection is re-established redis-py asks again for every
channel it had there, and after a fail-over or a slot migration a channel is asked for on the
node that holds its slot now. Messages may have been published while it was not subscribed, so
the hub has that channel's subscribers resync from the log once it is confirmed.

When a node's connection fails, its reader asks the cluster for the slot map again (until the
node is back, or its replica is promoted) and moves each channel whose slot another node holds
now to that node (redis-py's ``ssubscribe`` moves a channel it knows to its slot's node; redis-py
also does that by itself after any slot map refresh). A new node gets its own reader; the
reader of a node that is gone from the map ends once its channels are elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub, RedisCluster
from redis.exceptions import RedisError

from chat.store.client import refresh_slots

log = logging.getLogger("helseprat.hub")

_READER_BACKOFF = 1.0  # the longest a failed node's reader waits between tries


class ShardChannels:
    """``confirmed``: a channel's SSUBSCRIBE is in effect (asked for by the hub or anew);
    ``message``: a channel's message."""

    def __init__(self, redis: aioredis.Redis, confirmed: Callable[[str], None],
                 message: Callable[[str, str], None]) -> None:
        self._cluster = cast(RedisCluster, redis)
        self._pubsub: ClusterPubSub = self._cluster.pubsub()
        self._confirmed = confirmed
        self._message = message
        # Per node: the per-node pub/sub being read and its reader (redis-py may replace a node's
        # pub/sub: then a new reader reads the new one and the old reader ends).
        self._readers: dict[str, tuple[PubSub, asyncio.Task[None]]] = {}
        self._following = asyncio.Lock()  # one slot-map follow-up at a time

    async def subscribe(self, channels: list[str]) -> None:
        for ch in channels:
            await self._pubsub.ssubscribe(ch)
        self._watch_nodes()

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.sunsubscribe(channel)

    def _watch_nodes(self) -> None:
        for name, node_pubsub in self._pubsub.node_pubsub_mapping.items():
            read, reader = self._readers.get(name, (None, None))
            if reader is None or reader.done() or read is not node_pubsub:
                self._readers[name] = (node_pubsub, asyncio.create_task(
                    self._read(name, node_pubsub), name=f"hub-shard-{name}"))

    async def _read(self, name: str, pubsub: PubSub) -> None:
        backoff = 0.1
        while True:
            try:
                msg: dict[str, Any] | None = await pubsub.get_message(timeout=None)
                backoff = 0.1
            except (RedisError, OSError, RuntimeError) as exc:  # RuntimeError: closed by redis-py
                log.warning("shard pubsub connection lost: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _READER_BACKOFF)
                await self._follow_slots()
                if self._pubsub.node_pubsub_mapping.get(name) is not pubsub:
                    return  # its node is gone from the slot map: its channels are elsewhere
                with contextlib.suppress(RedisError, OSError, RuntimeError):
                    await pubsub.ping()  # reconnects; redis-py asks for its channels again
                continue
            if msg is None:
                continue
            kind = msg["type"]
            if kind == "ssubscribe":
                self._confirmed(msg["channel"])
            elif kind == "smessage":
                self._message(msg["channel"], msg["data"])
            elif kind == "sunsubscribe" and msg["channel"] in pubsub.shard_channels:
                await self._follow_slots()  # not ours: the node let go of it, its slot moved

    async def _follow_slots(self) -> None:
        """Ask for the slot map again; move every channel whose slot another node holds now to
        that node, and read each node that has channels."""
        async with self._following:
            await refresh_slots(self._cluster)
            moved = []
            for name, pubsub in list(self._pubsub.node_pubsub_mapping.items()):
                for ch in list(pubsub.shard_channels):
                    with contextlib.suppress(RedisError):
                        node = self._cluster.get_node_from_key(ch)
                        if node is not None and node.name != name:
                            moved.append(ch)
            for ch in moved:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.ssubscribe(ch)
            self._watch_nodes()

    async def stop(self) -> None:
        for _, t in self._readers.values():
            t.cancel()
        for _, t in self._readers.values():
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await t
        with contextlib.suppress(RedisError, RuntimeError):
            await self._pubsub.aclose()
