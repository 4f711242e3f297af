"""REDIS_URL's cluster form: which nodes it names, and a clear error when it names none."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest
from redis.asyncio.connection import Connection, ConnectionPool
from redis.exceptions import CrossSlotTransactionError, DataError

from chat.domain.conversation import State
from chat.errors import ConfigError
from chat.store.client import HiredisPacking, cluster_nodes, connect, is_cluster_url, pack_with_hiredis
from chat.web.runtime import make_redis
from devservices.redis_cluster import RedisCluster


def test_single_server_urls_are_not_a_cluster() -> None:
    assert not is_cluster_url("redis://127.0.0.1:6379/0")
    assert not is_cluster_url("rediss://redis.example:6380")
    assert is_cluster_url("redis+cluster://10.0.0.1:7000")


def test_cluster_url_lists_its_nodes() -> None:
    assert cluster_nodes("redis+cluster://10.0.0.1:7000,10.0.0.2:7001/") == [
        ("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert cluster_nodes("redis+cluster://[::1]:7000") == [("::1", 7000)]


@pytest.mark.parametrize("url", ["redis+cluster://", "redis+cluster://host",
                                 "redis+cluster://host:0", "redis+cluster://a:1,:2",
                                 "redis+cluster://a:port"])
def test_cluster_url_without_nodes_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        cluster_nodes(url)


# -- commands packed by hiredis ------------------------------------------------------------------
PACKED_COMMANDS = [
    ("SET", "key", "verdi med æøå"),
    ("SCRIPT LOAD", "return 1"),  # a command name of two words, split as redis-py splits it
    (b"CLIENT SETNAME", b"bench"),
    ("ZADD", "q:{svc}", 1796291911.4123457, "c1", -0.0, "c2", 1e16, "c3"),
    ("EVALSHA", "a" * 40, 2, "m:{c}", "l:{c}", State.ACTIVE, 12, -3, 2**70, "x" * 70_000, b"\x00\xff"),
    ("PUBLISH", "c:{c}:e", memoryview(b"1 frame")),
]


@pytest.mark.parametrize("command", PACKED_COMMANDS)
def test_hiredis_packs_the_bytes_redis_py_packs(command: tuple[object, ...]) -> None:
    plain = Connection()
    pool = ConnectionPool(connection_class=Connection)
    pack_with_hiredis(pool)
    fast = pool.connection_class()
    assert isinstance(fast, HiredisPacking)
    assert b"".join(fast.pack_command(*command)) == b"".join(plain.pack_command(*command))


@pytest.mark.parametrize("value", [True, None, bytearray(b"x")])
def test_what_hiredis_refuses_is_refused_or_packed_as_before(value: object) -> None:
    pool = ConnectionPool(connection_class=Connection)
    pack_with_hiredis(pool)
    fast, plain = pool.connection_class(), Connection()
    try:
        expected = b"".join(plain.pack_command("SET", "k", value))
    except DataError:
        with pytest.raises(DataError):
            fast.pack_command("SET", "k", value)
    else:
        assert b"".join(fast.pack_command("SET", "k", value)) == expected


async def test_the_web_process_client_packs_with_hiredis(redis_url: str) -> None:
    client = make_redis(redis_url)
    try:
        await client.set("packing:{t}", "æøå")
        assert await client.get("packing:{t}") == "æøå"
        sha = await client.script_load("return {KEYS[1], ARGV[1]}")
        assert await client.evalsha(sha, 1, "packing:{t}", State.CLOSED) == ["packing:{t}", "closed"]
        conn = await client.connection_pool.get_connection()
        assert isinstance(conn, HiredisPacking)
        await client.connection_pool.release(conn)
    finally:
        await client.delete("packing:{t}")
        await client.aclose()


async def test_the_web_process_cluster_client_packs_with_hiredis(redis_cluster: RedisCluster) -> None:
    client = make_redis(redis_cluster.url)
    try:
        await client.set("packing:{t}", "æøå")  # learns the slot map: nodes made from settings
        assert await client.get("packing:{t}") == "æøå"
        node = cast(Any, client).get_node_from_key("packing:{t}")
        conn = node.acquire_connection()
        assert isinstance(conn, HiredisPacking)
        node.release(conn)
    finally:
        await client.delete("packing:{t}")
        await client.aclose()


# -- MULTI on the cluster client without a thread per queued command -----------------------------
async def test_a_cluster_transaction_queues_without_starting_a_thread(
        redis_cluster: RedisCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_redis(redis_cluster.url)
    try:
        await client.ping()  # reads the slot map
        started: list[object] = []
        monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
        pipe = client.pipeline(transaction=True)
        pipe.incr("multi:{t}:n")
        pipe.expire("multi:{t}:n", 60, nx=True)
        pipe.zadd("multi:{t}:q", {"a": 1.0})
        pipe.delete("multi:{t}:gone")
        count, expired, added, deleted = await pipe.execute()
        assert started == []  # redis-py's own path starts a thread (and an event loop) per command
        assert (count, bool(expired), added, deleted) == (1, True, 1, 0)
        assert 0 < await client.ttl("multi:{t}:n") <= 60
    finally:
        await client.delete("multi:{t}:n", "multi:{t}:q")
        await client.aclose()


async def test_a_cluster_transaction_across_slots_is_still_refused(redis_cluster: RedisCluster) -> None:
    client = make_redis(redis_cluster.url)
    try:
        await client.ping()
        pipe = client.pipeline(transaction=True)
        pipe.incr("multi:{a}")
        pipe.incr("multi:{b}")  # another slot: MULTI cannot span it
        with pytest.raises(CrossSlotTransactionError):
            await pipe.execute()
        assert await client.exists("multi:{a}") == 0
    finally:
        await client.aclose()


async def test_cluster_commands_past_a_nodes_connections_wait_instead_of_failing(
        redis_cluster: RedisCluster) -> None:
    client = connect(redis_cluster.url, max_connections=4)  # a node's pool: 4 connections
    try:
        await client.ping()

        async def one(i: int) -> None:
            await client.incr("gate:{t}")
            pipe = client.pipeline(transaction=True)
            pipe.incr("gate:{t}:m")
            pipe.expire("gate:{t}:m", 60)
            await pipe.execute()

        await asyncio.gather(*(one(i) for i in range(60)))  # redis-py alone: MaxConnectionsError
        assert await client.get("gate:{t}") == "60"
        assert await client.get("gate:{t}:m") == "60"
    finally:
        await client.delete("gate:{t}", "gate:{t}:m")
        await client.aclose()
