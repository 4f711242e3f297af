"""The live status relay: the hub's one pub/sub connection carries the worker's
``epj:status`` channel; JournalLink turns changes into ``journal_status`` frames for the
dashboards that have the conversation open, and nobody else."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from chat.fanout.hub import Hub
from chat.store.conversations import Store
from chat.web.runtime import make_redis
from identity_bridge.epj.outbox import STATUS_CHANNEL
from identity_bridge.web.config import EpjLink
from identity_bridge.web.journal import JournalLink


class Dashboard:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def journal_status(self, frame: str) -> None:
        self.frames.append(json.loads(frame))


async def test_status_changes_reach_only_the_dashboards_watching(redis_url: str) -> None:
    redis = make_redis(redis_url)
    hub = Hub(redis, Store(redis).queue_view)
    await hub.start()
    rt: Any = SimpleNamespace(hub=hub, redis=redis)
    link = JournalLink(rt, EpjLink(gateway_public_key=b"g" * 32, receivers={"s": 1}), b"k" * 32)
    await link.start()
    mine, other = Dashboard(), Dashboard()
    link.watch("conv-a", mine)
    link.watch("conv-b", other)
    try:
        await redis.publish(STATUS_CHANNEL, json.dumps({
            "msg_id": "m1", "status": "rejected", "code": "epj.apprec.avvist",
            "text": "E21 Mottaker finnes ikke", "conversation": "conv-a", "service": "s"}))
        await redis.publish(STATUS_CHANNEL, "not json")
        await redis.publish(STATUS_CHANNEL, json.dumps({"msg_id": "m2", "status": "bogus",
                                                        "conversation": "conv-a"}))
        for _ in range(100):
            if mine.frames:
                break
            await asyncio.sleep(0.02)
        assert [(f["type"], f["conversation"], f["msg_id"], f["status"], f["text"])
                for f in mine.frames] == [
            ("journal_status", "conv-a", "m1", "rejected", "E21 Mottaker finnes ikke")]
        assert other.frames == []
        link.unwatch("conv-a", mine)
        await redis.publish(STATUS_CHANNEL, json.dumps({
            "msg_id": "m1", "status": "dead", "conversation": "conv-a"}))
        await asyncio.sleep(0.1)
        assert len(mine.frames) == 1
    finally:
        await link.stop()
        await hub.stop()
        await redis.aclose()
