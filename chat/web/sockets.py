"""WebSocket endpoints: thin pumps between a socket, the protocol core and the actions layer."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from chat import extensions
from chat.domain.conversation import Conversation, State
from chat.domain.ordering import Intake
from chat.errors import InvalidState, NotAuthorized
from chat.fanout.feed import Feed
from chat.protocol import commands as c
from chat.protocol import events
from chat.protocol.core import Role
from chat.store.conversations import QueueView
from chat.store.queues import WaitingSlot
from chat.web.endpoint import Endpoint, refused_while_draining
from chat.web.runtime import Runtime

if TYPE_CHECKING:
    pass

log = logging.getLogger("helseprat.ws")

WAITING_REFRESH_S = 15.0  # a waiting youth's "n waiting" is refreshed at most this often


class YouthEndpoint(Endpoint):
    __slots__ = ("_last_queue", "_queue_said", "_slot", "_tasks", "_watching", "client_key",
                 "conv", "feed")
    role = Role.YOUTH
    first_frame_timed = True

    def __init__(self, rt: Runtime, ws: WebSocket, client_key: str) -> None:
        super().__init__(rt, ws)
        self.client_key = client_key
        self.conv: Conversation | None = None
        self.feed: Feed | None = None
        self._watching: str | None = None
        self._tasks: set[asyncio.Task[None]] | None = None  # made when first needed
        self._last_queue: tuple[int, int | None, int] | None = None  # position, wait, waiting
        self._queue_said = 0.0
        self._slot: WaitingSlot | None = None  # this start's waiting slot, while it waits

    async def dispatch(self, cmd: Any) -> None:
        a = self.rt.actions
        match cmd:
            case c.Start():
                started = await a.start(cmd.service, cmd.key_bundle, cmd.epoch, cmd.resume,
                                        self.client_key, Intake(cmd.topic, cmd.urgent),
                                        cmd.capability)
                conv = await a.authenticate(started.conversation, started.token)
                self._slot = started.slot
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
                await self._send(cmd)
            case c.Typing():
                assert self.conv is not None
                await a.typing(self.conv.id, "youth", cmd.stopped)
            case c.Feedback():
                assert self.conv is not None
                counted = await a.feedback(self.conv, cmd.helpful)
                self.outbox.send(events.Feedback(conversation=self.conv.id, counted=counted))
            case c.End():
                assert self.conv is not None
                await a.end_by_youth(self.conv)
            case c.Later():
                assert self.conv is not None
                await a.leave_for_later(self.conv)
            case c.PushSubscribe() | c.PushUnsubscribe():
                assert self.conv is not None
                tag = await self.rt.push_actions().youth(self.conv, cmd)
                self.outbox.send(events.Push(conversation=self.conv.id, on=tag is not None,
                                             tag=tag))
            case c.Ping():
                if self.conv is not None:
                    await self.rt.store.set_presence(self.conv.id, self.conv.service)
                    if self._slot is not None and self._watching:
                        await self.rt.store.hold_slot(self._slot)
                self.outbox.send(events.Pong())
            case _:
                raise InvalidState()

    async def _send(self, cmd: c.Send) -> None:
        assert self.conv is not None and self.feed is not None
        # The feed acks it in its place in the sequence (chat/fanout/feed.py); a duplicate,
        # which is not in the sequence again, is acked here.
        self.feed.sending(cmd.cmid)
        try:
            result = await self.rt.actions.send(self.conv, "youth", "youth", cmd.cmid, cmd.body)
        except BaseException:
            self.feed.not_sent(cmd.cmid)
            raise
        if result.status == 0:
            self.feed.not_sent(cmd.cmid)
            self.outbox.send(events.Ack(cmid=cmd.cmid, seq=result.seq,
                                        conversation=self.conv.id, duplicate=True))

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
                                      due=self.rt.actions.later_due(conv),
                                      nurse=await self._nurse_name(conv),
                                      outcome=conv.outcome or None,
                                      verified=extensions.verified(self.rt.extensions, conv)))
        await self.feed.catch_up()
        if conv.state == State.WAITING:
            self._watching = conv.service
            await self.rt.hub.watch(conv.service, self)
            await self.rt.actions.come_back(conv)  # back at its place if it had been set aside
            await self.rt.store.publish_queue_changed(conv.service)

    async def _nurse_name(self, conv: Conversation) -> str | None:
        """The display name of the nurse who has it (as the live claim said), so a youth who
        comes back sees who is in the conversation before she writes again."""
        if conv.state != State.ACTIVE or not conv.nurse:
            return None
        names = await self.rt.actions.dashboard.display_names({conv.nurse})
        return names.get(conv.nurse)

    def _state_seen(self, frame: str) -> None:
        """Follow the conversation: watch the queue it waits in (also after a transfer to
        another service or a release), and stop watching once a nurse has it or it is closed,
        so claimed youths cost the queue fan-out nothing."""
        try:
            f = json.loads(frame)
        except ValueError:
            return
        self._spawn(self._follow(str(f.get("state", "")), f.get("service")))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
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
        elif state in (State.ACTIVE, State.CLOSED, State.LATER) and self._watching:
            old, self._watching = self._watching, None
            await self.rt.hub.unwatch(old, self)
            if self._slot is not None:  # no longer waiting: the client's slot is free
                slot, self._slot = self._slot, None
                await self.rt.store.drop_slot(slot)

    def queue_changed(self, view: QueueView) -> None:
        if self.conv is None:
            return
        pos = view.position(self.conv.id)
        if pos is None:
            if self._watching == view.service:
                # Connected, yet not counted: set aside while our presence lapsed. Come back.
                self._spawn(self.rt.actions.come_back(self.conv))
            return
        service = self.rt.config.service(view.service)
        wait = view.expected_wait(pos, service.expected_wait_minutes * 60 if service else None)
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
        await self.rt.store.clear_presence(self.conv.id, self.conv.service,
                                           waiting=bool(self._watching))
        if self._watching:
            await self.rt.store.publish_queue_changed(self._watching)


async def youth_ws(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.runtime
    if await refused_while_draining(rt, ws):
        return
    await ws.accept()
    client_key = ws.scope.get("state", {}).get("client_key", "unknown")
    await YouthEndpoint(rt, ws, client_key).run()
