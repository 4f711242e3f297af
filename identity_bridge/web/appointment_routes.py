"""HTTP routes of "Mine avtaler" (docs/appointments.md), for a youth logged in with ID-porten.

| route | what |
|---|---|
| GET  /mine/avtaler                     | the page: upcoming and past appointments |
| GET  /mine/avtaler/{aid}.ics           | one appointment as an iCalendar file |
| GET  /api/youth/appointments           | the same as JSON (the page's live status) |
| POST /mine/avtaler/{aid}/avbestill      | cancel (form: optional reason): queued for the worker |
| POST /api/youth/appointments/push      | reminders on this device: ``{subscription}``, or ``{off: true}`` |
| POST /mine/avtaler/onske               | ask for an appointment (form: service, earliest day, text) |
| POST /mine/avtaler/onske/{wid}/trekk   | withdraw a wish not yet answered (``ØnskeAvbestill``) |
| POST /mine/avtaler/{aid}/ta            | accept a nurse's proposed time: the booking goes to the EPJ |
| POST /mine/avtaler/{aid}/annen-tid     | ask for another time: the proposal is declined, the nurse told |
| GET  /lead/avtaler                     | leads: appointments, cancellations, no-shows per week (counts) |

Only the session's own person: a record is looked up by the session's person tag, so an
``aid`` of someone else's appointment is simply not found.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Protocol
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from chat import i18n
from chat.domain.staff import lead_services
from chat.errors import BadJson, BadSubscription, ClientError
from chat.store.infopages import InfoPages
from chat.web.http import read_json
from chat.web.pages import SESSION_COOKIE as STAFF_COOKIE
from chat.web.pages import crisis_numbers, render
from chat.web.runtime import Runtime
from identity_bridge.epj.appointment_record import (
    AppointmentRecord,
    AppointmentState,
    CancelRefusal,
    booking_sent,
    cancel_refusal,
    cancel_sent,
)
from identity_bridge.epj.appointment_stats import weekly, weeks_around
from identity_bridge.epj.appointment_store import AppointmentStore, WishStore
from identity_bridge.epj.ical import OSLO, render_event
from identity_bridge.epj.proposal import answer_refusal
from identity_bridge.epj.wish import MAX_TEXT as WISH_TEXT
from identity_bridge.epj.wish import Wish, withdrawn

from .appointments import (
    AppointmentTexts,
    AppointmentView,
    WishView,
    split,
    wish_view,
    with_info_links,
)
from .logins import PERSON_TTL, SESSION_COOKIE, YouthSession
from .service import IdentityWeb

log = logging.getLogger("helseprat.identity")

_AID = re.compile(r"^[0-9a-f]{32}$")
MAX_REASON = 500
REFUSALS = frozenset(r.value for r in CancelRefusal) | {
    "bad_wish", "proposal_not_open", "proposal_in_past", "wish_answered"}
_WID = re.compile(r"^[0-9a-f]{32}$")
MAX_WISH_DAYS = 90


class AppointmentBridge(Protocol):
    @property
    def identity(self) -> IdentityWeb: ...

    @property
    def rt(self) -> Runtime: ...

    @property
    def appointment_store(self) -> AppointmentStore: ...

    @property
    def appointment_texts(self) -> AppointmentTexts: ...

    @property
    def epj_receivers(self) -> Mapping[str, int]: ...


Handler = Callable[[AppointmentBridge, Request], Awaitable[Response]]


def _lang(request: Request) -> str:
    return i18n.pick_language(request.query_params.get("lang"),
                              request.headers.get("accept-language"))


def _now(bridge: AppointmentBridge) -> datetime:
    return datetime.fromtimestamp(bridge.rt.clock.now(), UTC)


async def _session(bridge: AppointmentBridge, request: Request) -> YouthSession | None:
    return await bridge.identity.session(request.cookies.get(SESSION_COOKIE))


async def _own_record(bridge: AppointmentBridge, request: Request, s: YouthSession
                     ) -> AppointmentRecord | None:
    """The session's person's appointment named by the path (None: no such, or not theirs)."""
    aid = str(request.path_params["aid"])
    return await bridge.appointment_store.get(s.person, aid) if _AID.match(aid) else None


async def _info_links(bridge: AppointmentBridge, records: list[AppointmentRecord], lang: str,
                      *views: list[AppointmentView]) -> list[list[AppointmentView]]:
    """Each list of rows with links to the services' pages on their kinds of appointment."""
    her_service: dict[int, str] = {}
    for sid, her in sorted(bridge.epj_receivers.items()):
        her_service.setdefault(her, sid)  # an EPJ serving several services: the first one's
    pages = {sid: await InfoPages(bridge.rt.redis).slugs(sid) for sid in set(her_service.values())}
    return [with_info_links(v, records, bridge.appointment_texts, her_service, pages, lang)
            for v in views]


