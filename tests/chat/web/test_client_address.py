"""Which client a request is from, behind a load balancer and not: real web processes, real
sockets, the per-client resume-code limit (one try per client per hour) as the witness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chat.client.protocol import ProtocolClient, ws_url
from chat.web.clientaddr import client_address
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.conftest import start_clean_web
from tests.servers import BASE_SERVICES, write_test_config

ONE_TRY = "[limits]\nresume_attempts_per_client_per_hour = 1\n" + BASE_SERVICES
WRONG_CODE = {"type": "resume_code", "handle": "ABCD EFGH JKMN PQRS", "auth": "0" * 64}


async def start(redis_proc: RedisProcess, tmp: pytest.TempPathFactory,
                proxies: str) -> WebProcess:
    d = tmp.mktemp("proxy")
    write_test_config(d, ONE_TRY)
    return await start_clean_web(redis_proc.url, d,
                                 extra_env={"HELSEPRAT_TRUSTED_PROXIES": proxies})


@pytest.fixture
async def behind_proxy(redis_proc: RedisProcess,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    """The test's own address (127.0.0.1) is the configured load balancer."""
    web = await start(redis_proc, tmp_path_factory, "127.0.0.0/8, 10.1.0.0/16")
    yield web
    await asyncio.to_thread(web.stop)


@pytest.fixture
async def proxy_elsewhere(redis_proc: RedisProcess,
                          tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    """A load balancer is configured, but the test's address is not it."""
    web = await start(redis_proc, tmp_path_factory, "10.1.0.5")
    yield web
    await asyncio.to_thread(web.stop)


async def try_code(web: WebProcess, forwarded: str | None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"), additional_headers=headers)
    await c.send(WRONG_CODE)
    code = str((await c.expect("error"))["code"])
    await c.close()
    return code


async def test_behind_the_proxy_each_forwarded_client_has_its_own_bucket(
    behind_proxy: WebProcess,
) -> None:
    assert await try_code(behind_proxy, "198.51.100.7") == "bad_resume_code"
    assert await try_code(behind_proxy, "198.51.100.8") == "bad_resume_code"
    assert await try_code(behind_proxy, "198.51.100.7") == "too_many_attempts"
    # A client cannot pick its bucket by writing its own header: the proxy appends the
    # address it saw, and that (the rightmost hop that is not our proxy) is the client.
    assert await try_code(behind_proxy, "203.0.113.1, 198.51.100.8") == "too_many_attempts"
    assert await try_code(behind_proxy, "198.51.100.9, 10.1.2.3") == "bad_resume_code"


async def test_forwarded_headers_from_anyone_else_are_ignored(proxy_elsewhere: WebProcess) -> None:
    assert await try_code(proxy_elsewhere, "198.51.100.7") == "bad_resume_code"
    assert await try_code(proxy_elsewhere, "198.51.100.8") == "too_many_attempts"
    assert await try_code(proxy_elsewhere, None) == "too_many_attempts"


def scope(peer: str, *headers: tuple[str, str]) -> dict[str, object]:
    return {"client": (peer, 50000),
            "headers": [(k.encode(), v.encode()) for k, v in headers]}


def test_the_forwarded_header_and_address_spellings() -> None:
    import ipaddress

    lb = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")]
    fwd = "forwarded"
    assert client_address(scope("10.0.0.1", ("forwarded", 'for="[2001:db8:cafe::17]:4711", '
                                             "for=192.0.2.60;proto=https;by=10.0.0.1")),
                          lb, fwd) == "192.0.2.60"
    assert client_address(scope("10.0.0.1", ("forwarded", "For=192.0.2.61:8080")),
                          lb, fwd) == "192.0.2.61"
    # The header we were not told to read is ignored, whoever sends it.
    assert client_address(scope("10.0.0.1", ("x-forwarded-for", "192.0.2.1")),
                          lb, fwd) == "10.0.0.1"
    # Two header lines are one list; IPv4-mapped IPv6 is the IPv4 address.
    assert client_address(scope("::ffff:10.0.0.2", ("x-forwarded-for", "192.0.2.1"),
                                ("x-forwarded-for", "192.0.2.2, 10.9.9.9")),
                          lb) == "192.0.2.2"
    assert client_address(scope("::ffff:192.0.2.5", ("x-forwarded-for", "1.2.3.4")),
                          lb) == "192.0.2.5"
    # Only proxies in the chain: the leftmost is the best we know; no client at all: unknown.
    assert client_address(scope("10.0.0.1", ("x-forwarded-for", "10.0.0.9")), lb) == "10.0.0.9"
    assert client_address(scope("10.0.0.1"), lb) == "10.0.0.1"
    assert client_address({"headers": []}, lb) == "unknown"
