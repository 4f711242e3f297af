"""Run as a process: claim every waiting conversation of a service, one after the other, until
killed (or none is left). Used by test_claim_crash.py."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.clock import SystemClock
from chat.config import load_config
from chat.domain.staff import Nurse
from chat.errors import ClientError
from chat.store.conversations import Store


async def main(redis_url: str, data_dir: str, service: str) -> None:
    config = load_config({"HELSEPRAT_DATA_DIR": data_dir, "REDIS_URL": redis_url})
    client = aioredis.from_url(redis_url, decode_responses=True)
    clock = SystemClock()
    actions = Actions(config, Store(client, clock), clock)
    nurse = Nurse("nurse.a", "Nurse A", "nurse", frozenset({service}))
    print("ready", flush=True)
    for cid, _ in await actions.store.queue_ids(service):
        with contextlib.suppress(ClientError):  # e.g. one left claimed by a killed claimer
            await actions.claim(nurse, cid)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
