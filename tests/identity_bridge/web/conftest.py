"""Fixtures for the identity bridge's web flow: a web process whose ``[idporten]`` table points
at either the tiny fake provider (crafted tokens) or the node ID-porten lookalike (the whole
journey), both on free loopback ports, plus helpers that scan Redis and logs for a pid."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from joserfc.jwk import RSAKey

from devservices.idporten.process import IdPortenLookalike
from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from identity_bridge.web.config import (
    CALLBACK_PATH,
    FRONTCHANNEL_PATH,
    LOGGED_OUT_PATH,
    write_person_key,
)
from tests.conftest import start_clean_web
from tests.identity_bridge.oidc.idp_fakes import FakeProvider, serve_fake_provider
from tests.servers import TEST_SERVICES, write_test_config

CLIENT_ID = "helseprat-test"


@pytest.fixture(scope="session")
def rp_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rp-web-key-1"})


@pytest.fixture(scope="session")
def rp_key_file(rp_key: RSAKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rp-web") / "client-key.json"
    path.write_text(json.dumps(rp_key.as_dict(private=True)))
    return path


def idporten_table(issuer: str, key_file: Path, acr: str = "idporten-loa-substantial") -> str:
    return f"""
[idporten]
issuer = "{issuer}"
client_id = "{CLIENT_ID}"
key_file = "{key_file}"
acr_minimum = "{acr}"
test_environment = true
"""


async def start_site(data_dir: Path, redis_url: str, table: str, port: int) -> WebProcess:
    write_test_config(data_dir, TEST_SERVICES + table)
    write_person_key(data_dir / "secrets" / "person_key")
    return await start_clean_web(redis_url, data_dir, port=port)


@dataclass
class FakeSite:
    web: WebProcess
    idp: FakeProvider


@pytest.fixture(scope="module")
def fake_idp() -> Iterator[FakeProvider]:
    with serve_fake_provider("idp-web-1") as state:
        yield state


@pytest.fixture(scope="module")
async def fake_site(
    redis_proc: RedisProcess, fake_idp: FakeProvider, rp_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FakeSite]:
    web = await start_site(tmp_path_factory.mktemp("idweb-fake"), redis_proc.url,
                           idporten_table(fake_idp.issuer, rp_key_file), free_port())
    yield FakeSite(web, fake_idp)
    await asyncio.to_thread(web.stop)


@dataclass
class LookalikeSite:
    web: WebProcess
    idp: IdPortenLookalike
    persons: list[dict[str, Any]]


@pytest.fixture(scope="module")
async def lookalike_site(
    redis_proc: RedisProcess, rp_key: RSAKey, rp_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LookalikeSite]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    idp = IdPortenLookalike(
        client_id=CLIENT_ID,
        redirect_uris=[base + CALLBACK_PATH],
        post_logout_redirect_uris=[base + LOGGED_OUT_PATH],
        frontchannel_logout_uri=base + FRONTCHANNEL_PATH,
        client_jwks={"keys": [rp_key.as_dict(private=False)]},
        work_dir=tmp_path_factory.mktemp("idweb-idporten"),
    )
    await asyncio.to_thread(idp.start)
    assert idp.persons_file is not None
    persons = json.loads(idp.persons_file.read_text(encoding="utf-8"))
    try:
        web = await start_site(tmp_path_factory.mktemp("idweb-lookalike"), redis_proc.url,
                               idporten_table(idp.issuer, rp_key_file), port)
        yield LookalikeSite(web, idp, persons)
        await asyncio.to_thread(web.stop)
    finally:
        await asyncio.to_thread(idp.stop)


async def redis_dump(url: str) -> list[tuple[str, str]]:
    """Every key and every value in Redis, as text (hashes, sets, streams, lists, strings)."""
    client = aioredis.from_url(url, decode_responses=False)
    out: list[tuple[str, str]] = []
    try:
        async for key in client.scan_iter(count=500):
            kind = (await client.type(key)).decode()
            values: list[Any]
            if kind == "string":
                values = [await client.get(key)]
            elif kind == "hash":
                values = [x for kv in (await client.hgetall(key)).items() for x in kv]
            elif kind == "set":
                values = list(await client.smembers(key))
            elif kind == "zset":
                values = [m for m, _ in await client.zrange(key, 0, -1, withscores=True)]
            elif kind == "list":
                values = list(await client.lrange(key, 0, -1))
            elif kind == "stream":
                values = [x for _, fields in await client.xrange(key)
                          for kv in fields.items() for x in kv]
            else:
                values = []
            text = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in values)
            out.append((key.decode(errors="replace"), text.decode(errors="replace")))
    finally:
        await client.aclose()
    return out


async def assert_no_pid_anywhere(url: str, pid: str, *logs: str) -> None:
    dump = await redis_dump(url)
    assert dump, "Redis is empty: the scan would prove nothing"
    for key, text in dump:
        assert pid not in key, f"pid in a Redis key name: {key}"
        assert pid not in text, f"pid in clear in Redis under {key}"
    for log in logs:
        assert pid not in log, "pid in a log"
