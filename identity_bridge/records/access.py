"""The access log behind "who has looked at my information": per person (by the person
tag only, identity_bridge/personseal.py) when their records were fetched and which kind.

Nothing of the records is written: only ``{"at": unix seconds, "k": kind}``.
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from identity_bridge.web import keys
from identity_bridge.web.logins import PERSON_TTL

KINDS = frozenset({"vaksiner", "prøvesvar"})
MAX_ENTRIES = 500


async def record_access(redis: aioredis.Redis, person_tag: str, kind: str, now: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    key = keys.person_access(person_tag)
    pipe = redis.pipeline(transaction=True)
    pipe.lpush(key, json.dumps({"at": int(now), "k": kind}, separators=(",", ":")))
    pipe.ltrim(key, 0, MAX_ENTRIES - 1)
    pipe.expire(key, PERSON_TTL)
    await pipe.execute()
