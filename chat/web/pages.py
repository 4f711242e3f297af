"""Server-rendered pages (Jinja2). Browser code lives in static/ and is bundled at setup."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)

from chat import i18n
from chat.actions.accounts import csrf_ok
from chat.config import NATIONAL_CRISIS_NUMBERS, Service
from chat.errors import CsrfFailed, LoginRefused
from chat.extensions import page_flag
from chat.web.runtime import Runtime

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
SESSION_COOKIE = "hp_session"
LOGIN_CSRF_COOKIE = "hp_login_csrf"


def request_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _lang(request: Request) -> str:
    return i18n.pick_language(request.query_params.get("lang"),
                              request.headers.get("accept-language"))


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = ctx.pop("lang", None) or _lang(request)
    env = i18n.environment(lang)
    html = env.get_template(template).render(
        lang=lang, languages=i18n.LANGUAGES, path=request.url.path, **ctx)
    return HTMLResponse(html, status_code=status)


def _hhmm(t: dt.time) -> str:
    return "24:00" if t == dt.time.max else f"{t:%H:%M}"


def service_status(rt: Runtime, service: Service, waiting: int) -> dict[str, Any]:
    now = service.local_now(rt.clock.now())
    today = service.hours.today(now)
    nxt = service.hours.next_opening(now)
    return {
        "service": service,
        "municipality": rt.config.municipalities[service.municipality],
        "open": service.hours.is_open(now),
        "today": f"{_hhmm(today[0])}–{_hhmm(today[1])}" if today else None,
        "next_opening": nxt,
        "waiting": waiting,
    }


async def _waiting_counts(rt: Runtime, services: list[Service]) -> list[int]:
    return await rt.store.waiting_counts([s.id for s in services])


def crisis_numbers(rt: Runtime, municipality: str | None = None) -> list[tuple[str, str]]:
    lines = list(NATIONAL_CRISIS_NUMBERS)
    if municipality:
        lines += [(c.label, c.number) for c in rt.config.municipalities[municipality].crisis_numbers]
    return lines


async def index(request: Request) -> Response:
    rt = request_runtime(request)
    services = sorted(rt.config.services.values(), key=lambda s: (s.municipality, s.name))
    counts = await _waiting_counts(rt, services)
    statuses = [service_status(rt, s, n) for s, n in zip(services, counts, strict=True)]
    return render(request, "index.html", statuses=statuses, crisis=crisis_numbers(rt))


async def service_page(request: Request) -> Response:
    rt = request_runtime(request)
    service = rt.config.service(request.path_params["service"])
    if service is None:
        return render(request, "not_found.html", status=404, crisis=crisis_numbers(rt))
    (waiting,) = await _waiting_counts(rt, [service])
    return render(request, "service.html", s=service_status(rt, service, waiting),
                  crisis=crisis_numbers(rt, service.municipality),
                  quick_exit_url=rt.config.quick_exit_url,
                  idporten=page_flag(rt.extensions, "login"))


async def favicon(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"cache-control": "public, max-age=86400"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    rt = request_runtime(request)
    if rt.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    try:
        await rt.store.ping()
    except Exception:
        return JSONResponse({"status": "redis_unreachable"}, status_code=503)
    return JSONResponse({"status": "ready"})


# -- nurses ------------------------------------------------------------------------------------
def _set_cookie(rt: Runtime, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=rt.config.secure_cookies, path="/")


async def login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    rt = request_runtime(request)
    token = secrets.token_urlsafe(24)
    response = render(request, "nurse_login.html", status=status, csrf=token, error=error)
    _set_cookie(rt, response, LOGIN_CSRF_COOKIE, token, 1800)
    return response


async def login(request: Request) -> Response:
    rt = request_runtime(request)
    form = await request.form()
    given = str(form.get("csrf", ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, given):
        return await login_form(request, error=CsrfFailed.code, status=CsrfFailed.http_status)
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:256]
    try:
        cookie, _session = await rt.accounts.login(username, password)
    except LoginRefused as err:
        return await login_form(request, error=err.code, status=err.http_status)
    lang = _lang(request)
    response = RedirectResponse(f"/nurse?lang={lang}", status_code=303)
    _set_cookie(rt, response, SESSION_COOKIE, cookie, 12 * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    rt = request_runtime(request)
    session = await rt.accounts.session(request.cookies.get(SESSION_COOKIE))
    form = await request.form()
    if session is None or not csrf_ok(session.csrf, str(form.get("csrf", ""))):
        return Response("Forbidden", status_code=CsrfFailed.http_status)
    await rt.accounts.logout(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/nurse/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def dashboard(request: Request) -> Response:
    rt = request_runtime(request)
    session = await rt.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/nurse/login", status_code=303)
    services = [s for s in rt.config.services.values() if s.id in session.nurse.services]
    return render(request, "nurse.html", nurse=session.nurse, csrf=session.csrf,
                  services=services)


async def privacy_page(request: Request) -> Response:
    """What is stored, for how long, who can read it, and when the service must act."""
    rt = request_runtime(request)
    services = sorted(rt.config.services.values(), key=lambda s: (s.municipality, s.name))
    retention = [(s, rt.config.municipalities[s.municipality]) for s in services]
    return render(request, "privacy.html", retention=retention, crisis=crisis_numbers(rt),
                  quick_exit_url=rt.config.quick_exit_url)
