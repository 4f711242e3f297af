"""Transfer an active conversation to a named colleague or to another service's queue.

If the receiving service has another team key than the one the conversation key is sealed to,
the sending nurse's browser re-seals the conversation key to the receiving team (it opens the
bundle with its own team key and seals CK ‖ youth signing key to the target's verified
statement) and sends the new bundle with the transfer; the server never sees CK. The server
stores the new bundle and epoch, remembers the earlier (service, epoch) pairs so the receiver
can verify the history, and moves the conversation in one atomic step.

The internal note travels sealed with the conversation key like a message, but is stored in the
conversation's nurse-only notes stream, which no youth feed ever reads.
"""

from __future__ import annotations

from chat.actions.base import ActionsBase, state_frame
from chat.domain.conversation import TRANSITIONS, Actor, Conversation, Move, check
from chat.domain.staff import Nurse, transfer_targets
from chat.errors import BadTransfer, CapacityReached, KeyBundleRequired, NotAuthorized

_NOT_HOLDER = "Only the nurse who has the conversation can transfer it."


def parse_history(raw: str) -> list[dict[str, object]]:
    """The "svc:epoch,svc:epoch" field as a list the receiving browser can verify against."""
    out: list[dict[str, object]] = []
    for part in raw.split(","):
        svc, _, epoch = part.partition(":")
        if svc and epoch.isdigit():
            out.append({"service": svc, "epoch": int(epoch)})
    return out


class TransferActions(ActionsBase):
    async def transfer(
        self, nurse: Nurse, cid: str, to_service: str, to_nurse: str, key_bundle: str,
        epoch: int, note: str,
    ) -> Conversation:
        conv = await self.conversation_for(nurse, cid)
        move = Move.TRANSFER_TO_NURSE if to_nurse else Move.TRANSFER_TO_QUEUE
        check(move, conv.state, conv.actor(nurse.username), _NOT_HOLDER)
        target = self.service(to_service or conv.service)
        if target not in transfer_targets(self.config, self.service(conv.service)):
            # Refused before anything is stored: nothing moves and no note is kept.
            raise BadTransfer("A conversation can go only to services of its municipality.")
        if to_nurse:
            if to_nurse not in target.members or to_nurse == nurse.username:
                raise BadTransfer()
        elif target.id == conv.service:
            raise BadTransfer("To put it back in the queue, release it.")
        resealed = bool(key_bundle)
        if key_bundle:
            await self.check_bundle(target.id, key_bundle, epoch)
        elif target.id != conv.service and await self.teamkeys.current_epoch(target.id) is not None:
            # The receiving team cannot open the old bundle: the sender must re-seal it.
            raise KeyBundleRequired("Re-seal the conversation key to the receiving team.")
        shown = None
        if to_nurse:
            names = await self.dashboard.display_names({to_nurse})
            shown = names.get(to_nurse, to_nurse)
        frame = state_frame(cid, TRANSITIONS[move].target, service=target.id, transferred=True,
                            nurse=shown)
        hist = f"{conv.service}:{conv.epoch}" if (resealed or target.id != conv.service) else ""
        reply = await self.store.transfer(
            conv, move, nurse.username, to_nurse, target.id, key_bundle,
            epoch if key_bundle else 0, int(self.clock.now()), frame, hist,
            target.max_chats_per_nurse)
        if reply.status == -3:
            raise CapacityReached("The colleague has as many open conversations as allowed.")
        if reply.status != 1:
            if reply.state is not None:
                check(move, reply.state, Actor.HOLDER if reply.holder else Actor.MEMBER,
                      _NOT_HOLDER)
            raise NotAuthorized(_NOT_HOLDER)
        await self.end_helpers(conv, "transferred")
        await self._after_transfer(nurse, conv, target.id, to_nurse, epoch, resealed, note)
        fresh = await self.store.get(cid)
        return fresh if fresh is not None else conv

    async def _after_transfer(self, nurse: Nurse, conv: Conversation, to_service: str,
                              to_nurse: str, epoch: int, resealed: bool, note: str) -> None:
        """The note and the book-keeping (audit, counters), after the move is stored."""
        dash = self.dashboard
        if note:
            await dash.add_note(conv, nurse, note)
        detail = f"to {to_nurse or 'queue'} in {to_service}"
        if resealed:
            detail += (f"; conversation key re-sealed by the sender, epoch "
                       f"{conv.service}:{conv.epoch} -> {to_service}:{epoch}")
        if note:
            detail += "; sealed internal note"
        await dash.audit.record(conv.service, nurse.username, "transfer", conv.id, detail)
        if to_service != conv.service:
            await dash.audit.record(to_service, nurse.username, "transfer", conv.id,
                                    f"from {conv.service}; " + detail)
        await dash.count(conv.service, "transfers")
