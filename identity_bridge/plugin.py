"""The identity bridge as one chat extension (chat/extensions.py): ID-porten login and the
upgrade of a conversation to a logged-in thread, the logged-in youth's devices, and the
journal link. Built by the composition root (chat/app.py) from ``[idporten]`` and ``[epj]``;
absent when ``[idporten]`` is not configured."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from chat.config import Config
from chat.domain.conversation import Conversation
from chat.domain.staff import Nurse
from chat.extensions import NurseSocket
from chat.protocol import commands as c
from chat.web.runtime import Runtime
from identity_bridge.concern import routes as concern_routes
from identity_bridge.concern.config import ConcernSettings, concern_section, parse_concern
from identity_bridge.concern.link import ConcernLink
from identity_bridge.epj.appointment_store import AppointmentStore
from identity_bridge.oidc import RelyingPartyConfig
from identity_bridge.personseal import PersonSealer
from identity_bridge.records import programme as school_programme
from identity_bridge.records import result_routes, vaccine_routes
from identity_bridge.records.config import SysvakSettings, parse_sysvak, sysvak_section
from identity_bridge.records.provesvar import ProvesvarClient
from identity_bridge.records.provesvar_config import (
    ProvesvarSettings,
    parse_provesvar,
    provesvar_section,
)
from identity_bridge.records.sysvak import SysvakClient
from identity_bridge.web import appointment_routes, routes, sockets
from identity_bridge.web.appointments import AppointmentTexts, parse_appointments
from identity_bridge.web.config import EpjLink, parse_epj, parse_idporten, read_person_key
from identity_bridge.web.journal import JournalLink, JournalUnavailable
from identity_bridge.web.proposals import ProposalLink, ProposalNoEpj
from identity_bridge.web.service import IdentityWeb, verified


@dataclass(frozen=True)
class BridgeSettings:
    idporten: RelyingPartyConfig
    person_key: bytes = field(repr=False)  # seals person identifiers at rest
    epj: EpjLink | None  # the journal link, when [epj] is configured
    appointments: AppointmentTexts = field(default_factory=AppointmentTexts)
    concern: ConcernSettings | None = None  # where concern reports go, when [concern] is set
    sysvak: SysvakSettings | None = None  # the immunisation registry, when [sysvak] is set
    provesvar: ProvesvarSettings | None = None  # the test results service, when configured


def bridge_settings(config: Config) -> BridgeSettings | None:
    """The bridge's own sections, parsed once; None without ``[idporten]``."""
    idporten = parse_idporten(config.sections.get("idporten"), config.env,
                              public_url=config.public_url, environment=config.environment)
    epj = parse_epj(config.sections.get("epj"), config.env, base=config.services_file.parent,
                    idporten=idporten)
    if idporten is None:
        return None
    raw, base = concern_section(config.sections, config.env, config.services_file.parent)
    concern = parse_concern(raw, base, config.municipalities)
    raw_sysvak, sysvak_base = sysvak_section(config.sections, config.env,
                                             config.services_file.parent)
    sysvak = parse_sysvak(raw_sysvak, base=sysvak_base)
    raw_provesvar, provesvar_base = provesvar_section(config.sections, config.env,
                                                      config.services_file.parent)
    provesvar = parse_provesvar(raw_provesvar, base=provesvar_base)
    return BridgeSettings(idporten, read_person_key(config.secrets_dir), epj,
                          parse_appointments(config.sections.get("appointments")), concern,
                          sysvak, provesvar)


def create(config: Config) -> IdentityBridge | None:
    settings = bridge_settings(config)
    return None if settings is None else IdentityBridge(config, settings)


class StatusRelay:
    """Journal statuses and proposals' statuses for one dashboard connection (the journal
    link's and the proposal link's watcher)."""

    def __init__(self, sock: NurseSocket) -> None:
        self.sock = sock
        self.conversations: set[str] = set()

    def journal_status(self, frame: str) -> None:
        self.sock.put(frame)

    def appointment_status(self, frame: str) -> None:
        self.sock.put(frame)


