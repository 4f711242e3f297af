"""Answer-later: when an owed answer is promised by, and how that is said. Pure, no I/O.

"Owed" is the time of the youth's oldest message that no nurse message has followed yet. The
promise is the closing time of the service's Nth opening day after it (N =
``answer_later.working_days``): a day counts when the service opens that day (its weekly hours,
not a holiday) and the message came before that day's opening time, so a message written at
night is answered by the close of the next morning's opening, and one written during opening
hours (no nurse on duty) by the close of the next opening day.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from babel.dates import format_date

from chat.config import OpeningHours, Service

SEARCH_DAYS = 400  # how far ahead an opening day is looked for (then: no promise)


def nth_closing(after: dt.datetime, hours: OpeningHours, n: int) -> dt.datetime | None:
    """The closing time of the ``n``-th opening day counted from ``after`` (aware, local):
    today counts only if ``after`` is before today's opening time."""
    found = 0
    for offset in range(SEARCH_DAYS):
        day = after.date() + dt.timedelta(days=offset)
        span = hours.today(dt.datetime.combine(day, dt.time(12), tzinfo=after.tzinfo))
        if span is None:
            continue
        opens = dt.datetime.combine(day, span[0], tzinfo=after.tzinfo)
        if offset == 0 and after >= opens:
            continue
        found += 1
        if found == n:
            if span[1] == dt.time.max:  # open till midnight ("24:00")
                return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0),
                                           tzinfo=after.tzinfo)
            return dt.datetime.combine(day, span[1], tzinfo=after.tzinfo)
    return None


def reply_due(owed: int, service: Service) -> int | None:
    """When the answer owed since ``owed`` (unix seconds) is promised by, in unix seconds;
    None when the service never opens."""
    local = service.local_now(owed)
    closing = nth_closing(local, service.hours, service.answer_later.working_days)
    if closing is None:
        return None
    # Normalise through UTC so a time in a daylight-saving gap/fold is read consistently.
    return int(closing.replace(fold=0).timestamp())


class Gettext(Protocol):
    """The part of a Babel translations object the words need."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


def promise_words(working_days: int, t: Gettext) -> str:
    """The promise in working days, as the youth is told it."""
    if working_days == 1:
        return t.gettext("Du får svar innen neste arbeidsdag.")
    return t.ngettext("Du får svar innen {n} arbeidsdag.",
                      "Du får svar innen {n} arbeidsdager.",
                      working_days).format(n=working_days)


def due_words(due: int, now: int, service: Service, t: Gettext, lang: str) -> str:
    """The concrete promise ("innen fredag kl. 15.00") in the service's time zone."""
    when = service.local_now(due)
    today = service.local_now(now).date()
    clock = f"{when.hour:02d}{':' if lang == 'en' else '.'}{when.minute:02d}"
    locale = {"nb": "nb_NO", "nn": "nn_NO"}.get(lang, "en_GB")
    if when.date() == today:
        text = t.gettext("innen i dag kl. {time}")
    elif when.date() == today + dt.timedelta(days=1):
        text = t.gettext("innen i morgen kl. {time}")
    elif when.date() < today + dt.timedelta(days=7):
        text = t.gettext("innen {day} kl. {time}").replace(
            "{day}", format_date(when.date(), "EEEE", locale=locale))
    else:
        text = t.gettext("innen {day} kl. {time}").replace(
            "{day}", format_date(when.date(), "EEEE d MMMM" if lang == "en" else "EEEE d. MMMM",
                                 locale=locale))
    return text.replace("{time}", clock)
