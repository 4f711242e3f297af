"""The lookalike's HTTP surface: HelseID token endpoint, message service API v2, dev controls.

Paths and JSON shapes follow NHN's published OpenAPI spec (MSH API v2). The stand-in is the
receiving EPJ as well as the message service: it stores what it is sent (once per MsgId) and
answers each new message with an AppRec addressed back to the sender's HER-id.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from identity_bridge.epj import codes
from identity_bridge.epj.apprec import build_apprec
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.model import AppRecError, AppRecParty, AppRecStatus
from identity_bridge.epj.msghead import parse_msghead

from .auth import (
    SCOPE,
    Client,
    Nonces,
    Refused,
    check_resource,
    load_clients,
    load_or_make_server_key,
)
from .store import InboxItem, Store
from .token_endpoint import TokenIssuer, request_url, token_response

TOKEN_PATH = "/connect/token"  # noqa: S105 (a path, not a secret)
STATUS_NAME = {AppRecStatus.OK: "Ok", AppRecStatus.AVVIST: "Rejected",
               AppRecStatus.OK_FEIL_I_DELMELDING: "OkErrorInMessagePart"}


@dataclass(frozen=True)
class NhnSettings:
    port: int
    data_dir: Path
    keys_file: Path
    receivers: frozenset[int]
    host: str = "127.0.0.1"

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class Faults:
    """Switches tests flip through /_dev/faults to misbehave on purpose."""

    unavailable: int = 0  # answer the next N API requests with 503
    slow_after_store_s: float = 0.0  # once: store the message, then wait before answering
    next_receipt: str | None = None  # once: "malformed" (schema-invalid) or "garbage"


@dataclass
class State:
    settings: NhnSettings
    store: Store
    clients: dict[str, Client]
    server_key: ECKey
    nonces: Nonces = field(default_factory=Nonces)
    faults: Faults = field(default_factory=Faults)


def _error(status: int, error: str, *, validation: list[str] | None = None) -> JSONResponse:
    # The real service's ErrorMessage shape.
    return JSONResponse({"error": error, "errorCode": 0, "validationErrors": validation,
                         "stackTrace": None, "requestId": str(uuid.uuid4())}, status_code=status)


def _state(request: Request) -> State:
    state: State = request.app.state.nhn
    return state


async def token(request: Request) -> Response:
    st = _state(request)
    return await token_response(request, TokenIssuer(
        st.settings.issuer, st.server_key, st.clients, st.store, st.nonces, SCOPE))


async def discovery(request: Request) -> Response:
    issuer = _state(request).settings.issuer
    return JSONResponse({"issuer": issuer, "token_endpoint": issuer + TOKEN_PATH,
                         "dpop_signing_alg_values_supported": ["RS256", "ES256", "PS256"],
                         "token_endpoint_auth_methods_supported": ["private_key_jwt"]})


async def _authorize(request: Request) -> Client | Response:
    """Common gate for API requests: faults, then token + proof."""
    st = _state(request)
    if st.faults.unavailable > 0:
        st.faults.unavailable -= 1
        return _error(503, "Service unavailable (simulated)")
    try:
        claims = check_resource(request.headers.get("Authorization"),
                                request.headers.get("DPoP"), request.method, request_url(request),
                                st.server_key, st.settings.issuer, st.store)
    except Refused as exc:
        return Response(status_code=exc.status, headers={
            "WWW-Authenticate": f'DPoP error="{exc.error}", '
                                f'error_description="{exc.description}"'})
    client = st.clients.get(str(claims.get("client_id")))
    if client is None:
        return _error(403, "Unknown client")
    return client


def _forbidden(client: Client, her_ids: list[int]) -> Response | None:
    denied = [h for h in her_ids if client.her_ids and h not in client.her_ids]
    if denied:
        return _error(403, "Not authorized for HerId(s): " + ", ".join(map(str, denied)))
    return None


async def post_message(request: Request) -> Response:
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    try:
        body = await request.json()
        if body.get("contentType") != "application/xml" or \
                body.get("contentTransferEncoding") != "base64":
            return _error(400, "contentType must be application/xml, encoding base64")
        document = base64.b64decode(body["businessDocument"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return _error(400, "Request body is not a PostMessageRequest")
    if not document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>') and \
            not document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>"):
        return _error(400, "The business document must declare UTF-8 on its first line")
    try:
        info = parse_msghead(document)
    except EpjError as exc:
        return _error(400, "Business document is not valid", validation=[exc.code, exc.message])
    if (denied := _forbidden(client, [h for h in [info.sender_her_id] if h])) is not None:
        return denied
    existing = st.store.find(info.msg_id)
    if existing is not None:
        # Same MsgId again (a retry after a lost answer): the same message, stored once.
        st.store.count_delivery(info.msg_id)
        return JSONResponse(existing.nhn_id, status_code=201,
                            headers={"Location": f"/Messages/{existing.nhn_id}"})
    nhn_id = str(uuid.uuid4())
    if info.msg_type != codes.DIALOG_HELSEFAGLIG.v and _answers_itself(st, info.receiver_her_id):
        # The receiver is a client here (an EPJ stand-in, or helseprat for what an EPJ sends
        # it): it fetches the message and answers with its own AppRec.
        st.store.deliver_message(msg_id=info.msg_id, nhn_id=nhn_id, sender_her=info.sender_her_id,
                                 receiver_her=info.receiver_her_id, document=document,
                                 gen_date=info.gen_date)
        return JSONResponse(nhn_id, status_code=201, headers={"Location": f"/Messages/{nhn_id}"})
    known = info.receiver_her_id in st.settings.receivers
    status = AppRecStatus.OK if known else AppRecStatus.AVVIST
    errors = () if known else (AppRecError(codes.E_UNKNOWN_RECEIVER.v,
                                           codes.E_UNKNOWN_RECEIVER.dn,
                                           codes.E_UNKNOWN_RECEIVER.s,
                                           f"HER-id {info.receiver_her_id} er ukjent"),)
    receipt_id = str(uuid.uuid4())
    receipt_doc = _receipt(st.faults, receipt_id, info.msg_id, info.gen_date,
                           info.receiver_her_id or 0, info.sender_her_id or 0, status, errors)
    st.store.store_message(
        msg_id=info.msg_id, nhn_id=nhn_id, sender_her=info.sender_her_id,
        receiver_her=info.receiver_her_id, document=document,
        apprec_status=STATUS_NAME[status],
        apprec_errors=[{"errorCode": e.code, "details": e.detail, "description": e.description,
                        "oid": e.system} for e in errors],
        receipt=InboxItem(
            nhn_id=str(uuid.uuid4()), receiver_her=info.sender_her_id,
            sender_her=info.receiver_her_id, business_document_id=receipt_id,
            gen_date=datetime.now().astimezone().isoformat(timespec="seconds"),
            is_apprec=True, document=receipt_doc, read=False),
    )
    if st.faults.slow_after_store_s > 0:
        delay, st.faults.slow_after_store_s = st.faults.slow_after_store_s, 0.0
        await asyncio.sleep(delay)  # stored, but the answer is late: a crash window
    return JSONResponse(nhn_id, status_code=201, headers={"Location": f"/Messages/{nhn_id}"})


def _answers_itself(st: State, her_id: int | None) -> bool:
    return her_id is not None and any(her_id in c.her_ids for c in st.clients.values())


async def post_apprec(request: Request) -> Response:
    """The receiver's application receipt for a message in its inbox: the service builds
    the AppRec document and puts it in the original sender's inbox."""
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    her_id = int(request.path_params["her_id"])
    if (denied := _forbidden(client, [her_id])) is not None:
        return denied
    item = st.store.inbox_item(request.path_params["id"])
    msg = st.store.by_nhn_id(request.path_params["id"])
    if item is None or msg is None or item.receiver_her != her_id:
        return _error(404, "Could not find database document")
    try:
        body = await request.json()
        status = {v: k for k, v in STATUS_NAME.items()}[body["appRecStatus"]]
        errors = tuple(AppRecError(str(e["errorCode"]), str(e.get("description") or ""),
                                   str(e.get("oid") or ""), str(e.get("details") or ""))
                       for e in body.get("appRecErrorList") or [])
    except (ValueError, KeyError, TypeError, AttributeError):
        return _error(400, "Request body is not a PostAppRecRequest")
    if (status is AppRecStatus.OK) == bool(errors):
        return _error(400, "An OK receipt has no errors; any other has at least one")
    msg_type = codes.DIALOG_HELSEFAGLIG
    gen_date = item.gen_date or ""
    msg_id = msg.msg_id
    with contextlib.suppress(EpjError):
        info = parse_msghead(msg.document)
        msg_type = codes.Code(info.msg_type, info.msg_type)
    receipt_id = str(uuid.uuid4())
    doc = build_apprec(
        apprec_id=receipt_id, generated_at=datetime.now().astimezone(),
        sender=AppRecParty("Mottaker", her_id), receiver=AppRecParty("Avsender", msg.sender_her or 0),
        status=status, errors=errors, original_msg_id=msg_id, original_msg_type=msg_type,
        original_issue_date=gen_date)
    st.store.add_receipt(msg.nhn_id, STATUS_NAME[status],
                         [{"errorCode": e.code, "details": e.detail, "description": e.description,
                           "oid": e.system} for e in errors],
                         InboxItem(nhn_id=str(uuid.uuid4()), receiver_her=msg.sender_her,
                                   sender_her=her_id, business_document_id=receipt_id,
                                   gen_date=datetime.now().astimezone().isoformat(timespec="seconds"),
                                   is_apprec=True, document=doc, read=False))
    return JSONResponse(receipt_id, status_code=201)