async def page(bridge: AppointmentBridge, request: Request) -> Response:
    s = await _session(bridge, request)
    lang = _lang(request)
    upcoming: list[AppointmentView] = []
    past: list[AppointmentView] = []
    wishes: list[WishView] = []
    if s is not None:
        records = await bridge.appointment_store.list(s.person)
        upcoming, past = split(records, bridge.appointment_texts, lang, _now(bridge))
        upcoming, past = await _info_links(bridge, records, lang, upcoming, past)
        names = {sid: svc.name for sid, svc in bridge.rt.config.services.items()}
        wishes = [wish_view(w, names, lang)
                  for w in await WishStore(bridge.appointment_store).list(s.person)]
    refused = request.query_params.get("refused", "")
    response = render(request, "youth_appointments.html", lang=lang, logged_in=s is not None,
                      upcoming=upcoming, past=past, crisis=crisis_numbers(bridge.rt),
                      refused=refused if refused in REFUSALS else "",
                      cancel_sent=request.query_params.get("sent") == "1",
                      vapid_public_key=_vapid(bridge), wishes=wishes,
                      wish_services=_wish_services(bridge), wish_min=_tomorrow(bridge),
                      wished=request.query_params.get("wished") == "1",
                      done=request.query_params.get("done", ""),
                      quick_exit_url=bridge.rt.config.quick_exit_url)
    response.headers["cache-control"] = "no-store"
    return response


def _vapid(bridge: AppointmentBridge) -> str:
    push = bridge.rt.push
    return (push.public_key or "") if push is not None else ""


async def api_list(bridge: AppointmentBridge, request: Request) -> Response:
    s = await _session(bridge, request)
    if s is None:
        return JSONResponse({"error": {"code": "not_logged_in"}}, status_code=401)
    upcoming, past = split(await bridge.appointment_store.list(s.person),
                           bridge.appointment_texts, _lang(request), _now(bridge))
    wishes = await WishStore(bridge.appointment_store).list(s.person)
    return JSONResponse({"upcoming": [asdict(v) for v in upcoming],
                         "past": [asdict(v) for v in past],
                         "wishes_waiting": sum(w.state.value == "sent" for w in wishes)},
                        headers={"cache-control": "no-store"})


async def ics(bridge: AppointmentBridge, request: Request) -> Response:
    s = await _session(bridge, request)
    if s is None:
        return JSONResponse({"error": {"code": "not_logged_in"}}, status_code=401)
    record = await _own_record(bridge, request, s)
    if record is None:
        return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
    body = render_event(record.event(), stamp=record.updated_at, flags=False)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="avtale.ics"',
        "cache-control": "no-store"})


def _same_origin(bridge: AppointmentBridge, request: Request) -> bool:
    """Our own origin; or, where the page's no-referrer policy makes the browser send
    ``Origin: null`` with a form, the browser's own ``Sec-Fetch-Site: same-origin`` (no
    script can set it)."""
    origin = request.headers.get("origin", "")
    host = request.headers.get("host", "")
    if origin in (bridge.rt.config.public_url, f"http://{host}", f"https://{host}"):
        return True
    return origin in ("", "null") and request.headers.get("sec-fetch-site") == "same-origin"


