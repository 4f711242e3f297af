"""The Starlette application. ``chat.app:app`` is what Hypercorn serves (see Procfile)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

import identity_bridge.plugin  # the composition root plugs the bridge in (the only import of it)
from chat.actions.accounts import Accounts
from chat.actions.conversations import Actions
from chat.clock import Clock, FileClock, SystemClock
from chat.config import Config, load_config
from chat.errors import ClientError
from chat.extensions import Extension, ExtensionFactory
from chat.extensions import build as build_extensions
from chat.fanout.hub import Hub
from chat.jobs.runner import Runner
from chat.jobs.schedule import all_jobs
from chat.server.compression import decline_compression
from chat.server.memory import fewer_full_collections, lean_connections
from chat.store.conversations import Store
from chat.store.teamkeys import TeamKeys
from chat.web import e2e_api as api
from chat.web import lead_pages as lead
from chat.web import pages
from chat.web import sockets as ws
from chat.web.http import client_error_handler
from chat.web.middleware import ClientKeyMiddleware, SecurityHeadersMiddleware, StaticGzipMiddleware
from chat.web.runtime import Runtime, make_redis

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


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
    decline_compression()
    lean_connections()
    fewer_full_collections()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = make_redis(redis_url)
        store = Store(redis, clock)
        hub = Hub(redis, store.queue_view)
        rt = Runtime(config=config, redis=redis, store=store,
                     actions=Actions(config, store, clock), accounts=Accounts(config, redis, clock),
                     hub=hub, clock=clock, teamkeys=TeamKeys(redis), extensions=extensions)
        app.state.runtime = rt
        await hub.start()
        for ext in extensions:
            await ext.start(rt)
        jobs = Runner(store.leases, all_jobs(rt.actions, test_clock))
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
        Middleware(ClientKeyMiddleware, key=config.secrets.token_key),
        Middleware(SecurityHeadersMiddleware, hsts=config.public_url.startswith("https://")),
        Middleware(StaticGzipMiddleware),
    ]
    return Starlette(routes=chat_routes(extensions), middleware=middleware, lifespan=lifespan,
                     exception_handlers={ClientError: client_error_handler})


def chat_routes(extensions: tuple[Extension[Runtime], ...]) -> list[BaseRoute]:
    """Chat's pages, APIs and sockets, then each extension's routes, then the static files."""
    return [
        Route("/", pages.index),
        Route("/s/{service}", pages.service_page),
        Route("/personvern", pages.privacy_page),
        Route("/healthz", pages.healthz),
        Route("/favicon.ico", pages.favicon),
        Route("/readyz", pages.readyz),
        Route("/nurse/login", pages.login_form, methods=["GET"]),
        Route("/nurse/login", pages.login, methods=["POST"]),
        Route("/nurse/logout", pages.logout, methods=["POST"]),
        Route("/nurse", pages.dashboard),
        Route("/api/team/{service}", api.team),
        Route("/api/nurse/keys", api.nurse_keys),
        Route("/api/nurse/device", api.register_device, methods=["POST"]),
        Route("/lead", lead.overview_page),
        Route("/lead/overview.csv", lead.overview_csv),
        Route("/lead/audit", lead.audit_page),
        Route("/lead/canned", lead.canned_page, methods=["GET"]),
        Route("/lead/canned", lead.canned_post, methods=["POST"]),
        Route("/api/lead/overview", lead.overview_api),
        Route("/api/lead/audit", lead.audit_api),
        Route("/api/nurse/canned", lead.canned_api),
        Route("/api/nurse/queue/{service}", lead.queue_api),
        WebSocketRoute("/ws/youth", SocketApp(ws.youth_ws), name="youth_ws"),
        WebSocketRoute("/ws/nurse", SocketApp(ws.nurse_ws), name="nurse_ws"),
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
