"""The SYSVAK stand-in: a HelseID-like token endpoint (client credentials, private_key_jwt,
DPoP, the same checks as the NHN lookalike's: devservices/nhn/auth.py) and one registry call.

    POST /connect/token                   HelseID client credentials + DPoP (nonce first)
    POST /sysvak/v1/vaksinasjoner         XML request naming a person -> XML answer
    POST /_dev/mode  {"mode": ...}        ok | slow | down | malformed | other_person
    GET  /_dev/health

Config (JSON): ``{"clients": [{"client_id", "jwk"}], "slow_s": 5}``. Persons are not
configured: any valid synthetic number gets vaccinations made from its birth date
(programme.py). The stand-in logs no number and no vaccination.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devservices.nhn.app import TOKEN_PATH
from devservices.nhn.auth import (
    Client,
    Nonces,
    Refused,
    check_resource,
    load_or_make_server_key,
)
from devservices.nhn.auth import load_clients as load_client_file
from devservices.nhn.store import Store
from devservices.nhn.token_endpoint import TokenIssuer, request_url, token_response
from identity_bridge import fnr

from . import xml
from .programme import vaccinations

SCOPE = "helseprat:sysvak"
API_PATH = "/sysvak/v1/vaksinasjoner"
MODES = ("ok", "slow", "down", "malformed", "other_person")
# Another synthetic person, answered in the "other_person" mode.
OTHER_PID = fnr.make_classic(date(2010, 5, 17), synthetic=True)


@dataclass
class State:
    issuer: str
    clients: dict[str, Client]
    store: Store
    data_dir: Path
    slow_s: float = 5.0
    mode: str = "ok"
    nonces: Nonces = field(default_factory=Nonces)

    def __post_init__(self) -> None:
        self.server_key = load_or_make_server_key(self.data_dir / "server-key.jwk")


def _state(request: Request) -> State:
    st: State = request.app.state.sysvak
    return st


async def token(request: Request) -> Response:
    st = _state(request)
    return await token_response(request, TokenIssuer(
        st.issuer, st.server_key, st.clients, st.store, st.nonces, SCOPE))


def _person_born(pid: str) -> date | None:
    try:
        person = fnr.parse(pid, allow_synthetic=True)
    except fnr.FnrError:
        return None
    # Only synthetic numbers: the stand-in never answers for a real person's number.
    return person.birth_date(date.today()) if person.synthetic else None


async def lookup(request: Request) -> Response:
    st = _state(request)
    if st.mode == "down":
        return Response("Tjenesten er midlertidig utilgjengelig", status_code=503)
    try:
        check_resource(request.headers.get("Authorization"), request.headers.get("DPoP"),
                       "POST", request_url(request), st.server_key, st.issuer, st.store, SCOPE)
    except Refused as exc:
        return Response(status_code=exc.status, headers={
            "WWW-Authenticate": f'DPoP error="{exc.error}"'})
    pid = xml.read_request(await request.body())
    born = _person_born(pid) if pid else None
    if pid is None or born is None:
        return Response("Ugyldig forespørsel", status_code=400)
    if st.mode == "slow":
        await asyncio.sleep(st.slow_s)
    if st.mode == "malformed":
        body = b"<?xml version='1.0'?><Vaksinasjoner><Pasient>" + b"x" * 20
    elif st.mode == "other_person":
        body = xml.answer(OTHER_PID, vaccinations(date(2010, 5, 17), date.today()))
    else:
        body = xml.answer(pid, vaccinations(born, date.today()))
    return Response(body, media_type="application/xml")


async def set_mode(request: Request) -> Response:
    st = _state(request)
    try:
        mode = (await request.json())["mode"]
    except (ValueError, KeyError, TypeError):
        mode = None
    if mode not in MODES:
        return JSONResponse({"error": "mode must be one of " + ", ".join(MODES)}, 400)
    st.mode = mode
    return JSONResponse({"mode": mode})


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


def create_app(config_file: Path, port: int, data_dir: Path) -> Starlette:
    raw = json.loads(config_file.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    state = State(issuer=f"http://127.0.0.1:{port}", clients=load_client_file(config_file),
                  store=Store(data_dir / "sysvak.sqlite"), data_dir=data_dir,
                  slow_s=float(raw.get("slow_s", 5.0)))
    app = Starlette(routes=[
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(API_PATH, lookup, methods=["POST"]),
        Route("/_dev/mode", set_mode, methods=["POST"]),
        Route("/_dev/health", health),
    ])
    app.state.sysvak = state
    return app
