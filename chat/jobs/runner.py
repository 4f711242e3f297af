"""Periodic jobs, each run by one process at a time however many web processes there are.

Every round a runner tries to take the job's lease (chat/store/leases.py); the holder runs the
job and keeps the lease for the rest of the round (so the round is run once), renewing it while
a long run goes on. A failing round is logged as one line and tried again next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Protocol

from redis.exceptions import RedisError

from chat.metrics import registry as metrics
from chat.store.leases import LeaseStore

log = logging.getLogger("helseprat.jobs")


class Job(Protocol):
    name: str  # also the lease's name
    interval: float  # seconds between rounds

    async def run(self) -> None: ...


class Runner:
    def __init__(self, leases: LeaseStore, jobs: list[Job]) -> None:
        self.leases = leases
        self.jobs = jobs
        self.token = secrets.token_hex(16)  # this process's claim on the leases it holds
        self._tasks: list[asyncio.Task[None]] = []
        self._failing: set[str] = set()

    def start(self) -> None:
        for job in self.jobs:
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job-{job.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for job in self.jobs:
            with contextlib.suppress(RedisError, OSError):
                await self.leases.release(job.name, self.token)

    async def _loop(self, job: Job) -> None:
        while True:
            await asyncio.sleep(job.interval)
            await self.round(job)

    async def round(self, job: Job) -> bool:
        """One round: run ``job`` if this runner gets its lease. True if it ran (and did not
        fail)."""
        ms = lease_ms(job.interval)
        try:
            if not await self.leases.acquire(job.name, self.token, ms):
                return False
            renewing = asyncio.create_task(self._renew(job, ms))
            try:
                await job.run()
            finally:
                renewing.cancel()
        except (RedisError, OSError) as exc:
            metrics.redis_error(exc)
            self._failed(job, f"{type(exc).__name__}", trace=False)
            return False
        except Exception:
            self._failed(job, "error", trace=True)
            return False
        self._failing.discard(job.name)
        return True

    async def _renew(self, job: Job, ms: int) -> None:
        while True:
            await asyncio.sleep(ms / 2000)
            if not await self.leases.renew(job.name, self.token, ms):
                return

    def _failed(self, job: Job, what: str, trace: bool) -> None:
        # The first failure of a streak with its traceback; later ones as one line each.
        first = job.name not in self._failing
        self._failing.add(job.name)
        if trace and first:
            log.exception("job %s failed; retried next round", job.name)
        else:
            log.warning("job %s round skipped: %s", job.name, what)


def lease_ms(interval: float) -> int:
    """Held for most of a round, so that a round is run once across processes."""
    return max(100, int(interval * 800))
