"""A client of the KS Fiks bekymringsmelding API as the stand-in serves it (what is known and
what is guessed of the real API: docs/concern-report.md).

    POST /bekymringsmelding/api/v2/{integrasjonId}/bekymringsmeldinger     (multipart)
         metadata                 JSON {id, kommunenummer}: no personal data
         bekymringsmelding.json   CMS EnvelopedData (DER) of the structured report
         bekymringsmelding.pdf    CMS EnvelopedData (DER) of the PDF
         -> 201 (or 200 for an id already received) {id, statuser: [{status, tidspunkt}]}
    GET  /bekymringsmelding/api/v2/{integrasjonId}/bekymringsmeldinger/{id}/status
         -> 200 {id, statuser: [...]}

Every request carries ``IntegrasjonId`` and ``IntegrasjonPassord``. The report's id is the
browser's UUID, so sending the same report again after a lost answer is received once.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from .config import ConcernSettings
from .errors import ConcernRejected, ConcernUnavailable

log = logging.getLogger("helseprat.concern")

_STATUS = re.compile(r"^[A-Z_]{1,32}$")
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class StatusEntry:
    status: str  # lower case: mottatt, levert, feilet, ...
    at: int  # seconds since the epoch

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "at": self.at}


def parse_history(body: Any, ref: str) -> list[StatusEntry]:
    """Fiks's ``statuser``, oldest first; anything else is a bad answer (``concern_rejected``)."""
    try:
        if body["id"] != ref:
            raise ValueError("another report's id")
        out = []
        for item in body["statuser"]:
            status = str(item["status"])
            if not _STATUS.fullmatch(status):
                raise ValueError("status")
            out.append(StatusEntry(status.lower(), int(datetime.fromisoformat(
                str(item["tidspunkt"])).timestamp())))
    except (KeyError, TypeError, ValueError):
        raise ConcernRejected("KS Fiks answered with something that is not a status.") from None
    if not out:
        raise ConcernRejected("KS Fiks answered without a status.")
    return sorted(out, key=lambda e: e.at)


class FiksClient:
    def __init__(self, settings: ConcernSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = client or httpx.AsyncClient(timeout=TIMEOUT)
        self.base = (f"{settings.fiks_url}/bekymringsmelding/api/v2/"
                     f"{settings.integration_id}/bekymringsmeldinger")

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def headers(self) -> dict[str, str]:
        return {"IntegrasjonId": self.settings.integration_id,
                "IntegrasjonPassord": self.settings.integration_password}

    async def _call(self, method: str, url: str, **kw: Any) -> Any:
        try:
            resp = await self.http.request(method, url, headers=self.headers, **kw)
        except httpx.HTTPError as exc:
            log.warning("fiks unreachable: %s", type(exc).__name__)
            raise ConcernUnavailable() from None
        if resp.status_code >= 500:
            log.warning("fiks answered %s", resp.status_code)
            raise ConcernUnavailable()
        if resp.status_code >= 400:
            code = _refusal_code(resp)
            log.warning("fiks refused the report: %s %s", resp.status_code, code)
            raise ConcernRejected(f"KS Fiks refused the report ({code}).")
        try:
            return resp.json()
        except ValueError:
            raise ConcernRejected("KS Fiks answered with something that is not JSON.") from None

    async def send(self, ref: str, kommunenummer: str, sealed_json: bytes,
                   sealed_pdf: bytes) -> list[StatusEntry]:
        meta = json.dumps({"id": ref, "kommunenummer": kommunenummer}).encode()
        files = {
            "metadata": ("metadata.json", meta, "application/json"),
            "bekymringsmelding.json": ("bekymringsmelding.json.p7m", sealed_json,
                                       "application/pkcs7-mime"),
            "bekymringsmelding.pdf": ("bekymringsmelding.pdf.p7m", sealed_pdf,
                                      "application/pkcs7-mime"),
        }
        return parse_history(await self._call("POST", self.base, files=files), ref)

    async def status(self, ref: str) -> list[StatusEntry]:
        return parse_history(await self._call("GET", f"{self.base}/{ref}/status"), ref)


def _refusal_code(resp: httpx.Response) -> str:
    """Fiks's own error code, if it is a plain code (never its free text, which could quote
    what was sent)."""
    try:
        code = str(resp.json().get("feilkode", ""))
    except (ValueError, AttributeError):
        code = ""
    return code if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", code) else f"http_{resp.status_code}"
