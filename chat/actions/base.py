"""What every part of the actions layer shares: configuration, the store, the clock, the
dashboard's book-keeping, and the close that the nurse, the youth and the sweep all use."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Protocol

from chat.actions.dashboard import Dashboard
from chat.clock import Clock
from chat.config import Config, Service
from chat.crypto import E2EError, check_bundle_epoch
from chat.domain.conversation import TRANSITIONS, Actor, Conversation, Move, State, check
from chat.domain.staff import Nurse
from chat.errors import (
    BadToken,
    InvalidState,
    KeyBundleRequired,
    NotAuthorized,
    StaleKeyBundle,
    UnknownService,
)
from chat.protocol import events
from chat.protocol.events import encode
from chat.store.conversations import Store
from chat.store.fairuse import FairUseStore
from chat.store.helpers import HelperStore
from chat.store.limits import LimitStore
from chat.store.push import PushStore
from chat.store.teamkeys import TeamKeys

log = logging.getLogger("helseprat.actions")

_MOVERS = {Move.END_BY_YOUTH: Actor.YOUTH, Move.AUTO_CLOSE: Actor.SYSTEM}


class Notices(Protocol):
    """Who is told, out of band (Web Push), that something waits for them. Called after the
    change is stored; a notice never holds up or loses the message (failures are logged)."""

    async def nurse_answered(self, conv: Conversation) -> None:
        """A nurse's message in ``conv`` is stored, and its youth asked to be told (the append
        step reports whether a push subscription exists, so no one else looks)."""

    async def youth_waiting(self, service: str) -> None:
        """A conversation of ``service`` was started (waiting or later)."""


class NoNotices:
    """The default: nobody is told anything out of band."""

    async def nurse_answered(self, conv: Conversation) -> None:
        return None

    async def youth_waiting(self, service: str) -> None:
        return None


def state_frame(cid: str, state: State, *, service: str | None = None,
                transferred: bool | None = None, nurse: str | None = None,
                outcome: str | None = None) -> str:
    """The ``state`` event a move publishes (encoded once; fan-out forwards the text)."""
    return encode(events.State(conversation=cid, state=state.value, service=service,
                               transferred=transferred, nurse=nurse, outcome=outcome))


class ActionsBase:
    def __init__(self, config: Config, store: Store, clock: Clock,
                 notices: Notices | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.notices: Notices = notices or NoNotices()
        self.teamkeys = TeamKeys(store.redis)
        self.limits = LimitStore(store.redis)
        self.dashboard = Dashboard(config, store, clock)
        self.push = PushStore(store.redis, clock)
        self.fair = FairUseStore(store.redis, store.scripts)
        self.helpers = HelperStore(store.redis, store.scripts, sharded=store.split is not None,
                                   reads=store.reads)

    def service(self, service_id: str) -> Service:
        service = self.config.service(service_id)
        if service is None:
            raise UnknownService()
        return service

    async def tell(self, notice: Awaitable[None]) -> None:
        """Run a ``Notices`` call; what goes wrong there is logged, never raised: the change it
        tells of is stored already."""
        try:
            await notice
        except Exception as exc:
            log.warning("notice failed: %s", type(exc).__name__)

    def hour(self) -> int:
        return int(self.clock.now() // 3600)

    async def check_bundle(self, service: str, key_bundle: str, epoch: int) -> None:
        """A service with a team key takes only conversations sealed to its current epoch."""
        current = await self.teamkeys.current_epoch(service)
        if current is None:
            return
        if not key_bundle:
            raise KeyBundleRequired()
        try:
            check_bundle_epoch(epoch, current)
        except E2EError as exc:
            raise StaleKeyBundle(code=exc.code) from None

    async def conversation_for(self, nurse: Nurse, cid: str) -> Conversation:
        conv = await self.store.get(cid)
        if conv is None or conv.service not in nurse.services:
            raise NotAuthorized()
        return conv

    async def end_helpers(self, conv: Conversation, why: str) -> None:
        """The holder's tenure of ``conv`` (as read before the move that ended it) is over:
        its helpers and invitations go (they stopped counting with the move itself) and each
        helper's removal is audited."""
        if not conv.helpers and not conv.invited:
            return
        await self.helpers.clear(conv.id, conv.helpers, conv.invited)
        for helper in conv.helpers:
            await self.dashboard.audit.record(conv.service, helper, "leave", conv.id,
                                              f"removed: {why}")

    async def close_as(self, conv: Conversation, move: Move, outcome: str, holder: str = "",
                       only_if_last: str = "", notice: str = "") -> bool:
        """Close ``conv`` by ``move``; False when it was already closed (or, for the sweep,
        no longer due). ``holder``: the nurse who must have it."""
        service = self.service(conv.service)
        target = TRANSITIONS[move].target
        for _ in range(5):  # read again while it changes hands under us
            fresh = await self.store.get(conv.id)
            if fresh is None:
                raise BadToken()
            if only_if_last and str(fresh.last) != only_if_last:
                return False
            reply = await self.store.close(
                fresh, move, outcome, self.clock.now(), service.retention_seconds,
                state_frame(conv.id, target, outcome=outcome), holder=holder,
                only_if_last=only_if_last, notice=notice)
            if reply.status == 1:
                await self.push.forget_youth(conv.id)  # closed: no more notices
                await self.fair.closed(conv.id)  # no longer open for its token
                await self.end_helpers(fresh, "closed")
                actor = holder or ("system" if move == Move.AUTO_CLOSE else "")
                await self.dashboard.on_closed(fresh, outcome, actor, State(reply.value),
                                               auto=move == Move.AUTO_CLOSE)
                return True
            if reply.status == -1:
                raise BadToken()
            if reply.status == 0 and reply.state is not None:
                if reply.state == State.CLOSED or move == Move.AUTO_CLOSE:
                    return False  # closing what is closed is no error
                mover = _MOVERS.get(move, Actor.HOLDER if reply.holder else Actor.MEMBER)
                check(move, reply.state, mover,
                      "Only the nurse who has the conversation can close it.")
            if only_if_last:
                return False
        raise InvalidState()
