""""Hvem har sett opplysningene mine": reading back what ``access.record_access`` wrote, for
the person's own page (``GET /mine/innsyn``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from identity_bridge.web import keys

from .access import KINDS


@dataclass(frozen=True)
class Access:
    at: datetime
    kind: str


def _parse(item: str | bytes) -> Access | None:
    try:
        obj = json.loads(item)
        at, kind = int(obj["at"]), obj["k"]
    except (ValueError, KeyError, TypeError):
        return None
    return Access(datetime.fromtimestamp(at, UTC), kind) if kind in KINDS else None


async def accesses(redis: aioredis.Redis, person_tag: str) -> list[Access]:
    """The person's record lookups, newest first; an entry that does not parse is skipped."""
    raw: list[str | bytes] = await redis.lrange(  # type: ignore[misc]
        keys.person_access(person_tag), 0, -1)
    return [a for a in map(_parse, raw) if a is not None]
