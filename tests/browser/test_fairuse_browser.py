"""Fair use in real Chromium: a youth whose new starts a nurse paused is told kindly, with the
crisis numbers beside it, on a 360 px phone; the nurse's pause and break controls on the
dashboard, confirmed there. axe-core finds nothing in either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page

from chat.client.protocol import youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory, axe_violations, describe
from tests.browser.test_dashboard import claim_in, nurse_page
from tests.chat.web.dashboard_fixtures import nurse_ws
from tests.chat.web.test_fairuse import FAIR_SERVICES
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.browser

PAUSED = {
    "nb": "Akkurat nå kan du ikke starte en ny samtale herfra. Prøv igjen litt senere.",
    "nn": "Akkurat no kan du ikkje starte ein ny samtale herifrå. Prøv igjen litt seinare.",
    "en": "Right now you cannot start a new chat from here. Please try again a bit later.",
}


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    data: Path = tmp_path_factory.mktemp("web-fairuse")
    write_test_config(data, FAIR_SERVICES)
    proc = await start_clean_web(redis_proc.url, data)
    yield proc
    await asyncio.to_thread(proc.stop)


async def started(page: Page) -> str:
    """Start in the page; the conversation id it keeps."""
    await page.wait_for_selector("#start:not([disabled])")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    cid: str = await page.evaluate(
        "JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
    return cid


@pytest.mark.parametrize("lang", sorted(PAUSED))
async def test_a_paused_youth_is_told_kindly_with_the_crisis_numbers(
        new_context: Factory, site: WebProcess, lang: str) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/fair-pause?lang={lang}")
    cid = await started(page)
    nurse, _ = await nurse_ws(site.base, "demo.nurse")
    await nurse.send({"type": "pause_starts", "conversation": cid, "hours": 1})
    await nurse.expect("start_pause")
    await nurse.close()

    await page.click("#end")
    await page.click("#end-confirm")
    await page.click("#new-chat")  # a fresh start page; the browser keeps its capability
    await page.wait_for_selector("#start:not([disabled])")
    await page.click("#start")
    box = page.locator("#fair-use")
    await box.wait_for(state="visible")
    assert (await page.text_content("#fair-use-text")) == PAUSED[lang]
    numbers = box.locator("a[href^='tel:']")
    assert await numbers.count() >= 2
    assert await numbers.first.is_visible()
    assert await page.is_visible("#start-view")
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= 360
    violations = await axe_violations(page)
    assert violations == [], describe(violations)


async def test_the_nurse_pauses_lifts_and_takes_a_break(new_context: Factory,
                                                        site: WebProcess) -> None:
    y, session = await youth_start(site.base, "fair-skole")
    page = await nurse_page(new_context, "demo.nurse")
    await page.wait_for_selector("#load:text('Samtaler: 0 av 4')")
    await claim_in(page, "fair-skole", session.conversation)
    await page.wait_for_selector("#load:text('Samtaler: 1 av 4')")
    await page.wait_for_selector("#pause:not([hidden])")
    await page.wait_for_selector("#pause-state:text('ikke på pause')")

    await page.select_option("#pause-hours", "24")
    await page.click("#pause-form button[type=submit]")
    await page.wait_for_selector("#confirm[open]")
    assert "24 timer" in (await page.text_content("#confirm-text") or "")
    await page.click("#confirm-yes")
    await page.wait_for_selector("#pause-state:text('på pause til')")
    assert await page.is_visible("#pause-lift")
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await page.click("#pause-lift")
    await page.wait_for_selector("#pause-state:text('ikke på pause')")
    assert not await page.is_visible("#pause-lift")

    toggle = page.locator("#break-toggle")
    assert await toggle.get_attribute("aria-pressed") == "false"
    await toggle.click()
    await page.wait_for_selector("#break-toggle[aria-pressed=true]")
    assert await page.is_visible("#break-state")
    assert (await toggle.text_content() or "").strip() == "Avslutt pausen"
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await toggle.click()
    await page.wait_for_selector("#break-toggle[aria-pressed=false]")
    assert not await page.is_visible("#break-state")
    await y.close()
