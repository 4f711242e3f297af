"""Several web processes behind nginx (devservices/nginx.py) on one Redis: a rolling restart
(devservices/rolling.py) under live conversations loses and repeats nothing, and the web
processes believe nginx's X-Forwarded-For but no one else's."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login, ws_url, youth_start
from devservices.nginx import Health, NginxProcess, settle_after
from devservices.redis_proc import RedisProcess, free_port
from devservices.rolling import rolling_restart, web_process_member
from devservices.webproc import WebProcess
from tests.clockfile import new_clock_file, set_clock
from tests.conftest import DEMO_PASSWORD, clean_accounts
from tests.servers import BASE_SERVICES, FAST_LIMITS, write_test_config
from tests.system.resilient import ResilientNurse, ResilientYouth

PROCESSES = 3
PAIRS = 3
# One resume-code try per client per hour: the witness of which client the server saw.
SERVICES = FAST_LIMITS + "resume_attempts_per_client_per_hour = 1\n" + BASE_SERVICES
HEALTH = Health(max_fails=1, fail_timeout=1)
NGINX_SOURCE = "127.0.0.2"  # nginx's address as the web processes see it (proxy_bind)


@dataclass
class Site:
    nginx: NginxProcess
    webs: list[WebProcess]
    clock: Path
    redis_url: str

    @property
    def base(self) -> str:
        return self.nginx.base


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    data = tmp_path_factory.mktemp("proxy-web")
    write_test_config(data, SERVICES)
    await clean_accounts(redis_proc.url, data)
    clock = new_clock_file(tmp_path_factory)
    nginx = NginxProcess(tmp_path_factory.mktemp("nginx"), [], port=free_port(),
                         source_address=NGINX_SOURCE, health=HEALTH)
    env = {"HELSEPRAT_TRUSTED_PROXIES": NGINX_SOURCE, "HELSEPRAT_TEST_CLOCK_FILE": str(clock)}
    webs = [WebProcess(data, redis_proc.url, port=free_port(), public_url=nginx.base,
                       extra_env=env) for _ in range(PROCESSES)]
    nginx.upstreams = [f"127.0.0.1:{w.port}" for w in webs]
    try:
        await asyncio.gather(*(asyncio.to_thread(w.start) for w in webs))
        await asyncio.to_thread(nginx.start)
        yield Site(nginx, webs, clock, redis_proc.url)
    finally:
        await asyncio.to_thread(nginx.stop)
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in webs))


# -- a rolling restart under live conversations --------------------------------------------------
@dataclass
class Pair:
    youth: ResilientYouth
    nurse: ResilientNurse
    index: int
    youth_sent: list[str]
    nurse_sent: list[str]

    @property
    def cid(self) -> str:
        return self.youth.session.conversation


async def start_pairs(base: str) -> tuple[ResilientNurse, list[Pair]]:
    cookie = await nurse_login(base, "demo.nurse", DEMO_PASSWORD)
    youths = []
    claimer = await nurse_connect(base, cookie)
    for _ in range(PAIRS):
        y, session = await youth_start(base, "demo-skole")
        await y.close()
        await claimer.send({"type": "claim", "conversation": session.conversation})
        await claimer.expect("claimed", where=lambda f, c=session.conversation:
                             f["conversation"] == c)
        youths.append(ResilientYouth([base], session))
    await claimer.close()
    nurse = ResilientNurse([base], cookie, [y.session.conversation for y in youths])
    await nurse.start()
    for y in youths:
        await y.start()
    return nurse, [Pair(y, nurse, k, [], []) for k, y in enumerate(youths)]


async def talk(pair: Pair, until: asyncio.Future[Any], after: int) -> None:
    """Both sides write, one message each every 50 ms, until ``until`` is done and then
    ``after`` more."""
    i = 0
    left = after
    while left > 0:
        if until.done():
            left -= 1
        y, n = f"y{pair.index}m{i:05}", f"n{pair.index}m{i:05}"
        pair.youth_sent.append(y)
        await pair.youth.send(y, f"ungdom {i}")
        pair.nurse_sent.append(n)
        await pair.nurse.send(pair.cid, n, f"helsesykepleier {i}")
        i += 1
        await asyncio.sleep(0.05)


def everything_arrived(pairs: list[Pair]) -> bool:
    for p in pairs:
        nurse_got = {c for _, _, c in p.nurse.received[p.cid]}
        youth_got = {c for _, _, c in p.youth.received}
        if (p.youth.unacked or not set(p.youth_sent) <= nurse_got
                or not set(p.nurse_sent) <= youth_got
                or any(c in p.nurse.unacked for c in p.nurse_sent)):
            return False
    return True


async def wait_everything_arrived(pairs: list[Pair], timeout: float = 30) -> None:
    async def wait() -> None:
        while not everything_arrived(pairs):
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError("; ".join(
            f"pair {p.index}: youth unacked {len(p.youth.unacked)}, nurse unacked "
            f"{sum(v[0] == p.cid for v in p.nurse.unacked.values())}, youth reconnects "
            f"{p.youth.reconnects}" for p in pairs)) from None


async def stored_cmids(redis_url: str, cid: str) -> list[str]:
    r = aioredis.from_url(redis_url, decode_responses=True)
    entries = await r.xrange(f"c:{{{cid}}}:l")
    await r.aclose()
    return [f["c"] for _, f in entries]


async def test_a_rolling_restart_behind_nginx_loses_and_repeats_nothing(site: Site) -> None:
    nurse, pairs = await start_pairs(site.base)
    members = [web_process_member(w) for w in site.webs]
    old_pids = [w.pid for w in site.webs]
    roll = asyncio.ensure_future(asyncio.to_thread(
        rolling_restart, members, settle=settle_after(HEALTH)))
    await asyncio.gather(*(talk(p, roll, after=20) for p in pairs))
    restarted = await roll
    await wait_everything_arrived(pairs)

    assert [r.name for r in restarted] == [m.name for m in members]
    assert all(w.pid != old for w, old in zip(site.webs, old_pids, strict=True))
    for p in pairs:
        log = await stored_cmids(site.redis_url, p.cid)
        # Stored once each, in the order each side wrote...
        assert [c for c in log if c in set(p.youth_sent)] == p.youth_sent
        assert [c for c in log if c in set(p.nurse_sent)] == p.nurse_sent
        # ...every acked message delivered once to the other side, in order, and each side
        # saw the whole conversation once: every sequence number as a deliver or an ack.
        assert [c for _, frm, c in p.nurse.received[p.cid] if frm == "youth"] == p.youth_sent
        assert [c for _, frm, c in p.youth.received if frm == "nurse"] == p.nurse_sent
        assert [c for _, _, c in p.youth.received] == log
        assert [c for _, _, c in p.nurse.received[p.cid]] == log
        assert set(p.youth.acked) == set(p.youth_sent)
        # Each socket's process went away under it: it resumed through nginx.
        assert p.youth.reconnects >= 1
    assert nurse.reconnects >= 1
    await served_by_every_process(site)
    for w in site.webs:
        assert "Traceback" not in w.log_text()
    await nurse.stop()
    for p in pairs:
        await p.youth.stop()


async def served_by_every_process(site: Site) -> None:
    """nginx hands requests to every restarted process again (its access log names them)."""
    mark = len(site.nginx.access_lines())
    served: set[str] = set()
    async with httpx.AsyncClient(base_url=site.base) as http:
        for _ in range(10 * PROCESSES):  # round robin: every one within the first few
            assert (await http.get("/healthz")).status_code == 200
            served = {line.split("upstream=")[1].split()[0]
                      for line in site.nginx.access_lines()[mark:] if " /healthz " in line}
            if served == set(site.nginx.upstreams):
                break
    assert served == set(site.nginx.upstreams)


# -- whose address the web processes believe ----------------------------------------------------
WRONG_CODE = {"type": "resume_code", "handle": "ABCD EFGH JKMN PQRS", "auth": "0" * 64}


async def try_code(site: Site, source: str, port: int, forwarded: str | None = None) -> str:
    """One wrong resume code from ``source`` (a loopback address) on ``port`` (nginx's or a
    web process's own): the answer says whether that client had a try left this hour."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((source, 0))
    await loop.sock_connect(sock, ("127.0.0.1", port))
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    c = await ProtocolClient.open(ws_url(site.base, "/ws/youth"), sock=sock,
                                  additional_headers=headers)
    await c.send(WRONG_CODE)
    code = str((await c.expect("error"))["code"])
    await c.close()
    return code


async def test_the_web_processes_believe_nginx_and_no_one_else(site: Site) -> None:
    # One clock hour for every try, whenever the test runs.
    await set_clock(site.clock, 1_900_000_000)
    try:
        via_nginx, direct = site.nginx.port, site.webs[0].port
        assert await try_code(site, "127.0.0.3", via_nginx) == "bad_resume_code"
        # Another client behind the same nginx has a try of its own: the web process keys on
        # the address nginx forwards, not on nginx's.
        assert await try_code(site, "127.0.0.4", via_nginx) == "bad_resume_code"
        # A client's own header is kept left of the address nginx appends, and ignored.
        assert await try_code(site, "127.0.0.3", via_nginx, "198.51.100.7") == "too_many_attempts"
        # Straight to a web process, a forged header is not believed: the peer is the client.
        assert await try_code(site, "127.0.0.5", direct, "198.51.100.8") == "bad_resume_code"
        assert await try_code(site, "127.0.0.5", direct, "198.51.100.9") == "too_many_attempts"
    finally:
        await set_clock(site.clock, None)
    async with httpx.AsyncClient(base_url=site.base) as http:
        await http.get("/healthz?token=secret-in-a-query")
    logs = "\n".join(site.nginx.access_lines()) + site.nginx.log_tail()
    assert "/healthz" in logs
    logs += "".join(w.log_text() for w in site.webs)
    for leak in ("127.0.0.3", "127.0.0.4", "198.51.100", "secret-in-a-query"):
        assert leak not in logs
