"""A primary of the Redis Cluster dies (kill -9) while a conversation's messages flow both ways,
and its replica takes over: no message the server acked is lost, none reaches the other side
twice, and once the replica is promoted new messages are delivered live again — on sockets that
stayed open through it, from the web processes' shard subscriptions on the new primary.

The web processes wait for one replica before acking (HELSEPRAT_REDIS_WAIT_REPLICAS=1). The
cluster is this module's own (it loses a node), with a short cluster-node-timeout so the
promotion comes in seconds. The replica is held back from taking over
(``cluster-replica-no-failover``) until readiness has answered 503 for the shard without a
primary, so that answer is seen for certain, then let go.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.exceptions import WebSocketException

from chat.client.protocol import (
    Frame,
    ProtocolClient,
    nurse_connect,
    ws_url,
    youth_resume,
    youth_start,
)
from chat.durability import REPLICAS_ENV, TIMEOUT_ENV
from chat.store import names as keys
from devservices.redis_cluster import RedisCluster
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.cluster

NODE_TIMEOUT_MS = 1000
WAIT_ENV = {REPLICAS_ENV: "1", TIMEOUT_ENV: "200"}
PATIENCE = 30.0  # seconds to wait for a condition that follows from the fail-over
PACE = 0.25  # seconds between one side's messages (under the default 5 sends per second)
LOST = (ConnectionError, OSError, RuntimeError, TimeoutError, WebSocketException)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    c = RedisCluster(tmp_path_factory.mktemp("failover-cluster"), node_timeout_ms=NODE_TIMEOUT_MS)
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
async def webs(cluster: RedisCluster, tmp_path_factory: pytest.TempPathFactory,
               ) -> AsyncIterator[tuple[WebProcess, WebProcess]]:
    """Two web processes: the youth talks to one, the nurse to the other."""
    d = tmp_path_factory.mktemp("web-failover")
    write_test_config(d)
    first = await start_clean_web(cluster.url, d, extra_env=WAIT_ENV)
    second = WebProcess(d, cluster.url, extra_env=WAIT_ENV)
    await asyncio.to_thread(second.start)
    yield first, second
    for w in (first, second):
        await asyncio.to_thread(w.stop)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def node_command(port: int, *args: str) -> Any:
    node = aioredis.Redis(port=port, decode_responses=True)
    try:
        return await node.execute_command(*args)
    finally:
        await node.aclose()


async def eventually(what: str, check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (a bounded while) until ``check`` holds: what the fail-over leads to, in its time."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + PATIENCE
    while not await check():
        if loop.time() > give_up:
            raise AssertionError(f"not so after {PATIENCE} s: {what}")
        await asyncio.sleep(0.1)


async def readyz(web: WebProcess) -> int:
    async with httpx.AsyncClient(base_url=web.base, timeout=30) as http:
        return (await http.get("/readyz")).status_code


@dataclass
class Talker:
    """One side of the conversation, as its browser behaves: numbered messages, one at a time,
    each sent until acked (after a lost socket: reconnected from the last sequence seen, and
    sent again with the same cmid). Keeps every frame the socket gets in sequence."""

    role: str
    reconnect: Callable[[int], Awaitable[ProtocolClient]]  # a socket attached after a sequence
    client: ProtocolClient
    acked: dict[str, int] = field(default_factory=dict)  # cmid -> seq
    delivered: list[Frame] = field(default_factory=list)
    out_of_order: list[tuple[int, int]] = field(default_factory=list)  # (seq, last before it)
    reconnects: int = 0
    last: int = 0
    sent: int = 0
    _waiting: dict[str, asyncio.Future[Frame]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(self.client))

    async def _read(self, client: ProtocolClient) -> None:
        while not (client.closed.is_set() and client.inbox.empty()):
            get = asyncio.ensure_future(client.inbox.get())
            gone = asyncio.ensure_future(client.closed.wait())
            await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
            if not get.done():
                get.cancel()
                continue
            f = get.result()
            if f["type"] == "deliver" or (f["type"] == "ack" and not f.get("duplicate")):
                # every sequence once, in order, as a deliver or an ack (a duplicate's ack is
                # not in the sequence: it says the message was stored before)
                if f["seq"] != self.last + 1:
                    self.out_of_order.append((f["seq"], self.last))
                self.last = max(self.last, f["seq"])
            if f["type"] == "deliver":
                self.delivered.append(f)
            if f["type"] in ("ack", "error"):
                waiter = self._waiting.pop(f.get("cmid") or f.get("ref") or "", None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(f)
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("socket closed"))
        self._waiting.clear()

    async def say(self, cid: str) -> str:
        self.sent += 1
        cmid = f"{self.role}-{self.sent:05d}"
        while True:
            waiter: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
            self._waiting[cmid] = waiter
            try:
                frame = {"type": "send", "cmid": cmid, "body": b64(f"{self.role} {self.sent}")}
                await self.client.send(frame if self.role == "youth"
                                       else {**frame, "conversation": cid})
                answer = await asyncio.wait_for(waiter, PATIENCE)
            except LOST:
                answer = {"type": "error", "code": "unavailable"}
            if answer["type"] == "ack":
                self.acked[cmid] = answer["seq"]
                return cmid
            assert answer["code"] == "unavailable", answer  # storage away: reconnect, resend
            await self._again()

    async def _again(self) -> None:
        with contextlib.suppress(*LOST):
            await self.client.close()
        if self._reader is not None:
            await self._reader
        loop = asyncio.get_running_loop()
        give_up = loop.time() + PATIENCE
        while True:
            try:
                self.client = await self.reconnect(self.last)
                break
            except LOST:
                if loop.time() > give_up:
                    raise
                await asyncio.sleep(0.2)
        self.reconnects += 1
        self.start()

    async def stop(self) -> None:
        with contextlib.suppress(*LOST):
            await self.client.close()
        if self._reader is not None:
            await self._reader


async def talk(side: Talker, cid: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await side.say(cid)
        await asyncio.sleep(PACE)


async def test_a_primary_killed_while_messages_flow_loses_no_acked_message(
        cluster: RedisCluster, webs: tuple[WebProcess, WebProcess]) -> None:
    youth_web, nurse_web = webs
    y, session = await youth_start(youth_web.base, "demo-skole")
    cid = session.conversation
    n, cookie = await nurse_ws(nurse_web.base, "demo.nurse")
    await n.send({"type": "claim", "conversation": cid})
    await n.expect("claimed")
    await n.expect("history_end", where=lambda f: f["conversation"] == cid)
    assert (await y.expect("state", where=lambda f: f["state"] == "active"))

    async def youth_again(after: int) -> ProtocolClient:  # frames to the Talker, none skipped
        c = await ProtocolClient.open(ws_url(youth_web.base, "/ws/youth"))
        await c.send({"type": "resume", "conversation": cid, "token": session.token,
                      "after": after})
        return c

    async def nurse_again(after: int) -> ProtocolClient:
        c = await nurse_connect(nurse_web.base, cookie)
        await c.send({"type": "open", "conversation": cid, "after": after})
        return c

    youth = Talker("youth", youth_again, y)
    nurse = Talker("nurse", nurse_again, n)
    for side in (youth, nurse):
        side.start()
    primary, replica = cluster.shard_of(keys.meta(cid))
    assert replica is not None
    await node_command(replica, "CONFIG", "SET", "cluster-replica-no-failover", "yes")
    stop = asyncio.Event()
    talking = [asyncio.create_task(talk(side, cid, stop)) for side in (youth, nurse)]

    async def both_acked(at_least: int) -> bool:
        for t in talking:  # a side that gave up says why
            if t.done():
                t.result()
        return min(len(youth.acked), len(nurse.acked)) >= at_least

    await eventually("messages flow", lambda: both_acked(5))
    killed_at = asyncio.get_running_loop().time()
    cluster.kill(primary)
    live = next(p for p in cluster.ports if p not in (primary, replica))
    assert [await readyz(w) for w in webs] == [503, 503]  # a shard without a primary
    await node_command(replica, "CONFIG", "SET", "cluster-replica-no-failover", "no")

    async def promoted() -> bool:
        return cluster.shard_of(keys.meta(cid), via=live) == (replica, None)

    await eventually("the replica is promoted", promoted)
    gap = asyncio.get_running_loop().time() - killed_at  # no primary for the slot this long
    after_failover = min(len(youth.acked), len(nurse.acked))
    await eventually("messages flow again", lambda: both_acked(after_failover + 5))
    stop.set()
    await asyncio.gather(*talking)

    async def ready() -> bool:
        return [await readyz(w) for w in webs] == [200, 200]

    await eventually("both web processes ready", ready)
    channel = keys.conversation_channel(cid)

    async def resubscribed() -> bool:  # one shard subscription per web process, on the new primary
        answer = await node_command(replica, "PUBSUB", "SHARDNUMSUB", channel)
        return int(answer[1]) == 2

    await eventually("both hubs subscribed on the new primary", resubscribed)
    sent = [await side.say(cid) for side in (youth, nurse)]  # live again, sockets as they are

    async def both_delivered() -> bool:
        return bool(youth.delivered and nurse.delivered) and \
            [nurse.delivered[-1]["cmid"], youth.delivered[-1]["cmid"]] == sent

    await eventually("the last two messages delivered", both_delivered)

    # Its sends waited for the new primary (acked writes ride out the gap). Any other command
    # its socket needs in the gap fails at once (docs/scaling.md, Fail-over): then the client
    # resumes, once; a slower election than the ride-through does the same.
    assert youth.reconnects <= 1, (youth.reconnects, f"gap {gap:.1f} s")
    assert youth.out_of_order == nurse.out_of_order == []
    log = await node_command(replica, "XRANGE", keys.log(cid), "-", "+")  # [(id, fields)]
    stored = {f["c"]: int(i.split("-")[1]) for i, f in log}
    for sender, receiver in ((youth, nurse), (nurse, youth)):
        assert {c: stored.get(c) for c in sender.acked} == sender.acked  # in the log, as acked
        got = [f["cmid"] for f in receiver.delivered if f["from"] == sender.role]
        assert sorted(got) == sorted(sender.acked)  # each delivered to the other side, once
    assert len(stored) == len(youth.acked) + len(nurse.acked)  # and nothing else stored

    session.last = 0  # a fresh resume: the whole conversation, in order, once
    back = await youth_resume(youth_web.base, session)
    everything = [await back.expect("deliver") for _ in range(len(stored))]
    assert [f["seq"] for f in everything] == list(range(1, len(stored) + 1))
    await back.close()
    for side in (youth, nurse):
        await side.stop()
    async with httpx.AsyncClient() as http:  # the promoted primary has no replica: counted
        scraped = [(await http.get(w.base + "/metrics")).text for w in webs]
    assert any(_short_waits(text) > 0 for text in scraped)


def _short_waits(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("helseprat_redis_wait_short_total "):
            return float(line.split()[1])
    return 0.0
