"""The audit log: an append-only Redis stream per service, trimmed by the service's retention.

Entries say who did what to which conversation (by its on-screen reference) and when (claim,
release, transfer, flag, close, auto-close, export, canned-reply changes, information-page changes, a colleague
asked in, joining and leaving). Staff usernames are
recorded; youth content never is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from chat.clock import Clock
from chat.config import Config
from chat.store import names as keys

# The audit log outlives the conversations it speaks of (audit_retention_days against
# retention_days), so it keeps only the reference staff see on their screens, the id's first
# characters: enough to follow one conversation's entries, and nothing that finds the
# conversation, its keys or its youth once the conversation itself is gone.
CONVERSATION_REF = 6

ACTIONS = ("claim", "release", "transfer", "flag", "close", "auto_close", "export",
           "canned_add", "canned_remove", "view_audit", "journal", "invite", "join", "leave",
           "concern", "pause_starts", "lift_pause", "info_save", "info_remove")


@dataclass(frozen=True)
class AuditEntry:
    id: str
    ts: int
    actor: str
    action: str
    conversation: str
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "ts": self.ts, "actor": self.actor, "action": self.action,
                "conversation": self.conversation, "detail": self.detail}


class Audit:
    def __init__(self, config: Config, redis: aioredis.Redis, clock: Clock) -> None:
        self.config = config
        self.redis = redis
        self.clock = clock

    async def record(self, service: str, actor: str, action: str, conversation: str = "",
                     detail: str = "") -> None:
        svc = self.config.service(service)
        days = svc.audit_retention_days if svc is not None else 365
        now_ms = int(self.clock.now() * 1000)
        fields: dict[str, str | int] = {"t": now_ms // 1000, "a": actor, "x": action,
                                        "c": conversation[:CONVERSATION_REF], "d": detail[:500]}
        minid = max(0, now_ms - days * 86_400_000)
        try:
            # Ids follow the injected clock, so MINID trimming follows the retention in days.
            await self.redis.xadd(keys.audit(service), fields,  # type: ignore[arg-type]
                                  id=f"{now_ms}-*", minid=minid, approximate=False)
        except ResponseError:
            # The clock is behind the stream's last id (a test clock moved back): append anyway.
            await self.redis.xadd(keys.audit(service), fields,  # type: ignore[arg-type]
                                  id="*", minid=minid, approximate=False)

    async def read(self, service: str, count: int = 200) -> list[AuditEntry]:
        raw = cast(list[tuple[str, dict[str, str]]],
                   await self.redis.xrevrange(keys.audit(service), count=count))
        return [AuditEntry(id=i, ts=int(f.get("t", 0)), actor=f.get("a", ""),
                           action=f.get("x", ""), conversation=f.get("c", ""),
                           detail=f.get("d", "")) for i, f in raw]
