"""Answer-later: a youth writes when no one is live (closed, no nurse on duty, or they leave),
a nurse answers later, the youth comes back to read it (docs/architecture.md, docs/queue.md).

The moves: START_LATER (in ``YouthActions.start``), LEAVE_FOR_LATER by the youth, PARK_LATER
by the holder, CLAIM from later (``NurseActions.claim``), and the later sweep's AUTO_CLOSE.
"""

from __future__ import annotations

from chat.actions.base import ActionsBase, log
from chat.config import Service
from chat.domain.conversation import Actor, Conversation, Move, State, check
from chat.domain.later import reply_due
from chat.domain.staff import Nurse
from chat.errors import BadToken, InvalidState, ServiceClosed
from chat.protocol import events
from chat.protocol.events import encode

_ONLY_HOLDER = "Only the nurse who has the conversation can leave it for later."


class LaterActions(ActionsBase):
    async def start_move(self, service: Service) -> Move:
        """START while the service is open and a nurse is on duty; else START_LATER if the
        service takes answer-later messages; else (answer-later off) the old rule: START while
        open, ``service_closed`` while closed."""
        now = self.clock.now()
        is_open = service.hours.is_open(service.local_now(now))
        if not service.answer_later.enabled:
            if not is_open:
                raise ServiceClosed()
            return Move.START
        if is_open and await self.dashboard.data.on_duty(service.id, now):
            return Move.START
        return Move.START_LATER

    def due_of(self, conv: Conversation) -> int | None:
        """When the answer owed in ``conv`` is promised by (None: nothing owed)."""
        service = self.config.service(conv.service)
        if not conv.owed or service is None:
            return None
        return reply_due(conv.owed, service)

    def later_due(self, conv: Conversation) -> int | None:
        """``due`` of a ``state`` frame of ``conv`` as read: set when later and owed."""
        return self.due_of(conv) if conv.state == State.LATER else None

    async def leave_for_later(self, conv: Conversation) -> Conversation:
        """The youth leaves: "answer me later" (from waiting or active)."""
        return await self._to_later(conv.id, Move.LEAVE_FOR_LATER, "")

    async def park_later(self, nurse: Nurse, cid: str) -> Conversation:
        """The holder leaves it for the youth to read and answer; her place is freed."""
        conv = await self.conversation_for(nurse, cid)
        moved = await self._to_later(conv.id, Move.PARK_LATER, nurse.username)
        await self.dashboard.audit.record(conv.service, nurse.username, "later", cid)
        return moved

    async def _to_later(self, cid: str, move: Move, holder: str) -> Conversation:
        for _ in range(5):  # read again while it changes under us (a message, a transfer)
            conv = await self.store.get(cid)
            if conv is None:
                raise BadToken()
            service = self.service(conv.service)
            due = reply_due(conv.owed, service) if conv.owed else None
            frame = encode(events.State(conversation=cid, state=State.LATER, due=due))
            reply = await self.store.leave_for_later(conv, move, holder, self.clock.now(),
                                                     frame)
            if reply.status == 1:
                log.info("left for later", extra={"service": conv.service})
                await self.end_helpers(conv, "left for later")
                return conv
            if reply.status == -1:
                raise BadToken()
            if reply.status == 0 and reply.state is not None:
                actor = Actor.YOUTH if not holder else (
                    Actor.HOLDER if reply.holder else Actor.MEMBER)
                check(move, reply.state, actor, _ONLY_HOLDER if holder else None)
        raise InvalidState()

    async def answered_later(self, conv: Conversation, owed: int, ts: int) -> None:
        """A nurse's message at ``ts`` answered what had waited in the answer-later list since
        ``owed``: count it, and whether it came by the promise, in the week's figures."""
        service = self.service(conv.service)
        due = reply_due(owed, service)
        await self.dashboard.later_answered(conv.service, ts, due is not None and ts <= due)
