"""The services file's words per appointment type, and how a record becomes a row of
"Mine avtaler" (Oslo time, the page's language): pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chat.errors import ConfigError
from identity_bridge.epj.appointment_record import (
    AppointmentRecord,
    AppointmentState,
    from_event,
)
from identity_bridge.epj.ical import CalendarEvent, EventStatus
from identity_bridge.web.appointments import parse_appointments, split, view

NOW = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)


def _record(start: datetime, type_code: str = "SAMTALE",
            cancellable: bool = True) -> AppointmentRecord:
    event = CalendarEvent(uid="u", sequence=0, start=start, end=start + timedelta(minutes=30),
                          status=EventStatus.BOOKED, type_code=type_code, summary="Fra EPJ",
                          location="Rom 1", who="Hanne", cancellable=cancellable)
    return from_event("a" * 32, 8000100, event, NOW)


def test_texts_per_language_with_bokmal_as_fallback() -> None:
    texts = parse_appointments({"types": {"samtale": {
        "name": {"nb": "Samtale", "en": "Talk"}, "about": "Bare bokmål"}}})
    record = _record(datetime(2027, 3, 28, 8, 0, tzinfo=UTC))  # Sunday 10:00 CEST
    nb, nn, en = (view(record, texts, lang, NOW) for lang in ("nb", "nn", "en"))
    assert (nb.type_name, nn.type_name, en.type_name) == ("Samtale", "Samtale", "Talk")
    assert (nb.about, en.about) == ("Bare bokmål", "Bare bokmål")
    assert (nb.start, en.start) == ("10.00", "10:00")  # after the change to summer time
    assert nb.date == "søndag 28. mars 2027" and en.date.startswith("Sunday")
    unknown = view(_record(datetime(2027, 3, 28, 8, tzinfo=UTC), "ANNET"), texts, "nb", NOW)
    assert unknown.type_name == "Fra EPJ" and unknown.about == ""


@pytest.mark.parametrize("raw", [
    "x", {"typer": {}}, {"types": []}, {"types": {"A": {"name": {"de": "x"}}}},
    {"types": {"A": {"name": {"nb": 3}}}}, {"types": {"A": {"colour": "red"}}},
])
def test_bad_texts_are_a_config_error(raw: object) -> None:
    with pytest.raises(ConfigError):
        parse_appointments(raw)


def test_upcoming_and_past_and_what_may_be_cancelled() -> None:
    soon = _record(NOW + timedelta(hours=1))
    fixed = _record(NOW + timedelta(days=1), cancellable=False)
    gone = _record(NOW - timedelta(days=1))
    upcoming, past = split([gone, soon, fixed], parse_appointments(None), "nb", NOW)
    assert [v.can_cancel for v in upcoming] == [True, False]
    assert len(past) == 1 and not past[0].can_cancel


def test_a_type_links_to_its_information_page_where_the_service_has_it() -> None:
    from identity_bridge.web.appointments import with_info_links

    texts = parse_appointments({"types": {"SAMTALE": {"name": "Samtale", "info": "hva-skjer"},
                                          "ANNET": {"name": "Annet"}}})
    talk = _record(NOW + timedelta(days=1))
    other = _record(NOW + timedelta(days=2), "ANNET")
    views = [view(talk, texts, "nn", NOW)]
    linked = with_info_links(views, [talk], texts, {8000100: "skole-1"},
                             {"skole-1": {"hva-skjer"}}, "nn")
    assert linked[0].info_url == "/s/skole-1/info/hva-skjer?lang=nn"
    # No such page at that service, or the EPJ serves no service we know: no link.
    assert with_info_links(views, [talk], texts, {8000100: "skole-1"},
                           {"skole-1": set()}, "nn")[0].info_url == ""
    assert with_info_links(views, [talk], texts, {}, {"skole-1": {"hva-skjer"}},
                           "nn")[0].info_url == ""
    # A cancelled or past appointment needs no "what happens".
    cancelled = replace(talk, state=AppointmentState.CANCELLED)
    assert with_info_links([view(cancelled, texts, "nb", NOW)], [cancelled], texts,
                           {8000100: "skole-1"}, {"skole-1": {"hva-skjer"}}, "nb")[0].info_url == ""
    past = _record(NOW - timedelta(days=1))
    assert with_info_links([view(past, texts, "nb", NOW)], [past], texts, {8000100: "skole-1"},
                           {"skole-1": {"hva-skjer"}}, "nb")[0].info_url == ""
    untyped = [view(other, texts, "nb", NOW)]
    assert with_info_links(untyped, [other], texts, {8000100: "skole-1"},
                           {"skole-1": {"hva-skjer"}}, "nb")[0].info_url == ""


@pytest.mark.parametrize("info", ["Hva Skjer", "../x", 3])
def test_an_info_slug_must_be_a_slug(info: object) -> None:
    with pytest.raises(ConfigError):
        parse_appointments({"types": {"A": {"name": "x", "info": info}}})
