"""The Fiks stand-in's HTTP app (the API shape: identity_bridge/concern/fiks.py).

On each report it checks the integration's headers, reads the unencrypted metadata, opens
both CMS parts with the municipality's private key, validates the JSON (its id and
kommunenummer must equal the metadata's, the child's fødselsnummer 11 digits, the fields the
form requires) and that the PDF is one; then answers with the status history: ``MOTTATT``
(received), at once followed by ``LEVERT`` (handed to the municipality's child welfare
system) unless told to hold. Refusals are 400 ``{feilkode, melding}``.

Control API (loopback, not Fiks's): ``GET /_dev/health``, ``GET /_dev/reports`` (what arrived,
decrypted, for tests), ``POST /_dev/mode {hold}``, ``POST /_dev/advance {id, status}``.
State is in memory: a restart forgets it.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from identity_bridge.concern.envelope import load_certificate, open_sealed

log = logging.getLogger("devservices.fiks")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FNR = re.compile(r"^[0-9]{11}$")
BASE = "/bekymringsmelding/api/v2/{integration}/bekymringsmeldinger"


@dataclass(frozen=True)
class Municipality:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey = field(repr=False)


@dataclass(frozen=True)
class FiksSettings:
    integration_id: str
    password: str = field(repr=False)
    municipalities: dict[str, Municipality] = field(default_factory=dict)


def load_settings(path: Path) -> FiksSettings:
    raw = json.loads(path.read_text())
    base = path.parent
    out = {}
    for nummer, entry in raw["municipalities"].items():
        key = serialization.load_pem_private_key((base / entry["key_file"]).read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        out[nummer] = Municipality(load_certificate((base / entry["certificate_file"]).read_bytes()),
                                   key)
    return FiksSettings(raw["integration_id"], (base / raw["password_file"]).read_text().strip(),
                        out)


class Refused(Exception):
    def __init__(self, code: str, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.code, self.text, self.status = code, text, status


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Received:
    report: dict[str, Any]
    pdf: bytes
    kommunenummer: str
    statuses: list[dict[str, str]]


def validate_report(report: Any, ref: str, kommunenummer: str) -> None:
    """What the stand-in insists on in the structured part."""
    try:
        ok = (report["id"] == ref and report["kommunenummer"] == kommunenummer
              and _FNR.fullmatch(report["barn"]["fodselsnummer"]) is not None
              and len(report["bekymring"]["kategorier"]) > 0
              and bool(report["bekymring"]["beskrivelse"].strip())
              and report["bekymring"]["hastegrad"]["kode"] in ("normal", "urgent")
              and isinstance(report["bekymring"]["ungdommen_kjenner_til_meldingen"], bool)
              and all(report["melder"][k].strip() for k in ("navn", "rolle", "telefon")))
    except (KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise Refused("UGYLDIG_MELDING", "the structured report is not valid")


class FiksStandin:
    def __init__(self, settings: FiksSettings) -> None:
        self.settings = settings
        self.reports: dict[str, Received] = {}
        self.hold = False

    def check_auth(self, request: Request) -> None:
        s = self.settings
        given_id = request.headers.get("integrasjonid", "")
        given_pw = request.headers.get("integrasjonpassord", "")
        if (request.path_params["integration"] != s.integration_id or given_id != s.integration_id
                or not hmac.compare_digest(given_pw.encode(), s.password.encode())):
            raise Refused("IKKE_AUTORISERT", "unknown integration or wrong password", 401)

    def history(self, ref: str) -> dict[str, Any]:
        return {"id": ref, "statuser": self.reports[ref].statuses}

    async def _part(self, form: Any, name: str) -> bytes:
        part = form.get(name)
        if not isinstance(part, UploadFile):
            raise Refused("MANGLER_DEL", f"part {name} is missing")
        data = await part.read()
        if not data:
            raise Refused("MANGLER_DEL", f"part {name} is empty")
        return data

    async def receive(self, request: Request) -> tuple[dict[str, Any], int]:
        # Read the upload before any refusal: answering mid-upload resets the client's
        # connection, and the client would take a refusal for Fiks being down.
        await request.body()
        self.check_auth(request)
        async with request.form(max_files=3, max_fields=1, max_part_size=4 * 1024 * 1024) as form:
            try:
                meta = json.loads(await self._part(form, "metadata"))
                ref, nummer = str(meta["id"]), str(meta["kommunenummer"])
            except (ValueError, KeyError, TypeError):
                raise Refused("UGYLDIG_METADATA", "metadata is not {id, kommunenummer}") from None
            if not _UUID.fullmatch(ref):
                raise Refused("UGYLDIG_METADATA", "id is not a UUID")
            if ref in self.reports:  # the same report again: received once
                return self.history(ref), 200
            municipality = self.settings.municipalities.get(nummer)
            if municipality is None:
                raise Refused("UKJENT_KOMMUNE", "no child welfare receiver for that number")
            sealed_json = await self._part(form, "bekymringsmelding.json")
            sealed_pdf = await self._part(form, "bekymringsmelding.pdf")
        try:
            report = json.loads(open_sealed(sealed_json, municipality.certificate, municipality.key))
            pdf = open_sealed(sealed_pdf, municipality.certificate, municipality.key)
        except ValueError:
            raise Refused("DEKRYPTERING_FEILET", "a part does not open with the municipality's key") \
                from None
        validate_report(report, ref, nummer)
        if not pdf.startswith(b"%PDF-"):
            raise Refused("UGYLDIG_PDF", "the PDF part is not a PDF")
        statuses = [{"status": "MOTTATT", "tidspunkt": _now()}]
        if not self.hold:
            statuses.append({"status": "LEVERT", "tidspunkt": _now()})
        self.reports[ref] = Received(report, pdf, nummer, statuses)
        log.info("report received id=%s kommunenummer=%s", ref, nummer)
        return self.history(ref), 201


def create_app(settings: FiksSettings) -> Starlette:
    standin = FiksStandin(settings)

    def refused(err: Refused) -> JSONResponse:
        return JSONResponse({"feilkode": err.code, "melding": err.text}, status_code=err.status)

    async def send(request: Request) -> Response:
        try:
            body, status = await standin.receive(request)
        except Refused as err:
            log.info("report refused: %s", err.code)
            return refused(err)
        return JSONResponse(body, status_code=status)

    async def status(request: Request) -> Response:
        try:
            standin.check_auth(request)
        except Refused as err:
            return refused(err)
        ref = request.path_params["ref"]
        if ref not in standin.reports:
            return refused(Refused("IKKE_FUNNET", "no such report", 404))
        return JSONResponse(standin.history(ref))

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def reports(request: Request) -> Response:
        return JSONResponse({ref: {"report": r.report, "kommunenummer": r.kommunenummer,
                                   "pdf": base64.b64encode(r.pdf).decode(),
                                   "statuser": r.statuses}
                             for ref, r in standin.reports.items()})

    async def mode(request: Request) -> Response:
        standin.hold = bool((await request.json()).get("hold", False))
        return JSONResponse({"hold": standin.hold})

    async def advance(request: Request) -> Response:
        body = await request.json()
        standin.reports[body["id"]].statuses.append({"status": str(body["status"]).upper(),
                                                     "tidspunkt": _now()})
        return JSONResponse(standin.history(body["id"]))

    return Starlette(routes=[
        Route(BASE, send, methods=["POST"]),
        Route(BASE + "/{ref}/status", status, methods=["GET"]),
        Route("/_dev/health", health),
        Route("/_dev/reports", reports),
        Route("/_dev/mode", mode, methods=["POST"]),
        Route("/_dev/advance", advance, methods=["POST"]),
    ])
