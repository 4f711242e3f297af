"""Per-process fan-out: one Redis pub/sub connection for every WebSocket this process holds.

Conversation channels carry ``"<seq> <frame>"``: the receiver forwards the frame text as it is
(encoded once, by the sender's process) and uses ``seq`` (0 for state and typing events) to drop
what it already sent from history. Service channels carry a bare "queue changed" signal; the hub
turns bursts of those into at most one queue read per service per ``debounce`` seconds.

After the pub/sub connection is re-established (Redis restarted, network blip) every subscriber
is asked to ``resync``: it re-reads its log after the last sequence it delivered, so nothing
published while the connection was down is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chat import keys
from chat.store import QueueView

log = logging.getLogger("helseprat.hub")


class Subscriber(Protocol):
    def push(self, seq: int, frame: str) -> None: ...

    def resync(self) -> None: ...


class ChannelListener(Protocol):
    """A process-wide listener on one plain channel (e.g. the EPJ worker's status channel)."""

    def message(self, data: str) -> None: ...

    def resync(self) -> None: ...


class QueueWatcher(Protocol):
    def queue_changed(self, view: QueueView) -> None: ...


QueueReader = Callable[[str], Awaitable[QueueView]]

_SLICE = 256


def _watch_order(w: QueueWatcher) -> int:
    """Nurse dashboards first (they have a ``nurse``; or declare ``queue_priority``), then youths."""
    return int(getattr(w, "queue_priority", 0 if hasattr(w, "nurse") else 1))


class Hub:
    def __init__(self, redis: aioredis.Redis, read_queue: QueueReader, debounce: float = 0.2):
        self._redis = redis
        self._read_queue = read_queue
        self._debounce = debounce
        self._pubsub = redis.pubsub()
        self._control = f"hub:{secrets.token_hex(8)}"
        self._subs: dict[str, set[Subscriber]] = {}
        self._watchers: dict[str, set[QueueWatcher]] = {}
        self._listeners: dict[str, ChannelListener] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._connected_once = False
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control)
        self._tasks = [asyncio.create_task(self._listen(), name="hub-listen"),
                       asyncio.create_task(self._queues(), name="hub-queues")]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await t
        with contextlib.suppress(RedisError, RuntimeError):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- conversation channels ---------------------------------------------------------------
    async def subscribe(self, cid: str, sub: Subscriber) -> None:
        ch = keys.conversation_channel(cid)
        async with self._lock:
            subs = self._subs.get(ch)
            if subs is None:
                self._subs[ch] = subs = set()
                await self._pubsub.subscribe(ch)
            subs.add(sub)

    async def unsubscribe(self, cid: str, sub: Subscriber) -> None:
        ch = keys.conversation_channel(cid)
        async with self._lock:
            subs = self._subs.get(ch)
            if subs is None:
                return
            subs.discard(sub)
            if not subs:
                del self._subs[ch]
                with contextlib.suppress(RedisError):
                    await self._pubsub.unsubscribe(ch)

    # -- plain channels --------------------------------------------------------------------
    async def listen(self, channel: str, listener: ChannelListener) -> None:
        """Relay every message on ``channel`` to ``listener`` (one per channel and process),
        over this hub's one pub/sub connection."""
        async with self._lock:
            if channel not in self._listeners:
                await self._pubsub.subscribe(channel)
            self._listeners[channel] = listener

    # -- service queues ----------------------------------------------------------------------
    async def watch(self, service: str, watcher: QueueWatcher) -> None:
        ch = keys.service_channel(service)
        async with self._lock:
            w = self._watchers.get(service)
            if w is None:
                self._watchers[service] = w = set()
                await self._pubsub.subscribe(ch)
            w.add(watcher)
        self.mark_dirty(service)

    async def unwatch(self, service: str, watcher: QueueWatcher) -> None:
        async with self._lock:
            w = self._watchers.get(service)
            if w is None:
                return
            w.discard(watcher)
            if not w:
                del self._watchers[service]
                with contextlib.suppress(RedisError):
                    await self._pubsub.unsubscribe(keys.service_channel(service))

    def mark_dirty(self, service: str) -> None:
        self._dirty.add(service)
        self._wake.set()

    def counts(self) -> tuple[int, int]:
        return len(self._subs), len(self._watchers)

    # -- loops -------------------------------------------------------------------------------
    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=None)
                backoff = 0.1
            except (RedisError, OSError) as exc:
                log.warning("pubsub connection lost: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                with contextlib.suppress(RedisError, OSError):
                    # Re-subscribing happens in redis-py's on_connect; ping forces it.
                    await self._pubsub.ping()
                continue
            if msg is None:
                continue
            kind = msg["type"]
            channel = msg["channel"]
            if kind == "subscribe" and channel == self._control:
                if self._connected_once:
                    self._resync_all()
                self._connected_once = True
                continue
            if kind != "message":
                continue
            data: str = msg["data"]
            listener = self._listeners.get(channel)
            if listener is not None:
                try:
                    listener.message(data)
                except Exception:
                    log.exception("channel listener failed")
                continue
            if channel.startswith("s:"):
                self.mark_dirty(channel[3:-3])  # "s:{svc}:e"
                continue
            subs = self._subs.get(channel)
            if not subs:
                continue
            space = data.index(" ")
            seq = int(data[:space])
            frame = data[space + 1:]
            for sub in tuple(subs):
                sub.push(seq, frame)

    def _resync_all(self) -> None:
        log.info("pubsub reconnected; resyncing %d channels", len(self._subs))
        for subs in self._subs.values():
            for sub in tuple(subs):
                sub.resync()
        for service in self._watchers:
            self.mark_dirty(service)
        for listener in self._listeners.values():
            listener.resync()

    async def _queues(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._debounce)  # coalesce a burst of changes into one read
            dirty, self._dirty = self._dirty, set()
            for service in dirty:
                watchers = self._watchers.get(service)
                if not watchers:
                    continue
                try:
                    view = await self._read_queue(service)
                except (RedisError, OSError):
                    self._dirty.add(service)
                    self._wake.set()
                    await asyncio.sleep(0.5)
                    continue
                # Thousands of waiting youths may watch one service: hand the view out in
                # slices and let the loop breathe between them, so relaying and the nurses'
                # dashboards (watching first) are not held up behind one long update.
                ordered = sorted(watchers, key=_watch_order)
                for i in range(0, len(ordered), _SLICE):
                    if i:
                        await asyncio.sleep(0)
                    for w in ordered[i:i + _SLICE]:
                        w.queue_changed(view)
