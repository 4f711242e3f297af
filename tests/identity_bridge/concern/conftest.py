"""A web process with ``[idporten]`` (the fake provider) and ``[concern]`` pointing at the Fiks
stand-in, a real child process holding the municipality's private key."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat.client.protocol import ProtocolClient, YouthSession, nurse_login
from devservices.fiks.devsetup import concern_table, dev_setup
from devservices.fiks.process import FiksStandinProcess
from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD
from tests.identity_bridge.web.conftest import (  # noqa: F401 - fixtures
    FakeSite,
    fake_idp,
    idporten_table,
    rp_key,
    rp_key_file,
    start_site,
)
from tests.identity_bridge.web.test_identity_web_flow import (
    Browser,
    anon_chat,
    login,
    prove_and_link,
    register_key,
)

MUNICIPALITIES = {"demo": ("0301", "Barneverntjenesten i Demo kommune", "23 45 67 89")}
MARKER = "BEKYMRING-MARKØR-7f3a"  # in the description: must reach the PDF, never Redis or logs
REPORTER_PHONE = "+47 912 34 567"


@dataclass
class ConcernSite:
    web: WebProcess
    fake: FakeSite
    fiks: FiksStandinProcess


@pytest.fixture(scope="module")
def fiks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FiksStandinProcess]:
    d = tmp_path_factory.mktemp("fiks")
    proc = FiksStandinProcess(config_file=dev_setup(d, MUNICIPALITIES), log_dir=d)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def concern_site(
    redis_proc: RedisProcess, fake_idp: Any, rp_key_file: Path,  # noqa: F811
    fiks: FiksStandinProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ConcernSite]:
    d = tmp_path_factory.mktemp("concern-web")
    table = idporten_table(fake_idp.issuer, rp_key_file) + "\n" + concern_table(
        fiks.config_file.parent, fiks.url, MUNICIPALITIES)
    web = await start_site(d, redis_proc.url, table, free_port())
    try:
        yield ConcernSite(web, FakeSite(web, fake_idp), fiks)
    finally:
        await asyncio.to_thread(web.stop)


class Nurse:
    """A signed-in nurse's browser for the dashboard's HTTP API (session cookie and CSRF)."""

    def __init__(self, base: str, cookie: str, csrf: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, cookies={"hp_session": cookie}, timeout=20)
        self.csrf = csrf

    @classmethod
    async def login(cls, base: str, user: str = "demo.nurse") -> Nurse:
        cookie = await nurse_login(base, user, DEMO_PASSWORD)
        async with httpx.AsyncClient(base_url=base, cookies={"hp_session": cookie}) as http:
            page = (await http.get("/nurse")).text
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        assert m is not None, "the dashboard has no CSRF field"
        return cls(base, cookie, m[1])

    async def send(self, body: Any, *, csrf: str | None = None) -> httpx.Response:
        return await self.http.post("/api/nurse/concern", json=body,
                                    headers={"x-csrf-token": self.csrf if csrf is None else csrf})

    async def overview(self, cid: str) -> httpx.Response:
        return await self.http.get("/api/nurse/concern", params={"conversation": cid})

    async def aclose(self) -> None:
        await self.http.aclose()


def form(cid: str, **override: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversation": cid, "ref": str(uuid.uuid4()),
        "categories": ["neglect", "violence"],
        "description": f"Ungdommen forteller om vold hjemme. {MARKER}",
        "urgency": "urgent", "youth_informed": True,
        "youth_informed_note": "Vi snakket om det i chatten.",
        "reporter": {"name": "Demo Helsesykepleier", "role": "Helsesykepleier",
                     "phone": REPORTER_PHONE, "email": "demo@demo.kommune.no"},
    }
    body.update(override)
    return body


async def linked_thread(site: ConcernSite) -> tuple[ProtocolClient, YouthSession]:
    y, s = await anon_chat(site.web)
    b = Browser(site.web.base)
    try:
        await register_key(b, s)
        await login(site.fake, b, {"kind": "upgrade", "conversation": s.conversation,
                                   "token": s.token, "lang": "nb"})
        r = await prove_and_link(b, s)
        assert r.status_code == 200, r.text
    finally:
        await b.aclose()
    return y, s