class IdentityBridge:
    name = "identity"

    def __init__(self, config: Config, settings: BridgeSettings) -> None:
        self.config = config
        self.settings = settings
        self.runtime: Runtime | None = None  # the process's parts, from start()
        self.web: IdentityWeb | None = None
        self.journal: JournalLink | None = None
        self.appointments: AppointmentStore | None = None
        self.proposals: ProposalLink | None = None
        self.concern: ConcernLink | None = None
        self.sysvak: SysvakClient | None = None  # per page view, nothing kept (records/)
        self.programme = school_programme.load()
        self.results: ProvesvarClient | None = None  # per page view, nothing kept (records/)
        self.person_sealer = PersonSealer(settings.person_key)
        self.relays: dict[int, StatusRelay] = {}  # id(dashboard connection) -> its relay

    @property
    def identity(self) -> IdentityWeb:
        assert self.web is not None, "the bridge is used before the app started"
        return self.web

    @property
    def rt(self) -> Runtime:
        assert self.runtime is not None, "the bridge is used before the app started"
        return self.runtime

    @property
    def appointment_store(self) -> AppointmentStore:
        assert self.appointments is not None, "the bridge is used before the app started"
        return self.appointments

    @property
    def concern_link(self) -> ConcernLink:
        assert self.concern is not None, "the bridge is used before the app started"
        return self.concern

    @property
    def provesvar(self) -> ProvesvarClient | None:
        return self.results

    @property
    def appointment_texts(self) -> AppointmentTexts:
        return self.settings.appointments

    @property
    def epj_receivers(self) -> Mapping[str, int]:
        """Service id -> the HER-id of the EPJ that keeps its appointments ([epj])."""
        return self.settings.epj.receivers if self.settings.epj is not None else {}

    def routes(self) -> Sequence[BaseRoute]:
        return [*routes.routes(self), *appointment_routes.routes(self),
                *concern_routes.routes(self), *vaccine_routes.routes(self),
                *result_routes.routes(self)]

    async def start(self, rt: Runtime) -> None:
        self.runtime = rt
        self.web = IdentityWeb(self.config, self.settings.idporten, self.settings.person_key,
                               rt.actions.links, rt.redis, rt.clock)
        # The worker writes the records (with its retention); the web process reads them and
        # keeps each record's lifetime when it changes one.
        self.appointments = AppointmentStore(rt.redis, PersonSealer(self.settings.person_key),
                                             timedelta(0))
        self.concern = ConcernLink(rt, self.settings.concern, self.settings.person_key)
        if self.settings.sysvak is not None:
            # The page waits for the registry no longer than timeout_s, HelseID included.
            self.sysvak = SysvakClient(self.settings.sysvak, httpx.AsyncClient(
                timeout=self.settings.sysvak.timeout_s))
        if self.settings.provesvar is not None:
            self.results = ProvesvarClient(self.settings.provesvar)
        if self.settings.epj is not None:
            self.journal = JournalLink(rt, self.settings.epj, self.settings.person_key)
            await self.journal.start()
            self.proposals = ProposalLink(rt, self.appointments, self.settings.epj.receivers)
            await self.proposals.start()

    async def stop(self) -> None:
        if self.sysvak is not None:
            await self.sysvak.http.aclose()
        if self.concern is not None:
            await self.concern.aclose()
        if self.results is not None:
            await self.results.aclose()
        if self.journal is not None:
            await self.journal.stop()
        if self.proposals is not None:
            await self.proposals.stop()
        if self.web is not None:
            await self.web.aclose()

    def page_flags(self) -> Mapping[str, bool]:
        return {"login": True}

    def hello_fields(self, nurse: Nurse) -> Mapping[str, object]:
        # The dashboard offers the concern report (or, unlinked, its guidance) in every thread.
        concern = {"concern": {"sendable": sorted(
            s for s in nurse.services if self._concern_receiver(s))}}
        epj = self.settings.epj
        if epj is None:
            return concern
        # The gateway key the nurse's browser seals journal notes to.
        return {**concern, "journal": {
            "services": sorted(s for s in nurse.services if epj.enabled_for(s)),
            "gateway_key": base64.b64encode(epj.gateway_public_key).decode(),
            # The services whose EPJ books appointments: "Foreslå time" is offered there.
            "appointment_services": sorted(s for s in nurse.services if s in epj.receivers),
            # The form's type choice: the services file's appointment types, in nb/nn/en.
            "appointment_types": [{"code": code, "name": dict(text.name)}
                                  for code, text in self.settings.appointments.types.items()]}}

    def _concern_receiver(self, service_id: str) -> bool:
        service = self.config.service(service_id)
        return bool(self.settings.concern and service
                    and service.municipality in self.settings.concern.receivers)

    def verified(self, conv: Conversation) -> dict[str, object] | None:
        return verified(conv.acr, conv.age or "unknown") if conv.acr else None

    async def youth_command(self, ws: WebSocket, cmd: c.Command) -> Conversation | None:
        if isinstance(cmd, c.ResumeSession):
            return await sockets.resume_session(self.rt, self.identity, ws, cmd)
        return None

    async def nurse_command(self, sock: NurseSocket, cmd: c.Command) -> bool:
        if isinstance(cmd, c.Reseal):
            sock.put(await sockets.handle_reseal(self.rt, sock.nurse, cmd))
            return True
        if isinstance(cmd, c.Journal):
            if self.journal is None:
                raise JournalUnavailable()
            sock.put(await self.journal.send(sock.nurse, cmd))
            return True
        if isinstance(cmd, c.ProposeAppointment):
            if self.proposals is None:
                raise ProposalNoEpj()
            sock.put(await self.proposals.propose(sock.nurse, cmd))
            return True
        return False

    async def nurse_opened(self, sock: NurseSocket, conv: Conversation) -> None:
        for frame in await sockets.device_frames(self.rt, conv.id):
            sock.put(frame)
        if self.journal is None:
            return
        relay = self.relays.setdefault(id(sock), StatusRelay(sock))
        self.journal.watch(conv.id, relay)
        relay.conversations.add(conv.id)
        for frame in await self.journal.frames_for(conv.id):
            sock.put(frame)
        if self.proposals is not None:
            self.proposals.watch(conv.id, conv.person_tag, relay)
            for frame in await self.proposals.frames_for(conv.id, conv.person_tag):
                sock.put(frame)

    def nurse_closed(self, sock: NurseSocket) -> None:
        relay = self.relays.pop(id(sock), None)
        if relay is not None and self.journal is not None:
            for cid in relay.conversations:
                self.journal.unwatch(cid, relay)
                if self.proposals is not None:
                    self.proposals.unwatch(cid, relay)

