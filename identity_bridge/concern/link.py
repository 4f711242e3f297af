"""Send a concern report: the web process's part (one per process, built by the bridge).

The nurse's form arrives over HTTP; the server opens the child's person identifier (sealed
under the person key) for this one step, builds the JSON and the PDF in memory, envelopes
both to the municipality's certificate, and hands them to KS Fiks. Redis keeps only the
report's id and its status history (``c:{cid}:concern``); the audit log says who sent which
report when. Nothing of the form or the identifier is stored or logged.
"""

from __future__ import annotations

import json
import logging
from base64 import b64decode
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from identity_bridge.personseal import PersonSealer
from identity_bridge.web import keys

from .config import ChildWelfare, ConcernSettings
from .envelope import seal
from .errors import ConcernNotConfigured, ConcernNotLinked, ConcernRejected, ConcernUnavailable
from .fiks import FiksClient, StatusEntry
from .form import ConcernForm, Sender, parse_form, report_json
from .pdf import render_pdf

if TYPE_CHECKING:
    from chat.domain.conversation import Conversation
    from chat.domain.staff import Nurse
    from chat.web.runtime import Runtime

log = logging.getLogger("helseprat.concern")

FINAL = frozenset({"feilet", "avsluttet"})  # statuses after which nothing more is asked


@dataclass(frozen=True)
class Report:
    ref: str
    at: int
    statuses: tuple[StatusEntry, ...]
    stale: bool = False  # Fiks could not be asked just now: the history as last seen

    def as_json(self) -> dict[str, object]:
        return {"ref": self.ref, "at": self.at, "stale": self.stale,
                "statuses": [s.as_json() for s in self.statuses]}


def _decode(ref: str, raw: str) -> Report | None:
    try:
        item = json.loads(raw)
        return Report(ref, int(item["at"]), tuple(StatusEntry(str(s), int(t))
                                                  for s, t in item["s"]))
    except (ValueError, KeyError, TypeError):
        return None


class ConcernLink:
    def __init__(self, rt: Runtime, settings: ConcernSettings | None, person_key: bytes) -> None:
        self.rt = rt
        self.settings = settings
        self.sealer = PersonSealer(person_key)
        self.fiks = FiksClient(settings) if settings is not None else None

    async def aclose(self) -> None:
        if self.fiks is not None:
            await self.fiks.aclose()

    def receiver(self, municipality: str) -> ChildWelfare | None:
        return self.settings.receivers.get(municipality) if self.settings else None

    def guidance(self, municipality: str) -> dict[str, object]:
        """The numbers the dashboard's guidance shows (its words are in the page)."""
        m = self.rt.config.municipalities.get(municipality)
        r = self.receiver(municipality)
        return {"municipality": m.name if m else municipality,
                "child_welfare": r.name if r else "", "phone": r.phone if r else "",
                "emergency_phone": r.emergency_phone if r else "",
                "alarmtelefonen": "116 111", "can_send": r is not None}

    async def _conversation(self, nurse: Nurse, cid: str) -> Conversation:
        return await self.rt.actions.conversation_for(nurse, cid)

    # -- the reports of a thread ------------------------------------------------------------
    async def stored(self, cid: str) -> dict[str, Report]:
        raw = cast(dict[str, str], await self.rt.redis.hgetall(  # type: ignore[misc]
            keys.concern_reports(cid)))
        out = {ref: r for ref, v in raw.items() if (r := _decode(ref, v)) is not None}
        return dict(sorted(out.items(), key=lambda kv: kv[1].at))

    async def _save(self, cid: str, report: Report) -> None:
        key = keys.concern_reports(cid)
        value = json.dumps({"at": report.at, "s": [[s.status, s.at] for s in report.statuses]})
        await self.rt.redis.hset(key, report.ref, value)  # type: ignore[misc]
        ttl = await self.rt.actions.links.expires_in(cid)
        if ttl:
            await self.rt.redis.expire(key, ttl)

    async def overview(self, nurse: Nurse, cid: str) -> dict[str, Any]:
        """What the dashboard shows for a thread: linked or not, the guidance, the reports
        with their status history (asked again of Fiks until final)."""
        conv = await self._conversation(nurse, cid)
        reports = []
        for report in (await self.stored(conv.id)).values():
            reports.append((await self._refresh(conv.id, report)).as_json())
        return {"conversation": conv.id, "linked": bool(conv.acr and conv.person_tag),
                "guidance": self.guidance(self._municipality(conv)), "reports": reports}

    async def _refresh(self, cid: str, report: Report) -> Report:
        if self.fiks is None or (report.statuses and report.statuses[-1].status in FINAL):
            return report
        try:
            history = tuple(await self.fiks.status(report.ref))
        except (ConcernUnavailable, ConcernRejected):
            return Report(report.ref, report.at, report.statuses, stale=True)
        if history != report.statuses:
            report = Report(report.ref, report.at, history)
            await self._save(cid, report)
        return report

    def _municipality(self, conv: Conversation) -> str:
        service = self.rt.config.service(conv.service)
        return service.municipality if service is not None else ""

    # -- sending ----------------------------------------------------------------------------
    async def send(self, nurse: Nurse, body: Any) -> tuple[Report, bool]:
        """The report as sent, and whether it is new (False: this ``ref`` was sent before)."""
        form = parse_form(body)
        conv = await self._conversation(nurse, form.conversation)
        known = (await self.stored(conv.id)).get(form.ref)
        if known is not None:  # the same report again (the answer was lost): nothing new
            return known, False
        receiver = self.receiver(self._municipality(conv))
        if not conv.acr or not conv.person_tag:
            raise ConcernNotLinked()
        if receiver is None or self.fiks is None:
            raise ConcernNotConfigured()
        sealed_pid = cast(str | None, await self.rt.redis.hget(  # type: ignore[misc]
            keys.person(conv.person_tag), "pid"))
        if not sealed_pid:
            raise ConcernNotLinked()
        sealed_json, sealed_pdf = self._seal(form, conv, receiver, b64decode(sealed_pid))
        history = await self.fiks.send(form.ref, receiver.kommunenummer, sealed_json,
                                       sealed_pdf)
        report = Report(form.ref, int(self.rt.clock.now()), tuple(history))
        await self._save(conv.id, report)
        await self.rt.actions.dashboard.audit.record(conv.service, nurse.username, "concern",
                                                     conv.id, form.ref)
        log.info("concern report sent ref=%s status=%s", form.ref, history[-1].status)
        return report, True

    def _seal(self, form: ConcernForm, conv: Conversation, receiver: ChildWelfare,
              sealed_pid: bytes) -> tuple[bytes, bytes]:
        service = self.rt.config.service(conv.service)
        municipality = self.rt.config.municipalities.get(receiver.municipality)
        sender = Sender(service.name if service else conv.service,
                        municipality.name if municipality else receiver.municipality,
                        receiver.kommunenummer)
        now = datetime.fromtimestamp(self.rt.clock.now(), UTC)
        pid = self.sealer.open(sealed_pid, conv.person_tag)
        report = report_json(form, pid, sender, now)
        del pid
        body = json.dumps(report, ensure_ascii=False).encode()
        return seal(body, receiver.certificate), seal(render_pdf(report), receiver.certificate)
