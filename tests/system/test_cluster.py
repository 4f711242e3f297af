"""The basic chat on a Redis Cluster: a web process whose REDIS_URL is ``redis+cluster://``
(three primaries, three replicas on loopback), a youth starts, a nurse claims, messages go both
ways, and the youth, reconnecting, gets what it missed. The conversation's channel is a shard
channel on the one node that holds its slot, not a channel every node carries. The web
process's repair sweep puts a conversation a lost step left in no queue back in it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from chat.client.protocol import later_snapshot, youth_later, youth_resume, youth_start
from chat.domain import conversation as model
from chat.domain.conversation import State
from chat.durability import ReplicaWait
from chat.protocol import events
from chat.store import names as keys
from chat.store.client import connect
from chat.store.conversations import AppendResult, Store
from devservices.redis_cluster import RedisCluster
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.chat.web.test_later import item, later_services, seen_or_next, send
from tests.clockfile import new_clock_file
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.cluster


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def where_subscribed(cluster: RedisCluster, channel: str) -> tuple[list[int], list[int]]:
    """The nodes with ``channel`` as a shard channel, and those with it as a plain one."""
    sharded, plain = [], []
    for port in cluster.ports:
        node = aioredis.Redis(port=port, decode_responses=True)
        if await node.execute_command("PUBSUB", "SHARDCHANNELS", channel):
            sharded.append(port)
        if await node.pubsub_channels(channel):
            plain.append(port)
        await node.aclose()
    return sharded, plain


@pytest.fixture(scope="module")
async def site(redis_cluster: RedisCluster,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    d = tmp_path_factory.mktemp("web-cluster")
    write_test_config(d)
    proc = await start_clean_web(redis_cluster.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_a_conversation_on_a_cluster(site: WebProcess, redis_cluster: RedisCluster) -> None:
    y, session = await youth_start(site.base, "demo-skole")
    assert (await y.expect("state"))["state"] == "waiting"
    n, _ = await nurse_ws(site.base, "demo.nurse")
    await n.expect("queue_snapshot", where=lambda f: f["service"] == "demo-skole" and any(
        i["conversation"] == session.conversation for i in f["items"]))
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    assert (await y.expect("state"))["state"] == "active"

    await y.send({"type": "send", "cmid": "youthmsg01", "body": b64("hei")})
    assert (await y.expect("ack"))["seq"] == 1
    got = await n.expect("deliver")
    assert (got["seq"], got["from"], got["body"]) == (1, "youth", b64("hei"))
    await n.send({"type": "send", "conversation": session.conversation, "cmid": "nursemsg01",
                  "body": b64("hei, hva lurer du på?")})
    assert (await n.expect("ack"))["seq"] == 2
    got = await y.expect("deliver")
    assert (got["seq"], got["from"]) == (2, "nurse")
    sharded, plain = await where_subscribed(redis_cluster,
                                            keys.conversation_channel(session.conversation))
    assert len(sharded) == 1 and plain == []

    session.last = 2
    await y.close()  # gone: what the nurse writes now waits in the log
    for i, text in enumerate(("er du der?", "skriv når du vil"), start=3):
        await n.send({"type": "send", "conversation": session.conversation,
                      "cmid": f"nursemsg0{i}", "body": b64(text)})
        assert (await n.expect("ack"))["seq"] == i
    back = await youth_resume(site.base, session)
    missed = [await back.expect("deliver") for _ in range(2)]
    assert [(f["seq"], f["body"]) for f in missed] == [
        (3, b64("er du der?")), (4, b64("skriv når du vil"))]
    await back.send({"type": "send", "cmid": "youthmsg02", "body": b64("her")})
    assert (await back.expect("ack"))["seq"] == 5
    assert (await n.expect("deliver"))["seq"] == 5

    await n.send({"type": "close", "conversation": session.conversation, "outcome": "referred"})
    assert (await back.expect("state", where=lambda f: f["state"] == "closed"))["outcome"] == \
        "referred"
    for c in (back, n):
        await c.close()


async def test_a_release_puts_it_back_in_the_queue_on_a_cluster(site: WebProcess) -> None:
    y, session = await youth_start(site.base, "demo-skole")
    assert (await y.expect("state"))["state"] == "waiting"
    n, _ = await nurse_ws(site.base, "demo.nurse")

    def listed(f: dict[str, object]) -> bool:
        items = f["items"]
        assert isinstance(items, list)
        return f["service"] == "demo-skole" and any(
            i["conversation"] == session.conversation for i in items)

    await n.expect("queue_snapshot", where=listed)
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    assert (await y.expect("state"))["state"] == "active"
    await n.send({"type": "release", "conversation": session.conversation})
    assert (await y.expect("state"))["state"] == "waiting"
    await n.expect("queue_snapshot", where=listed)  # back in the queue the nurses see
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")  # and her slot was freed: claimable again
    assert (await y.expect("state"))["state"] == "active"
    await y.send({"type": "end"})
    assert (await y.expect("state", where=lambda f: f["state"] == "closed"))["state"] == "closed"
    for c in (y, n):
        await c.close()


async def test_a_transfer_to_a_colleague_on_a_cluster(site: WebProcess) -> None:
    y, s = await youth_start(site.base, "demo-skole")
    n, _ = await nurse_ws(site.base, "demo.nurse")
    lead, _ = await nurse_ws(site.base, "demo.lead")
    await n.send({"type": "claim", "conversation": s.conversation})
    await n.expect("claimed")
    await n.send({"type": "transfer", "conversation": s.conversation, "to_nurse": "demo.lead"})
    assert (await n.expect("transferred"))["state"] == "active"
    assert (await lead.expect("assigned"))["conversation"] == s.conversation
    seen = await y.expect("state", where=lambda f: f.get("transferred") is True)
    assert seen["nurse"] == "Demo Leder"
    await lead.send({"type": "send", "conversation": s.conversation, "cmid": "afterxfer02",
                     "body": b64("hei")})
    assert (await lead.expect("ack"))["cmid"] == "afterxfer02"
    assert (await y.expect("deliver"))["from"] == "nurse"
    await n.send({"type": "claim", "conversation": s.conversation})  # hers now, not his
    assert (await n.expect("error"))["code"] == "already_claimed"
    for c in (y, n, lead):
        await c.close()


async def test_messages_still_arrive_after_the_pubsub_connections_drop(
        site: WebProcess, redis_cluster: RedisCluster) -> None:
    y, s = await youth_start(site.base, "demo-skole")
    n, _ = await nurse_ws(site.base, "demo.nurse")
    await n.send({"type": "claim", "conversation": s.conversation})
    await n.expect("claimed")
    assert (await y.expect("state", where=lambda f: f["state"] == "active"))
    for port in redis_cluster.ports:  # every node drops its subscribers' connections
        node = aioredis.Redis(port=port, decode_responses=True)
        await node.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await node.aclose()
    for i in range(1, 4):  # sent while the web process may still be re-subscribing
        await n.send({"type": "send", "conversation": s.conversation, "cmid": f"afterkill{i}",
                      "body": b64(f"melding {i}")})
        assert (await n.expect("ack"))["seq"] == i
    got = [await y.expect("deliver") for _ in range(3)]
    assert [f["seq"] for f in got] == [1, 2, 3]  # live or re-read: none lost, none twice
    await y.send({"type": "send", "cmid": "afterkill9", "body": b64("fikk alle")})
    assert (await n.expect("deliver"))["seq"] == 4
    for c in (y, n):
        await c.close()


@pytest.fixture(scope="module")
async def later_site(redis_cluster: RedisCluster,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    d = tmp_path_factory.mktemp("web-cluster-later")
    write_test_config(d, later_services(), answer_later=True)
    proc = await start_clean_web(redis_cluster.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_answer_later_on_a_cluster(later_site: WebProcess) -> None:
    base = later_site.base
    y, s = await youth_start(base, "later-skole")  # nobody on duty: a later start
    assert (await y.expect("state"))["state"] == "later"
    n, _ = await nurse_ws(base, "other.nurse")
    owed = await send(y, "Hallo?")  # now it owes an answer: on the answer-later list
    items = await later_snapshot(n, "later-skole", lambda i: item(i, s.conversation) is not None)
    assert item(items, s.conversation)["owed"] == owed  # type: ignore[index]
    await n.send({"type": "claim", "conversation": s.conversation})
    await n.expect("claimed", where=lambda f: f["conversation"] == s.conversation)
    assert (await y.expect("state", where=lambda f: f["state"] == "active"))
    await send(n, "Hei, her er svaret", s.conversation)
    assert (await y.expect("deliver"))["from"] == "nurse"

    d, _ = await nurse_ws(base, "demo.nurse")  # on duty in live-skole: a start waits there
    waiting, ws = await youth_start(base, "live-skole")
    assert (await waiting.expect("state"))["state"] == "waiting"
    owed = await send(waiting, "Jeg må gå, svar meg senere")
    mark = len(d.seen)
    await youth_later(waiting)
    items = await later_snapshot(d, "live-skole", lambda i: item(i, ws.conversation) is not None)
    assert item(items, ws.conversation)["owed"] == owed  # type: ignore[index]
    await seen_or_next(d, mark, "queue_snapshot", lambda f: f["service"] == "live-skole"
                       and item(f["items"], ws.conversation) is None)  # out of the queue
    for c in (y, n, waiting, d):
        await c.close()


@pytest.fixture(scope="module")
async def jobs_site(redis_cluster: RedisCluster,
                    tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    """A web process whose jobs run twice a second (a test clock file, at real time)."""
    d = tmp_path_factory.mktemp("web-cluster-jobs")
    write_test_config(d)
    clock = new_clock_file(tmp_path_factory)
    proc = await start_clean_web(redis_cluster.url, d,
                                 extra_env={"HELSEPRAT_TEST_CLOCK_FILE": str(clock)})
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_the_web_process_repairs_a_lost_step_on_a_cluster(
        jobs_site: WebProcess, redis_cluster: RedisCluster) -> None:
    y, s = await youth_start(jobs_site.base, "demo-skole")
    assert (await y.expect("state"))["state"] == "waiting"
    r = connect(redis_cluster.url)
    # As if a release had died before its last step two minutes ago: waiting, in no queue,
    # the move still recorded.
    await r.zrem(keys.queue("demo-skole"), s.conversation)
    await r.zadd(keys.moves("demo-skole"), {s.conversation: time.time() - 120})
    await r.aclose()
    n, _ = await nurse_ws(jobs_site.base, "demo.nurse")
    await n.expect("queue_snapshot", where=lambda f: f["service"] == "demo-skole" and any(
        i["conversation"] == s.conversation for i in f["items"]))  # back in the queue
    await n.send({"type": "claim", "conversation": s.conversation})
    await n.expect("claimed")
    assert "repair-sweep" not in jobs_site.log_text()  # no round failed
    for c in (y, n):
        await c.close()


@contextlib.contextmanager
def held(cluster: RedisCluster, port: int) -> Iterator[None]:
    """The node on ``port`` stopped (SIGSTOP): connected, answering and acknowledging nothing."""
    proc = next(n.proc for n in cluster.nodes if n.port == port)
    assert proc is not None
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(proc.pid, signal.SIGCONT)


async def told(sub: Any) -> str:
    """The next shard message's data, or "pong" for the answer to our PING."""
    while True:
        msg: dict[str, Any] | None = await sub.get_message(timeout=None)
        if msg is None or msg["type"] == "ssubscribe":
            continue
        return str(msg["data"]) if msg["type"] == "smessage" else "pong"


