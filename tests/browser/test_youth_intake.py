"""The optional intake in real Chromium: topic chips and "Haster det?" on a 360 px phone page,
chosen and started; the nurse's dashboard card shows the topic and the urgency; the lead
overview counts it for the week. axe-core finds nothing on the intake page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import DESKTOP, PHONE, Factory, axe_violations, describe
from tests.browser.test_youth_journey import conversation_id
from tests.chat.web.dashboard_fixtures import write_dash_config
from tests.conftest import DEMO_PASSWORD, start_clean_web

pytestmark = pytest.mark.browser

SERVICE = "dash-skole"


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               ) -> AsyncIterator[WebProcess]:
    """Overrides the browser conftest's ``site``: the dashboard services."""
    data_dir = tmp_path_factory.mktemp("intake-web")
    write_dash_config(data_dir)
    proc = await start_clean_web(redis_proc.url, data_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


async def signed_in(new_context: Factory, user: str) -> Page:
    context, _ = await new_context(**DESKTOP)
    page = await context.new_page()
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", user)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                 timeout=15000)
    return page


async def test_choose_a_topic_and_urgent_then_the_nurse_sees_both(
    new_context: Factory, site: WebProcess,
) -> None:
    nurse = await signed_in(new_context, "demo.nurse")  # on duty: the youth's start is live
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/{SERVICE}?lang=nb")
    await page.wait_for_selector("#intake-topics .chip")
    chips = await page.locator("#intake-topics .chip").all_text_contents()
    assert chips == ["Kropp og helse", "Psykisk helse", "Seksuell helse",
                     "Venner og familie", "Noe annet"]
    assert await page.is_visible("#intake-urgency label[for=urgent]")
    # It fits the phone: nothing sticks out sideways, and every chip is a finger's size.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    for box in [await c.bounding_box() for c in await page.locator(".intake .chip").all()]:
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360
    violations = await axe_violations(page)
    assert not violations, describe(violations)

    # A second tap takes a topic back; the last one chosen is sent.
    await page.click("label[for=topic-body]")
    assert await page.is_checked("#topic-body")
    await page.click("label[for=topic-body]")
    assert not await page.is_checked("#topic-body")
    await page.click("label[for=topic-mental]")
    await page.click("label[for=urgent]")
    assert await page.is_checked("#topic-mental") and await page.is_checked("#urgent")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    cid = await conversation_id(page)

    card = nurse.locator(f"#q-{SERVICE} li.queue-item[data-conversation='{cid}']")
    await card.locator(".topic[data-topic=mental]").wait_for()
    assert await card.locator(".topic").text_content() == "Tema: Psykisk helse"
    assert await card.locator(".ds-tag.urgent").text_content() == "Haster, sier ungdommen"
    violations = await axe_violations(nurse)
    assert not violations, describe(violations)

    lead = await signed_in(new_context, "demo.lead")
    await lead.goto("/lead?lang=nb")
    section = lead.locator(f"#ov-{SERVICE}")
    assert await section.locator("[data-figure='topic:mental']").text_content() == "1"
    assert await section.locator("[data-figure='urgent']").text_content() == "1"
    assert await section.locator("[data-figure='topic:body']").text_content() == "0"


async def test_start_with_nothing_chosen_still_works(new_context: Factory, site: WebProcess) -> None:
    await signed_in(new_context, "demo.nurse")
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/{SERVICE}?lang=nn")
    assert await page.locator("#intake-urgency legend").text_content() == "Hastar det? (valfritt)"
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    assert await conversation_id(page)
