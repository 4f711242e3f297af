"""The intake and urgency first, over real sockets: the topic and urgency travel in ``start``,
are refused when unknown, show on the nurses' queue items, order the queue, and a nurse's
acute flag re-orders it; the waiting youth's own position follows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chat.client.protocol import ProtocolClient, ws_url, youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import nurse_ws, write_dash_config
from tests.conftest import start_clean_web

SERVICE = "dash-hfu"  # a service of its own: the other modules' youths are not in its queue


@pytest.fixture(scope="module")
async def iweb(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               ) -> AsyncIterator[WebProcess]:
    d: Path = tmp_path_factory.mktemp("intake")
    write_dash_config(d)
    proc = await start_clean_web(redis_proc.url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


def ids(frame: dict[str, Any]) -> list[str]:
    return [i["conversation"] for i in frame["items"]]


async def queue_is(n: ProtocolClient, order: list[str]) -> dict[str, Any]:
    return await n.expect("queue_snapshot", where=lambda f: f["service"] == SERVICE
                          and ids(f) == order)


async def position_is(y: ProtocolClient, position: int) -> None:
    await y.expect("queue", where=lambda f: f["position"] == position)


async def test_urgency_and_the_acute_flag_order_the_queue(iweb: WebProcess) -> None:
    n, _ = await nurse_ws(iweb.base, "other.nurse")  # on duty: starts wait in the queue
    a, sa = await youth_start(iweb.base, SERVICE)
    await queue_is(n, [sa.conversation])
    b, sb = await youth_start(iweb.base, SERVICE, topic="mental", urgent=True)
    frame = await queue_is(n, [sb.conversation, sa.conversation])
    first = frame["items"][0]
    assert first["topic"] == "mental" and first["urgent"] is True
    assert "topic" not in frame["items"][1] and "urgent" not in frame["items"][1]
    assert first["since"] >= frame["items"][1]["since"]  # the real entry time, not the score
    await position_is(a, 2)

    # The nurse's acute flag (900 s) puts a ahead of b's own urgency (600 s): a started first.
    await n.send({"type": "flag", "conversation": sa.conversation, "kind": "acute"})
    frame = await queue_is(n, [sa.conversation, sb.conversation])
    assert frame["items"][0].get("acute") is True
    await position_is(a, 1)
    await position_is(b, 2)
    await n.send({"type": "flag", "conversation": sa.conversation, "kind": "none"})
    await queue_is(n, [sb.conversation, sa.conversation])
    await position_is(a, 2)
    for c in (a, b, n):
        await c.close()


@pytest.mark.parametrize(("extra", "code"), [
    ({"topic": "astrology"}, "unknown_topic"),
    ({"topic": "Mental Health!"}, "schema_violation"),
    ({"urgent": "yes"}, "schema_violation"),
])
async def test_a_bad_intake_is_refused_with_a_stable_code(
    iweb: WebProcess, extra: dict[str, Any], code: str,
) -> None:
    y = await ProtocolClient.open(ws_url(iweb.base, "/ws/youth"))
    await y.send({"type": "start", "service": "dash-stats", **extra})
    err = await y.expect("error")
    assert err["code"] == code
    assert "Traceback" not in err["message"]
    await y.close()
