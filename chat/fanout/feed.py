"""A conversation feed for one connection: history first, then live frames, never a gap.

The feed subscribes before it reads history; live frames that arrive while history is being
read are held back and then released with duplicates dropped. If a live frame shows a gap (a
sequence more than one past the last delivered), the feed re-reads history from where it is.

A message is not delivered back to the connection that sent it: in its place in the sequence
that connection gets the ``ack`` (the endpoint says which client message ids it is sending).
So each connection sees every sequence number once, in order, as either a ``deliver`` or an
``ack``, and the other side and the sender's other devices get the ``deliver``. One frame
fewer per message matters: socket writes are the largest cost per relayed message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from chat.fanout.outbox import Outbox
from chat.metrics import registry as metrics
from chat.protocol import events
from chat.store.conversations import Store

log = logging.getLogger("helseprat.feed")


class Feed:
    def __init__(
        self, cid: str, store: Store, outbox: Outbox, after: int,
        on_state: Callable[[str], None] | None = None,
    ) -> None:
        self.cid = cid
        self.last = after
        self._store = store
        self._outbox = outbox
        self._syncing = True
        self._held: list[tuple[int, str]] = []
        self._task: asyncio.Task[None] | None = None
        self._on_state = on_state  # told about state frames (rare), e.g. to follow the queue
        # cmids this connection is sending (acked, not delivered); made on the first send, as
        # most connections of a busy evening are youths waiting in a queue
        self._own: set[str] | None = None

    # The sending connection -----------------------------------------------------------------
    def sending(self, cmid: str) -> None:
        """``cmid`` is being sent on this connection: when it comes by in the sequence, this
        connection gets its ``ack`` there instead of a ``deliver``."""
        if self._own is None:
            self._own = set()
        self._own.add(cmid)

    def not_sent(self, cmid: str) -> None:
        """The send failed or was a duplicate (acked by the endpoint): nothing to turn."""
        if self._own:
            self._own.discard(cmid)

    def _as_ack(self, seq: int, frame: str) -> str:
        """The ack for an own message's deliver frame, or the frame itself if not ours."""
        own = self._own
        if not own:
            return frame
        # The deliver frame's cmid field; a JSON string value cannot hold '"cmid":"'
        # unescaped, so the first match is the field.
        i = frame.find('"cmid":"')
        if i < 0:
            return frame
        i += 8
        cmid = frame[i:frame.find('"', i)]
        if cmid not in own:
            return frame
        own.discard(cmid)
        # The frame ends with its "ts" (events.deliver_template) and '"ts":' unescaped cannot
        # be inside a JSON string, so the last one is the field: no parse of the whole frame.
        try:
            ts = int(frame[frame.rindex('"ts":') + 5:-1])
        except ValueError:
            ts = int(json.loads(frame)["ts"])
        return events.encode(events.Ack(cmid=cmid, seq=seq, conversation=self.cid,
                                        duplicate=False, ts=ts or None))

    # Subscriber protocol --------------------------------------------------------------------
    def push(self, seq: int, frame: str) -> None:
        if self._syncing:
            self._held.append((seq, frame))
            return
        self._deliver(seq, frame)

    def resync(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        self._task = asyncio.create_task(self._sync_loop())

    # ------------------------------------------------------------------------------------------
    async def catch_up(self) -> None:
        """Deliver history after ``last``, then release what arrived meanwhile."""
        while True:
            entries = await self._store.read_after(self.cid, self.last)
            for e in entries:
                if e.seq > self.last:
                    if self._own and e.cmid in self._own:
                        self._own.discard(e.cmid)
                        self._outbox.send(events.Ack(cmid=e.cmid, seq=e.seq,
                                                     conversation=self.cid, duplicate=False,
                                                     ts=e.ts or None))
                    else:
                        self._outbox.send(events.Deliver(seq=e.seq, conversation=self.cid,
                                                         from_=e.role, sender=e.sender,
                                                         cmid=e.cmid, body=e.body, ts=e.ts))
                    self.last = e.seq
            if len(entries) < 500:
                break
        held, self._held = self._held, []
        self._syncing = False
        for seq, frame in held:
            self._deliver(seq, frame)

    async def _sync_loop(self) -> None:
        for delay in (0.0, 0.2, 0.5, 1.0, 2.0, 5.0):
            await asyncio.sleep(delay)
            try:
                await self.catch_up()
                return
            except (RedisError, OSError):
                continue
        log.warning("feed could not resync; closing connection")
        self._outbox.close(1011)

    def _deliver(self, seq: int, frame: str) -> None:
        if seq == 0:
            self._outbox.put(frame)
            if self._on_state is not None and '"type":"state"' in frame:
                self._on_state(frame)
        elif seq == self.last + 1:
            self.last = seq
            out = self._as_ack(seq, frame)
            if out is frame:  # a live deliver: timed until written (why here: chat/metrics)
                self._outbox.put(frame, metrics.monotonic())
            else:
                self._outbox.put(out)
        elif seq > self.last + 1:
            self._held.append((seq, frame))
            self.resync()
        # seq <= last: already delivered from history

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
