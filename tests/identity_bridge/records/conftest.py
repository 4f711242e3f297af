"""The SYSVAK stand-in as a real child process, and a web process with ``[idporten]`` (the
fake provider) and ``[sysvak]`` pointing at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from devservices.idporten.persons import TestPerson, make_persons
from devservices.redis_proc import RedisProcess, free_port
from devservices.sysvak.devsetup import dev_setup, sysvak_table
from devservices.sysvak.process import SysvakProcess
from devservices.webproc import WebProcess
from tests.identity_bridge.web.conftest import (  # noqa: F401 - fixtures
    FakeSite,
    fake_idp,
    idporten_table,
    rp_key,
    rp_key_file,
    start_site,
)
from tests.identity_bridge.web.test_identity_web_flow import Browser, login

# Slower than the client waits: the "slow" mode is a timeout, whatever the machine's speed.
SLOW_S, CLIENT_TIMEOUT_S = 6.0, 1.0


def person(age: int) -> TestPerson:
    return next(p for p in make_persons(date.today()) if p.age == age)


@pytest.fixture(scope="module")
def sysvak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SysvakProcess]:
    d = tmp_path_factory.mktemp("sysvak")
    proc = SysvakProcess(config_file=dev_setup(d, slow_s=SLOW_S), data_dir=d)
    proc.start()
    yield proc
    proc.stop()


@dataclass
class VaccineSite:
    web: WebProcess
    fake: FakeSite
    sysvak: SysvakProcess


@pytest.fixture(scope="module")
async def vaccine_site(
    redis_proc: RedisProcess, fake_idp: Any, rp_key_file: Path,  # noqa: F811
    sysvak: SysvakProcess, tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[VaccineSite]:
    d = tmp_path_factory.mktemp("vaccine-web")
    table = idporten_table(fake_idp.issuer, rp_key_file) + sysvak_table(
        sysvak.config_file.parent, sysvak.url, timeout_s=CLIENT_TIMEOUT_S)
    web = await start_site(d, redis_proc.url, table, free_port())
    try:
        yield VaccineSite(web, FakeSite(web, fake_idp), sysvak)
    finally:
        await asyncio.to_thread(web.stop)


async def logged_in(site: VaccineSite, pid: str) -> Browser:
    b = Browser(site.web.base)
    await login(site.fake, b, {"kind": "login", "lang": "nb"}, pid=pid)
    return b
