"""A second pair of eyes: the holder asks a colleague of the service into her conversation.

The colleague's team already holds the conversation key (the key bundle is sealed to the
team, docs/crypto.md), so she reads and writes without new crypto; the server only lets her
write (append.lua) while she has joined in the holder's current tenure. The holder keeps the
conversation: claim, close, transfer, release and park stay hers, and each of them ends every
helper's place (``ActionsBase.end_helpers``). Joins and leaves are lines in the conversation's
log (``deliver`` from ``system``), so the youth sees them live and after a reload, and each is
audited.
"""

from __future__ import annotations

from chat.actions.base import ActionsBase
from chat.domain.conversation import Conversation, State
from chat.domain.staff import Nurse
from chat.errors import BadInvite, ConversationClosed, NotAuthorized
from chat.protocol import events
from chat.store.helpers import HelperReply, Line

JOINED = "helper_joined"  # the line's code, as the deliver's cmid
LEFT = "helper_left"

_ONLY_HOLDER = "Only the nurse who has the conversation can ask a colleague in."
_NOT_ASKED = "You were not asked to join this conversation, or the invitation has ended."
_NOT_IN = "You are not helping in this conversation."


def _refused(reply: HelperReply, message: str) -> None:
    if reply.status == 0 and reply.state == State.CLOSED:
        raise ConversationClosed()
    if reply.status != 1:
        raise NotAuthorized(message)


class HelperActions(ActionsBase):
    async def invite(self, nurse: Nurse, cid: str, invitee: str) -> Conversation:
        """The holder asks ``invitee`` (a colleague or lead of the service) to join."""
        conv = await self.conversation_for(nurse, cid)
        if invitee == nurse.username or invitee not in self.service(conv.service).members:
            raise BadInvite()
        reply = await self.helpers.invite(cid, nurse.username, invitee)
        if reply.status == -4:
            raise BadInvite("That colleague is already in the conversation.")
        _refused(reply, _ONLY_HOLDER)
        await self.dashboard.audit.record(conv.service, nurse.username, "invite", cid,
                                          f"asked {invitee}")
        # Her dashboard looks at its invitations whenever the service's channel stirs.
        await self.store.publish_queue_changed(conv.service)
        return conv

    async def join(self, nurse: Nurse, cid: str) -> Conversation:
        """The invited colleague joins: she may write from now on; everyone sees the line."""
        conv = await self.conversation_for(nurse, cid)
        reply = await self.helpers.join(cid, nurse.username, self._line(conv, nurse, JOINED))
        if reply.status == -4:
            return conv  # joined already (another tab of hers)
        _refused(reply, _NOT_ASKED)
        await self.dashboard.audit.record(conv.service, nurse.username, "join", cid,
                                          f"asked in by {conv.nurse}")
        return await self.fresh_conversation(cid)

    async def leave(self, nurse: Nurse, cid: str) -> None:
        conv = await self.conversation_for(nurse, cid)
        reply = await self.helpers.leave(cid, nurse.username, self._line(conv, nurse, LEFT))
        _refused(reply, _NOT_IN)
        await self.dashboard.audit.record(conv.service, nurse.username, "leave", cid)

    async def decline(self, nurse: Nurse, cid: str) -> None:
        """The invited colleague says no (or the invitation ended): off her dashboard."""
        await self.helpers.decline(nurse.username, cid)

    async def invitations(self, nurse: Nurse) -> list[tuple[Conversation, str]]:
        """The invitations that still hold (conversation, who asked); the others are
        forgotten."""
        out: list[tuple[Conversation, str]] = []
        for cid, holder in sorted((await self.helpers.invitations(nurse.username)).items()):
            conv = await self.store.get(cid)
            if conv is None or conv.service not in nurse.services \
                    or nurse.username not in conv.invited:
                await self.helpers.decline(nurse.username, cid)
                continue
            out.append((conv, holder))
        return out

    async def helping_in(self, nurse: Nurse) -> list[str]:
        """The conversations ``nurse`` helps in now (her dashboard opens them with its own)."""
        out = []
        for cid in await self.helpers.helping(nurse.username):
            conv = await self.store.get(cid)
            if conv is not None and nurse.username in conv.helpers:
                out.append(cid)
            else:
                await self.helpers.forget_helping(nurse.username, cid)
        return out

    def _line(self, conv: Conversation, nurse: Nurse, code: str) -> Line:
        ts = int(self.clock.now())
        name = nurse.display_name
        prefix, suffix = events.deliver_template(conv.id, "system", name, code, "", ts)
        return Line(code, name, ts, self.service(conv.service).retention_seconds, prefix,
                    suffix)

    async def fresh_conversation(self, cid: str) -> Conversation:
        conv = await self.store.get(cid)
        if conv is None:
            raise NotAuthorized()
        return conv
