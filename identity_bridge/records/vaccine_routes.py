""""Mine vaksiner": the logged-in youth's vaccinations from SYSVAK beside the school vaccines.

| route | what |
|---|---|
| GET /mine/vaksiner | the page: school vaccines given / due, then every registered vaccination |

Fetched on each view and kept nowhere: not in Redis, not in logs, not in a cache (the page
is ``no-store``). Each lookup is written to the person's access log (access.py) before the
registry is asked. A registry slow, down, malformed or answering about someone else gives a
message and no vaccinations at all.
"""

from __future__ import annotations

import logging
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chat import i18n
from chat.errors import ClientError
from chat.web.pages import crisis_numbers, render
from chat.web.runtime import Runtime
from identity_bridge import fnr
from identity_bridge.personseal import PersonSealer
from identity_bridge.web import keys
from identity_bridge.web.logins import SESSION_COOKIE, YouthSession
from identity_bridge.web.service import IdentityWeb

from .access import record_access
from .programme import Programme, VaccineStatus, age_on, status
from .rules import AgeBand, band
from .sysvak import SysvakClient, Vaccination

log = logging.getLogger("helseprat.records")
_OSLO = ZoneInfo("Europe/Oslo")
_BABEL_LOCALE = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}


class VaccineBridge(Protocol):
    @property
    def identity(self) -> IdentityWeb: ...

    @property
    def rt(self) -> Runtime: ...

    @property
    def sysvak(self) -> SysvakClient | None: ...

    @property
    def programme(self) -> Programme: ...

    @property
    def person_sealer(self) -> PersonSealer: ...


@dataclass(frozen=True)
class GivenView:
    date: str
    date_iso: str
    product: str
    dose: int


@dataclass(frozen=True)
class VaccinePage:
    band: str
    error: str = ""  # a stable code: the template words it
    school: list[VaccineStatus] = field(default_factory=list)
    given: list[GivenView] = field(default_factory=list)


def _date(day: date, lang: str) -> str:
    return format_date(day, format="long", locale=_BABEL_LOCALE.get(lang, "nb_NO"))


async def _pid(bridge: VaccineBridge, s: YouthSession) -> str | None:
    sealed = cast(str | None, await bridge.rt.redis.hget(keys.person(s.person), "pid"))
    return bridge.person_sealer.open(b64decode(sealed), s.person) if sealed else None


def _born(pid: str, today: date) -> date | None:
    try:
        return fnr.parse(pid, allow_synthetic=True).birth_date(today)
    except fnr.FnrError:
        return None


async def build(bridge: VaccineBridge, s: YouthSession, lang: str, now: datetime) -> VaccinePage:
    today = now.astimezone(_OSLO).date()
    pid = await _pid(bridge, s)
    born = _born(pid, today) if pid else None
    who = band(age_on(born, today) if born else None)
    if who is AgeBand.UNDER_12 or pid is None:
        return VaccinePage(who.value, error="not_for_age" if pid else "no_person")
    if bridge.sysvak is None:
        return VaccinePage(who.value, error="records_not_configured")
    await record_access(bridge.rt.redis, s.person, "vaksiner", int(now.timestamp()))
    try:
        given: list[Vaccination] = await bridge.sysvak.vaccinations(pid)
    except ClientError as exc:
        log.warning("vaccinations not shown", extra={"code": exc.code})
        return VaccinePage(who.value, error=exc.code)
    finally:
        del pid
    return VaccinePage(
        who.value, school=status(bridge.programme, given, born, today, lang),
        given=[GivenView(_date(v.day, lang), v.day.isoformat(), v.product, v.dose)
               for v in reversed(given)])


async def page(bridge: VaccineBridge, request: Request) -> Response:
    lang = i18n.pick_language(request.query_params.get("lang"),
                              request.headers.get("accept-language"))
    s = await bridge.identity.session(request.cookies.get(SESSION_COOKIE))
    view = None
    if s is not None:
        view = await build(bridge, s, lang, datetime.fromtimestamp(bridge.rt.clock.now(), UTC))
    programme = bridge.programme
    response = render(request, "youth_vaccines.html", lang=lang, logged_in=s is not None,
                      view=view, source_name=programme.source_name,
                      source_url=programme.source_url, crisis=crisis_numbers(bridge.rt),
                      date_of=partial(_date, lang=lang))
    response.headers["cache-control"] = "no-store"
    return response


def routes(bridge: VaccineBridge) -> list[Route]:
    return [Route("/mine/vaksiner", partial(page, bridge), methods=["GET"])]
