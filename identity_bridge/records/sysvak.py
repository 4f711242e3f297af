"""The SYSVAK client: one person's vaccinations, asked for per page view and kept nowhere.

The request goes with a DPoP-bound HelseID access token (identity_bridge/epj/helseid.py, the
journal link's client) and a DPoP proof over this request. The answer is parsed with a
parser that resolves no entities and loads nothing, checked against the XSD
(xsd/sysvak-standin.xsd), and must name the person asked about: an answer about anyone else
is refused whole. Errors say what went wrong, never what the answer held.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from lxml import etree

from identity_bridge.epj.dpop import dpop_proof
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.helseid import HelseIdClient

from .config import SysvakSettings
from .errors import RegistryMalformed, RegistryOtherPerson, RegistryRefused, RegistryUnavailable

NS = "urn:helseprat:sysvak-standin:v1"
API_PATH = "/sysvak/v1/vaksinasjoner"
MAX_ANSWER = 256 * 1024
_XSD = Path(__file__).with_name("xsd") / "sysvak-standin.xsd"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          load_dtd=False)


@dataclass(frozen=True)
class Vaccination:
    day: date
    atc: str
    product: str
    dose: int


def request_body(pid: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><HentVaksinasjoner xmlns="{NS}">'
            f"<Fodselsnummer>{pid}</Fodselsnummer></HentVaksinasjoner>").encode()


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


_schema: etree.XMLSchema | None = None


def _xsd() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(_XSD), _PARSER))
    return _schema


def parse_answer(body: bytes, pid: str) -> list[Vaccination]:
    """The vaccinations of ``pid``; raises when the answer is not one, or is someone else's."""
    if len(body) > MAX_ANSWER:
        raise RegistryMalformed()
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise RegistryMalformed() from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise RegistryMalformed()  # a registry answer has no DTD: entities are not for us
    try:
        valid = _xsd().validate(root)
    except etree.Error:
        valid = False
    if not valid:
        raise RegistryMalformed()
    named = root.findtext(f"{_q('Pasient')}/{_q('Fodselsnummer')}") or ""
    if not hmac.compare_digest(named.encode(), pid.encode()):
        raise RegistryOtherPerson()
    out = []
    for v in root.iterfind(_q("Vaksinasjon")):
        try:
            out.append(Vaccination(date.fromisoformat(v.findtext(_q("Dato")) or ""),
                                   v.findtext(_q("ATC")) or "", v.findtext(_q("Preparat")) or "",
                                   int(v.findtext(_q("Dose")) or "0")))
        except ValueError:
            raise RegistryMalformed() from None
    return sorted(out, key=lambda x: x.day)


class SysvakClient:
    """One per web process; shares the process's HTTP client and caches only the token."""

    def __init__(self, settings: SysvakSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.helseid = HelseIdClient(settings.helseid, settings.key, http)

    async def vaccinations(self, pid: str) -> list[Vaccination]:
        url = self.settings.url + API_PATH
        for attempt in range(2):
            resp = await self._post(url, pid)
            if resp.status_code == 401 and attempt == 0:
                self.helseid.invalidate()  # an expired or revoked token: one fresh try
                continue
            break
        if resp.status_code >= 500 or resp.status_code == 429:
            raise RegistryUnavailable()
        if resp.status_code != 200:
            raise RegistryRefused()
        return parse_answer(resp.content, pid)

    async def _post(self, url: str, pid: str) -> httpx.Response:
        timeout = self.settings.timeout_s
        try:
            token = await self.helseid.token()
            proof = dpop_proof(self.settings.key, "POST", url, access_token=token)
            return await self.http.post(url, content=request_body(pid), timeout=timeout, headers={
                "Authorization": f"DPoP {token}", "DPoP": proof,
                "Content-Type": "application/xml"})
        except (httpx.HTTPError, EpjError):
            raise RegistryUnavailable() from None
