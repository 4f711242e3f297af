"""Back-pressure on a real web process: a youth whose phone stops reading is disconnected once
its connection's send queue is full (1013), loses nothing, and gets the rest in order on resume."""

from __future__ import annotations

import asyncio
import base64
import socket

from chat.client.e2e import YouthCrypto, fetch_team
from chat.client.protocol import ProtocolClient, YouthSession, nurse_connect, nurse_login, ws_url, youth_resume
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD

QUEUE = 1024  # chat.fanout.outbox.Outbox's maxsize


def send_buffer_max() -> int:
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 4 * 2**20


def b64(n: int, size: int = 0) -> str:
    return base64.b64encode(f"m{n}".encode().ljust(size, b".")).decode()


async def test_a_youth_that_stops_reading_is_closed_with_1013_and_resumes_in_order(
    web: WebProcess,
) -> None:
    # The youth's socket: a small receive buffer, and a client library that stops reading
    # from it (TCP back-pressure to the server) once 4 frames wait unread.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", web.port))
    y = await ProtocolClient.open(ws_url(web.base, "/ws/youth"), sock=sock, max_queue=4)
    keys = YouthCrypto.create(await fetch_team(web.base, "demo-skole"))
    await y.send({"type": "start", "service": "demo-skole", "key_bundle": keys.bundle_b64,
                  "epoch": keys.epoch})
    started = await y.expect("started")
    cid = started["conversation"]
    await y.expect("queue")

    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    nurses = [await nurse_connect(web.base, cookie) for _ in range(3)]  # rate limits per socket
    await nurses[0].send({"type": "claim", "conversation": cid})
    await nurses[0].expect("claimed")
    await y.expect("state", where=lambda f: f["state"] == "active")
    assert y._reader is not None
    y._reader.cancel()  # the phone stops reading

    # Large messages (60,000 base64 characters) to fill the socket buffers on the way (the
    # server's kernel send buffer can grow to tcp_wmem's maximum), then more small ones than the
    # queue holds. Each nurse socket sends within its burst limit, then waits for its acks.
    big, small = (send_buffer_max() + 2**20) // 45_000 + 1, QUEUE + 200
    total = big + small
    bodies = [b64(i, 45_000 if i <= big else 0) for i in range(1, total + 1)]

    async def send(n: ProtocolClient, part: list[int]) -> None:
        for i in part:
            await n.send({"type": "send", "conversation": cid, "cmid": f"nurse{i:06}",
                          "body": bodies[i - 1]})
        for _ in part:
            await n.expect("ack", timeout=30)

    numbers = list(range(1, total + 1))
    await send(nurses[0], numbers[:big])  # in order: the large ones first
    rest = numbers[big:]
    await asyncio.gather(*(send(n, rest[k::3]) for k, n in enumerate(nurses)))
    await asyncio.sleep(0.5)

    # The phone reads again: it gets a gap-free prefix, then the server's close with 1013.
    y.closed.clear()  # set by the cancelled reader
    y._reader = asyncio.create_task(y._read())
    await asyncio.wait_for(y.closed.wait(), 30)
    assert y.ws.close_code == 1013
    seqs = [f["seq"] for f in y.seen if f["type"] == "deliver"]
    assert seqs == list(range(1, len(seqs) + 1))
    assert 0 < len(seqs) < total  # the backlog past the queue was dropped, not sent

    # Resuming from the last sequence it saw delivers all the rest, in order.
    y2 = await youth_resume(web.base, YouthSession(cid, started["token"], seqs[-1]))
    rest_seqs = [(await y2.expect("deliver", timeout=30))["seq"] for _ in range(total - len(seqs))]
    assert rest_seqs == list(range(len(seqs) + 1, total + 1))
    for c in (y2, *nurses):
        await c.close()
