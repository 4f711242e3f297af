"""The helper side of a nurse's WebSocket (``NurseDashboard.helpers``): asking a colleague in,
joining, leaving, and showing her dashboard the invitations that hold
(chat/actions/helpers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from chat.domain.staff import Nurse
from chat.fanout.feed import Feed
from chat.fanout.outbox import Outbox
from chat.protocol import commands as c
from chat.protocol import events
from chat.web.runtime import Runtime

if TYPE_CHECKING:
    from chat.domain.conversation import Conversation


class HelperEndpoint(Protocol):
    """What the helper side uses of its nurse connection (chat.web.nurse_socket.NurseEndpoint)."""

    rt: Runtime
    nurse: Nurse
    outbox: Outbox
    feeds: dict[str, Feed]

    async def open_conversation(self, conv: Conversation, after: int) -> None: ...


class HelperSide:
    def __init__(self, ep: HelperEndpoint) -> None:
        self.ep = ep
        self._shown: set[str] = set()  # invitations this connection has sent

    async def dispatch(self, cmd: c.HelperCommand) -> None:
        ep = self.ep
        a, nurse = ep.rt.actions, ep.nurse
        match cmd:
            case c.Invite():
                await a.invite(nurse, cmd.conversation, cmd.nurse)
                ep.outbox.send(events.InviteSent(conversation=cmd.conversation, nurse=cmd.nurse))
            case c.Join():
                conv = await a.join(nurse, cmd.conversation)
                self._shown.discard(conv.id)
                await ep.open_conversation(conv, 0)
            case c.Leave():
                await a.leave(nurse, cmd.conversation)
                ep.outbox.send(events.Left(conversation=cmd.conversation))
                feed = ep.feeds.pop(cmd.conversation, None)
                if feed is not None:
                    await ep.rt.hub.unsubscribe(cmd.conversation, feed)
                    await feed.stop()
            case c.Decline():
                await a.decline(nurse, cmd.conversation)
                self._shown.discard(cmd.conversation)

    async def check_invitations(self) -> None:
        """Send ``invited`` for each invitation that holds and this connection has not sent."""
        ep = self.ep
        found = await ep.rt.actions.invitations(ep.nurse)
        fresh = [(conv, by) for conv, by in found if conv.id not in self._shown]
        if not fresh:
            return
        names = await ep.rt.actions.dashboard.display_names({by for _, by in fresh})
        for conv, by in fresh:
            self._shown.add(conv.id)
            ep.outbox.send(events.Invited(conversation=conv.id, service=conv.service,
                                          by=names.get(by, by)))
