"""WebSocket endpoints: thin pumps between a socket, the protocol core and the actions layer."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

from redis.exceptions import RedisError
from starlette.websockets import WebSocket

from chat import extensions
from chat.domain.conversation import Conversation, State
from chat.domain.staff import Nurse
from chat.errors import ClientError, InvalidState, NotAuthorized
from chat.fanout.feed import Feed
from chat.protocol import commands as c
from chat.protocol import events
from chat.protocol.core import Role
from chat.store.conversations import QueueView
from chat.web.dashboard_socket import NurseDashboard
from chat.web.endpoint import Endpoint
from chat.web.runtime import Runtime

log = logging.getLogger("helseprat.ws")

WAITING_REFRESH_S = 15.0  # a waiting youth's "n waiting" is refreshed at most this often


class YouthEndpoint(Endpoint):
    __slots__ = ("_last_queue", "_queue_said", "_tasks", "_watching", "client_key", "conv",
                 "feed")
    role = Role.YOUTH

    def __init__(self, rt: Runtime, ws: WebSocket, client_key: str) -> None:
        super().__init__(rt, ws)
        self.client_key = client_key
        self.conv: Conversation | None = None
        self.feed: Feed | None = None
        self._watching: str | None = None
        self._tasks: set[asyncio.Task[None]] | None = None  # made when first needed
        self._last_queue: tuple[int, int | None, int] | None = None  # position, wait, waiting
        self._queue_said = 0.0

    async def dispatch(self, cmd: Any) -> None:
        a = self.rt.actions
        match cmd:
            case c.Start():
                started = await a.start(cmd.service, cmd.key_bundle, cmd.epoch, cmd.resume,
                                        self.client_key)
                conv = await a.authenticate(started.conversation, started.token)
                self.outbox.send(events.Started(conversation=conv.id, token=started.token,
                                                service=conv.service))
                await self._attach(conv, 0)
            case c.Resume():
                conv = await a.authenticate(cmd.conversation, cmd.token)
                await self._attach(conv, cmd.after)
            case c.ResumeSession():  # an extension's: a logged-in youth's thread
                await self._attach(await self._extension_attach(cmd),
                                   cmd.after)
            case c.ResumeWithCode():
                conv, token, backup = await a.resume_with_code(cmd.handle, cmd.auth,
                                                               self.client_key)
                await self._attach(conv, cmd.after, token=token, backup=backup)
            case c.Send():
                assert self.conv is not None and self.feed is not None
                # The feed acks it in its place in the sequence (chat/fanout/feed.py); a duplicate,
                # which is not in the sequence again, is acked here.
                self.feed.sending(cmd.cmid)
                try:
                    result = await a.send(self.conv, "youth", "youth", cmd.cmid, cmd.body)
                except BaseException:
                    self.feed.not_sent(cmd.cmid)
                    raise
                if result.status == 0:
                    self.feed.not_sent(cmd.cmid)
                    self.outbox.send(events.Ack(cmid=cmd.cmid, seq=result.seq,
                                                conversation=self.conv.id, duplicate=True))
            case c.Typing():
                assert self.conv is not None
                await a.typing(self.conv.id, "youth")
            case c.End():
                assert self.conv is not None
                await a.end_by_youth(self.conv)
            case c.Ping():
                if self.conv is not None:
                    await self.rt.store.set_presence(self.conv.id, self.conv.service)
                self.outbox.send(events.Pong())
            case _:
                raise InvalidState()

    async def _extension_attach(self, cmd: c.Command) -> Conversation:
        for ext in self.rt.extensions:
            conv = await ext.youth_command(self.ws, cmd)
            if conv is not None:
                return conv
        raise NotAuthorized("Login is not available here.")

    async def _attach(
        self, conv: Conversation, after: int, token: str | None = None, backup: str = ""
    ) -> None:
        self.conn.bind(conv.id)
        self.conv = conv
        self.feed = Feed(conv.id, self.rt.store, self.outbox, after, on_state=self._state_seen)
        await self.rt.hub.subscribe(conv.id, self.feed)
        if conv.state != State.CLOSED:
            await self.rt.store.set_presence(conv.id, conv.service)
        if token is not None or after or conv.seq:
            self.outbox.send(events.Resumed(
                conversation=conv.id, service=conv.service, last_seq=conv.seq,
                key_bundle=conv.key_bundle, epoch=conv.epoch, token=token,
                backup=None if token is None else backup))
        self.outbox.send(events.State(conversation=conv.id, state=conv.state,
                                      verified=extensions.verified(self.rt.extensions, conv)))
        await self.feed.catch_up()
        if conv.state == State.WAITING:
            self._watching = conv.service
            await self.rt.hub.watch(conv.service, self)
            await self.rt.store.publish_queue_changed(conv.service)

    def _state_seen(self, frame: str) -> None:
        """Follow the conversation: watch the queue it waits in (also after a transfer to
        another service or a release), and stop watching once a nurse has it or it is closed,
        so claimed youths cost the queue fan-out nothing."""
        try:
            f = json.loads(frame)
        except ValueError:
            return
        task = asyncio.create_task(self._follow(str(f.get("state", "")), f.get("service")))
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, state: str, service: object) -> None:
        if self.conv is None:
            return
        if state == State.WAITING:
            target = service if isinstance(service, str) and service else self.conv.service
            if target != self.conv.service:  # transferred: our presence moves with us
                old = self.conv.service
                self.conv = dataclasses.replace(self.conv, service=target)
                await self.rt.store.clear_presence(self.conv.id, old)
                await self.rt.store.set_presence(self.conv.id, target)
            if target != self._watching:
                if self._watching:
                    await self.rt.hub.unwatch(self._watching, self)
                self._watching = target
                await self.rt.hub.watch(target, self)
            self._last_queue = None  # say the position again, even if it is the same number
            self.rt.hub.mark_dirty(target)
        elif state in (State.ACTIVE, State.CLOSED) and self._watching:
            old, self._watching = self._watching, None
            await self.rt.hub.unwatch(old, self)

    def queue_changed(self, view: QueueView) -> None:
        if self.conv is None:
            return
        pos = view.position(self.conv.id)
        if pos is None:
            return
        wait = view.expected_wait(pos)
        waiting = len(view.items)
        now = self.rt.clock.monotonic()
        last = self._last_queue
        if last is not None and last[0] == pos and last[1] == wait:
            # Only the count behind us changed (someone arrived or left further back): say
            # it now and then, not on every change. With 10,000 waiting every arrival was
            # 10,000 frames, and the position, which is what a youth waits for, is unchanged.
            if last[2] == waiting or now - self._queue_said < WAITING_REFRESH_S:
                return
        self._last_queue = (pos, wait, waiting)
        self._queue_said = now
        self.outbox.send(events.Queue(conversation=self.conv.id, position=pos, waiting=waiting,
                                      expected_wait_s=wait))

    async def on_close(self) -> None:
        if self.conv is None:
            return
        if self.feed is not None:
            await self.rt.hub.unsubscribe(self.conv.id, self.feed)
            await self.feed.stop()
        if self._watching:
            await self.rt.hub.unwatch(self._watching, self)
        await self.rt.store.clear_presence(self.conv.id, self.conv.service)
        if self._watching:
            await self.rt.store.publish_queue_changed(self._watching)


class NurseEndpoint(Endpoint):
    role = Role.NURSE

    def __init__(self, rt: Runtime, ws: WebSocket, nurse: Nurse) -> None:
        super().__init__(rt, ws)
        self.nurse = nurse
        self.feeds: dict[str, Feed] = {}
        self._authorized: dict[str, Conversation] = {}  # membership checked, for sends
        self.dash = NurseDashboard(self)

    async def on_open(self) -> None:
        open_ids = await self.rt.actions.open_conversations(self.nurse)
        self.outbox.send(self.dash.hello(open_ids))
        for service in sorted(self.nurse.services):
            await self.rt.hub.watch(service, self)
        await self.dash.opened()

    def queue_changed(self, view: QueueView) -> None:
        self.outbox.send(events.QueueSnapshot(service=view.service, items=list(view.items)))
        self.dash.queue_changed(view.service)

    async def open_conversation(self, conv: Conversation, after: int) -> None:
        feed = self.feeds.get(conv.id)
        if feed is None:
            feed = Feed(conv.id, self.rt.store, self.outbox, after)
            self.feeds[conv.id] = feed
            await self.rt.hub.subscribe(conv.id, feed)
        self.outbox.send(self.dash.state(conv, extensions.verified(self.rt.extensions, conv)))
        await feed.catch_up()
        await self.dash.send_notes(conv)
        for ext in self.rt.extensions:
            await ext.nurse_opened(self, conv)
        self.outbox.send(events.HistoryEnd(conversation=conv.id, last_seq=feed.last))

    async def dispatch(self, cmd: Any) -> None:
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
                await self._send(cmd)
            case c.Typing():
                conv = await a.conversation_for(self.nurse, cmd.conversation)
                if conv.nurse == self.nurse.username:
                    await a.typing(conv.id, "nurse")
            case c.Close():
                await a.close(self.nurse, cmd.conversation, cmd.outcome)
            case c.Release():
                await a.release(self.nurse, cmd.conversation)
            case c.Rekey():
                await a.rekey(self.nurse, cmd.conversation, cmd.key_bundle, cmd.epoch)
                self.outbox.send(events.Rekeyed(conversation=cmd.conversation, epoch=cmd.epoch))
            case c.Transfer() | c.Flag() | c.QueueRequest() | c.OverviewRequest() \
                    | c.AuditRequest():
                await self.dash.dispatch(cmd)
            case c.Ping():
                await self.dash.ping()
                self.outbox.send(events.Pong())
            case _:
                for ext in self.rt.extensions:
                    if await ext.nurse_command(self, cmd):
                        return
                raise InvalidState()

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
            result = await a.send(conv, "nurse", self.nurse.display_name, cmd.cmid,
                                  cmd.body, writer=self.nurse.username)
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
        await self.dash.closed()
        for ext in self.rt.extensions:
            ext.nurse_closed(self)
        for cid, feed in self.feeds.items():
            await self.rt.hub.unsubscribe(cid, feed)
            await feed.stop()
        for service in self.nurse.services:
            await self.rt.hub.unwatch(service, self)


async def youth_ws(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.runtime
    await ws.accept()
    client_key = ws.scope.get("state", {}).get("client_key", "unknown")
    await YouthEndpoint(rt, ws, client_key).run()


async def nurse_ws(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.runtime
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
    await NurseEndpoint(rt, ws, session.nurse).run()
