"""How durable an ``ack`` is: the environment's ``HELSEPRAT_REDIS_WAIT_REPLICAS`` and
``HELSEPRAT_REDIS_WAIT_TIMEOUT_MS``, checked once at start-up (docs/operations.md, "Durability").

Redis replicates asynchronously: a write is answered before any replica has it, so a primary
that dies right after may take an acknowledged message with it when its replica takes over.
With ``replicas`` above 0 the server sends ``WAIT replicas timeout`` after each acked write
(chat/store/replicas.py) and tells anyone of the write only after it: the message's ``ack`` and
its delivery to the other side, a start's ``started``, a close's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chat.errors import ConfigError

REPLICAS_ENV = "HELSEPRAT_REDIS_WAIT_REPLICAS"
TIMEOUT_ENV = "HELSEPRAT_REDIS_WAIT_TIMEOUT_MS"
MAX_REPLICAS = 16
MAX_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class ReplicaWait:
    """``replicas`` 0: acked once the primary has it (no WAIT). ``timeout_ms``: the longest a
    write waits for them; past it the write is acked anyway and counted as short
    (``helseprat_redis_wait_short_total``)."""

    replicas: int = 0
    timeout_ms: int = 250

    @property
    def enabled(self) -> bool:
        return self.replicas > 0


def _whole(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ConfigError(f"{name} must be a whole number between {lo} and {hi}")
    return int(raw)


def parse_replica_wait(env: Mapping[str, str]) -> ReplicaWait:
    default = ReplicaWait()
    return ReplicaWait(
        replicas=_whole(env, REPLICAS_ENV, default.replicas, 0, MAX_REPLICAS),
        timeout_ms=_whole(env, TIMEOUT_ENV, default.timeout_ms, 1, MAX_TIMEOUT_MS))
