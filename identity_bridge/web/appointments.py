""""Mine avtaler": the logged-in youth's appointments from the EPJ, as the page shows them.

The records are the ``epj`` worker's (identity_bridge/epj/appointment_store.py), sealed under
the person key the web process holds too; this module opens them for the session's person
only (the session's lookup tag is the only way to them: no nurse, lead or other person has a
route here), and turns them into what a template shows, in Europe/Oslo time and the page's
language. Appointments marked ``NORN_FORANS`` are for the youth alone: they say so on the
page, and nothing about them ever leaves this page (no push text, no audit line).

The service's own text per appointment type comes from the services file:

```toml
[appointments.types.SAMTALE]
name = { nb = "Samtale", nn = "Samtale", en = "Conversation" }
about = { nb = "Du og helsesykepleieren snakker om det du vil.", nn = "…", en = "…" }
info = "hva-skjer"   # optional: the service's information page that says more
```
A language missing falls back to bokmål; a type missing shows the EPJ's SUMMARY only. ``info``
links the row to ``/s/<service>/info/<slug>`` of the service the appointment's EPJ serves,
when that service has such a page (``with_info_links``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from babel.dates import format_date

from chat.domain.infopage import SLUG
from chat.errors import ConfigError
from identity_bridge.epj.appointment_record import AppointmentRecord, AppointmentState
from identity_bridge.epj.ical import OSLO
from identity_bridge.epj.wish import Wish

LANGS = ("nb", "nn", "en")
NO_ANSWER_ADVICE_AFTER = timedelta(hours=24)
_BABEL_LOCALE = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}


@dataclass(frozen=True)
class TypeText:
    name: Mapping[str, str]
    about: Mapping[str, str]
    info: str = ""  # the slug of the service's information page on this kind of appointment

    def pick(self, which: Mapping[str, str], lang: str) -> str:
        return which.get(lang) or which.get("nb", "")


@dataclass(frozen=True)
class AppointmentTexts:
    """The ``[appointments]`` table: the service's words for each appointment type."""

    types: Mapping[str, TypeText] = field(default_factory=dict)


def _words(raw: object, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"nb": raw}
    if not isinstance(raw, dict) or not all(
            k in LANGS and isinstance(v, str) and len(v) <= 2000 for k, v in raw.items()):
        raise ConfigError(f"{where} must map nb/nn/en to text")
    return dict(raw)


def parse_appointments(raw: object) -> AppointmentTexts:
    if raw is None:
        return AppointmentTexts()
    if not isinstance(raw, dict) or set(raw) - {"types"}:
        raise ConfigError("[appointments] takes only [appointments.types.<CODE>] tables")
    types = raw.get("types", {})
    if not isinstance(types, dict):
        raise ConfigError("[appointments.types] must be a table")
    out: dict[str, TypeText] = {}
    for code, table in types.items():
        if not isinstance(table, dict) or set(table) - {"name", "about", "info"}:
            raise ConfigError(f"[appointments.types.{code}] takes name, about and info")
        info = table.get("info", "")
        if not isinstance(info, str) or (info and not SLUG.fullmatch(info)):
            raise ConfigError(f"[appointments.types.{code}].info must be a page slug")
        out[str(code).upper()] = TypeText(
            _words(table.get("name"), f"[appointments.types.{code}].name"),
            _words(table.get("about"), f"[appointments.types.{code}].about"), info)
    return AppointmentTexts(out)


@dataclass(frozen=True)
class AppointmentView:
    """One row of the page. ``state`` is the record's; the template words it."""

    aid: str
    date: str
    start: str
    end: str
    start_iso: str
    type_name: str
    about: str
    place: str
    who: str
    state: str
    youth_only: bool
    can_cancel: bool
    answer: str = ""
    waiting_long: bool = False  # a cancellation the EPJ has not answered for a day
    started: bool = False
    can_answer: bool = False  # a nurse's proposal the youth may accept or decline
    info_url: str = ""  # the service's information page on this kind of appointment


