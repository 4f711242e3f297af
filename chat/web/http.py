"""The one HTTP error response: a ``ClientError`` as ``{"error": {"code", "message"}}`` with its
``http_status``. Handlers return ``error_response(...)`` or raise; the app's exception handler
(``client_error_handler``) answers a raised one the same way."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.errors import ClientError


def error_response(err: ClientError) -> JSONResponse:
    return JSONResponse({"error": {"code": err.code, "message": err.message}},
                        status_code=err.http_status)


async def client_error_handler(request: Request, exc: Exception) -> Response:
    """For ``Starlette(exception_handlers={ClientError: client_error_handler})``."""
    if not isinstance(exc, ClientError):
        raise exc
    return error_response(exc)
