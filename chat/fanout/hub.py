"""Per-process fan-out: one Redis pub/sub connection for every WebSocket this process holds.

Conversation channels carry ``"<seq> <frame>"``: the receiver forwards the frame text as it is
(encoded once, by the sender's process) and uses ``seq`` (0 for state and typing events) to drop
what it already sent from history. Service channels carry a bare "queue changed" signal; the hub
turns bursts of those into at most one queue read per service per ``debounce`` seconds.

A subscription is in effect once Redis has confirmed it: ``subscribe`` returns only then, so a
feed that reads history after it cannot miss a message published in between. Conversation
channels asked for in the same loop turn (thousands at once when every client re-attaches after
a restart) share one SUBSCRIBE command.

After the pub/sub connection is re-established (Redis restarted, network blip) every subscriber
is asked to ``resync``: it re-reads its log after the last sequence it delivered, so nothing
published while the connection was down is lost. On a Redis Cluster the same holds per
conversation channel (chat/fanout/shards.py): one subscribed anew — after its node's connection
came back, or on the node that holds its slot after a fail-over — has its subscribers resync.
The plain pub/sub connection (service channels, listeners) moves to another node when its node
is gone from the slot map, subscribing everything again there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chat.fanout.shards import ShardChannels
from chat.metrics import registry as metrics
from chat.store import names as keys
from chat.store.client import is_cluster_client, node_left
from chat.store.conversations import QueueView

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
_SUBSCRIBE_CHUNK = 1000  # channels per SUBSCRIBE command


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
        self._lock = asyncio.Lock()  # orders SUBSCRIBE / UNSUBSCRIBE commands
        # Conversation channels to subscribe in the next SUBSCRIBE (in order), and per channel
        # one future per SUBSCRIBE asked for and not yet confirmed, oldest first (Redis confirms
        # each channel of each SUBSCRIBE in order).
        self._joining: dict[str, None] = {}
        self._confirm: dict[str, deque[asyncio.Future[None]]] = {}
        self._joins: set[asyncio.Task[None]] = set()
        # On a Redis Cluster conversation channels are sharded (chat/fanout/shards.py); the
        # service channels and plain listeners stay on the one plain pub/sub connection.
        self._shards = (ShardChannels(redis, self._shard_confirmed, self._deliver)
                        if is_cluster_client(redis) else None)

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control)
        self._tasks = [asyncio.create_task(self._listen(), name="hub-listen"),
                       asyncio.create_task(self._queues(), name="hub-queues")]

    async def stop(self) -> None:
        for t in (*self._tasks, *self._joins):
            t.cancel()
        self._cancel_waits()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await t
        if self._shards is not None:
            await self._shards.stop()
        with contextlib.suppress(RedisError, RuntimeError):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- conversation channels ---------------------------------------------------------------
    async def subscribe(self, cid: str, sub: Subscriber) -> None:
        """Deliver the conversation's events to ``sub``; returns once Redis has confirmed the
        subscription (raises RedisError if it could not be asked for)."""
        ch = keys.conversation_channel(cid)
        subs = self._subs.get(ch)
        if subs is None:
            self._subs[ch] = {sub}
            fut = asyncio.get_running_loop().create_future()
            self._confirm.setdefault(ch, deque()).append(fut)
            if not self._joining:
                asyncio.get_running_loop().call_soon(self._send_joins_soon)
            self._joining[ch] = None
            await asyncio.shield(fut)  # others may wait for it too: our cancellation is ours
            return
        subs.add(sub)
        pending = self._confirm.get(ch)
        if pending:  # someone else's SUBSCRIBE for this channel is still on its way
            await asyncio.shield(pending[-1])

    def _send_joins_soon(self) -> None:
        task = asyncio.create_task(self._send_joins())
        self._joins.add(task)
        task.add_done_callback(self._joins.discard)

    async def _send_joins(self) -> None:
        async with self._lock:
            channels, self._joining = list(self._joining), {}
            for i in range(0, len(channels), _SUBSCRIBE_CHUNK):
                chunk = channels[i:i + _SUBSCRIBE_CHUNK]
                try:
                    if self._shards is not None:
                        await self._shards.subscribe(chunk)
                    else:
                        await self._pubsub.subscribe(*chunk)
                except (RedisError, OSError) as exc:
                    for ch in channels[i:]:  # not asked for: those waiting get the error
                        if ch in self._joining:  # wanted again meanwhile: that one goes next
                            self._settle(ch, error=exc)
                        else:  # forgotten, so the next subscriber asks again
                            self._settle(ch, newest=True, error=exc)
                            self._subs.pop(ch, None)
                    return

    def _settle(self, ch: str, newest: bool = False, error: BaseException | None = None) -> None:
        """Resolve the oldest (or the newest, never sent) SUBSCRIBE future of ``ch``."""
        pending = self._confirm.get(ch)
        if not pending:
            return
        fut = pending.pop() if newest else pending.popleft()
        if not pending:
            del self._confirm[ch]
        if fut.done():
            return
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)

    def _shard_confirmed(self, ch: str) -> None:
        """A shard channel's SSUBSCRIBE is in effect: one of ours, or the channel subscribed anew
        (chat/fanout/shards.py), when what was published meanwhile is in the log only."""
        if self._confirm.get(ch):
            self._settle(ch)
            return
        subs = self._subs.get(ch)
        if not subs:  # given up while its node was away, then moved anyway: let it go
            task = asyncio.create_task(self._let_go(ch))
            self._joins.add(task)
            task.add_done_callback(self._joins.discard)
            return
        log.info("shard channel subscribed anew; resyncing %d subscriber(s)", len(subs))
        for sub in tuple(subs):
            sub.resync()

    async def _let_go(self, ch: str) -> None:
        async with self._lock:
            if self._shards is not None and ch not in self._subs and ch not in self._joining:
                with contextlib.suppress(RedisError, OSError):
                    await self._shards.unsubscribe(ch)

    def _resubscribed(self) -> None:
        """redis-py re-subscribed every channel it knows in one command after a reconnect, and
        Redis has confirmed one of them, so all of them are in effect: nobody waits for those.
        (SUBSCRIBEs lost with the old connection are never confirmed one by one.)"""
        known = self._pubsub.channels
        for ch in [ch for ch in self._confirm if ch in known]:
            unsent = ch in self._joining  # its newest SUBSCRIBE has not left yet: keep it
            while len(self._confirm.get(ch, ())) > unsent:
                self._settle(ch)

    def _cancel_waits(self) -> None:
        pending, self._confirm = self._confirm, {}
        for futs in pending.values():
            for fut in futs:
                fut.cancel()

    async def unsubscribe(self, cid: str, sub: Subscriber) -> None:
        ch = keys.conversation_channel(cid)
        subs = self._subs.get(ch)
        if subs is None:
            return
        subs.discard(sub)
        if subs:
            return
        del self._subs[ch]
        if ch in self._joining:  # its SUBSCRIBE has not left yet: it need not
            del self._joining[ch]
            self._settle(ch, newest=True)
            return
        async with self._lock:
            if ch in self._subs or ch in self._joining:
                return  # wanted again meanwhile
            with contextlib.suppress(RedisError):
                if self._shards is not None:
                    await self._shards.unsubscribe(ch)
                else:
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
                metrics.redis_error(exc)
                log.warning("pubsub connection lost: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                if self._shards is not None and await node_left(self._redis, self._pubsub):
                    await self._move_pubsub()
                    continue
                with contextlib.suppress(RedisError, OSError):
                    # Re-subscribing happens in redis-py's on_connect; ping forces it.
                    await self._pubsub.ping()
                continue
            if msg is None:
                continue
            kind = msg["type"]
            channel = msg["channel"]
            if kind == "subscribe":
                if channel == self._control:
                    # Once at start; again after a reconnect, when redis-py re-subscribes every
                    # channel in one command (ours first): all of them are in effect now.
                    if self._connected_once:
                        metrics.redis_reconnected()
                        self._resubscribed()
                        self._resync_all()
                    self._connected_once = True
                else:
                    self._settle(channel)
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
            self._deliver(channel, data)

    async def _move_pubsub(self) -> None:
        """(Cluster) the plain channels on a new pub/sub connection, on the node that holds
        the control channel's slot now: its confirmation, first, marks the reconnect."""
        async with self._lock:
            old, new = self._pubsub, self._redis.pubsub()
            channels = [ch for ch in old.channels if ch != self._control]
            try:
                await new.subscribe(self._control, *channels)
            except (RedisError, OSError):
                with contextlib.suppress(RedisError, OSError, RuntimeError):
                    await new.aclose()  # type: ignore[no-untyped-call]
                return
            self._pubsub = new
            log.info("pubsub moved to another node (its node left the cluster's slot map)")
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await old.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, channel: str, data: str) -> None:
        """A conversation channel's ``"<seq> <frame>"`` to its subscribers here."""
        subs = self._subs.get(channel)
        if not subs:
            return
        space = data.index(" ")
        seq = int(data[:space])
        frame = data[space + 1:]
        for sub in tuple(subs):
            sub.push(seq, frame)

    def _resync_convs(self) -> None:
        log.info("pubsub reconnected; resyncing %d channels", len(self._subs))
        for subs in self._subs.values():
            for sub in tuple(subs):
                sub.resync()

    def _resync_all(self) -> None:
        if self._shards is None:
            self._resync_convs()
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
