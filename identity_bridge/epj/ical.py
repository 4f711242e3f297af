"""The iCalendar part of an appointment message: one VEVENT, read and written with the
``icalendar`` library, free of I/O.

What we read from the VEVENT (RFC 5545 properties, plus the Helsenorge flags as X- properties
because iCalendar has no place for them):

| property | meaning |
|---|---|
| ``UID`` | the EPJ's id of the appointment: a move or a cancellation names the same UID |
| ``SEQUENCE`` | revision; a lower or equal one than what we hold is an old copy |
| ``DTSTART`` / ``DTEND`` | with ``TZID``, in UTC, or floating (= Europe/Oslo); or ``DURATION`` |
| ``STATUS`` | ``CONFIRMED`` / ``TENTATIVE`` (booked) or ``CANCELLED`` (by the EPJ) |
| ``SUMMARY`` | the appointment's name as the EPJ writes it |
| ``CATEGORIES`` | the type code the service's texts are keyed by (e.g. ``SAMTALE``) |
| ``LOCATION`` | the place |
| ``ORGANIZER;CN=`` | who the youth meets (a name or a role) |
| ``X-HN-SERVICE-CATEGORY`` | Volven 7619: ``4`` skolehelsetjeneste, ``6`` helsestasjon for ungdom |
| ``X-HN-SECURITY`` | Volven 9603: ``NORN_FORANS`` (not for parents), ``NORN_UNGDOM`` (not for the youth) |
| ``X-HN-CANCEL`` / ``X-HN-CHANGEABLE`` | ``TRUE``/``FALSE``: may the youth cancel / change it |
| ``X-HN-STATUS`` | ``FULFILLED`` / ``NOSHOW`` afterwards (Helsenorge's FHIR statuses) |

Times: a local time that does not exist (the hour skipped in spring) is read with the offset
before the gap, and one that happens twice (autumn) as the first of the two, as RFC 5545
§3.3.5 says; this is what ``zoneinfo`` does with ``fold=0``. Everything is kept in UTC.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from .errors import AppointmentInvalid

OSLO = ZoneInfo("Europe/Oslo")
PRODID = "-//helseprat//avtaler//NO"
MAX_ICAL_BYTES = 64 * 1024
MAX_TEXT = 500
MAX_LENGTH = timedelta(hours=12)
_TYPE = re.compile(r"^[A-Z0-9_-]{1,40}$")
_UID = re.compile(r"^[\x21-\x7e]{1,200}$")


class EventStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"  # X-HN-STATUS:FULFILLED, the youth came
    NOSHOW = "noshow"  # X-HN-STATUS:NOSHOW, the youth did not come


class Security(enum.StrEnum):
    """Volven 9603 labels an appointment of someone under 16 may carry."""

    NONE = ""
    NORN_FORANS = "NORN_FORANS"  # the parents may not see it
    NORN_UNGDOM = "NORN_UNGDOM"  # the youth may not see it


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One appointment as the EPJ describes it. Text fields are ``repr=False``: they are
    health information."""

    uid: str = field(repr=False)
    sequence: int
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    status: EventStatus
    type_code: str
    summary: str = field(repr=False)
    location: str = field(repr=False)
    who: str = field(repr=False)
    service_category: str = ""
    security: Security = Security.NONE
    cancellable: bool = True
    changeable: bool = True


def _bad(message: str, code: str = "epj.ical.invalid") -> AppointmentInvalid:
    return AppointmentInvalid(message, code=code)


