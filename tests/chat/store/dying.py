"""A Redis client that stops after a number of commands, as if its process were killed between
two steps of a move (or, given an event, waits there until it is set, as if its process were
slow): what the repair sweep's tests run a move's steps through."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import redis.asyncio as aioredis

from chat.clock import Clock
from chat.durability import ReplicaWait
from chat.store.clustered import ClusterMoves
from chat.store.conversations import Store
from chat.store.lua import Scripts
from chat.store.replicas import Call, Replicas


class Died(Exception):
    """The process making the move is gone: this command and every later one never ran."""


class Dies:
    """Completes ``budget`` commands, then raises ``Died`` on every later one. A pipeline's
    ``execute`` is one command; a script call Redis answers NOSCRIPT (then sent again with its
    source) counts once."""

    def __init__(self, redis: aioredis.Redis, budget: int,
                 resume: asyncio.Event | None = None) -> None:
        self.redis = redis
        self.left = budget
        self.resume = resume
        self.paused = asyncio.Event()  # set once it stops (waiting for ``resume``)

    async def run(self, command: Callable[[], Awaitable[Any]]) -> Any:
        if self.left == 0 and self.resume is not None:
            self.paused.set()
            await self.resume.wait()
            self.resume, self.left = None, 1 << 30  # from here on, every command
        elif self.left <= 0:
            raise Died()
        result = await command()
        self.left -= 1
        return result

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.redis, name)
        if name == "pipeline":
            return lambda *a, **kw: DyingPipeline(self, attr(*a, **kw))
        if not callable(attr):
            return attr
        return lambda *a, **kw: self.run(lambda: attr(*a, **kw))


class DyingPipeline:
    def __init__(self, dies: Dies, pipe: Any) -> None:
        self.dies = dies
        self.pipe = pipe

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self.dies.run(lambda: self.pipe.execute(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)


class DyingReplicas(Replicas):
    """The acked writes' pipelines on the real client (they pick their node themselves), each
    one command of ``dies``."""

    def __init__(self, dies: Dies, redis: aioredis.Redis) -> None:
        super().__init__(redis, ReplicaWait())
        self.dies = dies

    async def run(self, key: str, calls: Sequence[Call], after: Sequence[Call] = ()) -> list[Any]:
        return cast(list[Any], await self.dies.run(lambda: super(DyingReplicas, self).run(key, calls, after)))


def dying_store(redis: aioredis.Redis, clock: Clock, budget: int,
                resume: asyncio.Event | None = None) -> Store:
    """A store on ``redis`` whose split moves (chat/store/clustered.py) stop after ``budget``
    commands (or wait there for ``resume``); everything else it does (reads, the
    conversation's own append) goes through."""
    store = Store(redis, clock)
    dies = Dies(redis, budget, resume)
    client = cast(aioredis.Redis, dies)
    store.split = ClusterMoves(client, Scripts(client, DyingReplicas(dies, redis)), clock)
    return store
