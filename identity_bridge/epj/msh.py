"""Client for NHN's message service REST API ("Meldingstjener", EDI 2.0, API version 2).

Endpoints used (paths and shapes from the published OpenAPI spec, msh-api-v2.json):
  POST /Messages                          {businessDocument (base64), contentType,
                                           contentTransferEncoding} -> 201 "<message id>"
  GET  /Messages/{id}/status              [{receiverHerId, transportDeliveryState, appRecStatus}]
  GET  /Messages/{id}/apprec              [{receiverHerId, appRecStatus, appRecErrorList}]
  GET  /Messages?ReceiverHerIds=..&IncludeMetadata=true   unread incoming messages
  GET  /Messages/{id}/business-document   {businessDocument (base64), contentType, ...}
  PUT  /Messages/{id}/read/{herId}        204
  POST /Messages/{id}/apprec/{herId}      {appRecStatus, appRecErrorList} -> 201: our receipt
Every request carries ``api-version: 2``, ``nhn-source-system``, ``Authorization: DPoP <at>``
and a DPoP proof bound to the method, URL and token (``ath``).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .dpop import dpop_proof
from .errors import HttpStatusError, MessageInvalid, TransportError
from .helseid import HelseIdClient
from .keys import ClientKey
from .model import AppRecError, AppRecStatus

API_VERSION = "2"
CONTENT_TYPE = "application/xml"
TRANSFER_ENCODING = "base64"
# The API's names of AppRec statuses (kodeverk 8258).
APPREC_STATUS_NAME = {AppRecStatus.OK: "Ok", AppRecStatus.AVVIST: "Rejected",
                      AppRecStatus.OK_FEIL_I_DELMELDING: "OkErrorInMessagePart"}


@dataclass(frozen=True)
class MshSettings:
    base_url: str
    source_system: str = "helseprat"


@dataclass(frozen=True)
class StatusInfo:
    receiver_her_id: int
    delivery_state: str  # Unconfirmed | Acknowledged | Rejected
    apprec_status: str | None  # Ok | Rejected | OkErrorInMessagePart | None


@dataclass(frozen=True)
class IncomingMessage:
    id: str
    receiver_her_id: int | None
    sender_her_id: int | None
    business_document_id: str | None
    is_apprec: bool


def _bad(what: str) -> MessageInvalid:
    return MessageInvalid(f"message service answer is malformed: {what}",
                          code="epj.msh.bad_response")


class MshClient:
    def __init__(
        self,
        settings: MshSettings,
        helseid: HelseIdClient,
        key: ClientKey,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._helseid = helseid
        self._key = key
        self._http = http
        self._now = now
        self._nonce: str | None = None

    async def _request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        url = self._settings.base_url.rstrip("/") + path
        token = await self._helseid.token()
        refreshed = False
        for _ in range(3):
            headers = {
                "api-version": API_VERSION,
                "nhn-source-system": self._settings.source_system,
                "Authorization": f"DPoP {token}",
                "DPoP": dpop_proof(self._key, method, url, nonce=self._nonce,
                                   access_token=token, now=self._now),
            }
            try:
                resp = await self._http.request(method, url, json=json, params=params,
                                                headers=headers)
            except httpx.HTTPError:
                raise TransportError("the message service is not reachable") from None
            if resp.status_code == 401:
                challenge = resp.headers.get("WWW-Authenticate", "")
                if "use_dpop_nonce" in challenge and resp.headers.get("DPoP-Nonce"):
                    self._nonce = resp.headers["DPoP-Nonce"]
                    continue
                if not refreshed:
                    # Expired or revoked token: one fresh token, then give up.
                    self._helseid.invalidate()
                    token = await self._helseid.token()
                    refreshed = True
                    continue
            if resp.status_code >= 500 or resp.status_code in (408, 429):
                raise TransportError(f"the message service answered {resp.status_code}")
            if resp.status_code >= 400:
                raise HttpStatusError(f"the message service refused: {resp.status_code}",
                                      status=resp.status_code)
            return resp
        raise TransportError("the message service kept refusing the proof")

    async def send_message(self, business_document: bytes) -> str:
        body = {
            "businessDocument": base64.b64encode(business_document).decode(),
            "contentType": CONTENT_TYPE,
            "contentTransferEncoding": TRANSFER_ENCODING,
        }
        resp = await self._request("POST", "/Messages", json=body)
        if resp.status_code != 201:
            raise _bad(f"POST /Messages answered {resp.status_code}")
        value = resp.text.strip().strip('"')
        if not value:
            raise _bad("no message id")
        return value

    async def get_status(self, message_id: str) -> list[StatusInfo]:
        resp = await self._request("GET", f"/Messages/{message_id}/status")
        out = []
        for item in _list(resp):
            try:
                out.append(StatusInfo(int(item["receiverHerId"]),
                                      str(item["transportDeliveryState"]),
                                      item.get("appRecStatus")))
            except (KeyError, TypeError, ValueError):
                raise _bad("status item") from None
        return out

    async def list_incoming(self, receiver_her_id: int) -> list[IncomingMessage]:
        params = {"ReceiverHerIds": str(receiver_her_id), "IncludeMetadata": "true"}
        resp = await self._request("GET", "/Messages", params=params)
        out = []
        for item in _list(resp):
            if not isinstance(item.get("id"), str):
                raise _bad("message without id")
            out.append(IncomingMessage(
                id=item["id"],
                receiver_her_id=_opt_int(item.get("receiverHerId")),
                sender_her_id=_opt_int(item.get("senderHerId")),
                business_document_id=item.get("businessDocumentId"),
                is_apprec=bool(item.get("isAppRec")),
            ))
        return out

    async def get_business_document(self, message_id: str) -> bytes:
        resp = await self._request("GET", f"/Messages/{message_id}/business-document")
        body = _obj(resp)
        if body.get("contentTransferEncoding") != TRANSFER_ENCODING:
            raise _bad("unsupported contentTransferEncoding")
        try:
            return base64.b64decode(str(body.get("businessDocument", "")), validate=True)
        except (binascii.Error, ValueError):
            raise _bad("businessDocument is not base64") from None

    async def post_apprec(self, message_id: str, sender_her_id: int, status: AppRecStatus,
                          errors: tuple[AppRecError, ...] = ()) -> None:
        """Answer a received message with an application receipt: the service builds the
        AppRec 1.0 document from the original and sends it back to its sender."""
        body = {
            "appRecStatus": APPREC_STATUS_NAME[status],
            "appRecErrorList": [{"errorCode": e.code, "details": e.detail,
                                 "description": e.description, "oid": e.system}
                                for e in errors] or None,
        }
        await self._request("POST", f"/Messages/{message_id}/apprec/{sender_her_id}", json=body)

    async def mark_read(self, message_id: str, her_id: int) -> None:
        await self._request("PUT", f"/Messages/{message_id}/read/{her_id}")


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _list(resp: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = resp.json()
    except ValueError:
        raise _bad("not JSON") from None
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise _bad("expected a list of objects")
    return body


def _obj(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        raise _bad("not JSON") from None
    if not isinstance(body, dict):
        raise _bad("expected an object")
    return body
