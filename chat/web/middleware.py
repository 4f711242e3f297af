"""Cross-cutting concerns as small ASGI middleware.

Where a middleware has nothing more to do once it has passed a request on, ``__call__`` returns
the next application's awaitable instead of awaiting it: no frame of ours then stays suspended
for the life of a WebSocket (thousands of idle youths; see docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anon.clientkey import client_key

CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",  # libsodium compiles its WebAssembly; no eval
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "manifest-src 'self'",
])

SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class SecurityHeadersMiddleware:
    """Strict CSP and friends on every HTTP response; pages are never cached."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=63072000")
                if not is_static:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StaticGzipMiddleware:
    """Compress static assets only. Pages are left alone: they carry CSRF tokens, and
    compressing secrets next to attacker-influenced text is how BREACH reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=6)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "http" and scope["path"].startswith("/static/"):
            return self.gzip(scope, receive, send)
        return self.app(scope, receive, send)


class ClientKeyMiddleware:
    """Replace the peer address with a daily-salted keyed hash, then forget the address.

    Downstream code (handlers, logs, errors) cannot leak an address it never sees: the ASGI
    ``client`` entry is removed and only ``scope["state"]["client_key"]`` remains.
    """

    def __init__(self, app: ASGIApp, key: bytes) -> None:
        self.app = app
        self.key = key

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            address = client[0] if client else "unknown"
            day = dt.datetime.now(dt.UTC).date()
            scope = dict(scope)
            scope["client"] = None
            state = dict(scope.get("state") or {})
            state["client_key"] = client_key(self.key, address, day)
            scope["state"] = state
        return self.app(scope, receive, send)
