"""The appointment parser and record, free of I/O: every bad input has its stable code;
daylight-saving edges are read as RFC 5545 says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from identity_bridge.epj import codes
from identity_bridge.epj.appointment_record import (
    AppointmentState,
    CancelRefusal,
    cancel_answered,
    cancel_refusal,
    cancel_sent,
    from_event,
    merge,
    reminder_times,
)
from identity_bridge.epj.appointment_stats import metric, week_of
from identity_bridge.epj.appointments import build_appointment_message, parse_appointment_message
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.ical import CalendarEvent, EventStatus, Security, parse_event, render_event
from identity_bridge.epj.model import Party, Patient

from .appt_support import synthetic_pid

EPJ = Party("Testkommune EPJ", 8000100)
SERVICE = Party("Testkommune", 8000001, "999999999", Party("Helsestasjon for ungdom", 8000002))
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _ics(*lines: str, extra: str = "") -> bytes:
    body = "\r\n".join(("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//NO", "BEGIN:VEVENT",
                        "UID:a1@epj", "DTSTAMP:20261201T120000Z", *lines, "END:VEVENT",
                        *([extra] if extra else []), "END:VCALENDAR", ""))
    return body.encode()


def _event(**changes: object) -> CalendarEvent:
    base = CalendarEvent(uid="a1@epj", sequence=0, start=datetime(2027, 1, 14, 9, tzinfo=UTC),
                         end=datetime(2027, 1, 14, 9, 30, tzinfo=UTC), status=EventStatus.BOOKED,
                         type_code="SAMTALE", summary="Samtale", location="Rom 2", who="Hanne",
                         service_category="6", security=Security.NORN_FORANS)
    return replace(base, **changes)  # type: ignore[arg-type]


# -- daylight saving ----------------------------------------------------------------------
def test_the_hour_skipped_in_spring_uses_the_offset_before_the_gap() -> None:
    event = parse_event(_ics("DTSTART;TZID=Europe/Oslo:20270328T023000",
                             "DTEND;TZID=Europe/Oslo:20270328T040000"))
    assert event.start == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 at +01:00
    assert event.end == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)  # 04:00 at +02:00


def test_the_hour_twice_in_autumn_is_the_first_one() -> None:
    event = parse_event(_ics("DTSTART;TZID=Europe/Oslo:20261025T023000", "DURATION:PT1H"))
    assert event.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 at +02:00
    assert event.end == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_an_appointment_across_the_change_keeps_its_real_length() -> None:
    event = parse_event(_ics("DTSTART;TZID=Europe/Oslo:20261025T013000",
                             "DTEND;TZID=Europe/Oslo:20261025T033000"))
    assert event.end - event.start == timedelta(hours=3)


def test_utc_and_floating_times() -> None:
    assert parse_event(_ics("DTSTART:20270614T080000Z")).start == \
        datetime(2027, 6, 14, 8, tzinfo=UTC)
    # Floating: the service's own clock, summer time in June.
    assert parse_event(_ics("DTSTART:20270614T100000")).start == \
        datetime(2027, 6, 14, 8, tzinfo=UTC)


def test_render_and_parse_round_trip_keeps_everything() -> None:
    event = _event(start=datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
                   end=datetime(2027, 3, 28, 1, 30, tzinfo=UTC), cancellable=False)
    assert parse_event(render_event(event, stamp=NOW)) == event


# -- bad iCalendar --------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "code"), [
    (b"this is not iCalendar", "epj.ical.malformed"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "epj.ical.malformed"),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "epj.ical.no_event"),
    (_ics("DTSTART:20270101T100000Z", extra="BEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT"),
     "epj.ical.no_event"),
    (_ics("SUMMARY:x"), "epj.ical.missing"),
    (_ics("DTSTART;VALUE=DATE:20270101"), "epj.ical.no_time"),
    (_ics("DTSTART:20270101T1000"), "epj.ical.bad_time"),
    (_ics("DTSTART;TZID=Mars/Olympus:20270101T100000"), "epj.ical.unknown_timezone"),
    (_ics("DTSTART:20270101T100000Z", "DTEND:20270101T090000Z"), "epj.ical.bad_time"),
    (_ics("DTSTART:20270101T100000Z", "DTEND:20270102T100000Z"), "epj.ical.bad_time"),
    (_ics("DTSTART:20270101T100000Z", "STATUS:MAYBE"), "epj.ical.invalid"),
    (_ics("DTSTART:20270101T100000Z", "X-HN-SECURITY:SECRET"), "epj.ical.invalid"),
    (_ics("DTSTART:20270101T100000Z", "X-HN-CANCEL:perhaps"), "epj.ical.invalid"),
    (_ics("DTSTART:20270101T100000Z", "SEQUENCE:-1"), "epj.ical.invalid"),
    (b"BEGIN:VCALENDAR\r\n" + b"X-A:" + b"a" * 70_000 + b"\r\nEND:VCALENDAR\r\n",
     "epj.ical.malformed"),
])
def test_bad_icalendar_is_refused_with_a_stable_code(data: bytes, code: str) -> None:
    with pytest.raises(EpjError) as err:
        parse_event(data)
    assert err.value.code == code


def test_uid_is_required() -> None:
    data = _ics("DTSTART:20270101T100000Z").replace(b"UID:a1@epj\r\n", b"")
    with pytest.raises(EpjError) as err:
        parse_event(data)
    assert err.value.code == "epj.ical.missing"


# -- the message ------------------------------------------------------------------------------
def _message(calendar: bytes, msg_type: codes.Code = codes.AVTALEUTSENDING) -> bytes:
    return build_appointment_message(
        msg_type=msg_type, msg_id="6f1c0b9e-1", generated_at=NOW.astimezone(), sender=EPJ,
        receiver=SERVICE, patient=Patient(synthetic_pid()), calendar=calendar, note="Ta med kort")


def test_message_round_trip() -> None:
    event = _event()
    msg = parse_appointment_message(_message(render_event(event, stamp=NOW)))
    assert (msg.msg_type, msg.msg_id, msg.event, msg.note) == (
        codes.AVTALEUTSENDING.v, "6f1c0b9e-1", event, "Ta med kort")
    assert (msg.head.sender_her_id, msg.head.receiver_her_id) == (8000100, 8000002)
    assert msg.head.patient_ident == synthetic_pid()


@pytest.mark.parametrize(("mangle", "code"), [
    (lambda d: d[:200], "epj.xml.malformed"),
    (lambda d: d.replace(b"?>", b'?><!DOCTYPE MsgHead [<!ENTITY x "y">]>', 1), "epj.xml.malformed"),
    (lambda d: b'<?xml version="1.0" encoding="UTF-8"?><AppRec/>', "epj.xml.wrong_root"),
    (lambda d: d.replace(b"<MIGversion>v1.2 2006-05-24</MIGversion>", b""),
     "epj.xml.schema_invalid"),
    (lambda d: d.replace(b"DIALOG_INNBYGGER_AVTALEUTSENDING", b"DIALOG_HELSEFAGLIG"),
     "epj.appointment.wrong_type"),
    (lambda d: d.replace(b"text/calendar", b"text/plain"), "epj.appointment.no_calendar"),
])
def test_bad_messages_are_refused_with_a_stable_code(mangle: object, code: str) -> None:
    document = _message(render_event(_event(), stamp=NOW))
    with pytest.raises(EpjError) as err:
        parse_appointment_message(mangle(document))  # type: ignore[operator]
    assert err.value.code == code


def test_a_broken_calendar_inside_a_valid_message() -> None:
    with pytest.raises(EpjError) as err:
        parse_appointment_message(_message(b"BEGIN:VCALENDAR\r\nnonsense\r\n"))
    assert err.value.code == "epj.ical.malformed"


def test_text_never_appears_in_a_repr() -> None:
    event = _event(summary="HEMMELIG-1", location="HEMMELIG-2", who="HEMMELIG-3")
    record = from_event("aid", 8000100, event, NOW)
    assert "HEMMELIG" not in repr(event) + repr(record) + repr(
        parse_appointment_message(_message(render_event(event, stamp=NOW))))
    assert "a1@epj" not in repr(record)


# -- the record ---------------------------------------------------------------------------
def test_merge_takes_newer_copies_only() -> None:
    current = from_event("aid", 1, _event(sequence=2), NOW)
    assert merge(None, current) == current
    assert merge(current, from_event("aid", 1, _event(sequence=2), NOW)) is None
    assert merge(current, from_event("aid", 1, _event(sequence=1), NOW)) is None
    newer = from_event("aid", 1, _event(sequence=3, status=EventStatus.CANCELLED), NOW)
    assert merge(current, newer) is not None
    assert newer.state is AppointmentState.CANCELLED_BY_EPJ
    done = replace(current, state=AppointmentState.CANCELLED)
    assert merge(done, from_event("aid", 1, _event(sequence=9), NOW)) is None


def test_cancel_rules_and_answers() -> None:
    record = from_event("aid", 1, _event(), NOW)
    assert cancel_refusal(record, NOW) is None
    assert cancel_refusal(record, record.start) is CancelRefusal.STARTED
    assert cancel_refusal(replace(record, cancellable=False), NOW) is CancelRefusal.NOT_CHANGEABLE
    pending = cancel_sent(record, "m-1", NOW)
    assert cancel_refusal(pending, NOW) is CancelRefusal.NOT_BOOKED
    assert cancel_answered(pending, "m-other", True, "", NOW) is None
    refused = cancel_answered(pending, "m-1", False, "Ring oss", NOW)
    assert refused is not None and refused.state is AppointmentState.CANCEL_REFUSED
    assert refused.answer == "Ring oss"
    accepted = cancel_answered(pending, "m-1", True, "ok", NOW)
    assert accepted is not None and accepted.state is AppointmentState.CANCELLED
    assert not accepted.upcoming(NOW) and pending.upcoming(NOW)


def test_reminders_are_counted_in_real_hours_and_skipped_when_too_late() -> None:
    start = datetime(2027, 10, 31, 11, 0, tzinfo=UTC)  # 12:00 CET, the day the clocks go back
    record = from_event("aid", 1, _event(start=start, end=start + timedelta(minutes=30)), NOW)
    assert reminder_times(record) == {"24h": datetime(2027, 10, 30, 11, 0, tzinfo=UTC),
                                      "2h": datetime(2027, 10, 31, 9, 0, tzinfo=UTC)}
    booked_late = replace(record, updated_at=start - timedelta(hours=3))
    assert reminder_times(booked_late) == {"24h": None, "2h": start - timedelta(hours=2)}
    assert set(reminder_times(cancel_sent(record, "m", NOW)).values()) == {None}


def test_what_each_change_counts_as_for_the_leads() -> None:
    booked = from_event("aid", 1, _event(), NOW)
    assert metric(None, booked) == "booked"
    assert metric(booked, booked) is None  # a resend or a move counts nothing
    for status, name in ((EventStatus.CANCELLED, "cancelled_by_epj"),
                         (EventStatus.NOSHOW, "noshow"), (EventStatus.FULFILLED, None)):
        assert metric(booked, from_event("aid", 1, _event(sequence=1, status=status), NOW)) == name
    accepted = cancel_answered(cancel_sent(booked, "m", NOW), "m", True, "", NOW)
    assert accepted is not None and metric(booked, accepted) == "cancelled_by_youth"
    # The week is the appointment's, in Oslo: Sunday 23:30 local is still that ISO week.
    late_sunday = datetime(2027, 1, 17, 22, 30, tzinfo=UTC)
    assert week_of(late_sunday) == "2027-W02"


def test_the_epj_says_fulfilled_or_noshow_afterwards() -> None:
    assert parse_event(_ics("DTSTART:20270101T100000Z", "X-HN-STATUS:NOSHOW")).status is \
        EventStatus.NOSHOW
    with pytest.raises(EpjError) as err:
        parse_event(_ics("DTSTART:20270101T100000Z", "X-HN-STATUS:LATE"))
    assert err.value.code == "epj.ical.invalid"
    event = _event(status=EventStatus.FULFILLED)
    assert parse_event(render_event(event, stamp=NOW)) == event