def _text(event: icalendar.Event, name: str, *, required: bool = False) -> str:
    value = event.get(name)
    if value is None:
        if required:
            raise _bad(f"VEVENT without {name}", "epj.ical.missing")
        return ""
    if isinstance(value, list):
        raise _bad(f"VEVENT with more than one {name}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise _bad(f"VEVENT {name} is too long")
    return text


def _flag(event: icalendar.Event, name: str, default: bool) -> bool:
    raw = _text(event, name).upper()
    if not raw:
        return default
    if raw not in ("TRUE", "FALSE"):
        raise _bad(f"VEVENT {name} must be TRUE or FALSE")
    return raw == "TRUE"


def _instant(event: icalendar.Event, name: str) -> datetime | None:
    prop = event.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        raise _bad(f"VEVENT with more than one {name}")
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
        if value.tzinfo is None:
            if tzid:
                try:
                    value = value.replace(tzinfo=ZoneInfo(str(tzid)))
                except (ZoneInfoNotFoundError, ValueError):
                    raise _bad(f"{name} names an unknown time zone",
                               "epj.ical.unknown_timezone") from None
            else:
                value = value.replace(tzinfo=OSLO)  # floating: the service's own time
        return value.replace(fold=0).astimezone(UTC)
    if isinstance(value, date):
        raise _bad(f"{name} is a date without a time", "epj.ical.no_time")
    raise _bad(f"{name} is not a date-time", "epj.ical.bad_time")


def _times(event: icalendar.Event) -> tuple[datetime, datetime]:
    start = _instant(event, "DTSTART")
    if start is None:
        raise _bad("VEVENT without DTSTART", "epj.ical.missing")
    end = _instant(event, "DTEND")
    if end is None:
        duration = event.get("DURATION")
        delta = getattr(duration, "dt", None)
        end = start + delta if isinstance(delta, timedelta) else start
    if end < start or end - start > MAX_LENGTH:
        raise _bad("the appointment ends before it starts or lasts too long",
                   "epj.ical.bad_time")
    return start, end


def _status(ical_status: str, hn_status: str) -> EventStatus:
    if ical_status == "CANCELLED":
        return EventStatus.CANCELLED
    if hn_status in ("", "BOOKED"):
        return EventStatus.BOOKED
    if hn_status in ("FULFILLED", "NOSHOW"):
        return EventStatus(hn_status.lower())
    raise _bad("X-HN-STATUS is not FULFILLED or NOSHOW")


def parse_event(data: bytes) -> CalendarEvent:
    """The one VEVENT of an iCalendar object. Raises AppointmentInvalid with a stable code:
    ``epj.ical.malformed`` (not iCalendar), ``epj.ical.no_event`` (not exactly one VEVENT),
    ``epj.ical.missing`` (UID or DTSTART missing), ``epj.ical.bad_time``,
    ``epj.ical.no_time``, ``epj.ical.unknown_timezone``, ``epj.ical.invalid``."""
    if len(data) > MAX_ICAL_BYTES:
        raise _bad("iCalendar object too large", "epj.ical.malformed")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError, TypeError):
        raise _bad("not an iCalendar object", "epj.ical.malformed") from None
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise _bad("not a VCALENDAR", "epj.ical.malformed")
    events = [c for c in calendar.walk("VEVENT") if isinstance(c, icalendar.Event)]
    if len(events) != 1:
        raise _bad("expected exactly one VEVENT", "epj.ical.no_event")
    event = events[0]
    broken = {name for name, _why in getattr(event, "errors", [])}
    if broken & {"DTSTART", "DTEND", "DURATION", "SEQUENCE"}:
        raise _bad("a time or the sequence cannot be read", "epj.ical.bad_time")
    uid = _text(event, "UID", required=True)
    if not _UID.match(uid):
        raise _bad("UID has characters we do not accept")
    start, end = _times(event)
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        raise _bad("SEQUENCE is not a number") from None
    if sequence < 0:
        raise _bad("SEQUENCE is negative")
    status_raw = _text(event, "STATUS").upper() or "CONFIRMED"
    if status_raw not in ("CONFIRMED", "TENTATIVE", "CANCELLED"):
        raise _bad("STATUS is not CONFIRMED, TENTATIVE or CANCELLED")
    categories = event.get("CATEGORIES")
    cats = getattr(categories, "cats", []) if categories is not None else []
    type_code = str(cats[0]).strip().upper() if cats else ""
    if type_code and not _TYPE.match(type_code):
        raise _bad("CATEGORIES is not a type code")
    organizer = event.get("ORGANIZER")
    who = ""
    if organizer is not None and not isinstance(organizer, list):
        who = str(organizer.params.get("CN", "")).strip()[:MAX_TEXT]
    security_raw = _text(event, "X-HN-SECURITY").upper()
    try:
        security = Security(security_raw)
    except ValueError:
        raise _bad("X-HN-SECURITY is not a label we know") from None
    category = _text(event, "X-HN-SERVICE-CATEGORY")
    if category and not category.isdigit():
        raise _bad("X-HN-SERVICE-CATEGORY is not a code")
    return CalendarEvent(
        uid=uid, sequence=sequence, start=start, end=end,
        status=_status(status_raw, _text(event, "X-HN-STATUS").upper()),
        type_code=type_code, summary=_text(event, "SUMMARY"),
        location=_text(event, "LOCATION"), who=who, service_category=category,
        security=security, cancellable=_flag(event, "X-HN-CANCEL", True),
        changeable=_flag(event, "X-HN-CHANGEABLE", True),
    )


def render_event(event: CalendarEvent, *, stamp: datetime, method: str = "PUBLISH",
                 tz: ZoneInfo = OSLO, flags: bool = True) -> bytes:
    """An iCalendar object with this one VEVENT, times written in ``tz`` with its VTIMEZONE
    (what a phone's calendar imports). ``flags=False`` leaves out the X-HN- properties (the
    youth's ``.ics`` download has no use for them)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(tz))
    vevent.add("dtend", event.end.astimezone(tz))
    vevent.add("status", "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED")
    if event.summary:
        vevent.add("summary", event.summary)
    if event.type_code:
        vevent.add("categories", [event.type_code])
    if event.location:
        vevent.add("location", event.location)
    if event.who:
        vevent.add("organizer", "urn:x-helseprat:organizer", parameters={"cn": event.who})
    if flags:
        if event.service_category:
            vevent.add("x-hn-service-category", event.service_category)
        if event.security is not Security.NONE:
            vevent.add("x-hn-security", event.security.value)
        vevent.add("x-hn-cancel", "TRUE" if event.cancellable else "FALSE")
        vevent.add("x-hn-changeable", "TRUE" if event.changeable else "FALSE")
        if event.status in (EventStatus.FULFILLED, EventStatus.NOSHOW):
            vevent.add("x-hn-status", event.status.value.upper())
    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data
