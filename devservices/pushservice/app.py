"""The stand-in's HTTP surface: the RFC 8030 push resource, and the ``/_test`` controls.

    POST   /_test/subscriptions               → 201 {id, endpoint, keys: {p256dh, auth}}
    POST   /push/<id>                         → 201 + Location, or the refusal a push service gives
    POST   /_test/subscriptions/<id>/mode     {"mode": …, "times": n?}
    GET    /_test/subscriptions/<id>/messages → {"messages": [...], "attempts": n}
    DELETE /_test/messages                    → every message, count and mode forgotten
    GET    /_test/health
"""

from __future__ import annotations

import asyncio
import binascii
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .checks import (
    MAX_PAYLOAD,
    Refused,
    b64url,
    b64url_decode,
    decrypt,
    parse_topic,
    parse_ttl,
    parse_urgency,
    verify_vapid,
)
from .store import MODES, Message, Store, Subscription

HANG_S = 600.0  # "hang": hold the request this long (the sender's timeout comes first)
# What a mode answers instead of accepting the push.
MODE_ANSWERS: dict[str, tuple[int, str, dict[str, str]]] = {
    "gone": (410, "gone", {}),
    "not_found": (404, "not_found", {}),
    "throttle": (429, "too_many_requests", {"Retry-After": "1"}),
    "error": (500, "internal_error", {}),
}


@dataclass(frozen=True)
class PushSettings:
    port: int
    host: str = "127.0.0.1"

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class State:
    settings: PushSettings
    store: Store = field(default_factory=Store)


def _state(request: Request) -> State:
    state: State = request.app.state.push
    return state


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _subscription(request: Request) -> Subscription | Response:
    sub = _state(request).store.get(request.path_params["id"])
    if sub is None:
        return _error(404, "unknown_subscription", "no such subscription")
    return sub


def _check(request: Request, sub: Subscription, body: bytes) -> tuple[int, str | None,
                                                                     str | None, str]:
    """The header checks, in the order a push service makes them: (ttl, urgency, topic, sub)."""
    h = request.headers
    ttl = parse_ttl(h.get("TTL"))
    vapid = verify_vapid(h.get("Authorization"), _state(request).settings.origin, time.time(),
                         sub.application_server_key)
    if body and h.get("Content-Encoding", "").strip().lower() != "aes128gcm":
        raise Refused(415, "unsupported_encoding", "Content-Encoding must be aes128gcm")
    urgency = parse_urgency(h.get("Urgency"))
    topic = parse_topic(h.get("Topic"))
    if len(body) > MAX_PAYLOAD:
        raise Refused(413, "payload_too_large", f"the body may be at most {MAX_PAYLOAD} bytes")
    return ttl, urgency, topic, vapid.sub


async def push(request: Request) -> Response:
    sub = _subscription(request)
    if isinstance(sub, Response):
        return sub
    sub.attempts += 1
    body = await request.body()
    try:
        ttl, urgency, topic, contact = _check(request, sub, body)
        plain = decrypt(body, sub.private_key, sub.auth) if body else None
    except Refused as exc:
        headers = {"WWW-Authenticate": "vapid"} if exc.status == 401 else None
        return _error(exc.status, exc.code, exc.message, headers)
    mode = sub.take_mode()
    if mode == "hang":
        await asyncio.sleep(HANG_S)
        return _error(504, "hung", "the stand-in was told to hang")
    if mode in MODE_ANSWERS:
        status, code, headers = MODE_ANSWERS[mode]
        return _error(status, code, f"the stand-in was told to answer {status}", headers)
    message = Message(id=secrets.token_urlsafe(12), ttl=ttl, urgency=urgency, topic=topic,
                      payload=None if plain is None else plain.decode("utf-8", "replace"),
                      sub=contact, received_at=time.time())
    sub.store(message)
    origin = _state(request).settings.origin
    return Response(status_code=201, headers={"Location": f"{origin}/message/{message.id}",
                                              "TTL": str(ttl)})


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise Refused(400, "bad_json", "the body is not JSON") from exc
    if not isinstance(body, dict):
        raise Refused(400, "bad_json", "the body must be a JSON object")
    return body


async def subscribe(request: Request) -> Response:
    """A new subscription; ``{"application_server_key": k}`` restricts it to that key."""
    try:
        asks = (await _json_body(request)).get("application_server_key")
        key = None if asks is None else b64url(b64url_decode(str(asks)))
    except (ValueError, binascii.Error):
        return _error(400, "bad_key", "application_server_key must be base64url")
    except Refused as exc:
        return _error(exc.status, exc.code, exc.message)
    sub = _state(request).store.subscribe(key)
    return JSONResponse({"id": sub.id, "endpoint": f"{_state(request).settings.origin}/push/{sub.id}",
                         "keys": {"p256dh": sub.p256dh, "auth": b64url(sub.auth)}}, status_code=201)


async def set_mode(request: Request) -> Response:
    sub = _subscription(request)
    if isinstance(sub, Response):
        return sub
    try:
        body = await _json_body(request)
    except Refused as exc:
        return _error(exc.status, exc.code, exc.message)
    mode, times = body.get("mode"), body.get("times")
    if mode not in MODES:
        return _error(400, "bad_mode", "mode must be one of " + ", ".join(sorted(MODES)))
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        return _error(400, "bad_times", "times must be a positive integer or absent")
    sub.mode, sub.times = str(mode), (None if mode == "ok" else times)
    return JSONResponse({"mode": sub.mode, "times": sub.times})


async def messages(request: Request) -> Response:
    sub = _subscription(request)
    if isinstance(sub, Response):
        return sub
    return JSONResponse({"messages": [m.as_json() for m in sub.messages], "attempts": sub.attempts})


async def clear(request: Request) -> Response:
    _state(request).store.clear()
    return Response(status_code=204)


async def health(_request: Request) -> Response:
    return JSONResponse({"ok": True})


def create_app(settings: PushSettings) -> Starlette:
    app = Starlette(routes=[
        Route("/push/{id}", push, methods=["POST"]),
        Route("/_test/subscriptions", subscribe, methods=["POST"]),
        Route("/_test/subscriptions/{id}/mode", set_mode, methods=["POST"]),
        Route("/_test/subscriptions/{id}/messages", messages, methods=["GET"]),
        Route("/_test/messages", clear, methods=["DELETE"]),
        Route("/_test/health", health, methods=["GET"]),
    ])
    app.state.push = State(settings)
    return app
