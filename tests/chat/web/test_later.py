"""Answer-later over real sockets, on a real web process and Redis: a youth writes while the
service is closed (or nobody is on duty), a nurse who comes on duty sees it in the
answer-later list, claims it and answers; the youth comes back and reads the answer; the
answer is counted against the promise. The youth's and the holder's ``later``."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from chat.client.protocol import (
    ProtocolClient,
    later_snapshot,
    nurse_park_later,
    ws_url,
    youth_later,
    youth_resume,
    youth_start,
)
from chat.config import Service, parse_services
from chat.domain.later import reply_due
from chat.domain.stats import iso_week, local_day
from chat.store import names as keys
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.conftest import start_clean_web
from tests.servers import FAST_LIMITS, write_test_config

OSLO = ZoneInfo("Europe/Oslo")


def later_services() -> str:
    """later-clinic is closed now (today and the days either side are holidays: a run across
    midnight still finds it closed) and open every other day, so a promise is a real time."""
    today = dt.datetime.now(OSLO).date()
    holidays = ", ".join(f'"{today + dt.timedelta(days=d)}"' for d in (-1, 0, 1))
    return FAST_LIMITS + f"""
[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "later-clinic"
municipality = "demo"
name = "Senere klinikk"
kind = "clinic"
members = ["demo.nurse", "demo.lead"]
[service.hours]
daily = "00:00-24:00"
holidays = [{holidays}]

[[service]]
id = "later-skole"
municipality = "demo"
name = "Senere skole"
members = ["other.nurse"]
[service.hours]
daily = "00:00-24:00"

[[service]]
id = "live-skole"
municipality = "demo"
name = "Direkte skole"
members = ["demo.nurse", "demo.lead"]
max_chats_per_nurse = 10
[service.hours]
daily = "00:00-24:00"

[[service]]
id = "closed-off"
municipality = "demo"
name = "Stengt uten senere"
members = ["demo.nurse"]
[service.hours]
holidays = []
[service.answer_later]
enabled = false
"""


@pytest.fixture(scope="module")
def services_text() -> str:
    return later_services()


@pytest.fixture(scope="module")
async def lweb(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               services_text: str) -> AsyncIterator[WebProcess]:
    d: Path = tmp_path_factory.mktemp("later-web")
    write_test_config(d, services_text, answer_later=True)
    proc = await start_clean_web(redis_proc.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


def service(text: str, sid: str) -> Service:
    return parse_services(tomllib.loads(text))[1][sid]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def item(items: list[dict[str, Any]], cid: str) -> dict[str, Any] | None:
    return next((i for i in items if i["conversation"] == cid), None)


async def seen_or_next(client: ProtocolClient, mark: int, kind: str,
                       where: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first ``kind`` frame since ``client.seen[mark]`` that ``where`` accepts, whether an
    earlier wait already passed over it or it is still to come (their order is not fixed)."""
    for f in client.seen[mark:]:
        if f["type"] == kind and where(f):
            return f
    return await client.expect(kind, where=where)


async def send(client: ProtocolClient, body: str, conversation: str | None = None) -> int:
    cmid = f"m{abs(hash((body, conversation))) % 10**10:010d}"
    frame: dict[str, Any] = {"type": "send", "cmid": cmid, "body": b64(body)}
    if conversation:
        frame["conversation"] = conversation
    await client.send(frame)
    ack = await client.expect("ack", where=lambda f: f["cmid"] == cmid)
    return int(ack["ts"])


async def test_written_while_closed_answered_later_and_read_on_return(
    lweb: WebProcess, r: aioredis.Redis, services_text: str,
) -> None:
    y, session = await youth_start(lweb.base, "later-clinic")
    assert (await y.expect("state")) == {"v": 1, "type": "state",
                                         "conversation": session.conversation,
                                         "state": "later", "due": None}
    assert await r.zscore(keys.queue("later-clinic"), session.conversation) is None
    owed = await send(y, "Kan jeg spørre om noe?")
    due = reply_due(owed, service(services_text, "later-clinic"))
    assert due is not None and due > owed
    promised = await y.expect("state")  # now an answer is owed: by when
    assert (promised["state"], promised["due"]) == ("later", due)
    await send(y, "Og en ting til.")
    await y.close()  # the youth goes

    n, _ = await nurse_ws(lweb.base, "demo.nurse")  # a nurse comes on duty
    items = await later_snapshot(n, "later-clinic", lambda i: bool(i))
    assert items == [{"conversation": session.conversation, "owed": owed, "due": due,
                      "returning": ""}]
    mark = len(n.seen)
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    await n.expect("history_end", where=lambda f: f["conversation"] == session.conversation)
    await seen_or_next(n, mark, "later_snapshot",  # claimed: out of the answer-later list
                       lambda f: f["service"] == "later-clinic" and f["items"] == [])
    await send(n, "Hei! Ja, spør i vei.", session.conversation)
    parked = await nurse_park_later(n, session.conversation)
    assert parked["due"] is None  # answered: nothing owed
    assert await r.sismember(keys.nurse_open("demo.nurse"), session.conversation) == 0

    back = await youth_resume(lweb.base, session)
    seen = [f for f in back.seen if f["type"] == "state"]
    assert seen[-1]["state"] == "later" and seen[-1]["due"] is None
    got = [await back.expect("deliver") for _ in range(3)]
    assert [(g["seq"], g["from"]) for g in got] == [(1, "youth"), (2, "youth"), (3, "nurse")]
    await back.close()

    week = iso_week(local_day(owed, OSLO))
    assert await r.hgetall(keys.later_week("later-clinic", week)) == {"answered": "1",
                                                                      "within": "1"}
    lead, _ = await nurse_ws(lweb.base, "demo.lead")
    await lead.send({"type": "overview", "service": "later-clinic",
                     "day": local_day(owed, OSLO)})
    figures = (await lead.expect("overview"))["figures"]
    assert (figures["later_answered"], figures["later_within_target"]) == (1, 1)
    await lead.close()
    await n.close()


async def test_open_but_nobody_on_duty_starts_later(lweb: WebProcess, r: aioredis.Redis) -> None:
    y, session = await youth_start(lweb.base, "later-skole")
    assert (await y.expect("state"))["state"] == "later"
    n, _ = await nurse_ws(lweb.base, "other.nurse")
    assert await later_snapshot(n, "later-skole") == []  # nothing owed yet
    owed = await send(y, "Hallo?")
    items = await later_snapshot(n, "later-skole", lambda i: bool(i))
    assert [(i["conversation"], i["owed"]) for i in items] == [(session.conversation, owed)]
    # Now a nurse is on duty: the next start waits in the live queue.
    live, live_session = await youth_start(lweb.base, "later-skole")
    assert (await live.expect("state"))["state"] == "waiting"
    assert await r.zscore(keys.queue("later-skole"), live_session.conversation) is not None
    for c in (y, live, n):
        await c.close()


async def test_the_youth_leaves_for_later_from_waiting_and_from_active(
    lweb: WebProcess, r: aioredis.Redis, services_text: str,
) -> None:
    n, _ = await nurse_ws(lweb.base, "demo.nurse")
    await n.expect("queue_snapshot", where=lambda f: f["service"] == "live-skole")
    waiting, ws = await youth_start(lweb.base, "live-skole")
    assert (await waiting.expect("state"))["state"] == "waiting"
    owed = await send(waiting, "Jeg må gå, svar meg senere")
    mark = len(n.seen)
    left = await youth_later(waiting)
    assert left["due"] == reply_due(owed, service(services_text, "live-skole"))
    items = await later_snapshot(n, "live-skole", lambda i: item(i, ws.conversation) is not None)
    assert item(items, ws.conversation) == {"conversation": ws.conversation, "owed": owed,
                                            "due": left["due"], "returning": ""}
    await seen_or_next(n, mark, "queue_snapshot", lambda f: f["service"] == "live-skole"
                       and item(f["items"], ws.conversation) is None)
    assert await r.zscore(keys.queue("live-skole"), ws.conversation) is None

    active, acs = await youth_start(lweb.base, "live-skole")
    await n.send({"type": "claim", "conversation": acs.conversation})
    await n.expect("claimed", where=lambda f: f["conversation"] == acs.conversation)
    assert (await active.expect("state", where=lambda f: f["state"] == "active"))
    assert (await youth_later(active))["due"] is None  # nothing owed
    await n.expect("state", where=lambda f: f["conversation"] == acs.conversation
                   and f["state"] == "later")
    assert await r.sismember(keys.nurse_open("demo.nurse"), acs.conversation) == 0
    await active.send({"type": "later"})  # already later
    assert (await active.expect("error"))["code"] == "invalid_state"
    for c in (waiting, active, n):
        await c.close()


async def test_only_the_holder_parks_for_later(lweb: WebProcess) -> None:
    n, _ = await nurse_ws(lweb.base, "demo.nurse")
    other, _ = await nurse_ws(lweb.base, "demo.lead")
    y, session = await youth_start(lweb.base, "live-skole")
    assert (await y.expect("state"))["state"] == "waiting"
    cid = session.conversation
    await n.send({"type": "later", "conversation": cid})  # not claimed yet
    assert (await n.expect("error"))["code"] == "not_authorized"
    await n.send({"type": "claim", "conversation": cid})
    await n.expect("claimed")
    await y.expect("state", where=lambda f: f["state"] == "active")
    await other.send({"type": "later", "conversation": cid})
    assert (await other.expect("error"))["code"] == "not_authorized"
    await nurse_park_later(n, cid)
    assert (await y.expect("state", where=lambda f: f["state"] != "active"))["state"] == "later"
    for c in (y, n, other):
        await c.close()


async def test_closed_without_answer_later_is_still_service_closed(lweb: WebProcess) -> None:
    c = await ProtocolClient.open(ws_url(lweb.base, "/ws/youth"))
    await c.send({"type": "start", "service": "closed-off", "key_bundle": "QUJD", "epoch": 1})
    assert (await c.expect("error"))["code"] == "service_closed"
    await c.close()
