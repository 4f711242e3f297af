"""What a nurse does with a conversation: claim, release, close, re-key, flag."""

from __future__ import annotations

from chat.actions.base import ActionsBase, log, state_frame
from chat.domain.conversation import (
    AUTO_CLOSE_OUTCOME,
    TRANSITIONS,
    Actor,
    Conversation,
    Move,
    State,
    check,
)
from chat.domain.staff import Nurse, lead_services
from chat.errors import (
    AlreadyClaimed,
    BadOutcome,
    CapacityReached,
    ConversationClosed,
    InvalidState,
    NotAuthorized,
    OnBreak,
    StaleKeyBundle,
)

_NOT_HOLDER = "Only the nurse who has the conversation can {} it."


class NurseActions(ActionsBase):
    async def claim(self, nurse: Nurse, cid: str) -> Conversation:
        """Claim a waiting (or later) conversation: state, slot, queue (or answer-later list)
        and active set in one step."""
        conv = await self.conversation_for(nurse, cid)
        service = self.service(conv.service)
        if await self.dashboard.breaks.on_break(nurse.username):
            raise OnBreak()
        frame = state_frame(cid, TRANSITIONS[Move.CLAIM].target, nurse=nurse.display_name)
        reply = await self.store.claim(conv, nurse.username, service.max_chats_per_nurse,
                                       self.clock.now(), frame)
        if reply.status == 0 and reply.state is not None:
            check(Move.CLAIM, reply.state, Actor.MEMBER)
        if reply.status == -1:
            raise NotAuthorized()
        if reply.status == -3:
            raise CapacityReached()
        if reply.status != 1:
            raise AlreadyClaimed()  # claimed and moved on to another service meanwhile
        waited = float(reply.value or 0)
        # A wait in the answer-later list is not a wait in the live queue: no claim sample.
        await self.dashboard.on_claimed(nurse, conv, waited,
                                        live=reply.came_from != State.LATER)
        log.info("claimed", extra={"service": conv.service})
        return await self.fresh(cid)

    async def release(self, nurse: Nurse, cid: str) -> None:
        conv = await self.conversation_for(nurse, cid)
        reply = await self.store.release(conv, nurse.username,
                                         state_frame(cid, TRANSITIONS[Move.RELEASE].target))
        if reply.status != 1:
            if reply.state is not None:
                check(Move.RELEASE, reply.state, Actor.HOLDER if reply.holder else Actor.MEMBER,
                      _NOT_HOLDER.format("release"))
            raise NotAuthorized(_NOT_HOLDER.format("release"))
        await self.end_helpers(conv, "released")
        await self.dashboard.on_released(nurse, conv)

    async def close(self, nurse: Nurse, cid: str, outcome: str) -> None:
        conv = await self.conversation_for(nurse, cid)
        if outcome not in self.service(conv.service).outcomes:
            raise BadOutcome()
        await self.close_as(conv, Move.CLOSE_BY_NURSE, outcome, holder=nurse.username)

    async def auto_close(self, conv: Conversation, last: str, notice: str) -> bool:
        """The inactivity sweep's close: only if nothing happened since it looked at ``last``."""
        return await self.close_as(conv, Move.AUTO_CLOSE, AUTO_CLOSE_OUTCOME,
                                   only_if_last=last, notice=notice)

    async def rekey(self, nurse: Nurse, cid: str, key_bundle: str, epoch: int) -> None:
        """Store a conversation key re-sealed (by a team member's client) to the current epoch.

        The server cannot check the bundle's contents (it cannot open it); it checks that it is
        for the service's current epoch, so only the newest team can read, and who sends it:
        a member while the conversation waits, only the nurse who has it or a lead of the
        service once it is active (docs/crypto.md), atomically with the write.
        """
        conv = await self.conversation_for(nurse, cid)
        if conv.state == State.CLOSED:
            raise ConversationClosed()
        current = await self.teamkeys.current_epoch(conv.service)
        if current is None or epoch != current:
            raise StaleKeyBundle()
        lead = any(s.id == conv.service for s in lead_services(self.config, nurse))
        reply = await self.store.rekey(conv, nurse.username, lead, key_bundle, epoch)
        if reply.status == 0 and reply.state == State.CLOSED:
            raise ConversationClosed()
        if reply.status != 1:
            raise NotAuthorized("Only the nurse who has the conversation, or a lead of the "
                                "service, can re-key it.")
        await self.dashboard.audit.record(conv.service, nurse.username, "rekey", cid,
                                          f"epoch {conv.epoch} -> {epoch}")

    async def flag(self, nurse: Nurse, cid: str, kind: str) -> Conversation:
        conv = await self.conversation_for(nurse, cid)
        await self.dashboard.flag(nurse, conv, kind)
        return conv

    async def open_conversations(self, nurse: Nurse) -> list[str]:
        return await self.store.open_of(nurse.username)

    async def fresh(self, cid: str) -> Conversation:
        conv = await self.store.get(cid)
        if conv is None:
            raise InvalidState()
        return conv
