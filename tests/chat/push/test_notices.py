"""The push room beside the actions, in-process on the real test Redis: what is stored, for how
long, what a notice enqueues, and when a subscription is deleted."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from chat.actions.accounts import Accounts
from chat.actions.conversations import Actions
from chat.actions.push import Push, build_push
from chat.clock import FakeClock
from chat.config import Config
from chat.domain.conversation import Conversation
from chat.errors import BadSubscription, ConversationClosed
from chat.store import names as keys
from chat.store.conversations import Store
from tests.chat.conftest import NURSE_A
from tests.chat.push.test_subscription import raw


@pytest.fixture
def push(core_config: Config, r: aioredis.Redis, clock: FakeClock) -> Push:
    return build_push(core_config, Store(r, clock), clock)


@pytest.fixture
def wired(core_config: Config, r: aioredis.Redis, clock: FakeClock, push: Push) -> Actions:
    return Actions(core_config, Store(r, clock), clock, push.notices)


async def started(actions: Actions) -> Conversation:
    cid = (await actions.start("core-a", "", 0, None, "client")).conversation
    conv = await actions.store.get(cid)
    assert conv is not None
    return conv


async def reply(actions: Actions, conv: Conversation, cmid: str) -> None:
    result = await actions.send(conv, "nurse", "Nurse A", cmid, "QUJD", writer=NURSE_A.username)
    assert result.status == 1


async def test_a_reply_enqueues_one_delivery_for_a_subscribed_youth(
    wired: Actions, push: Push, r: aioredis.Redis,
) -> None:
    conv = await started(wired)
    await wired.claim(NURSE_A, conv.id)
    await reply(wired, conv, "reply00001")
    assert await r.zcard(keys.push_due()) == 0  # nobody asked to be told
    await push.actions.subscribe_youth(conv, raw())
    sealed = await r.get(keys.push_subscription(conv.id))
    assert sealed and "fcm" not in sealed
    ttl = await r.pttl(keys.push_subscription(conv.id))
    assert abs(ttl - await r.pttl(keys.meta(conv.id))) < 1000
    await r.pexpire(keys.push_subscription(conv.id), 1000)
    await reply(wired, conv, "reply00002")  # the reply renews both
    ttl = await r.pttl(keys.push_subscription(conv.id))
    assert abs(ttl - await r.pttl(keys.meta(conv.id))) < 1000
    await reply(wired, conv, "reply00003")
    assert await r.zrange(keys.push_due(), 0, -1) == [f"y:{conv.id}"]  # several replies, one


async def test_closing_deletes_the_subscription(wired: Actions, push: Push,
                                                r: aioredis.Redis) -> None:
    conv = await started(wired)
    await push.actions.subscribe_youth(conv, raw())
    await wired.end_by_youth(conv)
    assert await r.exists(keys.push_subscription(conv.id)) == 0
    with pytest.raises(ConversationClosed):
        await push.actions.subscribe_youth(conv, raw())
    assert await r.exists(keys.push_subscription(conv.id)) == 0


async def test_a_refused_subscription_stores_nothing(wired: Actions, push: Push,
                                                     r: aioredis.Redis) -> None:
    conv = await started(wired)
    with pytest.raises(BadSubscription):
        await push.actions.subscribe_youth(conv, raw("https://evil.example/push"))
    assert await r.exists(keys.push_subscription(conv.id)) == 0


async def test_a_start_enqueues_a_delivery_per_subscribed_nurse(
    wired: Actions, push: Push, r: aioredis.Redis,
) -> None:
    await push.actions.subscribe_nurse(NURSE_A, raw())
    await started(wired)
    assert await r.zrange(keys.push_due(), 0, -1) == ["n:core-a:nurse.a"]


async def test_a_nurse_on_a_break_is_not_told(wired: Actions, push: Push,
                                              r: aioredis.Redis) -> None:
    await push.actions.subscribe_nurse(NURSE_A, raw())
    await wired.set_break(NURSE_A, True)
    await started(wired)
    assert await r.zrange(keys.push_due(), 0, -1) == []
    await wired.set_break(NURSE_A, False)
    await started(wired)
    assert await r.zrange(keys.push_due(), 0, -1) == ["n:core-a:nurse.a"]


async def test_disabling_an_account_deletes_her_subscription(
    core_config: Config, push: Push, r: aioredis.Redis, clock: FakeClock,
) -> None:
    accounts = Accounts(core_config, r, clock)
    await accounts.add("nurse.a", "", "nurse", password_hash="$argon2id$v=19$m=8,t=1,p=1$x$y")
    await push.actions.subscribe_nurse(NURSE_A, raw())
    assert await r.exists(keys.nurse_push("nurse.a")) == 1
    assert await accounts.set_disabled("nurse.a", True)
    assert await r.exists(keys.nurse_push("nurse.a")) == 0


async def test_a_failing_notice_never_loses_the_message(
    core_config: Config, r: aioredis.Redis, clock: FakeClock,
) -> None:
    class Broken:
        async def nurse_answered(self, conv: Conversation) -> None:
            raise OSError("push store down")

        async def youth_waiting(self, service: str) -> None:
            raise OSError("push store down")

    actions = Actions(core_config, Store(r, clock), clock, Broken())
    conv = await started(actions)
    await r.set(keys.push_subscription(conv.id), "sealed")  # so the reply calls the notice
    await actions.claim(NURSE_A, conv.id)
    await reply(actions, conv, "reply00001")
    assert await r.xlen(keys.log(conv.id)) == 1


async def test_a_delivery_that_fails_here_is_tried_five_times_then_dropped(
    core_config: Config, wired: Actions, push: Push, r: aioredis.Redis, clock: FakeClock,
) -> None:
    from chat.push.delivery import PushSettings
    from chat.push.sender import PushSender

    assert push.keys is not None
    conv = await started(wired)
    await push.actions.subscribe_youth(conv, raw())
    await wired.claim(NURSE_A, conv.id)
    await reply(wired, conv, "reply00001")
    # A contact the VAPID signer refuses: every try fails before anything is sent.
    sender = PushSender(core_config, push.keys, PushSettings(subject="bogus"), push.store,
                        wired.store, clock)
    delivery = f"y:{conv.id}"
    for n in range(1, 5):
        await sender.run()
        assert await r.hget(keys.push_tries(), delivery) == str(n)
        clock.advance(3600)  # past any back-off
    await sender.run()
    assert await r.zscore(keys.push_due(), delivery) is None
    assert await r.hget(keys.push_tries(), delivery) is None
    assert await r.exists(keys.push_subscription(conv.id)) == 1  # the subscription stays
