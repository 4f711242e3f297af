"""A process killed (SIGKILL) in the middle of claiming leaves every conversation where it
is: waiting and queued, or active, out of the queue, in the active set and in its nurse's
slots. (The claim is one atomic step; it used to publish "active" before dequeuing.)"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import SystemClock
from chat.config import load_config
from chat.store import names as keys
from chat.store.conversations import Store
from tests.chat.conftest import SERVICES
from tests.servers import write_test_config

ROOT = Path(__file__).resolve().parents[3]
COUNT = 1500
ROUNDS = 8


async def test_killed_claimer_leaves_queue_and_slots_consistent(
    redis_url: str, tmp_path: Path,
) -> None:
    write_test_config(tmp_path, SERVICES.replace("max_chats_per_nurse = 2",
                                                 f"max_chats_per_nurse = {COUNT}"))
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})
    r = aioredis.from_url(redis_url, decode_responses=True)
    actions = Actions(config, Store(r, SystemClock()), SystemClock())
    # Many youths (one client may have only so many starts waiting at once).
    cids = [(await actions.start("core-a", "", 0, None, f"c{i}")).conversation
            for i in range(COUNT)]
    for _ in range(ROUNDS):  # each round: a claimer killed at a random moment
        before = await r.zcard(keys.active("core-a"))
        await claim_until_killed(redis_url, tmp_path, r, before)
        await check_consistent(r, cids)
    claimed = await r.zcard(keys.active("core-a"))
    assert ROUNDS <= claimed < COUNT  # killed mid-way each time
    await r.aclose()


async def claim_until_killed(redis_url: str, data_dir: Path, r: aioredis.Redis,
                             before: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.chat.actions.claimer", redis_url, str(data_dir), "core-a",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
        while await r.zcard(keys.active("core-a")) <= before:  # under way
            await asyncio.sleep(0.005)
        await asyncio.sleep(random.uniform(0, 0.05))  # not in step with any one command
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def check_consistent(r: aioredis.Redis, cids: list[str]) -> None:
    pipe = r.pipeline(transaction=False)
    for cid in cids:
        pipe.hget(keys.meta(cid), "st")
        pipe.zscore(keys.queue("core-a"), cid)
        pipe.zscore(keys.active("core-a"), cid)
        pipe.sismember(keys.nurse_open("nurse.a"), cid)
    replies = await pipe.execute()
    for i, cid in enumerate(cids):
        st, queued, active, slot = replies[4 * i: 4 * i + 4]
        where = (queued is not None, active is not None, bool(slot))
        if st == "waiting":
            assert where == (True, False, False), (cid, st, where)
        else:
            assert (st, where) == ("active", (False, True, True)), (cid, st, where)
