"""The ``epj:status:{msgid}`` hashes of outgoing notes, moved forward only, and the live
channel the dashboards listen to (docs/epj.md "Outbox semantics")."""

from __future__ import annotations

import json
import logging

import redis.asyncio as aioredis

from .outbox import RANK, STATUS_CHANNEL, Status, StatusChange, status_key

log = logging.getLogger("identity_bridge.epj.worker")


# Forward-only status update in one round trip on one key (cluster-safe). The rank table is
# generated from outbox.RANK so Python and Lua cannot disagree.
_MOVE_LUA = (
    "local rank = {"
    + ", ".join(f"{s.value}={r}" for s, r in RANK.items())
    + """}
local cur = redis.call('HGET', KEYS[1], 'status')
if cur and rank[cur] and rank[cur] >= rank[ARGV[1]] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], unpack(ARGV, 2))
return 1
"""
)


class StatusStore:
    """The ``epj:status:{msgid}`` hashes and the live channel for dashboards."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._move = redis.register_script(_MOVE_LUA)

    async def get(self, msg_id: str) -> Status | None:
        raw = await self._redis.hget(status_key(msg_id), "status")  # type: ignore[misc]
        value = _text(raw)
        return Status(value) if value else None

    async def move(self, msg_id: str, change: StatusChange, **extra: str) -> bool:
        fields: list[str] = ["code", change.code, "text", change.text]
        for k, v in extra.items():
            fields += [k, v]
        moved = bool(await self._move(keys=[status_key(msg_id)],
                                      args=[change.status.value, *fields]))
        if moved:
            conv, service = await self._redis.hmget(  # type: ignore[misc]
                status_key(msg_id), ["conversation", "service"])
            await self._redis.publish(STATUS_CHANNEL, json.dumps({
                "msg_id": msg_id,
                "status": change.status.value,
                "code": change.code,
                "text": change.text,
                "conversation": _text(conv),
                "service": _text(service),
            }))
            log.info("epj %s -> %s %s", msg_id, change.status.value, change.code)
        return moved


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value
