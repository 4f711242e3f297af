"""Fair use in the actions layer, in-process on the real test Redis: a start refused after the
fair-use step gives its places back, and starts racing with one token cannot all pass."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import redis.asyncio as aioredis

from anon import tokens
from chat.actions.conversations import Actions
from chat.clock import FakeClock
from chat.config import Config
from chat.errors import RateLimited, TooManyOpen
from chat.store import names as keys
from chat.store.conversations import Store


async def test_a_refused_start_gives_its_fair_use_places_back(
        core_config: Config, r: aioredis.Redis, clock: FakeClock) -> None:
    config = dataclasses.replace(core_config, limits=dataclasses.replace(
        core_config.limits, waiting_starts_per_client=1))
    actions = Actions(config, Store(r, clock), clock)
    first = await actions.start("core-a", "", 0, None, "one-client")
    with pytest.raises(RateLimited):  # the client's waiting slots: refused in start.lua
        await actions.start("core-a", "", 0, None, "one-client", capability=first.token)
    tag = tokens.fair_use_tag(config.secrets.token_key, first.token)
    assert await r.zrange(keys.fair_open(tag), 0, -1) == [first.conversation]
    assert await r.zcard(keys.fair_new(tag)) == 1


async def test_starts_at_once_with_one_token_take_only_the_places_left(
        actions: Actions, r: aioredis.Redis) -> None:
    first = await actions.start("core-a", "", 0, None, "client-0")  # one of two open
    results = await asyncio.gather(
        *(actions.start("core-a", "", 0, None, f"client-{i}", capability=first.token) for i in range(1, 5)),
        return_exceptions=True)
    started = [x for x in results if not isinstance(x, BaseException)]
    refused = [x for x in results if isinstance(x, BaseException)]
    assert len(started) == 1 and started[0].token == first.token
    assert len(refused) == 3 and all(isinstance(x, TooManyOpen) for x in refused)
    tag = tokens.fair_use_tag(actions.config.secrets.token_key, first.token)
    assert await r.zcard(keys.fair_open(tag)) == 2


async def test_a_close_frees_the_place(actions: Actions, r: aioredis.Redis) -> None:
    first = await actions.start("core-a", "", 0, None, "client")
    conv = await actions.store.get(first.conversation)
    assert conv is not None
    await actions.end_by_youth(conv)
    tag = tokens.fair_use_tag(actions.config.secrets.token_key, first.token)
    assert await r.zcard(keys.fair_open(tag)) == 0
    assert await r.zcard(keys.fair_new(tag)) == 1  # the start still counts in its period
