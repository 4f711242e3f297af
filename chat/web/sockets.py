"""WebSocket endpoints: thin pumps between a socket, the protocol core and the actions layer."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
from typing import Any

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from chat.actions.conversations import Conversation, Nurse, verified_fields
from chat.domain.conversation import State
from chat.errors import ClientError, InvalidState, ShuttingDown
from chat.fanout.aio import LazyEvent
from chat.fanout.feed import Feed
from chat.fanout.outbox import Outbox
from chat.protocol import commands as c
from chat.protocol import frames
from chat.protocol.core import Connection, Rejected, Role
from chat.store.conversations import QueueView
from chat.web import frames_nurse
from chat.web.dashboard_socket import NurseDashboard
from chat.web.runtime import Runtime
from identity_bridge.web import sockets as identity_ws
from identity_bridge.web.journal import JournalUnavailable

log = logging.getLogger("helseprat.ws")

WAITING_REFRESH_S = 15.0  # a waiting youth's "n waiting" is refreshed at most this often


class Endpoint:
    """What both sides share: the receive loop, error replies, draining."""

    # Thousands of these wait idle at once (youths in a queue): slots, and nothing made up
    # front that most connections never use (docs/benchmarks.md, memory per connection).
    __slots__ = ("_idle", "_log", "conn", "conn_id", "outbox", "rt", "ws")
    role: Role

    def __init__(self, rt: Runtime, ws: WebSocket) -> None:
        self.rt = rt
        self.ws = ws
        self.conn = Connection(self.role, rt.config.limits)
        self.outbox = Outbox(ws)
        self.conn_id = secrets.token_hex(6)  # logs say which connection, never who
        self._idle = LazyEvent(True)
        self._log: logging.LoggerAdapter[logging.Logger] | None = None

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        if self._log is None:
            self._log = logging.LoggerAdapter(log, {"conn": self.conn_id, "role": self.role.value})
        return self._log

    async def run(self) -> None:
        self.rt.connections.add(self)
        try:
            try:
                await self.on_open()
            except (RedisError, OSError) as exc:
                # Storage is away while the socket opens (e.g. every client back at once after
                # a restart): "try again", as for a frame, not a traceback per socket.
                self.log.warning("storage unavailable on open: %s", type(exc).__name__)
                self.outbox.put(frames.error("unavailable", "Try again in a moment."))
                self.outbox.close(1013)
            while self.outbox.close_code is None:
                try:
                    msg = await self.ws.receive()
                except (WebSocketDisconnect, RuntimeError):
                    break
                if msg["type"] == "websocket.disconnect":
                    break
                data = msg.get("text")
                if data is None:
                    data = msg.get("bytes") or b""
                await self._handle(data)
        finally:
            self.rt.connections.discard(self)
            self.outbox.close()
            with contextlib.suppress(Exception):
                await self.on_close()
            await self.outbox.wait_closed()

    async def _handle(self, data: str | bytes) -> None:
        result = self.conn.receive(data, self.rt.clock.monotonic())
        if isinstance(result, Rejected):
            self.outbox.put(frames.error(result.error.code, result.error.message, result.ref))
            if result.fatal:
                self.outbox.close(1008)
            return
        if self.rt.draining:
            err = ShuttingDown()
            self.outbox.put(frames.error(err.code, err.message))
            return
        self._idle.clear()
        try:
            await self.dispatch(result)
        except ClientError as err:
            ref = getattr(result, "cmid", None) or getattr(result, "conversation", None)
            self.outbox.put(frames.error(err.code, err.message, ref))
        except (RedisError, OSError) as exc:
            # Storage is away: nothing was acked, so the client resumes and resends elsewhere.
            self.log.warning("storage unavailable: %s", type(exc).__name__)
            ref = getattr(result, "cmid", None)
            self.outbox.put(frames.error("unavailable", "Try again in a moment.", ref))
            self.outbox.close(1013)
        except Exception:
            ref = secrets.token_hex(4)
            self.log.exception("internal error ref=%s", ref)
            self.outbox.put(frames.error("internal_error", "Something went wrong.", ref))
        finally:
            self._idle.set()

    async def drain(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), 5)
        self.outbox.put(frames.frame("reconnect", reason="server_restart"))
        self.outbox.close(1012)  # service restart

    async def on_open(self) -> None: ...

    async def on_close(self) -> None: ...

    async def dispatch(self, cmd: Any) -> None:
        raise NotImplementedError


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
                self.outbox.put(frames.frame("started", conversation=conv.id, token=started.token,
                                             service=conv.service))
                await self._attach(conv, 0)
            case c.Resume():
                conv = await a.authenticate(cmd.conversation, cmd.token)
                await self._attach(conv, cmd.after)
            case c.ResumeSession():  # identity bridge: a logged-in youth's thread
                await self._attach(await identity_ws.resume_session(self.rt, self.ws, cmd),
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
                    self.outbox.put(frames.ack(cmd.cmid, result.seq, True, 0,
                                               conversation=self.conv.id))
            case c.Typing():
                assert self.conv is not None
                await a.typing(self.conv.id, "youth")
            case c.End():
                assert self.conv is not None
                await a.end_by_youth(self.conv)
            case c.Ping():
                if self.conv is not None:
                    await self.rt.store.set_presence(self.conv.id, self.conv.service)
                self.outbox.put(frames.frame("pong"))
            case _:
                raise InvalidState()

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
            fields: dict[str, object] = {"conversation": conv.id, "service": conv.service,
                                         "last_seq": conv.seq, "key_bundle": conv.key_bundle,
                                         "epoch": conv.epoch}
            if token is not None:
                fields["token"] = token
                fields["backup"] = backup
            self.outbox.put(frames.frame("resumed", **fields))
        self.outbox.put(frames.frame("state", conversation=conv.id, state=conv.state,
                                     **verified_fields(conv)))
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
        self.outbox.put(frames.frame("queue", conversation=self.conv.id, position=pos,
                                     waiting=waiting, expected_wait_s=wait))

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
        self.journal_watching: set[str] = set()  # conversations whose journal statuses we relay

    async def on_open(self) -> None:
        open_ids = await self.rt.actions.open_conversations(self.nurse)
        self.outbox.put(frames_nurse.hello(self.rt.config, self.nurse, open_ids))
        for service in sorted(self.nurse.services):
            await self.rt.hub.watch(service, self)
        await self.dash.opened()

    def queue_changed(self, view: QueueView) -> None:
        self.outbox.put(frames.frame("queue_snapshot", service=view.service,
                                     items=list(view.items)))
        self.dash.queue_changed(view.service)

    async def _open(self, conv: Conversation, after: int) -> None:
        feed = self.feeds.get(conv.id)
        if feed is None:
            feed = Feed(conv.id, self.rt.store, self.outbox, after)
            self.feeds[conv.id] = feed
            await self.rt.hub.subscribe(conv.id, feed)
        self.outbox.put(frames.frame("state", conversation=conv.id, state=conv.state,
                                     service=conv.service, key_bundle=conv.key_bundle,
                                     epoch=conv.epoch, nurse=conv.nurse,
                                     **verified_fields(conv), **self.dash.state_extra(conv)))
        await feed.catch_up()
        await self.dash.send_notes(conv)
        for device_frame in await identity_ws.device_frames(self.rt, conv.id):
            self.outbox.put(device_frame)
        journal = identity_ws.journal_link(self.ws)
        if journal is not None:
            journal.watch(conv.id, self)
            self.journal_watching.add(conv.id)
            for status_frame in await journal.frames_for(conv.id):
                self.outbox.put(status_frame)
        self.outbox.put(frames.frame("history_end", conversation=conv.id, last_seq=feed.last))

    async def dispatch(self, cmd: Any) -> None:
        a = self.rt.actions
        match cmd:
            case c.Claim():
                conv = await a.claim(self.nurse, cmd.conversation)
                self.outbox.put(frames.frame("claimed", conversation=conv.id))
                await self._open(conv, 0)
            case c.Open():
                conv = await a.conversation_for(self.nurse, cmd.conversation)
                await self._open(conv, cmd.after)
            case c.Send():
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
                    self.outbox.put(frames.ack(cmd.cmid, result.seq, result.status == 0,
                                               result.ts, conversation=conv.id))
            case c.Typing():
                conv = await a.conversation_for(self.nurse, cmd.conversation)
                if conv.nurse == self.nurse.username:
                    await a.typing(conv.id, "nurse")
            case c.Close():
                await a.close(self.nurse, cmd.conversation, cmd.outcome)
            case c.Release():
                await a.release(self.nurse, cmd.conversation)
            case c.Reseal():  # identity bridge: CK re-sealed to a youth's new device
                self.outbox.put(await identity_ws.handle_reseal(self.rt, self.nurse, cmd))
            case c.Journal():  # issue 7: send to journal (identity_bridge/web/journal.py)
                journal = identity_ws.journal_link(self.ws)
                if journal is None:
                    raise JournalUnavailable()
                self.outbox.put(await journal.send(self.nurse, cmd))
            case c.Rekey():
                await a.rekey(self.nurse, cmd.conversation, cmd.key_bundle, cmd.epoch)
                self.outbox.put(frames.frame("rekeyed", conversation=cmd.conversation,
                                             epoch=cmd.epoch))
            case c.Transfer() | c.Flag() | c.QueueRequest() | c.OverviewRequest() \
                    | c.AuditRequest():
                await self.dash.dispatch(cmd)
            case c.Ping():
                await self.dash.ping()
                self.outbox.put(frames.frame("pong"))
            case _:
                raise InvalidState()

    def journal_status(self, frame: str) -> None:
        self.outbox.put(frame)

    async def on_close(self) -> None:
        await self.dash.closed()
        journal = identity_ws.journal_link(self.ws)
        if journal is not None:
            for cid in self.journal_watching:
                journal.unwatch(cid, self)
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
