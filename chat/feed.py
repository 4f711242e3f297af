"""A conversation feed for one connection: history first, then live frames, never a gap.

The feed subscribes before it reads history; live frames that arrive while history is being
read are held back and then released with duplicates dropped. If a live frame shows a gap (a
sequence more than one past the last delivered), the feed re-reads history from where it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from chat.outbox import Outbox
from chat.protocol import frames
from chat.store import Store

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
                    self._outbox.put(frames.deliver(self.cid, e.seq, e.role, e.sender, e.cmid,
                                                    e.body, e.ts))
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
            self._outbox.put(frame)
        elif seq > self.last + 1:
            self._held.append((seq, frame))
            self.resync()
        # seq <= last: already delivered from history

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
