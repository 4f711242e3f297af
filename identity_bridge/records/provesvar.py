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

import asyncio
import json
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

    async def _post(self, url: str, form: dict[str, str]) -> tuple[int, bytes | None]:
        """(status, body); body None when it grew past ``MAX_ANSWER`` (read no further)."""
        token = await self.helseid.token()
        proof = dpop_proof(self.settings.key, "POST", url, access_token=token)
        async with self.http.stream("POST", url, data=form, headers={
                "Authorization": f"DPoP {token}", "DPoP": proof,
                "Accept": "application/fhir+json"}) as resp:
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER:
                    return resp.status_code, None
                chunks.append(chunk)
            return resp.status_code, b"".join(chunks)

    async def reports(self, pid: str) -> list[LabReport]:
        """The person's reports; RegistryUnavailable / RegistryMalformed / RegistryOtherPerson."""
        url = self.settings.base_url + "/DiagnosticReport/_search"
        form = {"patient.identifier": f"{FNR_SYSTEM}|{pid}",
                "_include": "DiagnosticReport:result"}
        for attempt in range(2):
            try:
                # The whole call, HelseID included, within the timeout: httpx's own is per
                # read, and a registry trickling bytes would hold the page for ever.
                async with asyncio.timeout(self.settings.timeout_s):
                    status, content = await self._post(url, form)
            except (httpx.HTTPError, EpjError, TimeoutError) as exc:
                log.warning("prøvesvar not reachable: %s", type(exc).__name__)
                raise RegistryUnavailable() from None
            if status == 401 and attempt == 0:
                self.helseid.invalidate()  # a token the server no longer takes: once more
                continue
            break
        if status != 200:
            log.warning("prøvesvar answered %s", status)
            raise RegistryUnavailable()
        if content is None:
            log.warning("prøvesvar answered more than %s bytes", MAX_ANSWER)
            raise RegistryMalformed()
        try:
            body = json.loads(content)
        except ValueError:
            log.warning("prøvesvar answered no JSON")
            raise RegistryMalformed() from None
        try:
            return parse_reports(body, pid)
        except RegistryMalformed:
            log.warning("prøvesvar answered no valid FHIR bundle")
            raise
