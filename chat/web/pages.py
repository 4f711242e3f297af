"""Server-rendered pages (Jinja2). Browser code lives in static/ and is bundled at setup."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from functools import cache
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
from chat.actions.signin import DEVICE_COOKIE
from chat.config import NATIONAL_CRISIS_NUMBERS, Service
from chat.domain.later import due_words, promise_words, reply_due
from chat.errors import CsrfFailed, LoginRefused
from chat.extensions import page_flag
from chat.web.runtime import Runtime

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
MANIFEST = STATIC_DIR / "dist" / "manifest.json"
SESSION_COOKIE = "hp_session"
LOGIN_CSRF_COOKIE = "hp_login_csrf"


def request_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def client_of(request: Request) -> str:
    """The client key the edge made of the request's address (ClientKeyMiddleware): the one
    way every limit learns who the client is; the raw address is gone by now."""
    return str((request.scope.get("state") or {}).get("client_key", "unknown"))


def page_lang(request: Request) -> str:
    return i18n.pick_language(request.query_params.get("lang"),
                              request.headers.get("accept-language"))


@cache
def _manifest() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise RuntimeError(f"{MANIFEST} is missing: run `node static/build.mjs`") from e
    return data


def asset_manifest() -> dict[str, str]:
    """Entry name ("youth.js", "app.css") → content-hashed file in static/dist, as written by
    static/build.mjs; read once per process (a new build comes with a restart)."""
    return {str(name): str(file) for name, file in _manifest()["assets"].items()}


def asset(name: str) -> str:
    """The URL of a bundled asset, for the templates' <script> and <link>. Hashed names can be
    cached for a year (chat/web/middleware.py): a changed file gets a new name."""
    return "/static/dist/" + asset_manifest()[name]


def preloads(name: str) -> list[tuple[str, str]]:
    """(kind, URL) of what an entry fetches next, for <link rel="modulepreload"/"preload">:
    "module" for script chunks, "fetch" for libsodium's wasm. Asking at once saves the round
    trips of an import chain (each ~0.5 s on a slow phone connection)."""
    files = _manifest().get("preload", {}).get(name, [])
    return [("fetch" if f.endswith(".wasm") else "module", "/static/dist/" + f) for f in files]


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = ctx.pop("lang", None) or page_lang(request)
    env = i18n.environment(lang)
    env.globals.setdefault("asset", asset)
    env.globals.setdefault("preloads", preloads)
    ctx.setdefault("quick_exit_url", request_runtime(request).config.quick_exit_url)
    html = env.get_template(template).render(
        lang=lang, languages=i18n.LANGUAGES, path=request.url.path, **ctx)
    return HTMLResponse(html, status_code=status)


def _hhmm(t: dt.time) -> str:
    """Norwegian clock style: "14.05" (the end of the day is "24.00")."""
    return "24.00" if t == dt.time.max else f"{t:%H.%M}"


def _span(span: tuple[dt.time, dt.time] | None) -> str | None:
    return f"{_hhmm(span[0])}–{_hhmm(span[1])}" if span else None


def _opening(now: dt.datetime, nxt: dt.datetime | None) -> dict[str, Any] | None:
    """When a closed service opens, for "i dag kl. 14.00" / "i morgen …" / a weekday."""
    if nxt is None:
        return None
    days = (nxt.date() - now.date()).days
    day = {0: "today", 1: "tomorrow"}.get(days, "week" if days < 7 else "date")
    return {"day": day, "weekday": nxt.weekday(), "time": _hhmm(nxt.time()),
            "date": f"{nxt.day}.{nxt.month}."}


def _week(service: Service, now: dt.datetime) -> list[dict[str, Any]]:
    """The coming seven days' hours, today first (holidays say so)."""
    out = []
    for offset in range(7):
        day = now.date() + dt.timedelta(days=offset)
        holiday = day in service.hours.holidays
        out.append({"today": offset == 0, "tomorrow": offset == 1, "weekday": day.weekday(),
                    "date": f"{day.day}.{day.month}.", "holiday": holiday,
                    "hours": None if holiday else _span(service.hours.weekly[day.weekday()])})
    return out


def service_status(rt: Runtime, service: Service, waiting: int) -> dict[str, Any]:
    now = service.local_now(rt.clock.now())
    return {
        "service": service,
        "municipality": rt.config.municipalities[service.municipality],
        "open": service.hours.is_open(now),
        "today": _span(service.hours.today(now)),
        "next": _opening(now, service.hours.next_opening(now)),
        "week": _week(service, now),
        "waiting": waiting,
    }