def _receipt(faults: Faults, receipt_id: str, msg_id: str, issue_date: str, from_her: int,
             to_her: int, status: AppRecStatus, errors: tuple[AppRecError, ...]) -> bytes:
    mode, faults.next_receipt = faults.next_receipt, None
    if mode == "garbage":
        return b"<AppRec><not-closed>"
    doc = build_apprec(
        apprec_id=receipt_id, generated_at=datetime.now().astimezone(),
        sender=AppRecParty("EPJ (lookalike)", from_her),
        receiver=AppRecParty("Avsender", to_her),
        status=status, errors=errors, original_msg_id=msg_id,
        original_msg_type=codes.DIALOG_HELSEFAGLIG, original_issue_date=issue_date,
    )
    if mode == "malformed":
        # Well-formed, attributable, but schema-invalid: the Status element is gone.
        start = doc.index(b"<Status")
        return doc[:start] + doc[doc.index(b"/>", start) + 2:]
    return doc


async def get_status(request: Request) -> Response:
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    msg = st.store.by_nhn_id(request.path_params["id"])
    if msg is None:
        return _error(404, "Could not find database document")
    return JSONResponse([{"receiverHerId": msg.receiver_her,
                          "transportDeliveryState": "Acknowledged",
                          "appRecStatus": msg.apprec_status}])


