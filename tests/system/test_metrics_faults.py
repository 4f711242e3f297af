"""The Redis counters with a real fault: Redis stopped and started under a real web process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.metrics_scrape import read, value


async def poll(base: str, check: str, ok: Callable[[str], bool]) -> str:
    """Scrape until ``ok`` (the web process notices Redis going and coming in its own time)."""
    for _ in range(300):
        text = await read(base)
        if ok(text):
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {check}")


async def test_redis_away_and_back_is_counted(web: WebProcess, redis_proc: RedisProcess) -> None:
    before = await read(web.base)
    assert value(before, "helseprat_queue_length", service="demo-skole", kind="waiting") == 0
    assert "helseprat_queue_length{" in before
    redis_proc.stop()
    try:
        # The scrape still answers: the queue read failed, so no queue series, and the error
        # (and the pub/sub connection's) is counted.
        down = await poll(web.base, "errors counted while Redis is away", lambda t: (
            value(t, "helseprat_redis_errors_total", kind="connection")
            > value(before, "helseprat_redis_errors_total", kind="connection")))
        assert "helseprat_queue_length{" not in down
    finally:
        redis_proc.start()
    await poll(web.base, "pub/sub reconnect counted", lambda t: (
        value(t, "helseprat_redis_pubsub_reconnects_total")
        > value(before, "helseprat_redis_pubsub_reconnects_total")))
    await poll(web.base, "queue lengths read again", lambda t: "helseprat_queue_length{" in t)
    assert "Traceback" not in web.log_text()
