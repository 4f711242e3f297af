"""Appointment reminders, 24 h and 2 h before, through Web Push: two real web processes on one
Redis with an injected clock, the real push-service stand-in, an appointment the day the
clocks go back. Each reminder arrives once, at its time counted in real hours."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from chat.clock import SystemClock
from chat.push.keys import load_push_keys
from chat.push.subscription import Subscription as StoredSubscription
from chat.store.names import reminder_delivery
from chat.store.push import PushStore
from devservices.pushservice.client import AsyncPushServiceClient, Subscription
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from identity_bridge.epj.appointment_record import AppointmentState, from_event
from identity_bridge.epj.appointment_store import AppointmentStore
from identity_bridge.epj.ical import OSLO, CalendarEvent, EventStatus
from identity_bridge.personseal import PersonSealer
from tests.clockfile import new_clock_file, set_clock
from tests.conftest import start_clean_web
from tests.servers import write_test_config

# Sunday 31 October 2027, 12:00 in Oslo: the clocks went back from 03:00 CEST to 02:00 CET
# that night, so 24 real hours before is Saturday 13:00 on the clock (11:00Z both times).
START = datetime(2027, 10, 31, 12, 0, tzinfo=OSLO)
REMIND_24H = datetime(2027, 10, 30, 11, 0, tzinfo=UTC)
REMIND_2H = datetime(2027, 10, 31, 9, 0, tzinfo=UTC)
TITLE = "Påminnelse fra helsetjenesten"


@dataclass
class Site:
    webs: tuple[WebProcess, WebProcess]
    clock: Path
    data_dir: Path


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               push_web_env: dict[str, str]) -> AsyncIterator[Site]:
    d = tmp_path_factory.mktemp("reminders")
    write_test_config(d)
    clock = new_clock_file(tmp_path_factory)
    env = {**push_web_env, "HELSEPRAT_TEST_CLOCK_FILE": str(clock)}
    first = await start_clean_web(redis_proc.url, d, extra_env=env)
    second = WebProcess(d, redis_proc.url, extra_env=env)
    await asyncio.to_thread(second.start)
    yield Site((first, second), clock, d)
    await asyncio.to_thread(second.stop)
    await asyncio.to_thread(first.stop)


async def subscribe(site: Site, redis: aioredis.Redis, push: AsyncPushServiceClient,
                    owner: str) -> Subscription:
    """A subscription on the stand-in, stored for ``owner`` as the page's route stores it."""
    keys = load_push_keys(site.data_dir / "secrets", required=True)
    assert keys is not None
    sub = await push.subscribe(keys.public_key)
    stored = StoredSubscription(sub.endpoint, sub.p256dh, sub.auth, "nb", "t-" + owner[:6])
    await PushStore(redis, SystemClock()).save_owner(owner, keys.seal(stored.to_bytes(), owner),
                                                      3600)
    return sub


async def marker_sent(site: Site, redis: aioredis.Redis, push: AsyncPushServiceClient,
                      marker: Subscription, owner: str, at: datetime, n: int) -> None:
    """A delivery due exactly at ``at`` for another person: once it has arrived, the sender
    has had a round at ``at`` (no timing needed to know a round ran)."""
    await PushStore(redis, SystemClock()).schedule(reminder_delivery(owner, f"mark{n}"),
                                                   at.timestamp())
    await set_clock(site.clock, at.timestamp())
    await push.wait_messages(marker.id, count=n, timeout=30)


def appointment() -> CalendarEvent:
    return CalendarEvent(uid="dst@epj", sequence=0, start=START.astimezone(UTC),
                         end=(START + timedelta(minutes=30)).astimezone(UTC),
                         status=EventStatus.BOOKED, type_code="SAMTALE", summary="Samtale",
                         location="Rom 1", who="Hanne")


async def test_each_reminder_once_at_its_time_across_the_change_with_two_processes(
        site: Site, redis_client: aioredis.Redis, push_client: AsyncPushServiceClient) -> None:
    r = aioredis.from_url(site.webs[0].redis_url, decode_responses=True)
    try:
        owner, other = secrets.token_hex(32), secrets.token_hex(32)
        youth = await subscribe(site, r, push_client, owner)
        marker = await subscribe(site, r, push_client, other)
        store = AppointmentStore(r, PersonSealer(secrets.token_bytes(32)), timedelta(days=30))
        record = from_event("a" * 32, 8000100, appointment(), datetime.now(UTC))
        await store.put(owner, record)

        await marker_sent(site, r, push_client, marker, other, REMIND_24H - timedelta(minutes=1), 1)
        assert await push_client.messages(youth.id) == []
        await set_clock(site.clock, (REMIND_24H + timedelta(seconds=1)).timestamp())
        [first] = await push_client.wait_messages(youth.id, count=1, timeout=30)
        assert first.json()["title"] == TITLE and first.urgency == "normal"
        assert set(first.json()) == {"title", "tag"}  # nothing about the appointment

        await marker_sent(site, r, push_client, marker, other, REMIND_2H - timedelta(minutes=1), 2)
        assert len(await push_client.messages(youth.id)) == 1
        await set_clock(site.clock, (REMIND_2H + timedelta(seconds=1)).timestamp())
        messages = await push_client.wait_messages(youth.id, count=2, timeout=30)
        assert [m.json()["title"] for m in messages] == [TITLE, TITLE]

        # Long after, with both processes' jobs running all along: still exactly two.
        await marker_sent(site, r, push_client, marker, other, START + timedelta(days=1), 3)
        assert len(await push_client.messages(youth.id)) == 2
        assert await r.zcard("push:due") == 0
    finally:
        await set_clock(site.clock, None)
        await r.aclose()


async def test_a_moved_or_cancelled_appointment_moves_or_drops_its_reminders(
        redis_client: aioredis.Redis) -> None:
    store = AppointmentStore(redis_client, PersonSealer(secrets.token_bytes(32)),
                             timedelta(days=30))
    owner = secrets.token_hex(32)
    record = from_event("b" * 32, 8000100, appointment(), datetime.now(UTC))
    await store.put(owner, record)
    due = {m.decode(): s for m, s in await redis_client.zrange("push:due", 0, -1, withscores=True)}
    assert due == {f"r:{owner}:{'b' * 32}.24h": REMIND_24H.timestamp(),
                   f"r:{owner}:{'b' * 32}.2h": REMIND_2H.timestamp()}
    moved = from_event("b" * 32, 8000100, appointment(), datetime.now(UTC))
    later = START.astimezone(UTC) + timedelta(hours=5)  # real hours: in UTC, not on the clock
    await store.put(owner, replace(moved, start=later, end=later + timedelta(minutes=30)))
    scores = sorted(s for _m, s in await redis_client.zrange("push:due", 0, -1, withscores=True))
    assert scores == [(later - timedelta(hours=24)).timestamp(),
                      (later - timedelta(hours=2)).timestamp()]
    await store.put(owner, replace(moved, state=AppointmentState.CANCELLED_BY_EPJ))
    assert await redis_client.zcard("push:due") == 0
