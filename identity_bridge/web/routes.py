"""HTTP routes of the identity bridge (mounted through identity_bridge/plugin.py when ``[idporten]`` is set).

| route | what |
|---|---|
| GET  /logg-inn                              | consent page (plain language), before ID-porten |
| POST /login/idporten/start                  | JSON → {authorize_url, binding} (PAR + PKCE via the RP) |
| GET  /login/idporten/callback               | ID-porten's redirect; session cookie; or the error page |
| POST /api/youth/session/confirm             | the tab that started the login proves it (binding) |
| POST /api/youth/key                         | anonymous: register the conversation's youth signing key |
| POST /api/youth/link/challenge              | a fresh challenge for the upgrade proof |
| POST /api/youth/link                        | token + signature → the conversation becomes a thread |
| GET  /mine                                  | "Mine samtaler" |
| GET  /api/youth/threads                     | the logged-in youth's threads |
| POST /api/youth/device, GET /api/youth/device | a new device: register, then fetch CK once re-sealed |
| POST /logout/idporten                       | RP-initiated logout (id_token_hint) |
| GET  /login/idporten/logged-out             | back from ID-porten's logout |
| GET  /login/idporten/frontchannel-logout    | ID-porten's front-channel logout (iframe, by sid) |

Anonymous youths get no cookie. Choosing to log in sets the login cookie (``hp_login``,
HttpOnly, SameSite=Lax, Path=/login/idporten, as long as a pending login lives): the
callback needs it (logins.py). The session cookie (HttpOnly, SameSite=Lax) is set by the
callback only.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol, cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from chat import i18n
from chat.errors import BadJson
from chat.web.http import read_json
from chat.web.pages import crisis_numbers, render
from chat.web.runtime import Runtime
from identity_bridge.oidc import OidcCodeReplay, OidcError, OidcProviderError

from . import keys
from .logins import LOGIN_COOKIE, LOGIN_COOKIE_PATH, SESSION_COOKIE, SESSION_TTL, Intent, YouthSession
from .service import IdentityWeb, LinkRefused

log = logging.getLogger("helseprat.identity")


class Bridge(Protocol):
    """What the routes need of the identity bridge (identity_bridge/plugin.py)."""

    @property
    def identity(self) -> IdentityWeb: ...

    @property
    def rt(self) -> Runtime: ...


Handler = Callable[[Bridge, Request], Awaitable[Response]]

_CID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_B64 = re.compile(r"^[A-Za-z0-9+/]{1,200}={0,2}$")
_DEVICE = re.compile(r"^[0-9a-f]{16}$")
_LOGIN_COOKIE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _lang(request: Request, fallback: str | None = None) -> str:
    q = request.query_params.get("lang") or fallback
    return i18n.pick_language(q, request.headers.get("accept-language"))


def _error(code: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code}}, status_code=status)


def _same_origin(bridge: Bridge, request: Request) -> bool:
    """Cookie-bearing POSTs: SameSite=Lax already keeps the cookie off cross-site POSTs;
    the Origin check is the second lock."""
    origin = request.headers.get("origin", "")
    host = request.headers.get("host", "")
    return origin in (bridge.rt.config.public_url, f"http://{host}", f"https://{host}")


async def _json(request: Request) -> dict[str, Any] | None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        body = await read_json(request)
    except BadJson:
        return None
    return body if isinstance(body, dict) else None


def _str(body: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and pattern.match(value) else None


async def _session(bridge: Bridge, request: Request) -> YouthSession | None:
    return await bridge.identity.session(request.cookies.get(SESSION_COOKIE))


def _set_cookie(bridge: Bridge, response: Response, value: str) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_TTL, httponly=True,
                        samesite="lax", secure=bridge.rt.config.secure_cookies, path="/")


def _login_cookie(request: Request) -> str | None:
    value = request.cookies.get(LOGIN_COOKIE, "")
    return value if _LOGIN_COOKIE.match(value) else None


# -- consent and login ------------------------------------------------------------------------
async def consent_page(bridge: Bridge, request: Request) -> Response:
    rt = bridge.rt
    service = rt.config.service(request.query_params.get("service", ""))
    return render(request, "youth_consent.html", service=service,
                  crisis=crisis_numbers(rt, service.municipality if service else None),
                  quick_exit_url=rt.config.quick_exit_url)


async def start_login(bridge: Bridge, request: Request) -> Response:
    body = await _json(request)
    if body is None or not _same_origin(bridge, request):
        return _error("bad_request", 400)
    identity = bridge.identity
    lang = _lang(request, str(body.get("lang", "")))
    if body.get("kind") == "upgrade":
        cid, token = _str(body, "conversation", _CID), _str(body, "token", _TOKEN)
        if cid is None or token is None:
            return _error("bad_request", 400)
        try:
            conv = await identity.check_anonymous(cid, token)
        except LinkRefused as exc:
            return _error(exc.code, exc.status)
        intent = Intent("upgrade", cid, conv.service, lang)
    else:
        intent = Intent("login", lang=lang)
    try:
        started = await identity.start_login(intent, _login_cookie(request))
    except OidcError as exc:
        return _error(exc.code, 502)
    response = JSONResponse({"authorize_url": started.authorize_url, "binding": started.binding})
    # Lax: sent on the top-level redirect back from ID-porten, the callback's only use.
    response.set_cookie(LOGIN_COOKIE, started.browser_binding, httponly=True, samesite="lax",
                        max_age=identity.rp_config.pending_login_ttl_seconds,
                        secure=bridge.rt.config.secure_cookies, path=LOGIN_COOKIE_PATH)
    return response


async def callback(bridge: Bridge, request: Request) -> Response:
    identity = bridge.identity
    store = identity.capturing_store()
    params = dict(request.query_params)
    browser = _login_cookie(request)
    try:
        cookie, intent = await identity.complete_login(params, store, browser)
    except OidcCodeReplay as exc:
        # Back button or reload after the login: the session stays, the page it led to again.
        target = await identity.replay_target(params, browser)
        if target:
            return RedirectResponse(target, status_code=303)
        return _login_error(bridge, request, exc, None)
    except OidcError as exc:
        return _login_error(bridge, request, exc, store.taken.return_to if store.taken else None)
    response = RedirectResponse(intent.target, status_code=303)
    _set_cookie(bridge, response, cookie)
    return response


def _login_error(bridge: Bridge, request: Request, exc: OidcError, return_to: str | None) -> Response:
    """The error page, in the language the login was started in when we know it."""
    taken = Intent.from_json(return_to) if return_to else None
    lang = _lang(request, taken.lang if taken else None)
    code = exc.code
    if isinstance(exc, OidcProviderError) and exc.oauth_error == "access_denied":
        code = "access_denied"
    service = bridge.rt.config.service(taken.service) if taken else None
    return render(request, "youth_login_error.html", status=400, lang=lang, code=code,
                  service=service, crisis=crisis_numbers(bridge.rt),
                  quick_exit_url=bridge.rt.config.quick_exit_url)


async def confirm(bridge: Bridge, request: Request) -> Response:
    body = await _json(request)
    if body is None or not _same_origin(bridge, request) or not isinstance(body.get("binding"), str):
        return _error("bad_request", 400)
    s = await bridge.identity.confirm(request.cookies.get(SESSION_COOKIE), body["binding"])
    if s is None:
        return _error("not_logged_in", 401)
    return JSONResponse({"login_session": s.public_id, "conversation": s.link_conversation,
                         "acr": s.acr, "age": s.age})


# -- upgrade ------------------------------------------------------------------------------------
async def register_key(bridge: Bridge, request: Request) -> Response:
    body = await _json(request)
    if body is None:
        return _error("bad_request", 400)
    cid, token = _str(body, "conversation", _CID), _str(body, "token", _TOKEN)
    pk = _str(body, "sign_pk", _B64)
    if cid is None or token is None or pk is None:
        return _error("bad_request", 400)
    try:
        await bridge.identity.register_youth_key(cid, token, pk)
    except LinkRefused as exc:
        return _error(exc.code, exc.status)
    return JSONResponse({"status": "stored"})


async def link_challenge(bridge: Bridge, request: Request) -> Response:
    if not _same_origin(bridge, request):
        return _error("bad_request", 400)
    s = await _session(bridge, request)
    if s is None:
        return _error("not_logged_in", 401)
    try:
        challenge = await bridge.identity.new_challenge(s)
    except LinkRefused as exc:
        return _error(exc.code, exc.status)
    return JSONResponse({"challenge": challenge, "login_session": s.public_id,
                         "conversation": s.link_conversation})


async def link(bridge: Bridge, request: Request) -> Response:
    body = await _json(request)
    if body is None or not _same_origin(bridge, request):
        return _error("bad_request", 400)
    s = await _session(bridge, request)
    if s is None:
        return _error("not_logged_in", 401)
    cid, token = _str(body, "conversation", _CID), _str(body, "token", _TOKEN)
    sig, pk = _str(body, "signature", _B64), body.get("sign_pk")
    if cid is None or token is None or sig is None:
        return _error("no_proof", 403)
    pk = pk if isinstance(pk, str) and _B64.match(pk) else ""
    try:
        result = await bridge.identity.link(s, cid, token, sig, pk)
    except LinkRefused as exc:
        log.info("link refused: %s", exc.code)
        return _error(exc.code, exc.status)
    return JSONResponse({"status": "linked", **result})


# -- Mine samtaler, devices -----------------------------------------------------------------
async def mine_page(bridge: Bridge, request: Request) -> Response:
    rt = bridge.rt
    identity = bridge.identity
    cookie = request.cookies.get(SESSION_COOKIE)
    s = await identity.session(cookie)
    unconfirmed = s is None and await identity.session(cookie, confirmed=False) is not None
    threads = await identity.threads(s) if s else []
    for t in threads:
        service = rt.config.service(t["service"])
        t["name"] = service.name if service else t["service"]
    return render(request, "youth_mine.html", logged_in=s is not None, unconfirmed=unconfirmed,
                  youth=s, threads=threads, logged_out=request.query_params.get("logged_out") == "1",
                  crisis=crisis_numbers(rt), quick_exit_url=rt.config.quick_exit_url)


async def threads_api(bridge: Bridge, request: Request) -> Response:
    s = await _session(bridge, request)
    if s is None:
        return _error("not_logged_in", 401)
    return JSONResponse({"threads": await bridge.identity.threads(s), "acr": s.acr,
                         "age": s.age})


async def device_register(bridge: Bridge, request: Request) -> Response:
    body = await _json(request)
    if body is None or not _same_origin(bridge, request):
        return _error("bad_request", 400)
    s = await _session(bridge, request)
    if s is None:
        return _error("not_logged_in", 401)
    cid, box, sign = (_str(body, "conversation", _CID), _str(body, "box", _B64),
                      _str(body, "sign", _B64))
    if cid is None or box is None or sign is None:
        return _error("bad_request", 400)
    try:
        dev = await bridge.identity.register_device(s, cid, box, sign)
    except LinkRefused as exc:
        return _error(exc.code, exc.status)
    return JSONResponse({"device": dev, "status": "pending"}, status_code=201)


async def device_status(bridge: Bridge, request: Request) -> Response:
    s = await _session(bridge, request)
    if s is None:
        return _error("not_logged_in", 401)
    cid = request.query_params.get("conversation", "")
    dev = request.query_params.get("device", "")
    if not _CID.match(cid) or not _DEVICE.match(dev):
        return _error("bad_request", 400)
    try:
        return JSONResponse(await bridge.identity.device_status(s, cid, dev))
    except LinkRefused as exc:
        return _error(exc.code, exc.status)


# -- logout -------------------------------------------------------------------------------------
def _state_key(state: str) -> str:
    return keys.logout_state(hashlib.sha256(state.encode()).hexdigest())


async def logout(bridge: Bridge, request: Request) -> Response:
    """From script (JSON in, ``{"url"}`` out; the page then navigates): a form POST that
    redirects to ID-porten would be stopped by our own CSP (``form-action 'self'`` also
    covers the redirect). A plain form POST still works where the CSP allows it."""
    identity = bridge.identity
    if not _same_origin(bridge, request):
        return Response("Forbidden", status_code=403)
    as_json = request.headers.get("content-type", "").startswith("application/json")
    body: dict[str, Any] = (await _json(request) or {}) if as_json else dict(await request.form())
    lang = _lang(request, str(body.get("lang", "")))
    s = await identity.session(request.cookies.get(SESSION_COOKIE), confirmed=False)
    id_token = await identity.end_session(s.tag) if s else None
    target = "/mine?" + urlencode({"lang": lang, "logged_out": "1"})
    if id_token:
        try:
            out = await identity.rp.start_logout(id_token)
            await identity.redis.set(_state_key(out.state), lang, ex=900)
            target = out.url
        except OidcError as exc:
            log.info("idporten logout not started: %s", exc.code)
    response: Response = (JSONResponse({"url": target}) if as_json
                          else RedirectResponse(target, status_code=303))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def logged_out(bridge: Bridge, request: Request) -> Response:
    identity = bridge.identity
    state = request.query_params.get("state", "")
    # The state we made at logout, found by its hash (single use); an unknown state still
    # lands on the logged-out page, which reveals nothing.
    lang = cast(str | None, await identity.redis.getdel(_state_key(state))) if state else None
    target = "/mine?" + urlencode({"lang": lang or _lang(request), "logged_out": "1"})
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def frontchannel_logout(bridge: Bridge, request: Request) -> Response:
    """Loaded in an iframe on ID-porten's page: no cookie needed (sid names the session)."""
    identity = bridge.identity
    try:
        local = await identity.rp.frontchannel_logout(dict(request.query_params), identity.index)
    except OidcError as exc:
        log.info("front-channel logout refused: %s", exc.code)
        local = None
    if local is not None:
        await identity.end_session(local)
        log.info("youth session ended by front-channel logout")
    return Response("", status_code=200, headers={
        "cache-control": "no-store",
        "content-security-policy": f"default-src 'none'; frame-ancestors {identity.rp_config.issuer}",
        "x-frame-options": f"ALLOW-FROM {identity.rp_config.issuer}",
    })


def routes(bridge: Bridge) -> list[Route]:
    def route(path: str, handler: Handler, method: str = "GET") -> Route:
        return Route(path, partial(handler, bridge), methods=[method])

    return [
        route("/logg-inn", consent_page),
        route("/login/idporten/start", start_login, "POST"),
        route("/login/idporten/callback", callback),
        route("/login/idporten/logged-out", logged_out),
        route("/login/idporten/frontchannel-logout", frontchannel_logout),
        route("/logout/idporten", logout, "POST"),
        route("/mine", mine_page),
        route("/api/youth/session/confirm", confirm, "POST"),
        route("/api/youth/key", register_key, "POST"),
        route("/api/youth/link/challenge", link_challenge, "POST"),
        route("/api/youth/link", link, "POST"),
        route("/api/youth/threads", threads_api),
        route("/api/youth/device", device_register, "POST"),
        route("/api/youth/device", device_status),
    ]
