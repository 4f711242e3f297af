"""Web Push end to end: a real web process sends to the real push-service stand-in
(devservices/pushservice), which checks VAPID, decrypts and keeps what arrived."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis.asyncio as aioredis

from chat.client.protocol import ProtocolClient, YouthSession, youth_start
from chat.store import names as keys
from devservices.pushservice.client import AsyncPushServiceClient, Subscription
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import csrf_of, nurse_ws
from tests.conftest import start_clean_web
from tests.servers import FAST_LIMITS, write_test_config
from tests.waiting import until

OSLO = ZoneInfo("Europe/Oslo")
CAP = 2


def push_services() -> str:
    now = dt.datetime.now(OSLO)
    quiet = f"{(now - dt.timedelta(hours=1)):%H:%M}-{(now + dt.timedelta(hours=2)):%H:%M}"
    return FAST_LIMITS + f"""push_per_conversation_per_hour = {CAP}

[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "push-skole"
municipality = "demo"
name = "Varsel skole"
members = ["demo.nurse"]
max_chats_per_nurse = 50
[service.hours]
daily = "00:00-24:00"
[service.answer_later]
enabled = false
quiet_hours = ""

[[service]]
id = "push-quiet"
municipality = "demo"
name = "Stille skole"
members = ["demo.nurse"]
max_chats_per_nurse = 50
[service.hours]
daily = "00:00-24:00"
[service.answer_later]
enabled = false
quiet_hours = "{quiet}"
"""


@pytest.fixture(scope="module")
async def pweb(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               push_web_env: dict[str, str]) -> AsyncIterator[WebProcess]:
    d: Path = tmp_path_factory.mktemp("push-web")
    write_test_config(d, push_services())
    proc = await start_clean_web(redis_proc.url, d, extra_env=push_web_env)
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.fixture
async def r(redis_proc: RedisProcess) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_proc.url, decode_responses=True)
    yield client
    await client.aclose()



def frame(sub: Subscription, lang: str = "nb") -> dict[str, Any]:
    return {"type": "push_subscribe", **sub.info(), "lang": lang}


async def subscribed_youth(web: WebProcess, r: aioredis.Redis, sub: Subscription,
                           service: str = "push-skole", lang: str = "nb") -> YouthSession:
    """A youth starts, writes, asks to be told, and goes (its presence gone)."""
    session, _ = await subscribed_youth_tag(web, r, sub, service, lang)
    return session


async def subscribed_youth_tag(web: WebProcess, r: aioredis.Redis, sub: Subscription,
                               service: str = "push-skole", lang: str = "nb",
                               ) -> tuple[YouthSession, str]:
    """As ``subscribed_youth``, with the tag the server said its notices will carry."""
    y, session = await youth_start(web.base, service)
    await y.send(frame(sub, lang))
    answer = await y.expect("push")
    tag = answer.pop("tag")
    assert answer == {"v": 1, "type": "push", "conversation": session.conversation, "on": True}
    assert isinstance(tag, str) and tag and tag not in session.conversation
    await y.close()

    async def offline() -> bool:
        return await r.zscore(keys.online(service), session.conversation) is None
    await until(offline, "the youth's presence is cleared")
    return session, tag


async def nurse_reply(web: WebProcess, cid: str, text: str = "Hei!",
                      nurse: ProtocolClient | None = None) -> ProtocolClient:
    n = nurse or (await nurse_ws(web.base, "demo.nurse"))[0]
    if nurse is None:
        await n.send({"type": "claim", "conversation": cid})
        await n.expect("claimed", where=lambda f: f["conversation"] == cid)
    cmid = f"n{abs(hash((cid, text))) % 10**12:012d}"
    await n.send({"type": "send", "conversation": cid, "cmid": cmid,
                  "body": base64.b64encode(text.encode()).decode()})
    await n.expect("ack", where=lambda f: f.get("cmid") == cmid)  # stored and acked at once
    return n


async def attempts_reach(push_client: AsyncPushServiceClient, sub: Subscription,
                         n: int) -> None:
    async def reached() -> bool:
        return await push_client.attempts(sub.id) >= n
    await until(reached, f"{n} pushes tried")


async def test_a_nurses_reply_pushes_the_fixed_notice_with_ttl_topic_and_urgency(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    session, tag = await subscribed_youth_tag(pweb, r, sub, lang="en")
    n = await nurse_reply(pweb, session.conversation, "Et svar med helseopplysninger")
    [msg] = await push_client.wait_messages(sub.id, timeout=30)
    assert msg.ttl == 345_600 and msg.urgency == "normal"
    assert msg.topic is not None and len(msg.topic) == 22
    assert msg.sub == "mailto:drift@helseprat.invalid"
    body = msg.json()
    assert body == {"title": "You have an answer", "tag": tag}  # the tag the page was told
    assert session.conversation not in json.dumps(body) and session.conversation != msg.topic
    assert await push_client.attempts(sub.id) == 1
    await n.close()


async def test_a_gone_subscription_is_deleted(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    await push_client.set_mode(sub.id, "gone")
    session = await subscribed_youth(pweb, r, sub)
    assert await r.exists(keys.push_subscription(session.conversation)) == 1
    n = await nurse_reply(pweb, session.conversation)

    async def deleted() -> bool:
        return await r.exists(keys.push_subscription(session.conversation)) == 0
    await until(deleted, "410 deletes the subscription")
    assert await push_client.attempts(sub.id) == 1
    assert await r.zscore(keys.push_due(), f"y:{session.conversation}") is None
    await n.close()


async def test_a_throttling_push_service_is_tried_again(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    await push_client.set_mode(sub.id, "throttle", times=2)
    session = await subscribed_youth(pweb, r, sub)
    n = await nurse_reply(pweb, session.conversation)
    [msg] = await push_client.wait_messages(sub.id, timeout=40)
    assert await push_client.attempts(sub.id) == 3 and msg.json()["title"] == "Du har fått svar"
    assert await r.hget(keys.push_tries(), f"y:{session.conversation}") is None
    await n.close()


async def test_a_hanging_push_service_is_timed_out_and_the_chat_goes_on(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    await push_client.set_mode(sub.id, "hang", times=1)
    session = await subscribed_youth(pweb, r, sub)
    n = await nurse_reply(pweb, session.conversation, "Første")
    await attempts_reach(push_client, sub, 1)  # the push service now holds the POST
    # The chat does not wait for it: the next reply is stored and acked while it hangs.
    await nurse_reply(pweb, session.conversation, "Andre", nurse=n)
    [msg] = await push_client.wait_messages(sub.id, timeout=40)  # the retry after the timeout
    assert msg.json()["title"] == "Du har fått svar"
    assert '"why": "timeout"' in pweb.log_text()
    await n.close()


async def test_at_most_the_cap_per_conversation_per_hour(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    session = await subscribed_youth(pweb, r, sub)
    n = None
    for i in range(CAP):
        n = await nurse_reply(pweb, session.conversation, f"svar {i}", nurse=n)
        await attempts_reach(push_client, sub, i + 1)
    n = await nurse_reply(pweb, session.conversation, "ett til", nurse=n)
    delivery = f"y:{session.conversation}"

    async def postponed() -> bool:
        due = await r.zscore(keys.push_due(), delivery)
        now = dt.datetime.now(dt.UTC).timestamp()
        return due is not None and due >= (int(now // 3600) + 1) * 3600 - 1
    await until(postponed, "the delivery over the cap waits for the next hour")
    assert await push_client.attempts(sub.id) == CAP
    await n.close()


async def test_quiet_hours_hold_the_notice(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    session = await subscribed_youth(pweb, r, sub, service="push-quiet")
    n = await nurse_reply(pweb, session.conversation)
    delivery = f"y:{session.conversation}"

    async def held() -> bool:
        due = await r.zscore(keys.push_due(), delivery)
        return due is not None and due > dt.datetime.now(dt.UTC).timestamp() + 3600
    await until(held, "the delivery waits for the end of the quiet hours")
    assert await push_client.attempts(sub.id) == 0
    await n.close()


async def test_no_push_while_the_youth_is_connected(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    y, session = await youth_start(pweb.base, "push-skole")
    await y.send(frame(sub))
    await y.expect("push")
    mark = pweb.log_text().count('"push": "skipped"')
    n = await nurse_reply(pweb, session.conversation)
    await y.expect("deliver")

    async def skipped() -> bool:
        return pweb.log_text().count('"push": "skipped"') > mark
    await until(skipped, "the sender skipped a connected youth")
    assert await push_client.attempts(sub.id) == 0
    await y.send({"type": "push_unsubscribe"})
    assert (await y.expect("push"))["on"] is False
    assert await r.exists(keys.push_subscription(session.conversation)) == 0
    await y.close()
    await n.close()


async def test_foreign_endpoints_and_bad_keys_are_refused(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    y, session = await youth_start(pweb.base, "push-skole")
    for bad in ({**frame(sub), "endpoint": "https://push.evil.example/x"},
                {**frame(sub), "endpoint": sub.endpoint.replace("127.0.0.1", "localhost")},
                {**frame(sub), "keys": {"p256dh": sub.p256dh[:-2] + "AA", "auth": sub.auth}},
                {**frame(sub), "keys": {"p256dh": sub.p256dh, "auth": sub.auth + "AA"}}):
        await y.send(bad)
        err = await y.expect("error")
        assert err["code"] == "bad_subscription", err
    assert await r.exists(keys.push_subscription(session.conversation)) == 0
    await y.send({"type": "end"})
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.send(frame(sub))
    assert (await y.expect("error"))["code"] == "conversation_closed"
    await y.close()


async def test_closing_deletes_the_subscription(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    y, session = await youth_start(pweb.base, "push-skole")
    await y.send(frame(sub))
    await y.expect("push")
    ttl = await r.pttl(keys.push_subscription(session.conversation))
    assert 0 < ttl <= await r.pttl(keys.meta(session.conversation)) + 1000
    await y.send({"type": "end"})
    await y.expect("state", where=lambda f: f["state"] == "closed")
    assert await r.exists(keys.push_subscription(session.conversation)) == 0
    await y.close()


async def nurse_push(web: WebProcess, cookie: str, method: str,
                     body: dict[str, Any] | None = None, csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else await csrf_of(web.base, cookie)
    async with httpx.AsyncClient(base_url=web.base, cookies={"hp_session": cookie}) as http:
        return await http.request(method, "/dashboard/push", json=body,
                                  headers={"X-CSRF-Token": token})


async def test_a_nurse_is_told_when_a_youth_starts_and_her_dashboard_is_closed(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    n, cookie = await nurse_ws(pweb.base, "demo.nurse")
    refused = await nurse_push(pweb, cookie, "POST", {**sub.info(), "lang": "nn"}, csrf="x")
    assert refused.status_code == 403
    bad = await nurse_push(pweb, cookie, "POST", {**sub.info(), "endpoint": "https://x.example"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_subscription")
    ok = await nurse_push(pweb, cookie, "POST", {**sub.info(), "lang": "nn"})
    assert (ok.status_code, ok.json()) == (201, {"on": True})
    await n.close()

    async def off_duty() -> bool:
        return not await r.zrange(keys.on_duty("push-skole"), 0, -1)
    await until(off_duty, "the dashboard is closed")
    y, _ = await youth_start(pweb.base, "push-skole")
    [msg] = await push_client.wait_messages(sub.id, timeout=30)
    assert msg.json()["title"] == "Ein ungdom ventar" and msg.urgency == "high"
    assert msg.topic is not None and len(msg.topic) == 22
    gone = await nurse_push(pweb, cookie, "DELETE")
    assert (gone.status_code, gone.json()) == (200, {"on": False})
    assert await r.exists(keys.nurse_push("demo.nurse")) == 0
    await y.close()


async def all_of_redis(r: aioredis.Redis) -> str:
    """Every key and every value, as one text."""
    out: list[str] = []
    async for key in r.scan_iter(count=1000):
        kind = await r.type(key)
        out.append(key)
        if kind == "string":
            out.append(str(await r.get(key)))
        elif kind == "hash":
            out.append(json.dumps(await r.hgetall(key)))
        elif kind == "zset":
            out.append(json.dumps(await r.zrange(key, 0, -1, withscores=True)))
        elif kind == "set":
            out.append(json.dumps(sorted(await r.smembers(key))))
        elif kind == "list":
            out.append(json.dumps(await r.lrange(key, 0, -1)))
        elif kind == "stream":
            out.append(json.dumps(await r.xrange(key)))
    return "\n".join(out)


async def test_no_endpoint_or_key_in_clear_in_redis_or_the_log(
    pweb: WebProcess, r: aioredis.Redis, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    session = await subscribed_youth(pweb, r, sub)
    nsub = await push_client.subscribe()
    n, cookie = await nurse_ws(pweb.base, "demo.nurse")
    assert (await nurse_push(pweb, cookie, "POST", nsub.info())).status_code == 201
    await nurse_reply(pweb, session.conversation, nurse=None)
    await push_client.wait_messages(sub.id, timeout=30)
    everything, log = await all_of_redis(r), pweb.log_text()
    assert '"push": "sent"' in log
    for s in (sub, nsub):
        for secret in (s.endpoint, s.id, s.p256dh, s.auth):
            assert secret not in everything and secret not in log
    assert session.conversation not in log
    await n.close()


async def test_the_nurse_endpoint_wants_a_session_and_a_small_body(
    pweb: WebProcess, push_client: AsyncPushServiceClient,
) -> None:
    sub = await push_client.subscribe()
    async with httpx.AsyncClient(base_url=pweb.base) as http:
        anon = await http.post("/dashboard/push", json=sub.info())
        assert (anon.status_code, anon.json()["error"]["code"]) == (401, "not_authenticated")
    n, cookie = await nurse_ws(pweb.base, "demo.nurse")
    big = await nurse_push(pweb, cookie, "POST", {**sub.info(), "pad": "x" * 5000})
    assert big.status_code == 413
    bad = await nurse_push(pweb, cookie, "POST", None)
    assert bad.status_code == 400
    await n.close()
