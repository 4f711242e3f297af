"""HTTP routes of the concern report, for a signed-in nurse's dashboard.

    GET  /api/nurse/concern?conversation=<id>
         linked or not, the guidance's numbers, the thread's reports with their statuses
    POST /api/nurse/concern      (JSON, ``x-csrf-token``)
         send the form: 201 {report}; the same ``ref`` again: 200, nothing sent again

Errors are the app's one error response: ``not_authenticated``, ``csrf``, ``not_authorized``
(a nurse of another service), ``concern_invalid``, ``concern_not_linked``,
``concern_not_configured``, ``concern_unavailable`` (Fiks down: nothing sent, try again),
``concern_rejected``.
"""

from __future__ import annotations

from functools import partial
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat.actions.accounts import Session, csrf_ok
from chat.errors import CsrfFailed, NotAuthenticated, NotAuthorized
from chat.web.http import read_json
from chat.web.pages import SESSION_COOKIE
from chat.web.runtime import Runtime

from .link import ConcernLink


class ConcernBridge(Protocol):
    @property
    def rt(self) -> Runtime: ...

    @property
    def concern_link(self) -> ConcernLink: ...


async def _session(bridge: ConcernBridge, request: Request) -> Session:
    session = await bridge.rt.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NotAuthenticated()
    return session


async def overview(bridge: ConcernBridge, request: Request) -> Response:
    session = await _session(bridge, request)
    cid = request.query_params.get("conversation", "")
    if not cid or len(cid) > 64:
        raise NotAuthorized()
    body = await bridge.concern_link.overview(session.nurse, cid)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def send(bridge: ConcernBridge, request: Request) -> Response:
    session = await _session(bridge, request)
    if not csrf_ok(session.csrf, request.headers.get("x-csrf-token")):
        raise CsrfFailed()
    body = await read_json(request)
    report, new = await bridge.concern_link.send(session.nurse, body)
    return JSONResponse({"report": report.as_json()}, status_code=201 if new else 200,
                        headers={"Cache-Control": "no-store"})


def routes(bridge: ConcernBridge) -> list[Route]:
    return [Route("/api/nurse/concern", partial(overview, bridge), methods=["GET"]),
            Route("/api/nurse/concern", partial(send, bridge), methods=["POST"])]