async def get_apprec(request: Request) -> Response:
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    msg = st.store.by_nhn_id(request.path_params["id"])
    if msg is None:
        return _error(404, "Could not find database document")
    return JSONResponse([{"receiverHerId": msg.receiver_her, "appRecStatus": msg.apprec_status,
                          "appRecErrorList": msg.apprec_errors or None}])


async def list_messages(request: Request) -> Response:
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    try:
        hers = [int(h) for h in request.query_params.getlist("ReceiverHerIds")]
    except ValueError:
        return _error(400, "ReceiverHerIds must be integers")
    if not hers:
        return _error(400, "ReceiverHerIds is required")
    if (denied := _forbidden(client, hers)) is not None:
        return denied
    meta = request.query_params.get("IncludeMetadata", "false").lower() == "true"
    out: list[dict[str, Any]] = []
    for item in st.store.unread(hers):
        entry: dict[str, Any] = {"id": item.nhn_id, "receiverHerId": item.receiver_her}
        if meta:
            entry.update({"contentType": "application/xml", "senderHerId": item.sender_her,
                          "businessDocumentId": item.business_document_id,
                          "businessDocumentGenDate": item.gen_date,
                          "isAppRec": item.is_apprec})
        out.append(entry)
    return JSONResponse(out)


async def business_document(request: Request) -> Response:
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    item = st.store.inbox_item(request.path_params["id"])
    if item is None:
        return _error(404, "Could not find database document")
    if (denied := _forbidden(client, [item.receiver_her or 0])) is not None:
        return denied
    return JSONResponse({"businessDocument": base64.b64encode(item.document).decode(),
                         "contentType": "application/xml", "contentTransferEncoding": "base64"})


async def mark_read(request: Request) -> Response:
    st = _state(request)
    client = await _authorize(request)
    if isinstance(client, Response):
        return client
    if not st.store.mark_read(request.path_params["id"]):
        return _error(404, "Could not find database document")
    return Response(status_code=204)


# ---- dev controls (loopback only; never part of the real API) ----------------------------


async def dev_faults(request: Request) -> Response:
    faults = _state(request).faults
    body = await request.json()
    faults.unavailable = int(body.get("unavailable", faults.unavailable))
    faults.slow_after_store_s = float(body.get("slow_after_store_s", faults.slow_after_store_s))
    faults.next_receipt = body.get("next_receipt", faults.next_receipt)
    return JSONResponse({"ok": True})


async def dev_messages(request: Request) -> Response:
    return JSONResponse([
        {"msg_id": m.msg_id, "nhn_id": m.nhn_id, "receiver_her_id": m.receiver_her,
         "sender_her_id": m.sender_her, "deliveries": m.deliveries,
         "apprec_status": m.apprec_status,
         "document": base64.b64encode(m.document).decode()}
        for m in _state(request).store.messages()
    ])


def _lifespan(state: State) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.store.close()

    return lifespan


def create_app(settings: NhnSettings) -> Starlette:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = State(
        settings=settings,
        store=Store(settings.data_dir / "nhn.sqlite3"),
        clients=load_clients(settings.keys_file),
        server_key=load_or_make_server_key(settings.data_dir / "server-key.json"),
    )
    app = Starlette(routes=[
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route("/Messages", post_message, methods=["POST"]),
        Route("/Messages", list_messages, methods=["GET"]),
        Route("/Messages/{id}/status", get_status, methods=["GET"]),
        Route("/Messages/{id}/apprec", get_apprec, methods=["GET"]),
        Route("/Messages/{id}/business-document", business_document, methods=["GET"]),
        Route("/Messages/{id}/read/{her_id:int}", mark_read, methods=["PUT"]),
        Route("/Messages/{id}/apprec/{her_id:int}", post_apprec, methods=["POST"]),
        Route("/_dev/faults", dev_faults, methods=["POST"]),
        Route("/_dev/messages", dev_messages, methods=["GET"]),
        Route("/_dev/health", lambda r: JSONResponse({"ok": True}), methods=["GET"]),
    ], lifespan=_lifespan(state))
    app.state.nhn = state
    return app
