"""Nurse sign-in under attack, over real sockets against a real web process and Redis.

Different clients are different source addresses on the loopback network (127.0.0.2, …): the
server sees them as the review's attackers elsewhere did. Password checks are counted by the
server's own counter in Redis (``st:login:checks``), so no assertion depends on timing.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.servers import BASE_SERVICES, write_test_config

TEXTS = {  # the login page's texts (nb) per refusal code
    "locked": "Kontoen er låst",
    "bad_credentials": "Feil brukernavn eller passord",
    "login_rate_limited": "innloggingsforsøk herfra",
    "busy": "Tjenesten er travel",
}

Site = Callable[..., Awaitable[WebProcess]]


@pytest.fixture
async def site(redis_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    """A web process with the given [limits] lines (and the demo accounts)."""
    procs: list[WebProcess] = []

    async def start(**limits: float) -> WebProcess:
        table = "\n".join(f"{k} = {v}" for k, v in {
            "sends_per_second": 500, "send_burst": 500, "frames_per_second": 1000,
            "frame_burst": 1000, "logins_per_client_per_minute": 1000,
            "login_waiting_checks": 64, **limits}.items())
        write_test_config(tmp_path, f"[limits]\n{table}\n" + BASE_SERVICES)
        proc = await start_clean_web(redis_url, tmp_path)
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        await asyncio.to_thread(p.stop)


class Answer:
    def __init__(self, r: httpx.Response) -> None:
        self.status = r.status_code
        self.device = r.cookies.get("hp_device")
        self.body = re.sub(r'name="csrf" value="[^"]+"', 'name="csrf" value=""', r.text)
        self.code = "ok" if r.status_code == 303 else next(
            (code for code, text in TEXTS.items() if text in r.text), f"? {r.status_code}")


async def attempt(base: str, username: str, password: str, source: str = "127.0.0.1",
                  device: str | None = None) -> Answer:
    """One sign-in through the real form, from ``source``, with a known-device cookie or not."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    cookies = {"hp_device": device} if device else None
    async with httpx.AsyncClient(base_url=base, transport=transport, cookies=cookies,
                                 follow_redirects=False, timeout=60) as http:
        page = await http.get("/nurse/login")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m is not None
        r = await http.post("/nurse/login", data={"csrf": m[1], "username": username,
                                                  "password": password})
        return Answer(r)


async def password_checks(redis_url: str) -> int:
    client = aioredis.from_url(redis_url, decode_responses=True)
    n = await client.get("st:login:checks")
    await client.aclose()
    return int(n or 0)


async def counted_tries(redis_url: str) -> int:
    """The highest per-client try count at any account (what the server counted so far)."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    values = [int(await client.get(k) or 0) async for k in client.scan_iter(match="la:*:c:*")]
    await client.aclose()
    return max(values, default=0)


async def test_parallel_guesses_cannot_outrun_the_count(site: Site, redis_url: str) -> None:
    web = await site(login_failures_before_lockout=5)
    wrong = [asyncio.create_task(attempt(web.base, "demo.nurse", f"guess {i}"))
             for i in range(19)]
    # The right one goes out once the server has counted the first five (or, on a server that
    # counts only after checking, while the nineteen are still being checked).
    for _ in range(100):
        if await counted_tries(redis_url) >= 5:
            break
        await asyncio.sleep(0.05)
    right = await attempt(web.base, "demo.nurse", DEMO_PASSWORD)
    answers = [*(await asyncio.gather(*wrong)), right]
    codes = [a.code for a in answers]
    assert "ok" not in codes
    assert codes.count("bad_credentials") == 5, codes  # only five were checked at all
    assert codes.count("locked") == 15, codes
    assert await password_checks(redis_url) == 5


async def test_an_attacker_elsewhere_cannot_lock_out_the_owners_known_device(
    site: Site,
) -> None:
    # After 3 tries at the account from anywhere, one more may come through only every 10 min.
    web = await site(login_failures_before_lockout=5, login_account_attempts_before_backoff=3,
                     login_backoff_base_seconds=600, login_backoff_max_seconds=600)
    first = await attempt(web.base, "demo.nurse", DEMO_PASSWORD, source="127.0.0.2")
    assert first.code == "ok" and first.device
    attacks = [await attempt(web.base, "demo.nurse", f"guess {i}", source="127.0.0.3")
               for i in range(6)]
    attacks += [await attempt(web.base, "demo.nurse", "guess", source=f"127.0.0.{n}")
                for n in (4, 5)]
    assert [a.code for a in attacks] == ["bad_credentials"] * 3 + ["locked"] * 5
    # Without the device cookie even the owner's right password waits for the back-off ...
    assert (await attempt(web.base, "demo.nurse", DEMO_PASSWORD, source="127.0.0.6")).code \
        == "locked"
    # ... her known device is never locked out by tries that are not its own, wherever it is.
    for source in ("127.0.0.2", "127.0.0.7"):
        again = await attempt(web.base, "demo.nurse", DEMO_PASSWORD, source=source,
                              device=first.device)
        assert again.code == "ok", source
    # A device cookie is for the account it signed in to; another account gets no exemption.
    other = await attempt(web.base, "other.nurse", "guess", source="127.0.0.3",
                          device=first.device)
    assert other.code == "bad_credentials"


async def test_unknown_and_real_usernames_get_identical_answers(site: Site) -> None:
    web = await site(login_failures_before_lockout=5)
    sequence = [*(f"guess {i}" for i in range(5)), DEMO_PASSWORD, "guess"]
    real = [await attempt(web.base, "demo.nurse", pw, source="127.0.0.2") for pw in sequence]
    unknown = [await attempt(web.base, "no.such.nurse", pw, source="127.0.0.3")
               for pw in sequence]
    assert [a.code for a in real] == ["bad_credentials"] * 5 + ["locked"] * 2
    assert [(a.status, a.code, a.body) for a in real] == \
        [(a.status, a.code, a.body) for a in unknown]
    # The owner elsewhere is not locked out by that: the lock is per account and client.
    assert (await attempt(web.base, "demo.nurse", DEMO_PASSWORD, source="127.0.0.4")).code \
        == "ok"


async def test_the_client_rate_limit_answers_before_any_password_is_checked(
    site: Site, redis_url: str,
) -> None:
    web = await site(logins_per_client_per_minute=3)
    if 60 - time.time() % 60 < 10:  # the window is the clock minute: start in one
        await asyncio.sleep(60 - time.time() % 60)
    answers = await asyncio.gather(*(
        attempt(web.base, name, "guess") for name in
        ("demo.nurse", "demo.lead", "other.nurse", "x1", "x2", "x3", "x4", "x5")))
    codes = sorted(a.code for a in answers)
    assert codes == ["bad_credentials"] * 3 + ["login_rate_limited"] * 5
    assert {a.status for a in answers if a.code == "login_rate_limited"} == {429}
    assert await password_checks(redis_url) == 3
    # Another client is not affected.
    assert (await attempt(web.base, "demo.nurse", DEMO_PASSWORD, source="127.0.0.2")).code \
        == "ok"


async def test_a_full_line_of_password_checks_answers_busy(site: Site, redis_url: str) -> None:
    web = await site(login_concurrent_checks=1, login_waiting_checks=1)
    answers = await asyncio.gather(*(attempt(web.base, f"user{i}", "guess") for i in range(30)))
    codes = [a.code for a in answers]
    assert set(codes) <= {"bad_credentials", "busy"}
    assert "busy" in codes
    assert {a.status for a in answers if a.code == "busy"} == {503}
    assert await password_checks(redis_url) == codes.count("bad_credentials")
