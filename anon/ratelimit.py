"""Rate limits: a token bucket per connection (no I/O) and fixed windows in Redis (shared).

The bucket guards one WebSocket against floods; the Redis windows guard things that a client can
retry across connections and processes (starting conversations, guessing resume codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis


@dataclass(slots=True)  # two per WebSocket (chat.protocol.core)
class TokenBucket:
    rate: float  # tokens per second
    burst: int
    _tokens: float = field(init=False)
    _last: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)

    def take(self, now: float, cost: float = 1.0) -> bool:
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False


async def hit_window(
    redis: aioredis.Redis, key: str, limit: int, window_seconds: int
) -> bool:
    """Count one hit in a fixed window and decide on the count INCR answers: one atomic step,
    so concurrent hits each see their own count and no more than ``limit`` get True. The
    EXPIRE goes in the same MULTI, so a counter never outlives its window."""
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window_seconds, nx=True)
    count, _ = await pipe.execute()
    return int(count) <= limit
