"""The nurse's WebSocket: a thin pump between her dashboard, the protocol core and the actions
layer, closed at once when her session or account is revoked (chat/web/revocation.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from starlette.websockets import WebSocket

from chat import extensions
from chat.domain.conversation import Conversation
from chat.domain.staff import Nurse
from chat.errors import ClientError, InvalidState, SessionEnded
from chat.fanout.feed import Feed
from chat.fanout.outbox import EncodedOnce
from chat.protocol import commands as c
from chat.protocol import events
from chat.protocol.core import Role
from chat.store.conversations import QueueView
from chat.web.dashboard_socket import NurseDashboard
from chat.web.endpoint import Endpoint, refused_while_draining
from chat.web.revocation import CLOSE_SESSION_ENDED
from chat.web.runtime import Runtime

if TYPE_CHECKING:
    from chat.actions.accounts import Session

log = logging.getLogger("helseprat.ws")


# Every dashboard of a service is handed the same view: encoded once (chat/fanout/outbox.py).
SNAPSHOTS = EncodedOnce()


def snapshot_of(view: QueueView) -> events.QueueSnapshot:
    return events.QueueSnapshot(service=view.service, items=list(view.items))


class NurseEndpoint(Endpoint):
    role = Role.NURSE

    def __init__(self, rt: Runtime, ws: WebSocket, session: Session) -> None:
        super().__init__(rt, ws)
        self.session = session
        self.nurse: Nurse = session.nurse
        self.feeds: dict[str, Feed] = {}
        self._authorized: dict[str, Conversation] = {}  # membership checked, for sends
        self.dash = NurseDashboard(self)

    # -- the session (chat.web.revocation.Revocable) --------------------------------------------
    @property
    def username(self) -> str:
        return self.nurse.username

    @property
    def session_tag(self) -> str:
        return self.session.tag

    def revoke(self) -> None:
        """The session or the account was revoked: nothing more goes out, the socket closes."""
        if self.outbox.close_code is None:
            self.log.info("session ended; closing")
            self.outbox.send(events.Error.of(SessionEnded()))
            self.outbox.close(CLOSE_SESSION_ENDED)

    async def recheck(self) -> None:
        try:
            valid = await self.rt.accounts.still_valid(self.session)
        except (RedisError, OSError):
            return  # the next command asks again
        if not valid:
            self.revoke()

    async def on_open(self) -> None:
        self.rt.revocations.add(self)
        # A revocation published between the handshake's check and the line above was not
        # seen here: look once more now that this socket would hear the next one.
        if not await self.rt.accounts.still_valid(self.session):
            self.revoke()
            return
        open_ids = await self.rt.actions.open_conversations(self.nurse)
        open_ids += await self.rt.actions.helping_in(self.nurse)
        self.outbox.send(self.dash.hello(open_ids))
        for service in sorted(self.nurse.services):
            await self.rt.hub.watch(service, self)
        await self.dash.opened()

    def queue_changed(self, view: QueueView) -> None:
        self.outbox.put(SNAPSHOTS.frame(view, snapshot_of))
        self.dash.queue_changed(view.service)

    async def open_conversation(self, conv: Conversation, after: int) -> None:
        feed = self.feeds.get(conv.id)
        if feed is None:
            feed = Feed(conv.id, self.rt.store, self.outbox, after)
            self.feeds[conv.id] = feed
            await self.rt.hub.subscribe(conv.id, feed)
        self.outbox.send(await self.dash.state(
            conv, extensions.verified(self.rt.extensions, conv), self.rt.actions.later_due(conv)))
        await feed.catch_up()
        await self.dash.send_notes(conv)
        for ext in self.rt.extensions:
            await ext.nurse_opened(self, conv)
        self.outbox.send(events.HistoryEnd(conversation=conv.id, last_seq=feed.last))

    async def dispatch(self, cmd: Any) -> None:
        # The belt to the revocation channel's braces: a revocation this process missed still
        # stops the very next command. A send to a conversation already checked has the
        # session checked by the append itself, in the same step: one round trip fewer for
        # every nurse message (docs/benchmarks.md).
        if not self._append_checks(cmd) and not await self.rt.accounts.still_valid(self.session):
            self.revoke()
            return
        a = self.rt.actions
        match cmd:
            case c.Claim():
                conv = await a.claim(self.nurse, cmd.conversation)
                self.outbox.send(events.Claimed(conversation=conv.id))
                await self.open_conversation(conv, 0)
            case c.Open():
                conv = await a.conversation_for(self.nurse, cmd.conversation)
                await self.open_conversation(conv, cmd.after)
            case c.Send():
                try:
                    await self._send(cmd)
                except SessionEnded:
                    self.revoke()
            case c.Typing():
                conv = await a.conversation_for(self.nurse, cmd.conversation)
                if self.nurse.username in (conv.nurse, *conv.helpers):
                    await a.typing(conv.id, "nurse", cmd.stopped)
            case c.Close():
                await a.close(self.nurse, cmd.conversation, cmd.outcome)
            case c.Release():
                await a.release(self.nurse, cmd.conversation)
            case c.ParkLater():
                await a.park_later(self.nurse, cmd.conversation)
            case c.Rekey():
                await a.rekey(self.nurse, cmd.conversation, cmd.key_bundle, cmd.epoch)
                self.outbox.send(events.Rekeyed(conversation=cmd.conversation, epoch=cmd.epoch))
            case c.Transfer() | c.Flag() | c.QueueRequest() | c.OverviewRequest() \
                    | c.AuditRequest() | c.PauseStarts() | c.LiftPause() \
                    | c.StartPauseRequest() | c.SetBreak():
                await self.dash.dispatch(cmd)
            case c.Invite() | c.Join() | c.Leave() | c.Decline():
                await self.dash.helpers.dispatch(cmd)
            case c.Ping():
                await self.dash.ping()
                self.outbox.send(events.Pong())
            case _:
                for ext in self.rt.extensions:
                    if await ext.nurse_command(self, cmd):
                        return
                raise InvalidState()

    def _append_checks(self, cmd: Any) -> bool:
        """Whether ``cmd`` is a send whose append checks this socket's session itself."""
        return (isinstance(cmd, c.Send) and cmd.conversation in self._authorized
                and self.rt.store.append_checks_session)

    async def _send(self, cmd: c.Send) -> None:
        a = self.rt.actions
        # Membership is checked once per conversation and kept; whether this nurse has
        # the conversation *now* is checked by the append script, atomically.
        known = self._authorized.get(cmd.conversation)
        if known is None:
            known = await a.conversation_for(self.nurse, cmd.conversation)
            self._authorized[cmd.conversation] = known
        conv = known
        feed = self.feeds.get(conv.id)
        if feed is not None:
            feed.sending(cmd.cmid)
        try:
            session = self.session.tag if self.rt.store.append_checks_session else ""
            result = await a.send(conv, "nurse", self.nurse.display_name, cmd.cmid,
                                  cmd.body, writer=self.nurse.username, session=session)
        except BaseException as exc:
            if feed is not None:
                feed.not_sent(cmd.cmid)
            if isinstance(exc, ClientError):
                self._authorized.pop(cmd.conversation, None)  # re-read next time
            raise
        if result.status == 0 or feed is None:  # else the feed acks it in sequence
            if feed is not None:
                feed.not_sent(cmd.cmid)
            self.outbox.send(events.Ack(cmid=cmd.cmid, seq=result.seq,
                                        conversation=conv.id,
                                        duplicate=result.status == 0,
                                        ts=result.ts or None))

    # What an extension may do with this connection (chat.extensions.NurseSocket).
    def put(self, frame: str) -> None:
        self.outbox.put(frame)

    def send(self, event: events.Event) -> None:
        self.outbox.send(event)

    async def on_close(self) -> None:
        self.rt.revocations.discard(self)
        await self.dash.closed()
        for ext in self.rt.extensions:
            ext.nurse_closed(self)
        for cid, feed in self.feeds.items():
            await self.rt.hub.unsubscribe(cid, feed)
            await feed.stop()
        for service in self.nurse.services:
            await self.rt.hub.unwatch(service, self)


async def nurse_ws(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.runtime
    if await refused_while_draining(rt, ws):
        return
    # Cookies ride along on cross-site WebSocket handshakes: check the Origin (CSWSH).
    origin = ws.headers.get("origin", "")
    host = ws.headers.get("host", "")
    if origin not in (rt.config.public_url, f"http://{host}", f"https://{host}"):
        await ws.close(1008)
        return
    try:
        session = await rt.accounts.session(ws.cookies.get("hp_session"))
    except (RedisError, OSError) as exc:
        log.warning("storage unavailable for a nurse's session check: %s", type(exc).__name__)
        await ws.close(1013)  # before accept: the handshake is refused; the page retries
        return
    if session is None:
        await ws.close(1008)
        return
    await ws.accept()
    await NurseEndpoint(rt, ws, session).run()
