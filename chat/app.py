"""The Starlette application, built by ``create_app`` (``helseprat serve`` does; see Procfile)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from redis.exceptions import OutOfMemoryError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

import identity_bridge.plugin  # the composition root plugs the bridge in (the only import of it)
from chat.actions.accounts import Accounts
from chat.actions.conversations import Actions
from chat.actions.push import build_push, push_jobs, push_setup
from chat.clock import Clock, FileClock, SystemClock
from chat.config import Config, load_config
from chat.errors import ClientError
from chat.extensions import Extension, ExtensionFactory
from chat.extensions import build as build_extensions
from chat.fanout.hub import Hub
from chat.jobs.runner import Runner
from chat.jobs.schedule import all_jobs
from chat.server.serving import adjust_hypercorn
from chat.store.client import ready as redis_ready
from chat.store.conversations import Store
from chat.store.teamkeys import TeamKeys
from chat.web import e2e_api as api
from chat.web import info_pages as info
from chat.web import lead_pages as lead
from chat.web import metrics_api, nurse_socket, pages, push_api, webapp
from chat.web import sockets as ws
from chat.web.http import client_error_handler, storage_full_handler
from chat.web.middleware import (
    BodyLimitMiddleware,
    ClientKeyMiddleware,
    HostMiddleware,
    SecurityHeadersMiddleware,
    StaticGzipMiddleware,
)
from chat.web.runtime import Runtime, make_redis

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


# Routes that take less than [limits] max_body_bytes: a sign-in form is a few hundred bytes, and
# the login form is read before its password is checked, by anyone.
BODY_LIMITS = {"/nurse/login": 4096, "/nurse/logout": 4096, "/api/nurse/device": 16384,
               "/dashboard/push": 4096,
               # A page's three languages at their limits (chat/domain/infopage.py), form-encoded.
               "/lead/info": 320 * 1024}

# Extensions the composition root plugs in, each built from its own config section (or absent).
EXTENSIONS: tuple[ExtensionFactory[Runtime], ...] = (identity_bridge.plugin.create,)


def create_app(config: Config, clock: Clock | None = None) -> Starlette:
    if config.redis_url is None:
        raise RuntimeError("create_app needs config.redis_url (REDIS_URL; make run starts a Redis)")
    if clock is None and config.test_clock_file is not None:
        clock = FileClock(config.test_clock_file)  # HELSEPRAT_ENV=test only
    clock = clock or SystemClock()
    test_clock = config.test_clock_file is not None
    redis_url = config.redis_url
    extensions = build_extensions(EXTENSIONS, config)
    push_config = push_setup(config)  # a ConfigError now, before anything is served
    adjust_hypercorn()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = make_redis(redis_url)
        await redis_ready(redis)
        store = Store(redis, clock, config.replica_wait)
        hub = Hub(redis, store.queue_view)
        push = build_push(config, store, clock, push_config)
        rt = Runtime(config=config, redis=redis, store=store,
                     actions=Actions(config, store, clock, push.notices),
                     accounts=Accounts(config, redis, clock, reads=store.reads), hub=hub,
                     clock=clock,
                     teamkeys=TeamKeys(redis), extensions=extensions, push=push.actions)
        app.state.runtime = rt
        await hub.start()
        await rt.revocations.start(hub)
        for ext in extensions:
            await ext.start(rt)
        jobs = Runner(store.leases, [*all_jobs(rt.actions, test_clock), *push_jobs(push)])
        jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            await rt.drain()
            for ext in reversed(extensions):
                await ext.stop()
            await hub.stop()
            await redis.aclose()

    middleware = [
        Middleware(SecurityHeadersMiddleware, hsts=config.public_url.startswith("https://")),
        Middleware(HostMiddleware, hosts=config.allowed_hosts),
        Middleware(metrics_api.MetricsGate, allow=config.metrics_allow,
                   proxies=config.trusted_proxies, header=config.forwarded_header),
        Middleware(ClientKeyMiddleware, key=config.secrets.token_key,
                   proxies=config.trusted_proxies, header=config.forwarded_header),
        Middleware(BodyLimitMiddleware, default=config.limits.max_body_bytes,
                   limits=BODY_LIMITS),
        Middleware(StaticGzipMiddleware),
    ]
    return Starlette(routes=chat_routes(extensions), middleware=middleware, lifespan=lifespan,
                     exception_handlers={ClientError: client_error_handler,
                                         OutOfMemoryError: storage_full_handler})


def chat_routes(extensions: tuple[Extension[Runtime], ...]) -> list[BaseRoute]:
    """Chat's pages, APIs and sockets, then each extension's routes, then the static files."""
    return [
        Route("/", pages.index),
        Route("/s/{service}", pages.service_page),
        Route("/s/{service}/info", info.index),
        Route("/s/{service}/info/{slug}", info.page),
        Route("/personvern", pages.privacy_page),
        Route("/healthz", pages.healthz),
        Route("/favicon.ico", pages.favicon),
        Route("/readyz", pages.readyz),
        Route(metrics_api.PATH, metrics_api.metrics_page),
        Route("/sw.js", webapp.service_worker),
        Route("/manifest.webmanifest", webapp.web_manifest),
        Route("/nurse/login", pages.login_form, methods=["GET"]),
        Route("/nurse/login", pages.login, methods=["POST"]),
        Route("/nurse/logout", pages.logout, methods=["POST"]),
        Route("/nurse", pages.dashboard),
        Route("/dashboard/push", push_api.nurse_push, methods=["POST", "DELETE"]),
        Route("/api/team/{service}", api.team),
        Route("/api/nurse/keys", api.nurse_keys),
        Route("/api/nurse/device", api.register_device, methods=["POST"]),
        Route("/lead", lead.overview_page),
        Route("/lead/overview.csv", lead.overview_csv),
        Route("/lead/audit", lead.audit_page),
        Route("/lead/canned", lead.canned_page, methods=["GET"]),
        Route("/lead/canned", lead.canned_post, methods=["POST"]),
        Route("/lead/info", info.lead_list, methods=["GET"]),
        Route("/lead/info", info.lead_post, methods=["POST"]),
        Route("/lead/info/edit", info.lead_edit),
        Route("/api/lead/overview", lead.overview_api),
        Route("/api/lead/audit", lead.audit_api),
        Route("/api/nurse/canned", lead.canned_api),
        Route("/api/nurse/queue/{service}", lead.queue_api),
        WebSocketRoute("/ws/youth", SocketApp(ws.youth_ws), name="youth_ws"),
        WebSocketRoute("/ws/nurse", SocketApp(nurse_socket.nurse_ws), name="nurse_ws"),
        *(route for ext in extensions for route in ext.routes()),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]


class SocketApp:
    """A WebSocket route's ASGI app: ``endpoint(WebSocket)``, as Starlette's ``websocket_session``
    makes of a function, without its second exception wrapper (the ExceptionMiddleware around the
    router applies the same handlers) and without staying on the stack itself: three suspended
    frames and their closures fewer per connection (docs/benchmarks.md, memory per connection)."""

    __slots__ = ("endpoint",)

    def __init__(self, endpoint: Callable[[WebSocket], Awaitable[None]]) -> None:
        self.endpoint = endpoint

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return self.endpoint(WebSocket(scope, receive=receive, send=send))


def _app_from_environment() -> Starlette:
    return create_app(load_config())


def __getattr__(name: str) -> Starlette:
    # `chat.app:app` is built on first access, so importing chat.app reads no config.
    if name == "app":
        return _app_from_environment()
    raise AttributeError(name)
