"""What every part of the actions layer shares: configuration, the store, the clock, the
dashboard's book-keeping, and the close that the nurse, the youth and the sweep all use."""

from __future__ import annotations

import logging

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
from chat.store.limits import LimitStore
from chat.store.teamkeys import TeamKeys

log = logging.getLogger("helseprat.actions")

_MOVERS = {Move.END_BY_YOUTH: Actor.YOUTH, Move.AUTO_CLOSE: Actor.SYSTEM}


def state_frame(cid: str, state: State, *, service: str | None = None,
                transferred: bool | None = None, nurse: str | None = None,
                outcome: str | None = None) -> str:
    """The ``state`` event a move publishes (encoded once; fan-out forwards the text)."""
    return encode(events.State(conversation=cid, state=state.value, service=service,
                               transferred=transferred, nurse=nurse, outcome=outcome))


class ActionsBase:
    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.teamkeys = TeamKeys(store.redis)
        self.limits = LimitStore(store.redis)
        self.dashboard = Dashboard(config, store, clock)

    def service(self, service_id: str) -> Service:
        service = self.config.service(service_id)
        if service is None:
            raise UnknownService()
        return service

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
