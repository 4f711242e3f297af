"""The prøvesvar stand-in's HTTP app: its own HelseID-like token endpoint (the NHN
lookalike's checks, devservices/nhn/auth.py) and the FHIR search.

| route | what |
|---|---|
| POST /connect/token | client credentials, private_key_jwt, DPoP (with a nonce first) |
| POST /fhir/DiagnosticReport/_search | form ``patient.identifier=<system>|<pid>``: a Bundle |
| POST /_dev/mode | ``{"mode": "ok" | "slow" | "down" | "malformed" | "not_json" | "other_person" | "oversized"}`` |
| GET  /_dev/health | liveness |

Nothing of a request is logged (the identity number is in the body).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devservices.nhn.auth import (
    Client,
    Nonces,
    Refused,
    check_resource,
    load_clients,
    load_or_make_server_key,
)
from devservices.nhn.store import Store
from devservices.nhn.token_endpoint import TokenIssuer, oauth_error, request_url, token_response
from identity_bridge.records.fhir import FNR_SYSTEM
from identity_bridge.records.provesvar_config import SCOPE

from .data import bundle_for

TOKEN_PATH = "/connect/token"  # noqa: S105 (a path, not a secret)
SEARCH_PATH = "/fhir/DiagnosticReport/_search"
MODES = ("ok", "slow", "down", "malformed", "not_json", "other_person", "oversized")
SLOW_S = 30.0
OTHER_PID = "41880100095"  # a synthetic number that is nobody who logs in


@dataclass(frozen=True)
class StandinSettings:
    port: int
    data_dir: Path
    keys_file: Path
    host: str = "127.0.0.1"

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class State:
    settings: StandinSettings
    store: Store
    clients: dict[str, Client]
    server_key: ECKey
    nonces: Nonces = field(default_factory=Nonces)
    mode: str = "ok"


def _state(request: Request) -> State:
    state: State = request.app.state.provesvar
    return state


async def token(request: Request) -> Response:
    st = _state(request)
    return await token_response(request, TokenIssuer(
        st.settings.issuer, st.server_key, st.clients, st.store, st.nonces, SCOPE,
        require_scope=True))


def _outcome(issue: str, status: int) -> JSONResponse:
    return JSONResponse({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": issue}]}, status_code=status,
        media_type="application/fhir+json")


async def search(request: Request) -> Response:
    st = _state(request)
    try:
        check_resource(request.headers.get("Authorization"), request.headers.get("DPoP"),
                       "POST", request_url(request), st.server_key, st.settings.issuer, st.store,
                       scope=SCOPE)
    except Refused as exc:
        return oauth_error(exc)
    form = await request.form()
    system, _, pid = str(form.get("patient.identifier", "")).partition("|")
    if system != FNR_SYSTEM or not (pid.isdigit() and len(pid) == 11):
        return _outcome("invalid", 400)
    if st.mode == "down":
        return _outcome("transient", 503)
    if st.mode == "slow":
        await asyncio.sleep(SLOW_S)
    if st.mode == "not_json":
        return Response("<html>proxy error</html>", media_type="text/html")
    if st.mode == "oversized":  # valid JSON, far past what the client reads
        return Response(b'{"resourceType": "Bundle", "pad": "' + b"x" * 3_000_000 + b'"}',
                        media_type="application/fhir+json")
    body = bundle_for(pid, subject_of=OTHER_PID if st.mode == "other_person" else None)
    if st.mode == "malformed":
        body["entry"][0]["resource"]["status"] = {"not": "a code"}
    return JSONResponse(body, media_type="application/fhir+json")


async def dev_mode(request: Request) -> Response:
    body = await request.json()
    mode = body.get("mode") if isinstance(body, dict) else None
    if mode not in MODES:
        return JSONResponse({"error": "unknown mode", "modes": MODES}, status_code=400)
    _state(request).mode = str(mode)
    return JSONResponse({"mode": mode})


def _lifespan(state: State) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        state.store.close()

    return lifespan


def create_app(settings: StandinSettings) -> Starlette:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = State(settings, Store(settings.data_dir / "provesvar.sqlite"),
                  load_clients(settings.keys_file),
                  load_or_make_server_key(settings.data_dir / "server-key.json"))
    app = Starlette(routes=[
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(SEARCH_PATH, search, methods=["POST"]),
        Route("/_dev/mode", dev_mode, methods=["POST"]),
        Route("/_dev/health", lambda r: JSONResponse({"ok": True}), methods=["GET"]),
    ], lifespan=_lifespan(state))
    app.state.provesvar = state
    return app
