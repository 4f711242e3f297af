"""Appends on a Redis Cluster leave together, as on one Redis: the appends of one loop turn are
one cluster pipeline (split by node by the client, each conversation's in its order); when the
nodes have forgotten the script, each call sends it again on its own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterPipeline

from chat.clock import FakeClock
from chat.store.conversations import AppendResult, Store
from devservices.redis_cluster import RedisCluster

pytestmark = pytest.mark.cluster

CONVERSATIONS, EACH = 12, 4  # the ids fall in slots of every node


async def append(store: Store, cid: str, n: int) -> int:
    result = await store.append(
        cid, f"cmid-{n:03d}", "youth", "youth", "QUJD", 1_800_000_000, 3600,
        '{"seq":', "}", caps=(1000, 1 << 20), service="svc")
    assert isinstance(result, AppendResult) and result.status == 1
    return result.seq


async def test_appends_of_one_turn_are_one_pipeline_across_nodes(
    cluster_r: aioredis.Redis, redis_cluster: RedisCluster, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store(cluster_r, FakeClock())
    cids = [f"conv{i:02d}" for i in range(CONVERSATIONS)]
    for cid in cids:
        await store.set_fields(cid, {"st": "waiting", "svc": "svc"})
    executed: list[int] = []
    execute = ClusterPipeline.execute

    async def counting(self: ClusterPipeline, *args: Any, **kwargs: Any) -> Any:
        executed.append(len(self))
        return await execute(self, *args, **kwargs)

    for cid in cids:  # each node learns the script (EVALSHA refused, then EVAL)
        assert await append(store, cid, 0) == 1
    monkeypatch.setattr(ClusterPipeline, "execute", counting)
    seqs = await asyncio.gather(*(append(store, cid, n) for n in range(1, EACH + 1)
                                  for cid in cids))
    assert executed[0] == CONVERSATIONS * EACH  # all in the first pipeline
    by_conv = [seqs[i::CONVERSATIONS] for i in range(CONVERSATIONS)]
    assert by_conv == [list(range(2, EACH + 2))] * CONVERSATIONS  # each in its order

    for port in redis_cluster.ports:  # every node forgets the script
        node = aioredis.Redis(port=port)
        await node.script_flush()
        await node.aclose()
    executed.clear()
    seqs = await asyncio.gather(*(append(store, cid, n) for n in range(EACH + 1, 2 * EACH + 1)
                                  for cid in cids))
    assert executed[0] == CONVERSATIONS * EACH
    # Each call is then sent again with its script, on its own: all stored, each once.
    by_conv = [sorted(seqs[i::CONVERSATIONS]) for i in range(CONVERSATIONS)]
    assert by_conv == [list(range(EACH + 2, 2 * EACH + 2))] * CONVERSATIONS
    nodes = {cluster_r.get_node_from_key(f"c:{{{cid}}}:m").name for cid in cids}
    assert len(nodes) == 3  # the conversations were on every node
