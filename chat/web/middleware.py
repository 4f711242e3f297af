"""Cross-cutting concerns as small ASGI middleware.

Where a middleware has nothing more to do once it has passed a request on, ``__call__`` returns
the next application's awaitable instead of awaiting it: no frame of ours then stays suspended
for the life of a WebSocket (thousands of idle youths; see docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Mapping, Sequence

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anon.clientkey import client_key
from chat.errors import BadHost, BodyTooLarge, ClientError
from chat.web.clientaddr import Network, client_address
from chat.web.http import error_response

log = logging.getLogger("helseprat.http")

CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",  # libsodium compiles its WebAssembly; no eval
    "style-src 'self'",
    "img-src 'self' data:",  # Designsystemet's icons are data: SVGs in its CSS
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "manifest-src 'self'",  # /manifest.webmanifest (chat/web/webapp.py)
    "worker-src 'self'",  # /sw.js, for Web Push only
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


# esbuild's "[name]-[hash]" (static/build.mjs): eight characters of base32. Such a file never
# changes (new content, new name), so browsers may keep it for a year without asking again.
HASHED_ASSET = re.compile(r"^/static/dist/(?:[\w-]+/)*[\w.-]+-[A-Z2-7]{8}\.(?:js|css|wasm)$")
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything else under /static/ may change in place: a short cache, then revalidate (ETag).
SHORT_CACHE = "public, max-age=300"


def cache_control(path: str) -> str:
    if not path.startswith("/static/"):
        return "no-store"
    return IMMUTABLE if HASHED_ASSET.match(path) else SHORT_CACHE


class SecurityHeadersMiddleware:
    """Strict CSP and friends on every HTTP response; pages are never cached, hashed assets
    for a year (see cache_control)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        caching = cache_control(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=63072000")
                if message["status"] < 400:
                    headers.setdefault("cache-control", caching)
                else:  # a 404 for a hashed name must not be kept for a year
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


ADDRESS_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


class ClientKeyMiddleware:
    """Replace the client's address (``client_address``: the peer, or what a configured proxy
    forwards) with a daily-salted keyed hash, then forget the address.

    Downstream code (handlers, logs, errors) cannot leak an address it never sees: the ASGI
    ``client`` entry and the forwarded headers are removed and only
    ``scope["state"]["client_key"]`` remains.
    """

    def __init__(self, app: ASGIApp, key: bytes, proxies: Sequence[Network] = (),
                 header: str = "x-forwarded-for") -> None:
        self.app = app
        self.key = key
        self.proxies = tuple(proxies)
        self.header = header

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in ("http", "websocket"):
            address = client_address(scope, self.proxies, self.header)
            day = dt.datetime.now(dt.UTC).date()
            scope = dict(scope)
            scope["client"] = None
            headers = scope.get("headers", ())
            if any(k in ADDRESS_HEADERS for k, _ in headers):
                scope["headers"] = [(k, v) for k, v in headers if k not in ADDRESS_HEADERS]
            state = dict(scope.get("state") or {})
            state["client_key"] = client_key(self.key, address, day)
            scope["state"] = state
        return self.app(scope, receive, send)


# Health probes come from the load balancer by the instance's own address; they answer with
# a fixed text and redirect nowhere, so they are served whatever the Host says. So is
# /metrics, which Prometheus scrapes by each process's address (and only allowed scrapers get).
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class HostMiddleware:
    """Serve only the configured public host, and never send a client to another one.

    A Host header we do not serve is ``bad_host`` (400; a WebSocket handshake gets the same).
    A redirect to this request's own origin leaves as a path: behind a TLS-terminating
    balancer the scope says http, and an absolute Location would send the browser off https.
    (Starlette's TrustedHostMiddleware answers a plain-text "Invalid host header", outside the
    one error shape and its stable codes, and leaves redirects absolute.)
    """

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] not in ("http", "websocket") or not self.hosts \
                or scope["path"] in PROBES:
            return self.app(scope, receive, send)
        host = header(scope, b"host").lower()
        if host not in self.hosts:
            return refuse(scope, receive, send, BadHost())
        if scope["type"] == "websocket":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send, host)

    async def _http(self, scope: Scope, receive: Receive, send: Send, host: str) -> None:
        own = tuple(f"{scheme}://{host}" for scheme in ("http", "https"))

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                location = headers.get("location", "")
                for origin in own:
                    if location.startswith(origin + "/") or location == origin:
                        headers["location"] = location[len(origin):] or "/"
            await send(message)

        await self.app(scope, receive, send_relative)


class BodyLimitMiddleware:
    """Bound every request body by its route (``limits``, else ``default``) before it is read:
    a declared ``Content-Length`` over the limit is answered at once; a chunked body is cut
    off once it passes it. Both are ``body_too_large`` (413). A client that hangs up while
    sending is one info line, not a traceback."""

    def __init__(self, app: ASGIApp, default: int, limits: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = self.limits.get(scope["path"], self.default)
        declared = header(scope, b"content-length")
        if declared and (not declared.isdigit() or int(declared) > cap):
            await refuse(scope, receive, send, BodyTooLarge())
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge as err:  # raised where no handler turned it into the answer
            if not started:
                await refuse(scope, receive, send, err)
        except ClientDisconnect:
            log.info("client hung up before its request body was read")


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def refuse(scope: Scope, receive: Receive, send: Send, err: ClientError) -> None:
    """Answer ``err`` in the one error shape, without reading the body; the connection is not
    kept (what is left of the body is never read). A WebSocket handshake gets the same answer
    as an HTTP response (ASGI's websocket.http.response), where the server offers it."""
    response = error_response(err)
    response.headers["connection"] = "close"
    if scope["type"] == "websocket":
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.http.response.start", "status": response.status_code,
                    "headers": response.raw_headers})
        await send({"type": "websocket.http.response.body", "body": response.body})
        return
    await response(scope, receive, send)
