"""A worker killed with -9 mid-send is recovered by a restarted worker: stored exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from devservices.nhn.process import NhnProcess
from devservices.redis_proc import spawn_env
from identity_bridge.epj.outbox import STREAM, Status, status_key
from identity_bridge.epj.producer import enqueue_note
from identity_bridge.epj.sealed import seal

from .conftest import (
    FNR,
    MARKER,
    ROOT,
    Keys,
    sample_note,
    set_faults,
    stored_messages,
    write_config,
)
from .support import redis_dump

pytestmark = pytest.mark.slow


def _start_worker(
    config: Path, redis_url: str, consumer: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {**spawn_env(), "REDIS_URL": redis_url}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "identity_bridge.epj.worker", "--config", str(config),
             "--consumer", consumer],
            stdout=out, stderr=out, env=env, cwd=str(ROOT))


async def _until(check: Callable[[], Awaitable[bool]], what: str, tries: int = 400) -> None:
    for _ in range(tries):  # a bound (tries x 50 ms), not a timed assertion
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_worker_killed_mid_send_is_recovered_exactly_once(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, keys: Keys, nhn: NhnProcess,
) -> None:
    config = write_config(tmp_path / "epj.toml", nhn.url, keys, claim_idle_ms=300,
                          receipt_poll_s=0.1)
    # The lookalike stores the message, then sits on the answer: the crash window between
    # "the receiver has it" and "the worker knows it".
    set_faults(nhn, slow_after_store_s=60)
    msg_id = await enqueue_note(
        redis_client, sealed=seal(sample_note(), keys.gateway_key.public_key),
        conversation_id="conv-kill", service_id="skole-1", nurse_id="n-1")

    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"
    worker_a = _start_worker(config, redis_url, "worker-a", log_a)
    try:
        async def stored() -> bool:
            return len(await asyncio.to_thread(stored_messages, nhn)) == 1
        await _until(stored, "the lookalike stored the message")
    finally:
        os.kill(worker_a.pid, signal.SIGKILL)
        worker_a.wait()
    assert worker_a.returncode == -signal.SIGKILL
    assert await redis_client.hget(status_key(msg_id), "status") == b"queued"  # type: ignore[misc]
    pending = await redis_client.xpending(STREAM, "epj")
    assert pending["pending"] == 1
    assert [c["name"] for c in pending["consumers"]] == [b"worker-a"]

    worker_b = _start_worker(config, redis_url, "worker-b", log_b)
    try:
        async def accepted() -> bool:
            raw = await redis_client.hget(status_key(msg_id), "status")  # type: ignore[misc]
            return raw == Status.ACCEPTED.value.encode()
        await _until(accepted, "the restarted worker got the message accepted")
        await _until(lambda: _no_pending(redis_client), "the entry was acknowledged")
    finally:
        worker_b.send_signal(signal.SIGTERM)
        worker_b.wait(timeout=20)
    assert worker_b.returncode == 0

    [message] = stored_messages(nhn)
    assert message["msg_id"] == msg_id
    # The restarted worker learns the outcome either from the receipt the receiver already
    # queued (one delivery) or by sending again (two): which comes first is a race. Either
    # way the receiver holds it once (keyed by MsgId), and the worker counted what it did.
    assert message["deliveries"] in (1, 2)
    attempts = await redis_client.hget(status_key(msg_id), "attempts")  # type: ignore[misc]
    assert attempts == str(message["deliveries"]).encode()

    logs = log_a.read_bytes() + log_b.read_bytes()
    assert b"reclaimed" in logs and msg_id.encode() in logs  # the scan reads real log lines
    everything = logs + await redis_dump(redis_client)
    assert MARKER.encode() not in everything
    assert FNR.encode() not in everything


async def _no_pending(redis: aioredis.Redis) -> bool:
    return (await redis.xpending(STREAM, "epj"))["pending"] == 0
