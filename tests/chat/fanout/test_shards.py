"""Conversation channels on a Redis Cluster (chat/fanout/shards.py), against the loopback
cluster: every channel's messages arrive from the node that holds its slot, and after the
nodes drop the pub/sub connections every channel is asked for again, one slot at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis.asyncio as aioredis

from chat.fanout.shards import ShardChannels
from chat.web.runtime import make_redis
from devservices.redis_cluster import RedisCluster

CHANNELS = [f"c:{{conv{i}}}:e" for i in range(60)]  # many slots on each of the three primaries


async def until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(what)
        await asyncio.sleep(0.05)


async def publish_all(client: aioredis.Redis, tag: str) -> None:
    for ch in CHANNELS:
        await client.spublish(ch, f"{tag} {ch}")


async def test_every_channel_hears_its_node_again_after_the_connections_drop(
        redis_cluster: RedisCluster) -> None:
    client = make_redis(redis_cluster.url)
    confirmed: list[str] = []
    heard: list[str] = []
    shards = ShardChannels(client, confirmed.append, lambda ch, data: heard.append(data))
    try:
        await client.ping()
        await shards.subscribe(CHANNELS)
        await until(lambda: len(confirmed) == len(CHANNELS), "first confirmations")
        await publish_all(client, "one")
        await until(lambda: len(heard) == len(CHANNELS), "first messages")
        assert sorted(heard) == sorted(f"one {ch}" for ch in CHANNELS)

        confirmed.clear()
        heard.clear()
        for port in redis_cluster.ports:  # every node drops its pub/sub clients
            node = aioredis.Redis(port=port)
            await node.client_kill_filter(_type="pubsub")
            await node.aclose()
        # Each channel confirmed again: a single SSUBSCRIBE of all of a node's channels
        # would be refused (CROSSSLOT) and none would be.
        await until(lambda: set(confirmed) == set(CHANNELS), "confirmations after the drop")
        await publish_all(client, "two")
        await until(lambda: len(heard) == len(CHANNELS), "messages after the drop")
        assert sorted(heard) == sorted(f"two {ch}" for ch in CHANNELS)

        await shards.unsubscribe(CHANNELS[0])
        heard.clear()
        await publish_all(client, "three")
        await until(lambda: len(heard) == len(CHANNELS) - 1, "messages after one unsubscribed")
        assert f"three {CHANNELS[0]}" not in heard
    finally:
        await shards.stop()
        await client.aclose()
