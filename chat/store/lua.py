"""The store's Lua scripts (chat/store/scripts/*.lua), read once per process.

Each call is an EVALSHA; when Redis answers NOSCRIPT (it restarted or flushed its scripts) the
call is made once more as EVAL, which also loads the script again.

The scripts whose answer the client is told (start and close) are acked writes: with
HELSEPRAT_REDIS_WAIT_REPLICAS set, each call is followed by a WAIT on its connection
(chat/store/replicas.py) and answers only after it.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from chat.durability import ReplicaWait
from chat.store.coalesce import Coalescer
from chat.store.replicas import Arg, Call, Replicas


class Script:
    """``acked``: calls wait for replicas (when enabled) on their key's node before answering."""

    def __init__(self, redis: aioredis.Redis, source: str, acked: Replicas | None = None) -> None:
        self.redis = redis
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self.acked = acked if acked is not None and acked.enabled else None

    def call(self, keys: list[str], args: list[Arg]) -> Call:
        """This script's EVALSHA as one command of a pipeline (EVAL after NOSCRIPT)."""
        n = len(keys)
        return Call(("EVALSHA", self.sha, n, *keys, *args), ("EVAL", self.source, n, *keys, *args))

    async def __call__(self, keys: list[str], args: list[Arg],
                       via: Coalescer | None = None) -> Any:
        if self.acked is not None:
            return (await self.acked.run(keys[0], [self.call(keys, args)]))[0]
        n, sha = len(keys), self.sha
        try:
            if via is not None:
                # By name: a cluster pipeline refuses its ``evalsha`` method but sends the
                # command to the node of its keys' slot (on one Redis it is the same call).
                return await via.call(lambda p: p.execute_command("EVALSHA", sha, n, *keys, *args))
            return await self.redis.evalsha(sha, n, *keys, *args)
        except NoScriptError:
            return await self.redis.eval(self.source, n, *keys, *args)


@cache
def _source(name: str) -> str:
    return resources.files("chat.store").joinpath(f"scripts/{name}.lua").read_text("utf-8")


class Scripts:
    """Every script of the store, bound to one Redis client; ``replicas``: the WAIT that acked
    writes make (chat/store/replicas.py; none by default)."""

    def __init__(self, redis: aioredis.Redis, replicas: Replicas | None = None) -> None:
        self.replicas = replicas = replicas or Replicas(redis, ReplicaWait())
        self.start = Script(redis, _source("start"), acked=replicas)
        self.append = Script(redis, _source("append"))
        # An append's publish when it follows the append's WAIT (chat/store/replicas.py).
        self.publish = Script(redis, _source("publish"))
        self.claim = Script(redis, _source("claim"))
        self.release = Script(redis, _source("release"))
        self.later = Script(redis, _source("later"))
        self.close = Script(redis, _source("close"), acked=replicas)
        self.transfer = Script(redis, _source("transfer"))
        self.warn = Script(redis, _source("warn"))
        self.link = Script(redis, _source("link"))
        self.rekey = Script(redis, _source("rekey"))
        self.helpers = Script(redis, _source("helpers"))
        self.park = Script(redis, _source("park"))
        self.unpark = Script(redis, _source("unpark"))
        self.rescore = Script(redis, _source("rescore"))
        self.lease_release = Script(redis, _source("lease_release"))
        self.lease_renew = Script(redis, _source("lease_renew"))
        self.login_attempt = Script(redis, _source("login_attempt"))
        # Redis Cluster only: the parts of start, claim and close that fit one slot
        # (chat/store/clustered.py).
        self.slot_take = Script(redis, _source("slot_take"))
        self.nurse_slot = Script(redis, _source("nurse_slot"))
        self.claim_conv = Script(redis, _source("claim_conv"))
        self.close_conv = Script(redis, _source("close_conv"), acked=replicas)
        self.unpark_svc = Script(redis, _source("unpark_svc"))
        self.park_svc = Script(redis, _source("park_svc"))
        self.release_conv = Script(redis, _source("release_conv"))
        self.later_conv = Script(redis, _source("later_conv"))
        self.transfer_conv = Script(redis, _source("transfer_conv"))
        # Redis Cluster only: a move's record and the repair of lost steps (chat/store/moving.py,
        # chat/store/repair.py).
        self.move_swap = Script(redis, _source("move_swap"))
        self.repair_svc = Script(redis, _source("repair_svc"))
        # Fair use per capability token, on the token's own slot (chat/store/fairuse.py).
        self.fairuse_take = Script(redis, _source("fairuse_take"))
