"""Closing a nurse's dashboard sockets when her session or account is revoked.

Logging out, a disabled account (``helseprat nurse disable``) and an expired session must take
away an open socket's access at once, not at its next reconnect. Revoking stores the change
first and then publishes on one channel (``chat.store.names.staff_revocations``) that every
web process listens to over its hub: ``n <username>`` closes all of that nurse's sockets,
``s <session tag>`` those opened with that session. Revocations are rare, so one channel for
all of them costs nothing and needs no subscribing per socket.

A message can be missed (the pub/sub connection was down, or the socket registered just after
it was published), so this is the fast path only: each socket also checks its session before
every command, once right after it registered, and all of them again after the hub reconnects.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from chat.fanout.hub import Hub
from chat.store import names as keys

# The close code of a socket whose session has ended: the client must not reconnect with the
# same cookie but sign in again (docs/protocol.md). 4401 mirrors HTTP 401.
CLOSE_SESSION_ENDED = 4401


class Revocable(Protocol):
    """A socket opened with a nurse's session (chat.web.nurse_socket.NurseEndpoint)."""

    @property
    def username(self) -> str: ...

    @property
    def session_tag(self) -> str: ...

    def revoke(self) -> None: ...

    async def recheck(self) -> None: ...


class Revocations:
    """This process's open nurse sockets by account, and the listener of the channel."""

    def __init__(self) -> None:
        self.sockets: dict[str, set[Revocable]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, hub: Hub) -> None:
        await hub.listen(keys.staff_revocations(), self)

    def add(self, sock: Revocable) -> None:
        self.sockets.setdefault(sock.username, set()).add(sock)

    def discard(self, sock: Revocable) -> None:
        mine = self.sockets.get(sock.username)
        if mine is not None:
            mine.discard(sock)
            if not mine:
                del self.sockets[sock.username]

    # -- chat.fanout.hub.ChannelListener -------------------------------------------------------
    def message(self, data: str) -> None:
        kind, _, who = data.partition(" ")
        if kind == "n":
            for sock in tuple(self.sockets.get(who, ())):
                sock.revoke()
        elif kind == "s":
            for sock in [s for socks in self.sockets.values() for s in socks
                         if s.session_tag == who]:
                sock.revoke()

    def resync(self) -> None:
        """The hub reconnected: revocations published meanwhile were lost; ask every socket."""
        for socks in tuple(self.sockets.values()):
            for sock in tuple(socks):
                task = asyncio.create_task(sock.recheck())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