async def cancel(bridge: AppointmentBridge, request: Request) -> Response:
    """A plain form POST (no script needed): SameSite=Lax keeps the session cookie off
    cross-site POSTs, and the Origin check is the second lock."""
    if not _same_origin(bridge, request):
        return Response("Forbidden", status_code=403)
    s, back = await _form_and_session(bridge, request)
    if s is None:
        return RedirectResponse(back, status_code=303)
    record = await _own_record(bridge, request, s)
    if record is None:
        return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
    now = _now(bridge)
    refusal = cancel_refusal(record, now)
    if refusal is not None:
        log.info("cancellation refused: %s", refusal.value)
        return RedirectResponse(back + "&" + urlencode({"refused": refusal.value}),
                                status_code=303)
    reason = str((await request.form()).get("reason", "")).strip()[:MAX_REASON]
    msg_id = str(uuid.uuid4())
    store = bridge.appointment_store
    await store.put(s.person, cancel_sent(record, msg_id, now), keep_ttl=True)
    await store.queue_cancel(s.person, record.aid, msg_id, reason)
    log.info("cancellation queued %s", msg_id)
    return RedirectResponse(back + "&sent=1", status_code=303)


async def push(bridge: AppointmentBridge, request: Request) -> Response:
    """The person's Web Push subscription for reminders (one per person: the newest device
    wins), sealed like every subscription; it lives as long as the person record."""
    if not _same_origin(bridge, request):
        return JSONResponse({"error": {"code": "bad_request"}}, status_code=400)
    s = await _session(bridge, request)
    if s is None:
        return JSONResponse({"error": {"code": "not_logged_in"}}, status_code=401)
    try:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise BadJson()
        actions = bridge.rt.push_actions()
        if body.get("off") is True:
            await actions.unsubscribe_owner(s.person)
            return JSONResponse({"reminders": "off"})
        sub = body.get("subscription")
        if not isinstance(sub, dict):
            raise BadSubscription()
        tag = await actions.subscribe_owner(s.person, sub, PERSON_TTL)
    except ClientError as exc:
        return JSONResponse({"error": {"code": exc.code}}, status_code=exc.http_status)
    log.info("reminders on")
    return JSONResponse({"reminders": "on", "tag": tag})


def _wish_services(bridge: AppointmentBridge) -> list[tuple[str, str]]:
    """(id, name) of the services whose EPJ takes wishes."""
    services = bridge.rt.config.services
    return [(sid, services[sid].name) for sid in sorted(bridge.epj_receivers) if sid in services]


def _tomorrow(bridge: AppointmentBridge) -> str:
    return (_now(bridge).astimezone(OSLO).date() + timedelta(days=1)).isoformat()


async def ask(bridge: AppointmentBridge, request: Request) -> Response:
    """A wish for an appointment (own behalf only: the session's person), queued for the
    worker like a cancellation."""
    if not _same_origin(bridge, request):
        return Response("Forbidden", status_code=403)
    s = await _session(bridge, request)
    form = await request.form()
    lang = i18n.pick_language(str(form.get("lang", "")), request.headers.get("accept-language"))
    back = "/mine/avtaler?" + urlencode({"lang": lang})
    if s is None:
        return RedirectResponse(back, status_code=303)
    service = str(form.get("service", ""))
    her = bridge.epj_receivers.get(service)
    today = _now(bridge).astimezone(OSLO).date()
    try:
        earliest = date.fromisoformat(str(form.get("earliest", "")))
    except ValueError:
        earliest = today
    if her is None or not today < earliest <= today + timedelta(days=MAX_WISH_DAYS):
        return RedirectResponse(back + "&" + urlencode({"refused": "bad_wish"}), status_code=303)
    wish = Wish(wid=uuid.uuid4().hex, service=service, epj_her=her, earliest=earliest,
                created=_now(bridge), msg_id=str(uuid.uuid4()),
                text=str(form.get("text", "")).strip()[:WISH_TEXT])
    wishes = WishStore(bridge.appointment_store)
    await wishes.put(s.person, wish)
    await wishes.queue(s.person, wish)
    log.info("wish queued %s", wish.msg_id)
    return RedirectResponse(back + "&wished=1", status_code=303)


async def _form_and_session(bridge: AppointmentBridge, request: Request
                            ) -> tuple[YouthSession | None, str]:
    s = await _session(bridge, request)
    form = await request.form()
    lang = i18n.pick_language(str(form.get("lang", "")), request.headers.get("accept-language"))
    return s, "/mine/avtaler?" + urlencode({"lang": lang})


