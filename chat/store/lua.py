"""The store's Lua scripts (chat/store/scripts/*.lua), read once per process.

Each call is an EVALSHA; when Redis answers NOSCRIPT (it restarted or flushed its scripts) the
call is made once more as EVAL, which also loads the script again.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from chat.store.coalesce import Coalescer

Arg = str | int | float


class Script:
    def __init__(self, redis: aioredis.Redis, source: str) -> None:
        self.redis = redis
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: list[str], args: list[Arg],
                       via: Coalescer | None = None) -> Any:
        n, sha = len(keys), self.sha
        try:
            if via is not None:
                return await via.call(lambda p: p.evalsha(sha, n, *keys, *args))
            return await self.redis.evalsha(sha, n, *keys, *args)
        except NoScriptError:
            return await self.redis.eval(self.source, n, *keys, *args)


@cache
def _source(name: str) -> str:
    return resources.files("chat.store").joinpath(f"scripts/{name}.lua").read_text("utf-8")


class Scripts:
    """Every script of the store, bound to one Redis client."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.start = Script(redis, _source("start"))
        self.append = Script(redis, _source("append"))
        self.claim = Script(redis, _source("claim"))
        self.release = Script(redis, _source("release"))
        self.close = Script(redis, _source("close"))
        self.transfer = Script(redis, _source("transfer"))
        self.warn = Script(redis, _source("warn"))
        self.link = Script(redis, _source("link"))
        self.lease_release = Script(redis, _source("lease_release"))
        self.lease_renew = Script(redis, _source("lease_renew"))
