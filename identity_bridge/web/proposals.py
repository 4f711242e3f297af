"""A nurse proposes a time: the web process's part of the dashboard flow.

    nurse frame  propose_appointment {conversation, proposal_id, start, minutes, place, type_code}
    reply        appointment_status {conversation, proposal_id, status: "proposed", start, place}
    live         appointment_status {conversation, proposal_id, status}   (youth or worker)

Only the nurse who has the conversation, only in a thread the youth linked to an ID-porten
login (the person's tag is on the conversation), only for a service whose EPJ is configured.
The proposal becomes one of the youth's appointment records (``proposed``), sealed under the
person key like the EPJ's; the dashboard's ``c:{cid}:appt`` (list of proposal ids, the
conversation's lifetime) lets a dashboard that opens the thread later see how each stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, cast

from redis.exceptions import RedisError

from chat.errors import ClientError, NotAuthorized
from chat.protocol import commands as c
from chat.protocol import events
from chat.protocol.events import encode
from identity_bridge.epj.appointment_record import AppointmentRecord, AppointmentState
from identity_bridge.epj.appointment_store import PROPOSAL_CHANNEL, AppointmentStore
from identity_bridge.epj.ical import OSLO
from identity_bridge.epj.proposal import (
    ProposalInvalid,
    check_proposal,
    proposal_id_of,
    proposed_record,
)

from . import keys

if TYPE_CHECKING:
    from chat.domain.staff import Nurse
    from chat.web.runtime import Runtime

log = logging.getLogger("helseprat.appointments")

STATUSES = frozenset({AppointmentState.PROPOSED, AppointmentState.BOOKING_SENT,
                      AppointmentState.BOOKED, AppointmentState.PROPOSAL_DECLINED,
                      AppointmentState.BOOKING_REFUSED})
CATEGORY_OF_KIND = {"school": "4", "clinic": "6"}  # Volven 7619


class ProposalRefused(ClientError):
    """Raised with the rule's own code (proposal.py): ``proposal_in_past``, ``…_bad_time``,
    ``…_bad_duration``, ``…_bad_place``."""

    code = "proposal_bad_time"
    message = "The proposal was refused."


class ProposalNotLinked(ClientError):
    code = "proposal_not_linked"
    message = "Only a thread where the youth logged in with ID-porten can get a proposed time."


class ProposalNoEpj(ClientError):
    code = "proposal_no_epj"
    message = "This service has no EPJ connection to book appointments with."


def proposals_key(cid: str) -> str:
    return f"c:{{{cid}}}:appt"


def status_frame(cid: str, record: AppointmentRecord | None, proposal_id: str, status: str,
                 ) -> str:
    start = place = None
    if record is not None:
        start = record.start.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")
        place = record.location
    return encode(events.AppointmentStatus(conversation=cid, proposal_id=proposal_id,
                                           status=status, start=start, place=place))


class StatusWatcher(Protocol):
    def appointment_status(self, frame: str) -> None: ...


class ProposalLink:
    """One per web process (built by the bridge's start)."""

    def __init__(self, rt: Runtime, store: AppointmentStore,
                 receivers: Mapping[str, int]) -> None:
        self.rt = rt
        self.store = store
        self.receivers = receivers  # service id -> its EPJ's HER-id
        self._watchers: dict[str, set[StatusWatcher]] = {}
        self._tags: dict[str, str] = {}  # watched conversation -> its person's tag
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.rt.hub.listen(PROPOSAL_CHANNEL, self)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def propose(self, nurse: Nurse, cmd: c.ProposeAppointment) -> str:
        rt = self.rt
        conv = await rt.actions.conversation_for(nurse, cmd.conversation)
        if conv.nurse != nurse.username:
            raise NotAuthorized("Only the nurse who has the conversation can propose a time.")
        her = self.receivers.get(conv.service)
        if her is None:
            raise ProposalNoEpj()
        tag = conv.person_tag
        if not conv.acr or not tag or not await rt.redis.hexists(  # type: ignore[misc]
                keys.person(tag), "pid"):
            raise ProposalNotLinked()
        now = datetime.fromtimestamp(rt.clock.now(), UTC)
        try:
            proposal = check_proposal(proposal_id=cmd.proposal_id, start=cmd.start,
                                      minutes=cmd.minutes, place=cmd.place,
                                      type_code=cmd.type_code, who=nurse.display_name, now=now)
        except ProposalInvalid as exc:
            raise ProposalRefused(str(exc), code=exc.code) from None
        aid = self.store.appointment_id(her, proposal.uid)
        existing = await self.store.get(tag, aid)
        if existing is not None:  # the same proposal again (a resend after a reconnect)
            if existing.conversation != conv.id:
                raise NotAuthorized()
            return status_frame(conv.id, existing, cmd.proposal_id, existing.state.value)
        service = rt.config.services.get(conv.service)
        record = proposed_record(
            proposal, aid=aid, epj_her=her, conversation=conv.id, now=now,
            service_category=CATEGORY_OF_KIND.get(service.kind if service else "", ""),
            summary=service.name if service else "")
        await self.store.put(tag, record)
        pkey = proposals_key(conv.id)
        await rt.redis.rpush(pkey, json.dumps({"p": cmd.proposal_id, "a": aid}))  # type: ignore[misc]
        ttl = await rt.actions.links.expires_in(conv.id)
        if ttl:
            await rt.redis.expire(pkey, ttl)
        await rt.actions.dashboard.audit.record(conv.service, nurse.username,
                                                "propose_appointment", conv.id)
        log.info("appointment proposed")
        return status_frame(conv.id, record, cmd.proposal_id, record.state.value)

    async def frames_for(self, cid: str, tag: str) -> list[str]:
        """How the thread's proposals stand, for a dashboard opening it."""
        if not tag:
            return []
        out = []
        for raw in cast(list[str], await self.rt.redis.lrange(proposals_key(cid), 0, -1)):
            try:
                item = json.loads(raw)
                pid, aid = str(item["p"]), str(item["a"])
            except (ValueError, KeyError, TypeError):
                continue
            record = await self.store.get(tag, aid)
            status = record.state.value if record is not None else "expired"
            if record is not None and proposal_id_of(record) != pid:
                continue
            out.append(status_frame(cid, record, pid, status))
        return out

    # -- live (the youth's answer, the EPJ's), through the hub's one pub/sub connection -------
    def watch(self, cid: str, tag: str, watcher: StatusWatcher) -> None:
        self._watchers.setdefault(cid, set()).add(watcher)
        self._tags[cid] = tag

    def unwatch(self, cid: str, watcher: StatusWatcher) -> None:
        ws = self._watchers.get(cid)
        if ws is not None:
            ws.discard(watcher)
            if not ws:
                del self._watchers[cid]
                self._tags.pop(cid, None)

    def message(self, data: str) -> None:
        try:
            change = json.loads(data)
            cid, pid, status = change["conversation"], change["proposal_id"], change["status"]
        except (ValueError, KeyError, TypeError):
            return
        watchers = self._watchers.get(cid) if isinstance(cid, str) else None
        if not watchers or status not in STATUSES or not isinstance(pid, str):
            return
        frame = status_frame(cid, None, pid, status)
        for w in tuple(watchers):
            w.appointment_status(frame)

    def resync(self) -> None:
        """The pub/sub connection came back: re-read what may have been missed."""
        task = asyncio.create_task(self._resend_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resend_all(self) -> None:
        for cid, watchers in list(self._watchers.items()):
            try:
                frames = await self.frames_for(cid, self._tags.get(cid, ""))
            except (RedisError, OSError):
                return
            for frame in frames:
                for w in tuple(watchers):
                    w.appointment_status(frame)