def answer_later(rt: Runtime, service: Service, lang: str, open_now: bool,
                 on_duty: int) -> dict[str, Any]:
    """What the service page says about writing now and getting an answer later: whether it
    offers that now (closed, or no nurse on duty, and the service takes such messages), why,
    and the promise for a message written now, in words ("Du får svar innen neste arbeidsdag."
    and "innen fredag kl. 15.00"); ``due`` is the same promise in unix seconds."""
    now = int(rt.clock.now())
    t = i18n.translations(lang)
    due = reply_due(now, service)
    settings = service.answer_later
    return {
        "enabled": settings.enabled,
        "now": settings.enabled and (not open_now or on_duty == 0),
        "reason": "closed" if not open_now else "no_nurse",
        "promise": promise_words(settings.working_days, t),
        "due": due,
        "now_ts": now,  # the server's time: "i dag" / "i morgen" are counted from it
        "due_words": due_words(due, now, service, t, lang) if due is not None else "",
    }


async def _waiting_counts(rt: Runtime, services: list[Service]) -> list[int]:
    return await rt.store.waiting_counts([s.id for s in services])


def crisis_numbers(rt: Runtime, municipality: str | None = None,
                   lang: str = i18n.DEFAULT) -> list[tuple[str, str]]:
    lines = list(NATIONAL_CRISIS_NUMBERS)
    if municipality:
        lines += [(c.translations.get(lang, c.label), c.number)
                  for c in rt.config.municipalities[municipality].crisis_numbers]
    return lines


async def index(request: Request) -> Response:
    rt = request_runtime(request)
    services = sorted(rt.config.services.values(), key=lambda s: (s.municipality, s.name))
    counts = await _waiting_counts(rt, services)
    statuses = [service_status(rt, s, n) for s, n in zip(services, counts, strict=True)]
    statuses.sort(key=lambda st: not st["open"])  # open ones first (a stable sort keeps the rest)
    return render(request, "index.html", statuses=statuses, crisis=crisis_numbers(rt))


async def service_page(request: Request) -> Response:
    rt = request_runtime(request)
    service = rt.config.service(request.path_params["service"])
    if service is None:
        return render(request, "not_found.html", status=404, crisis=crisis_numbers(rt))
    (waiting,) = await _waiting_counts(rt, [service])
    lang = page_lang(request)
    status = service_status(rt, service, waiting)
    on_duty = len(await rt.actions.dashboard.on_duty(service.id)) if status["open"] else 0
    return render(request, "service.html", lang=lang, s=status,
                  later=answer_later(rt, service, lang, status["open"], on_duty),
                  crisis=crisis_numbers(rt, service.municipality, lang),
                  welcome=service.welcome.get(lang, ""),
                  idporten=page_flag(rt.extensions, "login"),
                  info_pages=await rt.actions.dashboard.info.pages.count(service.id) > 0,
                  vapid_public_key=vapid_key(rt))


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
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected:  # no form of ours was loaded: refused before a byte of the body is read
        return await login_form(request, error=CsrfFailed.code, status=CsrfFailed.http_status)
    form = await request.form()
    given = str(form.get("csrf", ""))
    # As bytes: compare_digest refuses a str with a non-ASCII character (a 500, not a 403).
    if not hmac.compare_digest(expected.encode(errors="replace"), given.encode(errors="replace")):
        return await login_form(request, error=CsrfFailed.code, status=CsrfFailed.http_status)
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:256]
    device = request.cookies.get(DEVICE_COOKIE)
    try:
        cookie, _session = await rt.accounts.login(username, password, client_of(request), device)
    except LoginRefused as err:
        response = await login_form(request, error=err.code, status=err.http_status)
        if err.http_status in (429, 503):
            response.headers["retry-after"] = "60" if err.http_status == 429 else "2"
        return response
    lang = page_lang(request)
    response = RedirectResponse(f"/nurse?lang={lang}", status_code=303)
    _set_cookie(rt, response, SESSION_COOKIE, cookie, 12 * 3600)
    response.set_cookie(DEVICE_COOKIE, rt.accounts.remember_device(device, username),
                        max_age=rt.config.limits.known_device_days * 86_400, httponly=True,
                        samesite="strict", secure=rt.config.secure_cookies, path="/nurse/login")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    rt = request_runtime(request)
    session = await rt.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:  # refused before the body is read
        return Response("Forbidden", status_code=CsrfFailed.http_status)
    form = await request.form()
    if not csrf_ok(session.csrf, str(form.get("csrf", ""))):
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
                  services=services, vapid_public_key=vapid_key(rt))


def vapid_key(rt: Runtime) -> str:
    """The VAPID public key pages hand to the browser's push service ("": push is off here,
    and the pages show no push switch)."""
    return (rt.push.public_key if rt.push is not None else None) or ""


async def privacy_page(request: Request) -> Response:
    """What is stored, for how long, who can read it, and when the service must act."""
    rt = request_runtime(request)
    services = sorted(rt.config.services.values(), key=lambda s: (s.municipality, s.name))
    retention = [(s, rt.config.municipalities[s.municipality]) for s in services]
    return render(request, "privacy.html", retention=retention, crisis=crisis_numbers(rt),
                  quick_exit_url=rt.config.quick_exit_url)
