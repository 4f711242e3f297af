"""The client of Pasientens prøvesvar (NHN): one FHIR search per page view, nothing kept.

    POST {base}/DiagnosticReport/_search
         form: patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|<pid>,
               _include=DiagnosticReport:result
    Authorization: DPoP <HelseID access token>;  DPoP: <proof with ath>

The search is a POST so the identity number is in the body, never in a URL (URLs end up in
access logs). Authentication is the journal link's HelseID client (client credentials,
private_key_jwt, DPoP with the server's nonce), reused as it is.
"""

from __future__ import annotations

import logging

import httpx

from identity_bridge.epj.dpop import dpop_proof
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.helseid import HelseIdClient

from .errors import RegistryMalformed, RegistryUnavailable
from .fhir import FNR_SYSTEM, LabReport, parse_reports
from .provesvar_config import ProvesvarSettings

log = logging.getLogger("helseprat.records")

MAX_ANSWER = 2_000_000  # bytes; a bigger answer is refused as malformed


class ProvesvarClient:
    def __init__(self, settings: ProvesvarSettings,
                 http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http or httpx.AsyncClient(timeout=settings.timeout_s)
        self.helseid = HelseIdClient(settings.helseid, settings.key, self.http)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def reports(self, pid: str) -> list[LabReport]:
        """The person's reports; RegistryUnavailable / RegistryMalformed / RegistryOtherPerson."""
        url = self.settings.base_url + "/DiagnosticReport/_search"
        form = {"patient.identifier": f"{FNR_SYSTEM}|{pid}",
                "_include": "DiagnosticReport:result"}
        for attempt in range(2):
            try:
                token = await self.helseid.token()
                proof = dpop_proof(self.settings.key, "POST", url, access_token=token)
                resp = await self.http.post(url, data=form, headers={
                    "Authorization": f"DPoP {token}", "DPoP": proof,
                    "Accept": "application/fhir+json"})
            except (httpx.HTTPError, EpjError) as exc:
                log.warning("prøvesvar not reachable: %s", type(exc).__name__)
                raise RegistryUnavailable() from None
            if resp.status_code == 401 and attempt == 0:
                self.helseid.invalidate()  # a token the server no longer takes: once more
                continue
            break
        if resp.status_code != 200:
            log.warning("prøvesvar answered %s", resp.status_code)
            raise RegistryUnavailable()
        if len(resp.content) > MAX_ANSWER:
            raise RegistryMalformed()
        try:
            body = resp.json()
        except ValueError:
            log.warning("prøvesvar answered no JSON")
            raise RegistryMalformed() from None
        try:
            return parse_reports(body, pid)
        except RegistryMalformed:
            log.warning("prøvesvar answered no valid FHIR bundle")
            raise
