"""Faults with real processes: kill -9 a web process, restart Redis, rolling restart."""

from __future__ import annotations

import asyncio
import base64

import redis.asyncio as aioredis
from websockets.exceptions import InvalidStatus

from chat.client.protocol import nurse_connect, nurse_login, youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD
from tests.system.resilient import ResilientYouth


async def _claimed_pair(
    youth_base: str, nurse_base: str
) -> tuple[ResilientYouth, str]:
    y, session = await youth_start(youth_base, "demo-skole")
    await y.close()
    cookie = await nurse_login(nurse_base, "demo.nurse", DEMO_PASSWORD)
    n = await nurse_connect(nurse_base, cookie)
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    await n.close()
    return ResilientYouth([youth_base], session), cookie


async def _log(redis_url: str, cid: str) -> list[str]:
    r = aioredis.from_url(redis_url, decode_responses=True)
    entries = await r.xrange(f"c:{{{cid}}}:l")
    await r.aclose()
    return [f["c"] for _, f in entries]


async def _send_until(youth: ResilientYouth, n: int, event: asyncio.Event | None,
                      at: int) -> None:
    for i in range(n):
        await youth.send(f"msg{i:05}", f"melding {i}")
        if i == at and event is not None:
            event.set()
        await asyncio.sleep(0.01)


async def _wait_acked(youth: ResilientYouth, n: int, timeout: float = 30) -> None:
    async def wait() -> None:
        while len(youth.acked) < n or len(youth.received) < n:
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(
            f"acked {len(youth.acked)}/{n}, received {len(youth.received)}/{n}, "
            f"unacked {sorted(youth.unacked)[:5]}, reconnects {youth.reconnects}, "
            f"last {youth.session.last}") from None


async def test_kill_9_mid_conversation_loses_nothing(
    web_pair: tuple[WebProcess, WebProcess], redis_url: str
) -> None:
    a, b = web_pair
    youth, _cookie = await _claimed_pair(a.base, b.base)
    youth.bases = [a.base, b.base]
    await youth.start()
    half = asyncio.Event()
    sender = asyncio.create_task(_send_until(youth, 200, half, 80))
    await half.wait()
    a.kill()  # SIGKILL: no goodbye, in-flight frames die with it
    await sender
    await _wait_acked(youth, 200)
    assert youth.reconnects >= 1
    # Every acked message is in the log exactly once and in send order...
    log = await _log(redis_url, youth.session.conversation)
    assert log == [f"msg{i:05}" for i in range(200)]
    # ...and delivered to the youth's own feed exactly once, in order.
    assert [cmid for _, _, cmid in youth.received] == log
    await youth.stop()


async def test_rolling_restart_loses_nothing(
    web_pair: tuple[WebProcess, WebProcess], redis_url: str
) -> None:
    a, b = web_pair
    youth, _ = await _claimed_pair(a.base, b.base)
    youth.bases = [a.base, b.base]
    await youth.start()
    half = asyncio.Event()
    sender = asyncio.create_task(_send_until(youth, 150, half, 50))
    await half.wait()
    code = await asyncio.to_thread(a.terminate)
    assert code == 0  # graceful: drained, then exited cleanly
    await sender
    await _wait_acked(youth, 150)
    log = await _log(redis_url, youth.session.conversation)
    assert log == [f"msg{i:05}" for i in range(150)]
    assert [cmid for _, _, cmid in youth.received] == log
    assert "reconnect" in str(youth.reconnects) or youth.reconnects >= 1
    await youth.stop()


async def test_redis_restart_keeps_acked_messages(
    web: WebProcess, redis_proc: RedisProcess, redis_url: str
) -> None:
    y, session = await youth_start(web.base, "demo-skole")
    for i in range(20):
        await y.send({"type": "send", "cmid": f"beforerestart{i:02}",
                      "body": base64.b64encode(b"x").decode()})
        await y.expect("ack")
    await y.close()
    redis_proc.restart()  # clean shutdown + start: the AOF is replayed
    assert await _log(redis_url, session.conversation) == [f"beforerestart{i:02}"
                                                            for i in range(20)]
    # The web process reconnects by itself and keeps serving the conversation.
    youth = ResilientYouth([web.base], session)
    await youth.start()
    await youth.send("afterrestart", "y")
    await _wait_acked(youth, 1)
    assert [c for _, _, c in youth.received][-1] == "afterrestart"
    assert len(await _log(redis_url, session.conversation)) == 21
    await youth.stop()


async def test_nurse_socket_while_redis_is_down_is_refused_without_a_traceback(
    web: WebProcess, redis_proc: RedisProcess
) -> None:
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    redis_proc.stop()
    try:
        refused = False
        try:
            await nurse_connect(web.base, cookie)  # returns once the hello has arrived
        except (ConnectionError, OSError, InvalidStatus):
            refused = True
        assert refused
    finally:
        redis_proc.start()
    assert "Traceback" not in web.log_text()
    assert "storage unavailable" in web.log_text()
    # Redis is back: the same session works again.
    n = await nurse_connect(web.base, cookie)
    await n.close()