async def answer_proposal(bridge: AppointmentBridge, request: Request, *, accept: bool
                          ) -> Response:
    """The youth's answer to a nurse's proposal: accept (the booking is queued for the worker,
    like a cancellation) or ask for another time (the nurse's dashboard is told)."""
    if not _same_origin(bridge, request):
        return Response("Forbidden", status_code=403)
    s, back = await _form_and_session(bridge, request)
    if s is None:
        return RedirectResponse(back, status_code=303)
    record = await _own_record(bridge, request, s)
    if record is None:
        return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
    now = _now(bridge)
    store = bridge.appointment_store
    refusal = answer_refusal(record, now)
    if refusal is not None:
        log.info("answer to a proposal refused: %s", refusal)
        return RedirectResponse(back + "&" + urlencode({"refused": refusal}), status_code=303)
    if not accept:
        await store.put(s.person, replace(record, state=AppointmentState.PROPOSAL_DECLINED,
                                          updated_at=now), keep_ttl=True)
        log.info("proposal declined")
        return RedirectResponse(back + "&done=declined", status_code=303)
    msg_id = str(uuid.uuid4())
    await store.put(s.person, booking_sent(record, msg_id, now), keep_ttl=True)
    await store.queue_cancel(s.person, record.aid, msg_id, "", kind="book")
    log.info("booking queued %s", msg_id)
    return RedirectResponse(back + "&done=accepted", status_code=303)


async def withdraw_wish(bridge: AppointmentBridge, request: Request) -> Response:
    """``ØnskeAvbestill``: a wish the EPJ has not answered is withdrawn at once (the page
    says so); the withdrawal goes to the EPJ like the wish did."""
    if not _same_origin(bridge, request):
        return Response("Forbidden", status_code=403)
    s, back = await _form_and_session(bridge, request)
    if s is None:
        return RedirectResponse(back, status_code=303)
    wid = str(request.path_params["wid"])
    wishes = WishStore(bridge.appointment_store)
    wish = await wishes.get(s.person, wid) if _WID.match(wid) else None
    if wish is None:
        return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
    changed = withdrawn(wish, str(uuid.uuid4()))
    if changed is None:
        return RedirectResponse(back + "&" + urlencode({"refused": "wish_answered"}),
                                status_code=303)
    await wishes.put(s.person, changed)
    await wishes.queue(s.person, changed, kind="wish_withdraw")
    log.info("wish withdrawal queued %s", changed.msg_id)
    return RedirectResponse(back + "&done=withdrawn", status_code=303)


WEEKS_BACK, WEEKS_AHEAD = 8, 4  # the leads' window: the last two months and the coming month
CATEGORY_OF_KIND = {"school": "4", "clinic": "6"}  # Volven 7619


async def lead_page(bridge: AppointmentBridge, request: Request) -> Response:
    """The services this lead leads that have an EPJ: counts per week, newest first."""
    rt = bridge.rt
    session = await rt.accounts.session(request.cookies.get(STAFF_COOKIE))
    if session is None:
        return RedirectResponse("/nurse/login", status_code=303)
    services = lead_services(rt.config, session.nurse)
    if not services:
        return render(request, "lead_forbidden.html", status=403)
    today = _now(bridge).astimezone(OSLO).date()
    weeks = weeks_around(today, WEEKS_BACK, WEEKS_AHEAD)
    tables = []
    for service in services:
        her = bridge.epj_receivers.get(service.id)
        if her is None:
            continue
        rows = await weekly(bridge.appointment_store.redis, weeks, her,
                            CATEGORY_OF_KIND.get(service.kind, "-"))
        tables.append({"service": service, "rows": rows})
    return render(request, "lead_appointments.html", tables=tables, nurse=session.nurse,
                  csrf=session.csrf)


def routes(bridge: AppointmentBridge) -> list[Route]:
    def route(path: str, handler: Handler, method: str = "GET") -> Route:
        return Route(path, partial(handler, bridge), methods=[method])

    return [
        route("/mine/avtaler", page),
        route("/mine/avtaler/{aid}.ics", ics),
        route("/api/youth/appointments", api_list),
        route("/mine/avtaler/{aid}/avbestill", cancel, "POST"),
        route("/api/youth/appointments/push", push, "POST"),
        route("/lead/avtaler", lead_page),
        route("/mine/avtaler/onske", ask, "POST"),
        route("/mine/avtaler/onske/{wid}/trekk", withdraw_wish, "POST"),
        route("/mine/avtaler/{aid}/ta", partial(answer_proposal, accept=True), "POST"),
        route("/mine/avtaler/{aid}/annen-tid", partial(answer_proposal, accept=False), "POST"),
    ]
