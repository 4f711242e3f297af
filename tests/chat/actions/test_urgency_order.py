"""Urgency first, with a bound, against a real Redis and the test Redis Cluster (FakeClock):
the youth's own urgency and a nurse's acute flag move a conversation up by their head start
([limits] defaults: 600 s and 900 s), the bound holds, a release and the gone sweep keep the
new place, an unknown topic is refused, and the intake is counted per service and week only."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.domain import stats
from chat.domain.ordering import Intake
from chat.domain.placement import placement
from chat.errors import UnknownTopic
from chat.store import names as keys
from tests.chat.conftest import NURSE_A

SVC = "core-a"


async def start(actions: Actions, topic: str = "", urgent: bool = False) -> str:
    return (await actions.start(SVC, "", 0, None, "client", Intake(topic, urgent))).conversation


async def order(actions: Actions) -> list[str]:
    view = await actions.store.queue_view(SVC)
    return [str(i["conversation"]) for i in view.items]


async def the_order_follows_urgency_within_the_bound(actions: Actions, r: aioredis.Redis) -> None:
    clock = actions.clock
    assert isinstance(clock, FakeClock)
    a = await start(actions)
    clock.advance(100)
    b = await start(actions, "mental", urgent=True)  # urgent: ahead of a, who waited 100 s
    assert await order(actions) == [b, a]
    clock.advance(600)
    c = await start(actions, urgent=True)  # a has waited 700 s > 600 s: not overtaken
    assert await order(actions) == [b, a, c]

    await actions.flag(NURSE_A, c, "acute")  # 900 s: now ahead of a (700 s < 900 s)
    assert await order(actions) == [b, c, a]
    assert await r.hget(keys.meta(c), "hs") == "900"
    await actions.flag(NURSE_A, c, "concern")  # not acute: back to the youth's own urgency
    assert await order(actions) == [b, a, c]
    await actions.flag(NURSE_A, c, "acute")

    # A release puts it back at its place, head start included.
    await actions.claim(NURSE_A, c)
    assert await order(actions) == [b, a]
    await actions.release(NURSE_A, c)
    assert await order(actions) == [b, c, a]
    created = int(await r.hget(keys.meta(c), "created") or 0)
    assert await r.zscore(keys.queue(SVC), c) == created - 900

    # Set aside by the gone sweep: it keeps the place, a flag change moves it there too, and
    # it comes back at the new place.
    await actions.store.clear_presence(c, SVC, waiting=True)
    clock.advance(61)
    assert await actions.set_aside_if_gone(c, SVC)
    assert await order(actions) == [b, a]
    await actions.flag(NURSE_A, c, "none")
    assert await r.zscore(keys.set_aside(SVC), c) == created - 600
    conv = await actions.store.get(c)
    assert conv is not None
    await actions.come_back(conv)
    assert await order(actions) == [b, a, c]

    # A transfer to another service's queue: in at the time of the transfer, with its head
    # start; and the repair sweep's idea of its place agrees.
    await actions.claim(NURSE_A, b)
    clock.advance(5)
    await actions.transfer(NURSE_A, b, "core-b", "", "", 0, "")
    moved_at = int(clock.now())
    assert await r.zscore(keys.queue("core-b"), b) == moved_at - 600
    moved = await actions.store.get(b)
    assert placement(moved, "core-b").queue == moved_at - 600


async def test_urgency_and_acute_order_the_queue(actions: Actions, r: aioredis.Redis) -> None:
    await r.flushdb()
    await the_order_follows_urgency_within_the_bound(actions, r)


@pytest.mark.cluster
async def test_urgency_and_acute_order_the_queue_on_a_cluster(
    cluster_actions: Actions, cluster_r: aioredis.Redis,
) -> None:
    await the_order_follows_urgency_within_the_bound(cluster_actions, cluster_r)


async def test_an_unknown_topic_is_refused_and_nothing_is_stored(
    actions: Actions, r: aioredis.Redis,
) -> None:
    await r.flushdb()
    with pytest.raises(UnknownTopic) as caught:
        await start(actions, "astrology")
    assert caught.value.code == "unknown_topic"
    assert await r.zcard(keys.queue(SVC)) == 0
    assert await start(actions)  # nothing chosen still starts


async def test_the_intake_is_counted_per_service_and_week_never_per_conversation(
    actions: Actions, r: aioredis.Redis,
) -> None:
    await r.flushdb()
    cids = [await start(actions, "mental", urgent=True), await start(actions, "mental"),
            await start(actions, "body"), await start(actions, urgent=True),
            await start(actions)]
    week = stats.iso_week(actions.dashboard.today(SVC))
    assert await r.hgetall(keys.intake_week(SVC, week)) == {
        "t:mental": "2", "t:body": "1", "urgent": "2"}
    assert await actions.dashboard.intake_week(SVC, actions.dashboard.today(SVC)) == (
        week, {"t:mental": 2, "t:body": 1, "urgent": 2})
    # A topic is on the conversation's own hash, and otherwise only in the week's counters,
    # which name no conversation.
    for key in [k async for k in r.scan_iter("*")]:
        text = key + " " + repr(await dump(r, key))
        if "mental" not in text or key.startswith("c:{"):
            continue
        assert key == keys.intake_week(SVC, week), key
        assert not any(cid in text for cid in cids)


async def dump(r: aioredis.Redis, key: str) -> object:
    kind = await r.type(key)
    if kind == "hash":
        return await r.hgetall(key)
    if kind == "zset":
        return await r.zrange(key, 0, -1, withscores=True)
    if kind == "list":
        return await r.lrange(key, 0, -1)
    if kind == "set":
        return await r.smembers(key)
    if kind == "stream":
        return await r.xrange(key)
    return await r.get(key) if kind == "string" else kind


async def test_the_lead_s_longest_wait_is_the_real_one_not_the_first_score(
    actions: Actions, r: aioredis.Redis,
) -> None:
    await r.flushdb()
    clock = actions.clock
    assert isinstance(clock, FakeClock)
    await start(actions)
    clock.advance(300)
    urgent = await start(actions, urgent=True)  # first in line, but has waited least
    clock.advance(20)
    assert (await order(actions))[0] == urgent
    figures = await actions.dashboard.overview(SVC, actions.dashboard.today(SVC))
    assert figures.longest_wait_s == 320
