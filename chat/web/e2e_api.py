"""Small JSON API for the end-to-end key material (everything it serves is public or sealed)."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.actions.accounts import Session, csrf_ok
from chat.store.teamkeys import Device
from chat.web.runtime import Runtime

SESSION_COOKIE = "hp_session"


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _session(request: Request) -> Session | None:
    return await _rt(request).accounts.session(request.cookies.get(SESSION_COOKIE))


async def team(request: Request) -> Response:
    """Public: what a youth's browser needs to seal a conversation key to the service's team."""
    rt = _rt(request)
    service = request.path_params["service"]
    if rt.config.service(service) is None:
        return _error("unknown_service", "No such service.", 404)
    pub = await rt.teamkeys.team(service)
    if pub is None:
        return _error("no_team_key", "This service has no team key yet.", 404)
    return JSONResponse(pub.as_json())


async def nurse_keys(request: Request) -> Response:
    """The signed-in nurse's wrapped device keys and, per service, the team keys sealed to it."""
    rt = _rt(request)
    session = await _session(request)
    if session is None:
        return _error("not_authenticated", "Sign in first.", 401)
    device = await rt.teamkeys.device(session.nurse.username)
    teams: dict[str, object] = {}
    for service in sorted(session.nurse.services):
        pub = await rt.teamkeys.team(service)
        if pub is None:
            continue
        sealed = await rt.teamkeys.sealed_for(service, session.nurse.username)
        teams[service] = {**pub.as_json(), "sealed": {str(k): v for k, v in sealed.items()}}
    return JSONResponse({
        "username": session.nurse.username,
        "device": None if device is None else
        {"wrapped": device.wrapped, "box": device.box, "sign": device.sign},
        "teams": teams,
    })


def _b64(value: object, size: int | None = None) -> str | None:
    if not isinstance(value, str) or len(value) > 1024:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if size is not None and len(raw) != size:
        return None
    return value


async def register_device(request: Request) -> Response:
    """A nurse's browser made its device keys: store the wrapped private and the public halves."""
    rt = _rt(request)
    session = await _session(request)
    if session is None:
        return _error("not_authenticated", "Sign in first.", 401)
    if not csrf_ok(session.csrf, request.headers.get("x-csrf-token")):
        return _error("csrf", "Missing or wrong CSRF token.", 403)
    try:
        body = await request.json()
    except ValueError:
        return _error("bad_json", "The body is not JSON.", 400)
    if not isinstance(body, dict):
        return _error("bad_json", "The body must be an object.", 400)
    wrapped, box, sign = _b64(body.get("wrapped")), _b64(body.get("box"), 32), \
        _b64(body.get("sign"), 32)
    if not (wrapped and box and sign):
        return _error("bad_device", "wrapped, box and sign must be base64 keys.", 400)
    stored = await rt.teamkeys.set_device(session.nurse.username, Device(wrapped, box, sign),
                                          replace=bool(body.get("replace", False)))
    if not stored:
        return _error("device_exists", "A device key already exists for this account.", 409)
    return JSONResponse({"status": "stored"}, status_code=201)
