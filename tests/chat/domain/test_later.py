"""Answer-later's promise: when an owed answer is due, and how it is said. No I/O."""

from __future__ import annotations

import datetime as dt
import tomllib
from zoneinfo import ZoneInfo

import pytest

from chat.config import Service, parse_services
from chat.domain.later import due_words, promise_words, reply_due
from chat.i18n import translations

OSLO = ZoneInfo("Europe/Oslo")
# Mon-Fri 08:00-15:00, a Wednesday holiday; the week of 2026-12-07 (Monday).
TOML = """
[[municipality]]
id = "m"
[[service]]
id = "s"
municipality = "m"
[service.hours]
mon = "08:00-15:00"
tue = "08:00-15:00"
wed = "08:00-15:00"
thu = "08:00-15:00"
fri = "08:00-15:00"
holidays = ["2026-12-09"]
"""


def service(extra: str = "") -> Service:
    return parse_services(tomllib.loads(TOML + extra))[1]["s"]


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> int:
    return int(dt.datetime(2026, month, day, hour, minute, tzinfo=OSLO).timestamp())


@pytest.mark.parametrize(("owed", "due"), [
    (at(7, 7, 59), at(7, 15)),  # Monday before opening: today counts
    (at(7, 8, 0), at(8, 15)),  # Monday at opening: the next opening day
    (at(7, 10), at(8, 15)),  # during opening hours (no nurse on duty)
    (at(7, 16), at(8, 15)),  # Monday after closing
    (at(8, 22), at(10, 15)),  # Tuesday night: Wednesday is a holiday
    (at(9, 3), at(10, 15)),  # on the holiday itself, before "opening"
    (at(11, 16), at(14, 15)),  # Friday after closing: the weekend is skipped
    (at(12, 12), at(14, 15)),  # Saturday
    (at(13, 23, 59), at(14, 15)),  # Sunday night
])
def test_the_answer_is_due_by_the_close_of_the_next_opening_day(owed: int, due: int) -> None:
    assert reply_due(owed, service()) == due


def test_n_working_days_count_opening_days_only() -> None:
    three = service("[service.answer_later]\nworking_days = 3\n")
    assert reply_due(at(7, 16), three) == at(11, 15)  # Tue, (Wed holiday), Thu, Fri
    assert reply_due(at(7, 7), three) == at(10, 15)  # Mon counts: Mon, Tue, Thu
    assert reply_due(at(11, 16), three) == at(16, 15)  # Mon, Tue, Wed of the next week


def test_open_until_midnight_is_due_at_midnight() -> None:
    toml = TOML.replace('fri = "08:00-15:00"', 'fri = "08:00-24:00"')
    svc = parse_services(tomllib.loads(toml))[1]["s"]
    assert reply_due(at(10, 16), svc) == at(12, 0)


def test_a_daylight_saving_change_keeps_local_closing_time() -> None:
    # Clocks go forward in Oslo on Sunday 2026-03-29: Monday closes at 15:00 CEST.
    owed = at(27, 16, month=3)
    assert reply_due(owed, service()) == int(
        dt.datetime(2026, 3, 30, 15, tzinfo=OSLO).timestamp())
    assert reply_due(owed, service()) - owed == 3 * 86_400 - 3600 - 3600


def test_a_service_that_never_opens_promises_nothing() -> None:
    toml = TOML.split("[service.hours]")[0]
    svc = parse_services(tomllib.loads(toml))[1]["s"]
    assert reply_due(at(7, 10), svc) is None


@pytest.mark.parametrize(("lang", "one", "three"), [
    ("nb", "Du får svar innen neste arbeidsdag.", "Du får svar innen 3 arbeidsdager."),
    ("nn", "Du får svar innan neste arbeidsdag.", "Du får svar innan 3 arbeidsdagar."),
    ("en", "You will get an answer within the next working day.",
     "You will get an answer within 3 working days."),
])
def test_the_promise_in_working_days(lang: str, one: str, three: str) -> None:
    t = translations(lang)
    assert promise_words(1, t) == one
    assert promise_words(3, t) == three


@pytest.mark.parametrize(("lang", "due", "text"), [
    ("nb", at(7, 15), "innen i dag kl. 15.00"),
    ("nb", at(8, 15), "innen i morgen kl. 15.00"),
    ("nb", at(11, 15), "innen fredag kl. 15.00"),
    ("nn", at(11, 15), "innan fredag kl. 15.00"),
    ("en", at(11, 15), "by Friday at 15:00"),
    ("en", at(16, 15), "by Wednesday 16 December at 15:00"),
    ("nb", at(16, 15), "innen onsdag 16. desember kl. 15.00"),
])
def test_the_concrete_promise(lang: str, due: int, text: str) -> None:
    assert due_words(due, at(7, 7), service(), translations(lang), lang) == text
