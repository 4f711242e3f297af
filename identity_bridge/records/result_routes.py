""""Mine prøvesvar" and "Hvem har sett opplysningene mine", for a youth logged in with
ID-porten (docs/records.md).

| route | what |
|---|---|
| GET /mine/provesvar | the results, fetched from Pasientens prøvesvar for this view only |
| GET /mine/innsyn    | every time the person's records were fetched (when, which kind) |

The identity number is opened from the person record for the one request and passed to the
client; the answer is checked to be about that person, turned into words, and dropped. The
lookup is written to the access log (the kind and the time only) before the registry is
asked, as the vaccines page does: the registry was asked about the person either way.
"""

from __future__ import annotations

import logging
from base64 import b64decode
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Protocol, cast

from babel.dates import format_datetime
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chat import i18n
from chat.errors import ClientError
from chat.web.pages import crisis_numbers, render
from chat.web.runtime import Runtime
from identity_bridge.epj.ical import OSLO
from identity_bridge.personseal import PersonSealer
from identity_bridge.web import keys
from identity_bridge.web.logins import SESSION_COOKIE, YouthSession
from identity_bridge.web.service import IdentityWeb

from .access import record_access
from .access_log import accesses
from .provesvar import ProvesvarClient
from .results import ResultsPage, results_page

log = logging.getLogger("helseprat.records")
_BABEL_LOCALE = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}


class RecordsBridge(Protocol):
    @property
    def identity(self) -> IdentityWeb: ...

    @property
    def rt(self) -> Runtime: ...

    @property
    def person_sealer(self) -> PersonSealer: ...

    @property
    def provesvar(self) -> ProvesvarClient | None: ...


Handler = Callable[[RecordsBridge, Request], Awaitable[Response]]


def _lang(request: Request) -> str:
    return i18n.pick_language(request.query_params.get("lang"),
                              request.headers.get("accept-language"))


def _now(bridge: RecordsBridge) -> datetime:
    return datetime.fromtimestamp(bridge.rt.clock.now(), UTC)


def _age(s: YouthSession) -> int | None:
    return int(s.age) if s.age.isdigit() else None


async def _pid(bridge: RecordsBridge, s: YouthSession) -> str | None:
    sealed = cast(str | None, await bridge.rt.redis.hget(  # type: ignore[misc]
        keys.person(s.person), "pid"))
    return bridge.person_sealer.open(b64decode(sealed), s.person) if sealed else None


def _start_service(bridge: RecordsBridge) -> str:
    """Where a youth without a thread starts one: the first youth clinic, else any service."""
    services = bridge.rt.config.services
    clinics = [sid for sid, svc in services.items() if svc.kind == "clinic"]
    return (clinics or sorted(services) or [""])[0]


NOT_CONFIGURED = "not_configured"


async def _fetch(bridge: RecordsBridge, s: YouthSession, lang: str) -> ResultsPage | str:
    """The page, or the code of what went wrong."""
    client = bridge.provesvar
    age = _age(s)
    page = results_page([], age, lang)
    if not page.shown:
        return page  # the age rule: nothing is fetched either
    pid = await _pid(bridge, s) if client is not None else None
    if client is None or pid is None:
        return NOT_CONFIGURED
    await record_access(bridge.rt.redis, s.person, "prøvesvar", int(_now(bridge).timestamp()))
    try:
        reports = await client.reports(pid)
    except ClientError as exc:
        log.info("results not shown: %s", exc.code)
        return exc.code
    finally:
        del pid
    return results_page(reports, age, lang)


async def results(bridge: RecordsBridge, request: Request) -> Response:
    s = await bridge.identity.session(request.cookies.get(SESSION_COOKIE))
    lang = _lang(request)
    page: ResultsPage | None = None
    error = ""
    has_thread = False
    if s is not None:
        has_thread = bool(await bridge.identity.threads(s))
        got = await _fetch(bridge, s, lang)
        if isinstance(got, str):
            error = got
        else:
            page = got
    response = render(request, "youth_results.html", lang=lang, logged_in=s is not None,
                      page=page, error=error, has_thread=has_thread,
                      start_service=_start_service(bridge), crisis=crisis_numbers(bridge.rt))
    response.headers["cache-control"] = "no-store"
    return response


async def access_log(bridge: RecordsBridge, request: Request) -> Response:
    s = await bridge.identity.session(request.cookies.get(SESSION_COOKIE))
    lang = _lang(request)
    rows: list[dict[str, str]] = []
    if s is not None:
        locale = _BABEL_LOCALE.get(lang, "nb_NO")
        for a in await accesses(bridge.rt.redis, s.person):
            rows.append({"kind": a.kind, "iso": a.at.astimezone(OSLO).isoformat(),
                         "when": format_datetime(a.at, format="medium", tzinfo=OSLO,
                                                 locale=locale)})
    response = render(request, "youth_access_log.html", lang=lang, logged_in=s is not None,
                      rows=rows, crisis=crisis_numbers(bridge.rt))
    response.headers["cache-control"] = "no-store"
    return response


def routes(bridge: RecordsBridge) -> list[Route]:
    def route(path: str, handler: Handler) -> Route:
        return Route(path, partial(handler, bridge), methods=["GET"])

    return [route("/mine/provesvar", results), route("/mine/innsyn", access_log)]
