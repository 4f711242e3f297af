""""Hvem har sett opplysningene mine": each time a person's records are fetched, one line.

Key ``ya:{tag}`` (list, newest first; the person's lookup tag is the hash tag, so it sits in
the person's slot on a Redis Cluster): each item is ``<unix seconds> <kind>``. Nothing else:
no result, no vaccine, no identifier, no IP. The list keeps the newest ``KEEP`` lines and
lives ``RETENTION`` after the last access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from chat.errors import ClientError

KINDS = ("vaksiner", "prøvesvar")
KEEP = 200
RETENTION = timedelta(days=365)


class UnknownAccessKind(ClientError):
    code = "records_unknown_kind"
    message = "Unknown kind of record access."


def access_key(tag: str) -> str:
    return f"ya:{{{tag}}}"


@dataclass(frozen=True)
class Access:
    at: datetime
    kind: str


async def record_access(redis: aioredis.Redis, person_tag: str, kind: str,
                        now: datetime | float) -> None:
    """One access to ``kind`` of the person's records at ``now`` (aware datetime or unix
    seconds)."""
    if kind not in KINDS:
        raise UnknownAccessKind()
    at = now.timestamp() if isinstance(now, datetime) else float(now)
    key = access_key(person_tag)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lpush(key, f"{int(at)} {kind}")
        pipe.ltrim(key, 0, KEEP - 1)
        pipe.expire(key, int(RETENTION.total_seconds()))
        await pipe.execute()


async def accesses(redis: aioredis.Redis, person_tag: str) -> list[Access]:
    """The person's accesses, newest first (lines that do not parse are skipped)."""
    raw: list[str | bytes] = await redis.lrange(access_key(person_tag), 0, -1)  # type: ignore[misc]
    out = []
    for item in raw:
        text = item.decode() if isinstance(item, bytes) else item
        at, _, kind = text.partition(" ")
        if kind in KINDS and at.isdigit():
            out.append(Access(datetime.fromtimestamp(int(at), UTC), kind))
    return out
