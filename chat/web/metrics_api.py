"""``GET /metrics``: this process's metrics (chat/metrics/registry.py) in the Prometheus text
format, for the scrapers in ``HELSEPRAT_METRICS_ALLOW`` only; anyone else gets the plain 404 of
a path that is not there.

Who is asking is decided as for the rate limits (``client_address``: the peer, or what a
trusted proxy forwards), by ``MetricsGate`` in front of ``ClientKeyMiddleware``, which then
drops the address; the gate keeps only yes or no in the request's state and never logs the
address. Each Hypercorn process answers with its own registry: Prometheus scrapes every
process (docs/operations.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from chat.metrics import registry as metrics
from chat.store.sizes import queue_lengths
from chat.web.clientaddr import Network, client_address, trusted
from chat.web.runtime import Runtime

PATH = "/metrics"
ALLOWED = "metrics_allowed"  # the request-state flag the gate sets
# The longest a scrape waits for the queue lengths: with Redis away redis-py's retries would
# hold it for seconds, past a scrape timeout, and the other numbers matter most then.
QUEUE_READ_SECONDS = 1.0


class MetricsGate:
    """Mark a request for ``/metrics`` as allowed or not, while its address is still known."""

    def __init__(self, app: ASGIApp, allow: Sequence[Network], proxies: Sequence[Network] = (),
                 header: str = "x-forwarded-for") -> None:
        self.app = app
        self.allow = tuple(allow)
        self.proxies = tuple(proxies)
        self.header = header

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "http" and scope["path"] == PATH:
            address = client_address(scope, self.proxies, self.header)
            state = dict(scope.get("state") or {})
            state[ALLOWED] = trusted(address, self.allow)
            scope = {**scope, "state": state}
        return self.app(scope, receive, send)


async def metrics_page(request: Request) -> Response:
    if request.scope.get("state", {}).get(ALLOWED) is not True:
        return PlainTextResponse("Not Found", status_code=404)  # as for any path not served
    rt: Runtime = request.app.state.runtime
    lengths: dict[str, tuple[int, int]] | None
    try:
        async with asyncio.timeout(QUEUE_READ_SECONDS):
            lengths = await queue_lengths(rt.redis, rt.config.services)
    except (RedisError, OSError) as exc:  # OSError: TimeoutError too
        metrics.redis_error(exc)
        lengths = None
    metrics.set_queue_lengths(lengths)
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
