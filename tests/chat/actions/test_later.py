"""Answer-later against a real Redis (no web server): each later move leaves the conversation,
the queue, the answer-later list, the active set and the nurses' slots consistent; what is
owed is kept by the append script; answered owed answers are counted per week."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.config import load_config
from chat.domain.conversation import Conversation
from chat.domain.staff import Nurse
from chat.jobs.gone import sweep_gone
from chat.jobs.later import sweep_later
from chat.store import names as keys
from chat.store.conversations import Store
from tests.chat.actions.test_moves import code_of
from tests.servers import FAST_LIMITS, write_test_config

OSLO = ZoneInfo("Europe/Oslo")
# FakeClock starts on Friday 2027-01-15 at 09:00 in Oslo: open, and nobody on duty.
SERVICES = FAST_LIMITS + """starts_per_client_per_hour = 100000

[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "later-a"
municipality = "demo"
name = "Senere A"
members = ["nurse.a", "nurse.b"]
max_chats_per_nurse = 2
[service.hours]
mon = "08:00-16:00"
tue = "08:00-16:00"
wed = "08:00-16:00"
thu = "08:00-16:00"
fri = "08:00-16:00"
[service.answer_later]
close_after_days = 3

[[service]]
id = "later-off"
municipality = "demo"
name = "Uten senere"
members = ["nurse.a"]
[service.hours]
fri = "08:00-10:00"
[service.answer_later]
enabled = false
"""
NURSE_A = Nurse("nurse.a", "Nurse A", "nurse", frozenset({"later-a", "later-off"}))
NURSE_B = Nurse("nurse.b", "Nurse B", "nurse", frozenset({"later-a"}))
CMIDS = itertools.count()
MONDAY_CLOSE = int(dt.datetime(2027, 1, 18, 16, 0, tzinfo=OSLO).timestamp())


@pytest.fixture
def actions(tmp_path: Path, redis_url: str, r: aioredis.Redis, clock: FakeClock) -> Actions:
    write_test_config(tmp_path, SERVICES, answer_later=True)
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})
    return Actions(config, Store(r, clock), clock)


async def start(actions: Actions, service: str = "later-a") -> str:
    return (await actions.start(service, "", 0, None, "client")).conversation


async def where(r: aioredis.Redis, cid: str, service: str = "later-a") -> dict[str, object]:
    return {
        "st": await r.hget(keys.meta(cid), "st"),
        "queued": await r.zscore(keys.queue(service), cid) is not None,
        "later": await r.zscore(keys.later_queue(service), cid),
        "all": await r.zscore(keys.later_all(service), cid) is not None,
        "active": await r.zscore(keys.active(service), cid) is not None,
        "slots": [u for u in ("nurse.a", "nurse.b")
                  if await r.sismember(keys.nurse_open(u), cid)],
    }


async def write(actions: Actions, cid: str, who: Nurse | None = None, cmid: str = "") -> int:
    conv = await actions.store.get(cid)
    assert conv is not None
    role, sender, writer = ("nurse", who.display_name, who.username) if who else (
        "youth", "youth", "")
    result = await actions.send(conv, role, sender, cmid or f"msg{next(CMIDS):05d}", "QUJD",
                                writer=writer)
    assert result.status == 1
    return result.ts


async def on_duty(actions: Actions, nurse: Nurse) -> None:
    await actions.dashboard.duty(nurse, "conn1", True)


async def test_no_nurse_on_duty_starts_later_and_the_first_message_is_owed(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    started = await actions.start("later-a", "", 0, None, "client")
    assert started.slot is None  # a later start holds no waiting slot
    cid = started.conversation
    assert await where(r, cid) == {"st": "later", "queued": False, "later": None, "all": True,
                                   "active": False, "slots": []}
    assert await actions.dashboard.later_list("later-a") == []
    first = await write(actions, cid)
    clock.advance(60)
    await write(actions, cid)
    conv = await actions.store.get(cid)
    assert conv is not None and (conv.owed, conv.later_owed) == (first, first)
    assert (await where(r, cid))["later"] == first  # the oldest unanswered message
    assert actions.later_due(conv) == MONDAY_CLOSE
    assert await actions.dashboard.later_list("later-a") == [
        {"conversation": cid, "owed": first, "due": MONDAY_CLOSE, "returning": ""}]


async def test_a_nurse_on_duty_makes_a_live_start(actions: Actions, r: aioredis.Redis) -> None:
    await on_duty(actions, NURSE_B)
    cid = await start(actions)
    assert (await where(r, cid))["st"] == "waiting" and (await where(r, cid))["queued"]


async def test_closed_starts_later_unless_answer_later_is_off(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    assert (await where(r, await start(actions, "later-off"), "later-off"))["st"] == "waiting"
    clock.advance(3600)  # 10:00: later-off has closed
    assert await code_of(start(actions, "later-off")) == "service_closed"
    clock.advance(8 * 3600)  # 18:00: later-a has closed too, and takes later messages
    await on_duty(actions, NURSE_A)
    assert (await where(r, await start(actions)))["st"] == "later"


async def test_claim_from_later_then_the_answer_is_counted_within_target(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    cid = await start(actions)
    await write(actions, cid)
    clock.advance(3600)
    conv = await actions.claim(NURSE_A, cid)
    assert conv.state == "active"
    assert await where(r, cid) == {"st": "active", "queued": False, "later": None,
                                   "all": False, "active": True, "slots": ["nurse.a"]}
    assert await r.lrange(keys.recent_waits("later-a"), 0, -1) == []  # not a live wait
    await write(actions, cid, NURSE_A)
    conv = await actions.store.get(cid)
    assert conv is not None and (conv.owed, conv.later_owed) == (0, 0)
    await write(actions, cid, NURSE_A)  # a second answer counts nothing more
    week = "2027-W02"
    assert await r.hgetall(keys.later_week("later-a", week)) == {"answered": "1", "within": "1"}
    figures = (await actions.dashboard.overview("later-a", "2027-01-15")).as_json()
    assert (figures["later_answered"], figures["later_within_target"]) == (1, 1)


async def test_an_answer_after_the_promise_is_counted_but_not_within(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    cid = await start(actions)
    await write(actions, cid)
    clock.advance(4 * 86400)  # Tuesday: Monday 16:00 has passed
    await actions.claim(NURSE_A, cid)
    await write(actions, cid, NURSE_A)
    assert await r.hgetall(keys.later_week("later-a", "2027-W03")) == {"answered": "1"}


async def test_live_answers_are_not_counted(actions: Actions, r: aioredis.Redis) -> None:
    await on_duty(actions, NURSE_A)
    cid = await start(actions)
    await write(actions, cid)
    await actions.claim(NURSE_A, cid)
    await write(actions, cid, NURSE_A)
    assert await r.hgetall(keys.later_week("later-a", "2027-W02")) == {}


async def test_the_youth_leaves_a_waiting_or_active_conversation_for_later(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    await on_duty(actions, NURSE_A)
    waiting = await start(actions)
    owed = await write(actions, waiting)
    conv = await actions.store.get(waiting)
    assert conv is not None and (conv.owed, conv.later_owed) == (owed, 0)
    await r.zadd(keys.absent("later-a"), {waiting: 1})  # as if its socket had gone
    await actions.leave_for_later(conv)
    assert await where(r, waiting) == {"st": "later", "queued": False, "later": owed,
                                       "all": True, "active": False, "slots": []}
    assert await r.zscore(keys.absent("later-a"), waiting) is None
    assert await code_of(actions.leave_for_later(conv)) == "invalid_state"

    active = await start(actions)
    await actions.claim(NURSE_A, active)
    await write(actions, active, NURSE_A)  # nothing owed yet: nothing in the list
    conv = await actions.claim(NURSE_A, waiting)
    await actions.leave_for_later(await actions.fresh(active))
    assert await where(r, active) == {"st": "later", "queued": False, "later": None,
                                      "all": True, "active": False, "slots": []}
    assert (await where(r, waiting))["slots"] == ["nurse.a"]
    await actions.end_by_youth(await actions.fresh(active))
    assert await where(r, active) == {"st": "closed", "queued": False, "later": None,
                                      "all": False, "active": False, "slots": []}
    assert await code_of(actions.leave_for_later(await actions.fresh(active))) \
        == "conversation_closed"


async def test_only_the_holder_parks_for_later(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    await on_duty(actions, NURSE_A)
    cid = await start(actions)
    assert await code_of(actions.park_later(NURSE_A, cid)) == "not_authorized"  # waiting
    await actions.claim(NURSE_A, cid)
    owed = await write(actions, cid)
    assert await code_of(actions.park_later(NURSE_B, cid)) == "not_authorized"
    moved = await actions.park_later(NURSE_A, cid)
    assert moved.id == cid
    assert await where(r, cid) == {"st": "later", "queued": False, "later": owed,
                                   "all": True, "active": False, "slots": []}
    assert await code_of(actions.park_later(NURSE_A, cid)) == "not_authorized"
    # Still owed: the next nurse to claim it and answer is counted.
    await actions.claim(NURSE_B, cid)
    await write(actions, cid, NURSE_B)
    assert await r.hgetall(keys.later_week("later-a", "2027-W02")) == {"answered": "1",
                                                                      "within": "1"}


async def test_the_later_sweep_closes_after_days_without_activity(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    quiet = await start(actions)
    busy = await start(actions)
    await write(actions, quiet)
    clock.advance(2 * 86400)
    await write(actions, busy)
    assert await sweep_later(actions) == ()
    clock.advance(86400 + 1)  # three days since quiet's last message, one since busy's
    assert await sweep_later(actions) == (quiet,)
    conv = await actions.store.get(quiet)
    assert conv is not None and (conv.state, conv.outcome) == ("closed", "inactive")
    assert await where(r, quiet) == {"st": "closed", "queued": False, "later": None,
                                     "all": False, "active": False, "slots": []}
    assert (await where(r, busy))["st"] == "later"
    busy_conv = await actions.store.get(busy)
    assert busy_conv is not None  # looked at, and scored by its real last activity
    assert await r.zscore(keys.later_all("later-a"), busy) == busy_conv.last
    clock.advance(2 * 86400)
    assert await sweep_later(actions) == (busy,)


async def test_a_later_conversation_is_not_in_the_queue_or_the_gone_sweep(
    actions: Actions, r: aioredis.Redis, clock: FakeClock,
) -> None:
    cid = await start(actions)
    await write(actions, cid)
    clock.advance(3600)
    await sweep_gone(actions)
    view = await actions.store.queue_view("later-a")
    assert view.items == () and view.position(cid) is None
    assert await r.zrange(keys.absent("later-a"), 0, -1) == []
    assert await r.zrange(keys.set_aside("later-a"), 0, -1) == []


class Recorder:
    """A Notices that notes what it is told, and can be made to fail."""

    def __init__(self, fail: bool = False) -> None:
        self.told: list[tuple[str, str]] = []
        self.fail = fail

    async def nurse_answered(self, conv: Conversation) -> None:
        self.told.append(("answered", conv.id))
        if self.fail:
            raise ConnectionError("push service down")

    async def youth_waiting(self, service: str) -> None:
        self.told.append(("waiting", service))
        if self.fail:
            raise ConnectionError("push service down")


@pytest.mark.parametrize("fail", [False, True])
async def test_notices_are_told_after_the_change_is_stored(
    actions: Actions, r: aioredis.Redis, clock: FakeClock, fail: bool,
) -> None:
    told = Recorder(fail)
    actions.notices = told
    cid = await start(actions)  # later: nobody on duty
    await write(actions, cid)
    await actions.claim(NURSE_A, cid)
    await write(actions, cid, NURSE_A)  # no push subscription: nobody to tell
    assert told.told == [("waiting", "later-a")]
    await r.set(keys.push_subscription(cid), "sealed")  # the youth asked to be told
    await write(actions, cid, NURSE_A)
    assert told.told == [("waiting", "later-a"), ("answered", cid)]
    assert await r.xlen(keys.log(cid)) == 3  # a failing notice loses nothing
