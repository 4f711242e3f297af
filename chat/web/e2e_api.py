"""Small JSON API for the end-to-end key material (everything it serves is public or sealed)."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.actions.accounts import Session, csrf_ok
from chat.errors import (
    BadDevice,
    BadJson,
    CsrfFailed,
    DeviceExists,
    NotAuthenticated,
    NoTeamKey,
    UnknownService,
)
from chat.store.teamkeys import Device
from chat.web.http import error_response, read_json
from chat.web.runtime import Runtime

SESSION_COOKIE = "hp_session"


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def _session(request: Request) -> Session | None:
    return await _rt(request).accounts.session(request.cookies.get(SESSION_COOKIE))


async def team(request: Request) -> Response:
    """Public: what a youth's browser needs to seal a conversation key to the service's team."""
    rt = _rt(request)
    service = request.path_params["service"]
    if rt.config.service(service) is None:
        return error_response(UnknownService())
    pub = await rt.teamkeys.team(service)
    if pub is None:
        return error_response(NoTeamKey())
    return JSONResponse(pub.as_json())


async def nurse_keys(request: Request) -> Response:
    """The signed-in nurse's wrapped device keys and, per service, the team keys sealed to it."""
    rt = _rt(request)
    session = await _session(request)
    if session is None:
        return error_response(NotAuthenticated())
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
        return error_response(NotAuthenticated())
    if not csrf_ok(session.csrf, request.headers.get("x-csrf-token")):
        return error_response(CsrfFailed())
    try:
        body = await read_json(request)
    except BadJson as err:
        return error_response(err)
    if not isinstance(body, dict):
        return error_response(BadJson("The body must be an object."))
    wrapped, box, sign = _b64(body.get("wrapped")), _b64(body.get("box"), 32), \
        _b64(body.get("sign"), 32)
    if not (wrapped and box and sign):
        return error_response(BadDevice())
    stored = await rt.teamkeys.set_device(session.nurse.username, Device(wrapped, box, sign),
                                          replace=bool(body.get("replace", False)))
    if not stored:
        return error_response(DeviceExists())
    return JSONResponse({"status": "stored"}, status_code=201)
