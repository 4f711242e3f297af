""""Mine vaksiner" in real Chromium, everything real: the youth logs in with the ID-porten
lookalike, follows the link from "Mine samtaler" and sees the school vaccines from the SYSVAK
stand-in (through HelseID + DPoP), one of them due; then the registry is down and the page
says so and shows none. axe-clean and no sideways scroll at 360 px."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from playwright.async_api import Browser, BrowserContext, Page

from devservices.idporten.process import IdPortenLookalike
from devservices.redis_proc import RedisProcess, free_port
from devservices.sysvak.devsetup import sysvak_table
from devservices.sysvak.process import SysvakProcess
from devservices.webproc import WebProcess
from identity_bridge.web.config import CALLBACK_PATH, FRONTCHANNEL_PATH, LOGGED_OUT_PATH
from tests.browser.conftest import (  # noqa: F401 - fixtures
    PHONE,
    axe_violations,
    browser,
    describe,
    playwright,
)
from tests.identity_bridge.web.conftest import (  # noqa: F401 - fixtures
    CLIENT_ID,
    idporten_table,
    rp_key,
    rp_key_file,
    start_site,
)
from tests.identity_bridge.web.test_identity_journey import TwoOrigins, idporten_login

from .conftest import CLIENT_TIMEOUT_S, sysvak  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@dataclass
class Site:
    web: WebProcess
    idp: IdPortenLookalike
    sysvak: SysvakProcess
    person: dict[str, Any]


@pytest.fixture(scope="module")
async def site(
    redis_proc: RedisProcess, rp_key: RSAKey, rp_key_file: Path,  # noqa: F811
    sysvak: SysvakProcess, tmp_path_factory: pytest.TempPathFactory,  # noqa: F811
) -> AsyncIterator[Site]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    idp = IdPortenLookalike(
        client_id=CLIENT_ID, redirect_uris=[base + CALLBACK_PATH],
        post_logout_redirect_uris=[base + LOGGED_OUT_PATH],
        frontchannel_logout_uri=base + FRONTCHANNEL_PATH,
        client_jwks={"keys": [rp_key.as_dict(private=False)]},
        work_dir=tmp_path_factory.mktemp("vacc-idporten"))
    await asyncio.to_thread(idp.start)
    assert idp.persons_file is not None
    person = next(p for p in json.loads(idp.persons_file.read_text(encoding="utf-8"))
                  if p["age"] == 15)
    table = idporten_table(idp.issuer, rp_key_file) + sysvak_table(
        sysvak.config_file.parent, sysvak.url, timeout_s=CLIENT_TIMEOUT_S)
    try:
        web = await start_site(tmp_path_factory.mktemp("vacc-web"), redis_proc.url, table, port)
        yield Site(web, idp, sysvak, person)
        await asyncio.to_thread(web.stop)
    finally:
        await asyncio.to_thread(idp.stop)


@pytest.fixture
async def phone(browser: Browser, site: Site) -> AsyncIterator[Page]:  # noqa: F811
    ctx: BrowserContext = await browser.new_context(base_url=site.web.base,
                                                    service_workers="block", **PHONE)
    guard = TwoOrigins(site.web.base, site.idp.issuer)
    await ctx.route("**/*", guard.handle)
    yield await ctx.new_page()
    await ctx.close()
    assert not guard.foreign, guard.foreign


async def fits_and_is_clean(page: Page) -> None:
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def test_log_in_and_see_the_vaccines_with_a_due_school_vaccine(
        phone: Page, site: Site) -> None:
    await phone.goto("/mine")
    await phone.click("#login")
    await phone.wait_for_url("**/logg-inn*")
    await phone.click("#consent-yes")
    await idporten_login(phone, site, site.person["pid"])  # type: ignore[arg-type]
    await phone.click("#vaccines-link")
    await phone.wait_for_url("**/mine/vaksiner*")
    due = phone.locator("li.vaccine[data-state='due']")
    assert await due.count() == 1
    text = await due.inner_text()
    assert "Difteri, stivkrampe, kikhoste og polio" in text
    assert "Du skal få denne vaksinen i år, i 10. klasse." in text
    given = phone.locator("#school-vaccines li.vaccine[data-state='given']")
    assert await given.count() == 2
    assert "Tatt" in await given.first.inner_text()
    assert await phone.locator("#all-vaccines li").count() >= 5
    await fits_and_is_clean(phone)

    await phone.goto("/mine/vaksiner?lang=nn")
    assert "Skulevaksinane" in await phone.inner_text("main")
    await fits_and_is_clean(phone)

    site.sysvak.set_mode("down")
    try:
        await phone.goto("/mine/vaksiner?lang=nb")
        assert "svarer ikke" in await phone.inner_text("#vaccines-error")
        assert await phone.locator("li.vaccine").count() == 0
        await fits_and_is_clean(phone)
    finally:
        site.sysvak.set_mode("ok")