def _clock(moment: datetime, lang: str) -> str:
    local = moment.astimezone(OSLO)
    return f"{local:%H:%M}" if lang == "en" else f"{local:%H.%M}"


def view(record: AppointmentRecord, texts: AppointmentTexts, lang: str,
         now: datetime) -> AppointmentView:
    kind = texts.types.get(record.type_code)
    name = kind.pick(kind.name, lang) if kind else ""
    local = record.start.astimezone(OSLO)
    return AppointmentView(
        aid=record.aid,
        date=format_date(local.date(), format="full", locale=_BABEL_LOCALE.get(lang, "nb_NO")),
        start=_clock(record.start, lang),
        end=_clock(record.end, lang),
        start_iso=local.isoformat(),
        type_name=name or record.summary,
        about=kind.pick(kind.about, lang) if kind else "",
        place=record.location,
        who=record.who,
        state=record.state.value,
        youth_only=record.youth_only,
        can_cancel=(record.state in (AppointmentState.BOOKED, AppointmentState.CANCEL_REFUSED)
                    and record.cancellable and record.start > now),
        answer=record.answer,
        waiting_long=(record.state is AppointmentState.CANCEL_SENT
                      and now - record.updated_at > NO_ANSWER_ADVICE_AFTER),
        started=record.start <= now,
        can_answer=record.state is AppointmentState.PROPOSED and record.start > now,
    )


def split(records: list[AppointmentRecord], texts: AppointmentTexts, lang: str,
          now: datetime | None = None) -> tuple[list[AppointmentView], list[AppointmentView]]:
    """(upcoming soonest first, past latest first)."""
    now = now or datetime.now(UTC)
    upcoming = [view(r, texts, lang, now) for r in records if r.end > now]
    past = [view(r, texts, lang, now) for r in reversed(records) if r.end <= now]
    return upcoming, past


_COMING = frozenset({AppointmentState.BOOKED, AppointmentState.CANCEL_SENT,
                     AppointmentState.CANCEL_REFUSED, AppointmentState.PROPOSED,
                     AppointmentState.BOOKING_SENT})


def with_info_links(views: list[AppointmentView], records: list[AppointmentRecord],
                    texts: AppointmentTexts, service_of_her: Mapping[int, str],
                    pages: Mapping[str, set[str]], lang: str) -> list[AppointmentView]:
    """``views`` with a link to the information page of their type, where the type names one
    (``info``) and the service the record's EPJ serves has that page (``pages``: service ->
    its slugs). Only appointments still to come: the page is for coming prepared."""
    by_aid = {r.aid: r for r in records if r.state in _COMING}
    out = []
    for v in views:
        record = by_aid.get(v.aid) if not v.started else None
        kind = texts.types.get(record.type_code) if record else None
        service = service_of_her.get(record.epj_her, "") if record else ""
        if kind and kind.info and kind.info in pages.get(service, set()):
            v = replace(v, info_url=f"/s/{service}/info/{kind.info}?lang={lang}")
        out.append(v)
    return out


@dataclass(frozen=True)
class WishView:
    wid: str
    service: str
    earliest: str
    state: str
    answer: str
    booked: str  # the time the EPJ gave, in words; "" until then


def wish_view(wish: Wish, service_names: Mapping[str, str], lang: str) -> WishView:
    locale = _BABEL_LOCALE.get(lang, "nb_NO")
    booked = ""
    if wish.booked_start is not None:
        local = wish.booked_start.astimezone(OSLO)
        booked = f"{format_date(local.date(), format='full', locale=locale)}, {_clock(local, lang)}"
    return WishView(wid=wish.wid, service=service_names.get(wish.service, wish.service),
                    earliest=format_date(wish.earliest, format="long", locale=locale),
                    state=wish.state.value, answer=wish.answer, booked=booked)
