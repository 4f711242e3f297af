"""A nurse's push subscription: ``POST /dashboard/push`` (the browser's subscription, as a
youth sends it in ``push_subscribe``) and ``DELETE /dashboard/push``. Session cookie and the
``X-CSRF-Token`` header, as the other dashboard requests."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.actions.accounts import csrf_ok
from chat.errors import BadJson, CsrfFailed, NotAuthenticated
from chat.web.http import read_json
from chat.web.runtime import Runtime

SESSION_COOKIE = "hp_session"


async def nurse_push(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    session = await rt.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NotAuthenticated()
    if not csrf_ok(session.csrf, request.headers.get("x-csrf-token")):
        raise CsrfFailed()
    push = rt.push_actions()
    if request.method == "DELETE":
        await push.unsubscribe_nurse(session.nurse)
        return JSONResponse({"on": False})
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadJson("The body must be an object.")
    await push.subscribe_nurse(session.nurse, body)
    return JSONResponse({"on": True}, status_code=201)
