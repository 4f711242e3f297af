"""HTTP side of the dashboard: the lead overview (with CSV export), the audit log, canned
replies (kept by leads, read by nurses) and a nurse's queue over the API.

Every handler checks the role and the service membership on the server: a nurse gets 403 for
the lead pages and for services she does not staff, whatever the browser shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from chat.actions.accounts import Session, csrf_ok
from chat.actions.dashboard import Dashboard
from chat.config import Service
from chat.domain import stats
from chat.domain.staff import Nurse, lead_services
from chat.errors import CsrfFailed, NotAuthenticated, NotAuthorized
from chat.web.http import error_response
from chat.web.pages import SESSION_COOKIE, render, request_runtime
from chat.web.runtime import Runtime


def _dash(rt: Runtime) -> Dashboard:
    return rt.actions.dashboard


async def staff_session(request: Request) -> Session | None:
    return await request_runtime(request).accounts.session(request.cookies.get(SESSION_COOKIE))


def forbidden_page(request: Request) -> Response:
    return render(request, "lead_forbidden.html", status=403)


async def lead_page(request: Request) -> tuple[Runtime, Session, list[Service]] | Response:
    """The signed-in lead and the services she leads, or the page to show instead (sign in /
    forbidden). The role is checked here, on the server, for every lead page."""
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        return RedirectResponse("/nurse/login", status_code=303)
    services = lead_services(rt.config, session.nurse)
    if not services:
        return forbidden_page(request)
    return rt, session, services


def _day(request: Request, rt: Runtime, services: list[Service]) -> str:
    day = request.query_params.get("day", "")
    if stats.valid_day(day):
        return day
    tz = services[0].timezone if services else dt.UTC
    return stats.local_day(rt.clock.now(), tz)  # type: ignore[arg-type]


def lead_service(rt: Runtime, nurse: Nurse, service_id: str) -> Service | None:
    for s in lead_services(rt.config, nurse):
        if s.id == service_id:
            return s
    return None


async def _lead_api(request: Request) -> tuple[Runtime, Session, Service]:
    """The signed-in lead and the service the query names; raises the client error otherwise
    (answered by the app's one error response)."""
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        raise NotAuthenticated()
    service = lead_service(rt, session.nurse, request.query_params.get("service", ""))
    if service is None:
        raise NotAuthorized("Only the service's leads can see this.")
    return rt, session, service


# -- lead overview ---------------------------------------------------------------------------------
async def overview_page(request: Request) -> Response:
    lead = await lead_page(request)
    if isinstance(lead, Response):
        return lead
    rt, session, services = lead
    day = _day(request, rt, services)
    rows = [(s, await _dash(rt).overview(s.id, day)) for s in services]
    on_duty = {s.id: await _dash(rt).on_duty(s.id) for s in services}
    feedback = {s.id: await _dash(rt).feedback_week(s.id, day) for s in services}
    intake = {s.id: (await _dash(rt).intake_week(s.id, day))[1] for s in services}
    return render(request, "lead.html", nurse=session.nurse, csrf=session.csrf, day=day,
                  rows=rows, on_duty=on_duty, feedback=feedback, intake=intake)


async def overview_csv(request: Request) -> Response:
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        return error_response(NotAuthenticated())
    services = lead_services(rt.config, session.nurse)
    if not services:
        return error_response(NotAuthorized("Only leads can export the overview."))
    day = _day(request, rt, services)
    rows = [await _dash(rt).overview(s.id, day) for s in services]
    for s in services:
        await _dash(rt).audit.record(s.id, session.nurse.username, "export",
                                     detail=f"overview CSV for {day}")
    return Response(stats.to_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="helseprat-oversikt-{day}.csv"',
        "cache-control": "no-store"})


async def overview_api(request: Request) -> Response:
    rt, _, service = await _lead_api(request)
    day = _day(request, rt, [service])
    figures = await _dash(rt).overview(service.id, day)
    return JSONResponse({**figures.as_json(), "on_duty_names": await _dash(rt).on_duty(service.id)})


# -- audit log -------------------------------------------------------------------------------------
async def audit_page(request: Request) -> Response:
    lead = await lead_page(request)
    if isinstance(lead, Response):
        return lead
    rt, session, services = lead
    service = lead_service(rt, session.nurse, request.query_params.get("service", services[0].id))
    if service is None:
        return forbidden_page(request)
    entries = await _dash(rt).audit.read(service.id)
    await _dash(rt).audit.record(service.id, session.nurse.username, "view_audit")
    tz = service.timezone
    rows = [(dt.datetime.fromtimestamp(e.ts, tz).strftime("%Y-%m-%d %H:%M:%S"), e)
            for e in entries]
    return render(request, "lead_audit.html", nurse=session.nurse, csrf=session.csrf,
                  service=service, services=services, rows=rows)


async def audit_api(request: Request) -> Response:
    rt, session, service = await _lead_api(request)
    entries = await _dash(rt).audit.read(service.id)
    await _dash(rt).audit.record(service.id, session.nurse.username, "view_audit")
    return JSONResponse({"service": service.id, "entries": [e.as_json() for e in entries]})


# -- canned replies --------------------------------------------------------------------------------
async def canned_page(request: Request) -> Response:
    lead = await lead_page(request)
    if isinstance(lead, Response):
        return lead
    rt, session, services = lead
    lists: list[tuple[Service, list[dict[str, str]]]] = [
        (s, await _dash(rt).canned.list(s.id)) for s in services]
    return render(request, "lead_canned.html", nurse=session.nurse, csrf=session.csrf,
                  lists=lists, error=request.query_params.get("error"))


async def canned_post(request: Request) -> Response:
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        return RedirectResponse("/nurse/login", status_code=303)
    form = await request.form()
    if not csrf_ok(session.csrf, str(form.get("csrf", ""))):
        return Response("Forbidden", status_code=CsrfFailed.http_status)
    service = lead_service(rt, session.nurse, str(form.get("service", "")))
    if service is None:
        return forbidden_page(request)
    action = str(form.get("action", ""))
    lang = str(form.get("lang", "nb"))
    target = f"/lead/canned?lang={lang if lang in ('nb', 'nn', 'en') else 'nb'}"
    dash = _dash(rt)
    if action == "add":
        cid = await dash.canned.add(service.id, str(form.get("text", ""))[:2000], rt.clock.now())
        if cid is None:
            return RedirectResponse(target + "&error=text", status_code=303)
        await dash.audit.record(service.id, session.nurse.username, "canned_add", detail=cid)
    elif action == "remove":
        cid = str(form.get("id", ""))[:64]
        if await dash.canned.remove(service.id, cid):
            await dash.audit.record(service.id, session.nurse.username, "canned_remove",
                                    detail=cid)
    return RedirectResponse(target + f"#canned-{service.id}", status_code=303)


async def canned_api(request: Request) -> Response:
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        return error_response(NotAuthenticated())
    out: dict[str, Any] = {}
    for service in sorted(session.nurse.services):
        out[service] = await _dash(rt).canned.list(service)
    return JSONResponse(out)


# -- a nurse's queue over the API ------------------------------------------------------------------
async def queue_api(request: Request) -> Response:
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        return error_response(NotAuthenticated())
    service = request.path_params["service"]
    if service not in session.nurse.services:
        return error_response(NotAuthorized("You do not staff that service."))
    view = await rt.store.queue_view(service)
    board = await _dash(rt).board(service)
    return JSONResponse({"service": service, "items": list(view.items), "board": board})
