"""The per-connection send queue (chat.fanout.outbox) and the lean asyncio parts for idle connections
(chat.fanout.aio, chat.server.memory), on a Starlette WebSocket over in-memory ASGI callables: no sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.websockets import WebSocket, WebSocketState

from chat.fanout.aio import LazyEvent
from chat.fanout.outbox import Outbox
from chat.server.memory import AppQueue, LeanEvent


class Peer:
    """The ASGI server side of one WebSocket; ``hold()`` makes sends wait, like a full socket."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: int | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self.closed = message["code"]
            return
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("connection lost")
        self.sent.append(message["text"])

    async def receive(self) -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError

    def websocket(self) -> WebSocket:
        ws = WebSocket({"type": "websocket", "headers": []}, self.receive, self.send)
        ws.application_state = WebSocketState.CONNECTED
        return ws


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_go_out_in_order_across_bursts_and_idle_holds_nothing() -> None:
    peer = Peer()
    out = Outbox(peer.websocket())
    expected = []
    for burst in range(5):
        for i in range(burst * 7 + 1):  # single frames and bursts, some while a send waits
            frame = f"{burst}-{i}"
            expected.append(frame)
            out.put(frame)
            if i == 2:
                peer.hold()
                await settle()
                peer.release()
        await settle()
        # Everything is written: no queue, no task until the next frame.
        assert peer.sent == expected
        assert out._writer is None and out._pending is None
    out.close()
    await out.wait_closed()
    assert peer.closed == 1000


async def test_close_writes_what_was_queued_first_then_drops_later_frames() -> None:
    peer = Peer()
    out = Outbox(peer.websocket())
    peer.hold()
    for i in range(10):
        out.put(str(i))
    out.close(1012)
    out.put("after close")
    peer.release()
    await out.wait_closed()
    assert peer.sent == [str(i) for i in range(10)]
    assert peer.closed == 1012
    assert out.close_code == 1012


async def test_close_with_nothing_queued_closes_the_socket() -> None:
    peer = Peer()
    out = Outbox(peer.websocket())
    out.close(1008)
    await out.wait_closed()
    assert peer.closed == 1008 and peer.sent == []


async def test_a_client_a_full_queue_behind_is_closed_with_1013_without_the_backlog() -> None:
    peer = Peer()
    out = Outbox(peer.websocket(), maxsize=8)
    peer.hold()
    out.put("in flight")  # taken by the writer, which then waits on the socket
    await settle()
    for i in range(8):
        out.put(str(i))
    assert out.close_code is None  # 8 queued: at the limit, not past it
    out.put("one too many")
    assert out.close_code == 1013
    peer.release()
    await out.wait_closed()
    assert peer.sent == ["in flight"]  # the backlog was dropped; the client resumes by sequence
    assert peer.closed == 1013


async def test_put_never_waits_even_when_the_socket_does() -> None:
    peer = Peer()
    out = Outbox(peer.websocket(), maxsize=1024)
    peer.hold()
    for i in range(1024):
        out.put(str(i))  # synchronous: returns at once
    await settle()
    assert len(peer.sent) == 0 and out.close_code is None
    peer.release()
    await settle()
    assert peer.sent == [str(i) for i in range(1024)]


async def test_after_a_failed_send_nothing_more_is_written_and_the_queue_still_bounds() -> None:
    peer = Peer()
    out = Outbox(peer.websocket(), maxsize=4)
    peer.fail = True
    out.put("lost")
    await settle()
    peer.fail = False
    for i in range(4):
        out.put(str(i))
    await settle()
    assert peer.sent == []
    out.put("over")
    assert out.close_code == 1013
    await out.wait_closed()
    assert peer.sent == []


async def test_lazy_event_behaves_like_asyncio_event() -> None:
    ev = LazyEvent(True)
    assert ev.is_set() and await ev.wait()
    ev.clear()
    waiters = [asyncio.create_task(ev.wait()) for _ in range(3)]
    await settle()
    assert not any(w.done() for w in waiters)
    waiters[1].cancel()
    await settle()
    ev.set()
    await settle()
    assert waiters[0].result() and waiters[2].result() and waiters[1].cancelled()
    assert ev._waiters is None
    ev.clear()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ev.wait(), 0.01)
    assert ev._waiters is None  # a timed-out waiter leaves nothing behind


async def test_lean_event_for_hypercorn() -> None:
    ev = LeanEvent()
    assert not ev.is_set()
    waiter = asyncio.create_task(ev.wait())
    await settle()
    await ev.set()
    await waiter
    await ev.clear()
    assert not ev.is_set()


async def test_app_queue_is_a_bounded_fifo_like_asyncio_queue() -> None:
    q = AppQueue(2)
    await q.put(1)
    await q.put(2)
    third = asyncio.create_task(q.put(3))  # full: waits
    await settle()
    assert not third.done()
    assert await q.get() == 1
    await settle()
    assert third.done()
    assert [await q.get(), await q.get()] == [2, 3]
    getter = asyncio.create_task(q.get())  # empty: waits
    await settle()
    assert not getter.done()
    await q.put(4)
    assert await getter == 4


async def test_app_queue_cancelled_waiters_pass_their_wakeup_on() -> None:
    q = AppQueue(1)
    a = asyncio.create_task(q.get())
    b = asyncio.create_task(q.get())
    await settle()
    await q.put("x")  # wakes a...
    a.cancel()  # ...which is cancelled before it runs: b must get the item
    await settle()
    assert a.cancelled() and b.result() == "x"
    assert q._getters == [] and q._items == []

    await q.put("full")
    p1 = asyncio.create_task(q.put("p1"))
    p2 = asyncio.create_task(q.put("p2"))
    await settle()
    assert await q.get() == "full"  # wakes p1...
    p1.cancel()  # ...cancelled before it runs: p2 puts instead
    await settle()
    assert p1.cancelled() and p2.done()
    assert await q.get() == "p2"


def test_hypercorn_gets_the_lean_parts_through_the_seams_we_rely_on() -> None:
    import inspect

    from hypercorn.asyncio import task_group, tcp_server
    from hypercorn.asyncio.worker_context import WorkerContext

    from chat.server.memory import lean_connections

    # What chat.server.memory copies from Hypercorn 0.18: fail here, not in production, if it moves.
    assert list(inspect.signature(task_group.TaskGroup.spawn_app).parameters) == \
        ["self", "app", "config", "scope", "send"]
    assert list(inspect.signature(task_group._handle).parameters) == \
        ["app", "config", "scope", "receive", "send", "sync_spawn", "call_soon"]
    lean_connections()
    lean_connections()  # idempotent
    assert tcp_server.TaskGroup.__name__ == "LeanTaskGroup"
    assert tcp_server.TaskGroup.__mro__[1] is task_group.TaskGroup
    assert WorkerContext.event_class is LeanEvent
