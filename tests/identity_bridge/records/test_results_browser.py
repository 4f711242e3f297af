""""Mine prøvesvar" in real Chromium, everything real: the ID-porten lookalike logs the youth
in, the web process fetches from the prøvesvar stand-in (HelseID + DPoP, FHIR) for each view;
a result shows in words, a held-back one as held back with a way to a conversation, a
NORN_UNGDOM one not at all; the access is on "Hvem har sett opplysningene mine"; faults show
a message and no result; nothing of a result or the identity number is in Redis or logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from playwright.async_api import Browser, Page

from devservices.idporten.process import IdPortenLookalike
from devservices.provesvar.process import ProvesvarProcess, dev_setup
from devservices.redis_proc import RedisProcess, free_port
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
    redis_dump,
    rp_key,
    rp_key_file,
    start_site,
)
from tests.identity_bridge.web.test_identity_journey import TwoOrigins, idporten_login
from tests.system.test_privacy import aof_text

pytestmark = pytest.mark.browser

# What a result is made of in the stand-in's answer: none of it may be kept anywhere. (Not the
# tests' names: the service's public information pages name them too, and are kept.)
RESULT_DATA = ("43304-5", "43305-2", "56888-1", "20507-0", "NORN_", "DiagnosticReport",
               "Observation", "prøvesvar-svar")


@dataclass
class ResultSite:
    web: WebProcess
    idp: IdPortenLookalike
    standin: ProvesvarProcess
    person: dict[str, Any]  # 15 years old
    older: dict[str, Any]  # 17 years old
    redis: RedisProcess


@pytest.fixture(scope="module")
async def result_site(
    redis_proc: RedisProcess, rp_key: RSAKey, rp_key_file: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ResultSite]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    idp = IdPortenLookalike(
        client_id=CLIENT_ID, redirect_uris=[base + CALLBACK_PATH],
        post_logout_redirect_uris=[base + LOGGED_OUT_PATH],
        frontchannel_logout_uri=base + FRONTCHANNEL_PATH,
        client_jwks={"keys": [rp_key.as_dict(private=False)]},
        work_dir=tmp_path_factory.mktemp("results-idporten"))
    await asyncio.to_thread(idp.start)
    assert idp.persons_file is not None
    persons = json.loads(idp.persons_file.read_text(encoding="utf-8"))
    person = next(p for p in persons if p["age"] == 15)
    older = next(p for p in persons if p["age"] == 17)
    standin, key_file = await asyncio.to_thread(dev_setup,
                                                tmp_path_factory.mktemp("results-standin"))
    web = await start_site(tmp_path_factory.mktemp("results-web"), redis_proc.url,
                           idporten_table(idp.issuer, rp_key_file)
                           + standin.table(key_file, timeout_s=2.0), port)
    try:
        yield ResultSite(web, idp, standin, person, older, redis_proc)
    finally:
        await asyncio.to_thread(web.stop)
        await asyncio.to_thread(standin.stop)
        await asyncio.to_thread(idp.stop)


@pytest.fixture
async def phone(browser: Browser, result_site: ResultSite) -> AsyncIterator[Page]:  # noqa: F811
    ctx = await browser.new_context(base_url=result_site.web.base, service_workers="block",
                                    **PHONE)
    guard = TwoOrigins(result_site.web.base, result_site.idp.issuer)
    await ctx.route("**/*", guard.handle)
    yield await ctx.new_page()
    await ctx.close()
    await asyncio.to_thread(result_site.standin.set_mode, "ok")
    assert not guard.foreign, guard.foreign


async def log_in_and_open(page: Page, site: ResultSite, pid: str = "") -> None:
    await page.goto("/mine")
    await page.click("#login")
    await page.wait_for_url("**/logg-inn*")
    await page.click("#consent-yes")
    await idporten_login(page, site, pid or site.person["pid"])
    await page.wait_for_selector("#results-link")
    await page.click("#results-link")
    await page.wait_for_url("**/mine/provesvar*")


async def axe_clean_at_360(page: Page) -> None:
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def test_a_result_and_a_held_back_one_then_who_looked(
        phone: Page, result_site: ResultSite) -> None:
    await log_in_and_open(phone, result_site)
    cards = phone.locator("li.result")
    assert await cards.count() == 3  # the NORN_UNGDOM report is not there at all
    chlamydia = await phone.locator("li.result[data-kind=chlamydia]").inner_text()
    assert "Klamydia" in chlamydia and "Negativ: ikke påvist" in chlamydia
    assert "Bare du kan se dette svaret" in chlamydia
    held = phone.locator("li.result[data-kind=hiv]")
    held_text = await held.inner_text()
    assert "Svaret får du i en samtale" in held_text
    assert "Negativ" not in held_text and "Positiv" not in held_text
    ask = held.locator("a.ask-conversation")
    assert await ask.inner_text() == "Be om en samtale"
    href = await ask.get_attribute("href") or ""
    assert href.startswith("/s/") and not href.startswith("/s/?")
    body = await phone.locator("main").inner_text()
    for raw in ("Syfilis", "43304-5", "NEG", "NORN", "final", result_site.person["pid"]):
        assert raw not in body
    await axe_clean_at_360(phone)

    await phone.goto("/mine/provesvar?lang=nn")
    assert "Svaret får du i ein samtale" in await held.inner_text()
    await phone.goto("/mine/provesvar?lang=en")
    assert "You will get this result in a conversation" in await held.inner_text()
    assert "Negative: not detected" in await phone.locator(
        "li.result[data-kind=chlamydia]").inner_text()
    await axe_clean_at_360(phone)

    await phone.click("#access-log-link")
    await phone.wait_for_url("**/mine/innsyn*")
    rows = phone.locator("tr.access[data-kind=prøvesvar]")
    assert await rows.count() == 3  # the three views of the results page
    await axe_clean_at_360(phone)

    # The way to a conversation leads to a service's start page.
    await phone.goto(href)
    assert await phone.locator("#start").count() == 1

    # Logged out: nothing of it.
    await phone.context.clear_cookies()
    await phone.goto("/mine/provesvar")
    assert await phone.locator("li.result").count() == 0
    assert await phone.locator("#login").count() == 1
    await phone.goto("/mine/innsyn")
    assert await phone.locator("tr.access").count() == 0


async def test_from_16_the_page_says_parents_are_out_and_the_markings_still_hold(
        phone: Page, result_site: ResultSite) -> None:
    await log_in_and_open(phone, result_site, result_site.older["pid"])
    assert await phone.locator("li.result").count() == 3
    assert "Foreldrene dine får ikke se prøvesvarene dine" in await phone.locator(
        "main").inner_text()
    assert await phone.locator("li.result .youth-only").count() == 0
    assert await phone.locator("li.result[data-kind=syphilis]").count() == 0
    await axe_clean_at_360(phone)


@pytest.mark.parametrize(("mode", "words"), [
    ("other_person", "gjaldt ikke deg"), ("malformed", "ikke kunne lese"),
    ("not_json", "ikke kunne lese"), ("down", "svarer ikke"), ("slow", "svarer ikke")])
async def test_a_fault_shows_a_message_and_no_result(
        phone: Page, result_site: ResultSite, mode: str, words: str) -> None:
    await log_in_and_open(phone, result_site)
    assert await phone.locator("li.result").count() == 3
    await asyncio.to_thread(result_site.standin.set_mode, mode)
    await phone.reload()
    assert words in await phone.locator("#results-error").inner_text()
    assert await phone.locator("li.result").count() == 0
    await axe_clean_at_360(phone)


async def test_nothing_of_a_result_or_the_person_is_kept(
        phone: Page, result_site: ResultSite) -> None:
    await log_in_and_open(phone, result_site)
    assert await phone.locator("li.result").count() == 3
    pid = result_site.person["pid"]
    dump = await redis_dump(result_site.web.redis_url)
    assert any(key.endswith("}:access") for key, _ in dump)  # the scan sees the access log
    for key, text in dump:
        for secret in (pid, *RESULT_DATA):
            assert secret not in key and secret not in text, (secret, key)
    aof = aof_text(result_site.redis)
    assert "}:access" in aof
    for secret in (pid, *RESULT_DATA):
        assert secret not in aof, secret
    for log in (result_site.web.log_text(),
                result_site.standin.log_file.read_text(errors="replace")):
        for secret in (pid, *RESULT_DATA[:5]):
            assert secret not in log, secret
