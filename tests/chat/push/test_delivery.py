"""The delivery rules: the fixed payload and headers, the back-off, the quiet hours."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from chat.config import OpeningHours, Service
from chat.errors import ConfigError
from chat.laterconfig import AnswerLater
from chat.limits import Limits
from chat.push import delivery as rules
from chat.push.delivery import PushSettings
from chat.push.sender import parse_delivery

OSLO = ZoneInfo("Europe/Oslo")


def service(quiet: tuple[dt.time, dt.time] | None = (dt.time(21), dt.time(8))) -> Service:
    return Service(id="s", municipality="m", name="S", kind="school",
                   hours=OpeningHours(weekly=(None,) * 7), timezone=OSLO, retention_days=30,
                   members=(), answer_later=AnswerLater(quiet_hours=quiet))


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    return dt.datetime(y, mo, d, h, mi, tzinfo=OSLO).timestamp()


@pytest.mark.parametrize(("kind", "lang", "title"), [
    ("youth", "nb", "Du har fått svar"), ("youth", "nn", "Du har fått svar"),
    ("youth", "en", "You have an answer"), ("nurse", "nb", "En ungdom venter"),
    ("nurse", "nn", "Ein ungdom ventar"), ("nurse", "en", "A young person is waiting"),
])
def test_the_payload_is_exactly_a_title_and_the_tag(kind: str, lang: str, title: str) -> None:
    assert json.loads(rules.payload(kind, lang, "TAG")) == {"title": title, "tag": "TAG"}


def test_the_headers_say_urgency_and_topic() -> None:
    assert rules.headers("youth", "T" * 22) == {"Urgency": "normal", "Topic": "T" * 22}
    assert rules.headers("nurse", "T" * 22)["Urgency"] == "high"


def test_the_settings_come_from_the_environment_and_the_limits() -> None:
    s = PushSettings.from_env({}, Limits())
    assert (s.subject, s.extra_origins, s.ttl, s.per_hour) == (
        "mailto:drift@helseprat.invalid", (), 345_600, 6)
    s = PushSettings.from_env({"HELSEPRAT_VAPID_SUBJECT": "mailto:x@y.no",
                               "HELSEPRAT_PUSH_EXTRA_ORIGINS": "http://127.0.0.1:5"},
                              Limits(push_ttl_seconds=60, push_per_conversation_per_hour=2))
    assert (s.subject, s.extra_origins, s.ttl, s.per_hour) == (
        "mailto:x@y.no", ("http://127.0.0.1:5",), 60, 2)
    for bad in ("drift@helseprat.no", "http://helseprat.no", "mailto:"):
        with pytest.raises(ConfigError, match="HELSEPRAT_VAPID_SUBJECT"):
            PushSettings.from_env({"HELSEPRAT_VAPID_SUBJECT": bad}, Limits())


def test_the_back_off_doubles_honours_retry_after_and_gives_up_after_five_tries() -> None:
    assert [rules.backoff(n) for n in range(1, 6)] == [2.0, 4.0, 8.0, 16.0, None]
    assert rules.backoff(1, 30.0) == 30.0  # the push service asked for longer
    assert rules.backoff(3, 1.0) == 8.0  # never sooner than the schedule
    assert rules.backoff(1, 10**9) == rules.BACKOFF_MAX_S


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert rules.retry_after("1", 0) == 1.0
    assert rules.retry_after(None, 0) is None and rules.retry_after("soon", 0) is None
    assert rules.retry_after("Thu, 03 Dec 2026 07:00:30 GMT",
                             dt.datetime(2026, 12, 3, 7, tzinfo=dt.UTC).timestamp()) == 30.0


def test_a_delivery_in_the_quiet_hours_waits_until_they_end() -> None:
    s = service()
    assert rules.after_quiet(at(2026, 12, 3, 12), s) == at(2026, 12, 3, 12)
    assert rules.after_quiet(at(2026, 12, 3, 22, 30), s) == at(2026, 12, 4, 8)
    assert rules.after_quiet(at(2026, 12, 4, 3), s) == at(2026, 12, 4, 8)
    assert rules.after_quiet(at(2026, 12, 4, 8), s) == at(2026, 12, 4, 8)
    assert rules.after_quiet(at(2026, 12, 3, 22), service(None)) == at(2026, 12, 3, 22)
    # Across the change to summer time the end is still 08:00 local.
    assert rules.after_quiet(at(2027, 3, 27, 23), s) == at(2027, 3, 28, 8)


def test_the_hourly_cap_waits_for_the_next_hour() -> None:
    assert rules.next_hour(7200.0) == 10800.0 and rules.next_hour(10799.5) == 10800.0


def test_deliveries_name_only_a_conversation_or_a_service_and_nurse() -> None:
    assert parse_delivery("y:AbCdEfGhIjKlMnOpQrStUv") == ("youth", "AbCdEfGhIjKlMnOpQrStUv", "")
    assert parse_delivery("n:demo-hfu:demo.nurse") == ("nurse", "demo.nurse", "demo-hfu")
    for bad in ("y:", "n:x", "n::u", "x:y", ""):
        assert parse_delivery(bad) is None
