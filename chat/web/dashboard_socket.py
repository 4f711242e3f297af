"""The dashboard side of a nurse's WebSocket (``chat.web.nurse_socket.NurseEndpoint`` holds one of these).

Besides the queue snapshots the endpoint already sends, a dashboard gets, per service, a
``board`` (risk-flagged conversations pinned for the whole team, who is on duty, the target
wait) each time the service's channel signals a change; conversations a colleague handed to
this nurse open by themselves (``assigned``). Leads may ask for the overview and audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Protocol, cast

from redis.exceptions import RedisError

from chat.actions.fairuse import Load
from chat.actions.transfer import parse_history
from chat.domain.conversation import State
from chat.domain.staff import Nurse, lead_services, require_lead, transfer_targets
from chat.domain.stats import valid_day
from chat.errors import ClientError, NotAuthorized
from chat.fanout.feed import Feed
from chat.fanout.outbox import EncodedOnce, Outbox
from chat.protocol import commands as c
from chat.protocol import events
from chat.web.helpers_socket import HelperSide
from chat.web.runtime import Runtime

if TYPE_CHECKING:
    from chat.domain.conversation import Conversation


class DashboardEndpoint(Protocol):
    """What the dashboard side uses of its nurse connection (chat.web.nurse_socket.NurseEndpoint)."""

    rt: Runtime
    nurse: Nurse
    outbox: Outbox
    feeds: dict[str, Feed]
    conn_id: str

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]: ...

    async def open_conversation(self, conv: Conversation, after: int) -> None: ...

log = logging.getLogger("helseprat.dashboard")

# Dashboards that share a board read are sent one encoding of it (chat/fanout/outbox.py).
BOARDS = EncodedOnce()


class NurseDashboard:
    def __init__(self, ep: DashboardEndpoint) -> None:
        self.ep = ep
        self._dirty: dict[str, int] = {}  # service -> when told of its latest change (a tick)
        self._later: dict[str, list[dict[str, object]]] = {}  # the answer-later lists last sent
        self._task: asyncio.Task[None] | None = None
        self._load: Load | None = None  # the load last sent
        self.helpers = HelperSide(ep)

    @property
    def _dash(self) -> Any:
        return self.ep.rt.actions.dashboard

    # -- lifecycle ------------------------------------------------------------------------------
    async def opened(self) -> None:
        rt, nurse = self.ep.rt, self.ep.nurse
        mine = [s for s in rt.config.services.values() if s.id in nurse.services]
        targets = {t.id: t for s in mine for t in transfer_targets(rt.config, s)}
        members = {u for s in mine for u in s.members}
        names = await self._dash.display_names(members)
        self.ep.outbox.send(events.Dashboard(
            services=[{"id": s.id, "name": s.name,
                       "municipality": rt.config.municipalities[s.municipality].name,
                       "target_wait_s": s.target_wait_seconds,
                       "escalation": rt.config.municipalities[s.municipality].escalation,
                       "members": [{"username": u, "name": names.get(u, u)}
                                   for u in s.members if u != nurse.username]}
                      for s in mine],
            # The page offers a conversation only the services of its own municipality.
            transfer_services=[{"id": s.id, "name": s.name, "municipality": s.municipality}
                               for s in targets.values()],
            lead=bool(self._lead_services()),
        ))
        await self.helpers.check_invitations()
        if await self._dash.duty(nurse, self.ep.conn_id, True):
            for s in sorted(nurse.services):
                await rt.store.publish_queue_changed(s)
        await self.send_load()

    def _lead_services(self) -> list[str]:
        return [s.id for s in lead_services(self.ep.rt.config, self.ep.nurse)]

    async def ping(self) -> None:
        if await self._dash.duty(self.ep.nurse, self.ep.conn_id, True):
            for s in sorted(self.ep.nurse.services):
                await self.ep.rt.store.publish_queue_changed(s)

    async def closed(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(RedisError, OSError):
            if await self._dash.duty(self.ep.nurse, self.ep.conn_id, False):
                for s in sorted(self.ep.nurse.services):
                    await self.ep.rt.store.publish_queue_changed(s)

    # -- live board -----------------------------------------------------------------------------
    def queue_changed(self, service: str) -> None:
        self._dirty[service] = self._dash.tick()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refresh())

    async def _refresh(self) -> None:
        try:
            while self._dirty:
                service = min(self._dirty)
                since = self._dirty.pop(service)
                board = await self._dash.shared_board(service, since)
                self.ep.outbox.put(BOARDS.frame(board, events.Board.of))
                self._send_later(service, await self._dash.shared_later(service, since))
                await self._check_inbox()
                await self.send_load()
                await self.helpers.check_invitations()
        except (RedisError, OSError) as exc:
            self.ep.log.warning("board refresh failed: %s", type(exc).__name__)
        except Exception:
            log.exception("board refresh failed")

    def _send_later(self, service: str, items: list[dict[str, object]]) -> None:
        """The answer-later list, when it is not what this dashboard was last sent."""
        if self._later.get(service) != items:
            self._later[service] = items
            self.ep.outbox.send(events.LaterSnapshot(service=service, items=items))

    async def _check_inbox(self) -> None:
        ep = self.ep
        for cid in await self._dash.take_inbox(ep.nurse):
            if cid in ep.feeds:
                continue
            try:
                conv = await ep.rt.actions.conversation_for(ep.nurse, cid)
            except ClientError:
                continue
            if conv.state != State.ACTIVE or conv.nurse != ep.nurse.username:
                continue
            ep.outbox.send(events.Assigned(conversation=cid, service=conv.service))
            await ep.open_conversation(conv, 0)

    # -- what the endpoint sends --------------------------------------------------------------
    def hello(self, open_ids: list[str]) -> events.Hello:
        """The nurse's first frame; extensions add theirs (the journal link: the gateway key)."""
        config, nurse = self.ep.rt.config, self.ep.nurse
        services: list[dict[str, object]] = [
            {"id": s.id, "name": s.name, "outcomes": list(s.outcomes)}
            for s in config.services.values() if s.id in nurse.services
        ]
        extra = {k: v for ext in self.ep.rt.extensions for k, v in ext.hello_fields(nurse).items()}
        journal, concern = extra.get("journal"), extra.get("concern")
        return events.Hello(nurse=nurse.display_name, role=nurse.role, services=services,
                            open=open_ids, journal=cast(dict[str, object], journal) if journal else None,
                            concern=cast(dict[str, object], concern) if concern else None)

    async def state(self, conv: Conversation, verified: dict[str, object] | None,
                    due: int | None = None) -> events.State:
        """The state frame of a conversation a nurse opens: keys, flag and transfer history
        (and ``due``, when later with an answer owed; the helpers, when there are any)."""
        helpers = None
        if conv.helpers:
            names = await self._dash.display_names(set(conv.helpers))
            helpers = [names.get(u, u) for u in conv.helpers]
        helping = True if self.ep.nurse.username in conv.helpers else None
        return events.State(conversation=conv.id, state=conv.state, service=conv.service,
                            key_bundle=conv.key_bundle, epoch=conv.epoch, nurse=conv.nurse,
                            verified=verified, flag=conv.flag,
                            history=parse_history(conv.history), due=due, helpers=helpers,
                            helping=helping)

    async def send_notes(self, conv: Conversation) -> None:
        for note in await self._dash.notes(conv.id):
            self.ep.outbox.send(events.Note.of(conv.id, note))

    # -- fair use and the nurse's load (docs/queue.md) -------------------------------------------
    async def _fair_use(self, cmd: c.PauseStarts | c.LiftPause | c.StartPauseRequest
                        | c.SetBreak) -> None:
        rt, nurse = self.ep.rt, self.ep.nurse
        a = rt.actions
        match cmd:
            case c.PauseStarts():
                until = await a.pause_starts(nurse, cmd.conversation, cmd.hours)
                self.ep.outbox.send(events.StartPause(conversation=cmd.conversation, until=until))
            case c.LiftPause():
                await a.lift_pause(nurse, cmd.conversation)
                self.ep.outbox.send(events.StartPause(conversation=cmd.conversation, until=None))
            case c.StartPauseRequest():
                ends = await a.start_pause(nurse, cmd.conversation)
                self.ep.outbox.send(events.StartPause(conversation=cmd.conversation, until=ends))
            case c.SetBreak():
                changed = await a.set_break(nurse, cmd.on)
                if not cmd.on:
                    changed = await self._dash.duty(nurse, self.ep.conn_id, True)
                if changed:
                    for s in sorted(nurse.services):
                        await rt.store.publish_queue_changed(s)
                await self.send_load()

    async def send_load(self) -> None:
        """The nurse's load, when it is not what this dashboard was last sent."""
        load = await self.ep.rt.actions.load(self.ep.nurse)
        if load != self._load:
            self._load = load
            self.ep.outbox.send(events.Load(capacity=load.capacity, used=load.used,
                                            on_break=load.on_break))

    # -- commands -------------------------------------------------------------------------------
    async def dispatch(self, cmd: c.DashboardCommand) -> None:
        ep = self.ep
        rt, nurse = ep.rt, ep.nurse
        match cmd:
            case c.Transfer():
                conv = await rt.actions.transfer(nurse, cmd.conversation, cmd.to_service,
                                                 cmd.to_nurse, cmd.key_bundle, cmd.epoch,
                                                 cmd.note)
                ep.outbox.send(events.Transferred(conversation=conv.id, service=conv.service,
                                                  state=conv.state, to_nurse=cmd.to_nurse))
                feed = ep.feeds.pop(conv.id, None)
                if feed is not None and conv.nurse != nurse.username:
                    await rt.hub.unsubscribe(conv.id, feed)
                    await feed.stop()
            case c.Flag():
                conv = await rt.actions.flag(nurse, cmd.conversation, cmd.kind)
                svc = rt.config.service(conv.service)
                escalation = ""
                if cmd.kind == "acute" and svc is not None:
                    escalation = rt.config.municipalities[svc.municipality].escalation
                ep.outbox.send(events.Flagged(conversation=conv.id, flag=cmd.kind,
                                              escalation=escalation))
            case c.QueueRequest():
                if cmd.service not in nurse.services:
                    raise NotAuthorized("You do not staff that service.")
                view = await rt.store.queue_view(cmd.service)
                ep.outbox.send(events.QueueSnapshot(service=view.service, items=list(view.items)))
                ep.outbox.send(events.Board.of(await self._dash.board(cmd.service)))
                items = await self._dash.later_list(cmd.service)
                self._later[cmd.service] = items
                ep.outbox.send(events.LaterSnapshot(service=cmd.service, items=items))
            case c.OverviewRequest():
                require_lead(rt.config, nurse, cmd.service)
                day = cmd.day if cmd.day and valid_day(cmd.day) else self._dash.today(cmd.service)
                figures = await self._dash.overview(cmd.service, day)
                ep.outbox.send(events.Overview(service=cmd.service, day=day,
                                               figures=figures.as_json()))
            case c.PauseStarts() | c.LiftPause() | c.StartPauseRequest() | c.SetBreak():
                await self._fair_use(cmd)
            case c.AuditRequest():
                require_lead(rt.config, nurse, cmd.service)
                entries = await self._dash.audit.read(cmd.service)
                await self._dash.audit.record(cmd.service, nurse.username, "view_audit")
                ep.outbox.send(events.Audit(service=cmd.service,
                                            entries=[e.as_json() for e in entries]))
