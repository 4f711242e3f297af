"""The one HTTP error response: a ``ClientError`` as ``{"error": {"code", "message"}}`` with its
``http_status``. Handlers return ``error_response(...)`` or raise; the app's exception handler
(``client_error_handler``) answers a raised one the same way. And the one way a handler reads a
JSON body (``read_json``): never ``request.json()``, which recurses without bound."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import OutOfMemoryError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import BadJson, ClientError, StorageFull
from chat.protocol.jsontext import JsonRefused, parse_json

log = logging.getLogger("helseprat.http")


def error_response(err: ClientError) -> JSONResponse:
    return JSONResponse({"error": {"code": err.code, "message": err.message}},
                        status_code=err.http_status)


async def client_error_handler(request: Request, exc: Exception) -> Response:
    """For ``Starlette(exception_handlers={ClientError: client_error_handler})``."""
    if not isinstance(exc, ClientError):
        raise exc
    return error_response(exc)


async def storage_full_handler(request: Request, exc: Exception) -> Response:
    """Redis at its maxmemory (noeviction) refused a write: a clear 507, no traceback."""
    if not isinstance(exc, OutOfMemoryError):
        raise exc
    log.warning("storage full: Redis refused a write (maxmemory)")
    return error_response(StorageFull())


async def read_json(request: Request) -> Any:
    """The body as JSON through the bounded parser (depth, lone surrogates, UTF-8), or
    ``BadJson``. Its size is bounded before it is read (``BodyLimitMiddleware``)."""
    body = await request.body()
    try:
        return parse_json(body)
    except JsonRefused:
        raise BadJson() from None