async def test_a_message_is_told_only_once_its_replica_has_it_on_a_cluster(
        redis_cluster: RedisCluster) -> None:
    client = connect(redis_cluster.url, socket_timeout=None)
    store = Store(client, replica_wait=ReplicaWait(replicas=1, timeout_ms=60_000))
    cid = "waitsforreplica"
    await client.hset(keys.meta(cid), mapping={model.ST: State.ACTIVE, model.SVC: "demo-skole"})
    primary, replica = redis_cluster.shard_of(keys.meta(cid))
    assert replica is not None
    node = aioredis.Redis(port=primary, decode_responses=True)
    sub = node.pubsub()
    await sub.ssubscribe(keys.conversation_channel(cid))

    def append(cmid: str) -> Any:
        prefix, suffix = events.deliver_template(cid, "youth", "youth", cmid, "aGVp", 1)
        return store.append(cid, cmid, "youth", "youth", "aGVp", 1, 3600, prefix, suffix,
                            caps=(1000, 1 << 20), service="demo-skole")

    await append("warms-up-scripts")  # the node has the scripts (else a NOSCRIPT round first)
    assert (await told(sub)).startswith("1 ")
    with held(redis_cluster, replica):
        sending = asyncio.create_task(append("cluster-wait"))
        while await node.xlen(keys.log(cid)) < 2:  # stored on the primary...
            await asyncio.sleep(0.01)
        await sub.ping()
        assert await told(sub) == "pong"  # ...and not told to anyone yet
    result = await sending
    assert isinstance(result, AppendResult) and (result.status, result.seq) == (1, 2)
    assert (await told(sub)).startswith('2 {"v":1,"type":"deliver"')
    await sub.aclose()
    await node.aclose()
    await client.delete(keys.meta(cid), keys.log(cid), keys.dedup(cid))
    await client.aclose()
