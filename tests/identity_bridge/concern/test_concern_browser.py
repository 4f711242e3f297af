"""The nurse's concern report in real Chromium: the form on a linked thread (with KS Fiks
down first: the message, then the retry going through), the guidance on an anonymous one,
and the dashboard axe-clean with the panel open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from chat.client.protocol import youth_start
from devservices.webproc import WebProcess
from tests.browser.conftest import (  # noqa: F401 - fixtures
    DESKTOP,
    Factory,
    axe_violations,
    browser,
    describe,
    new_context,
    playwright,
)
from tests.conftest import DEMO_PASSWORD

from .conftest import (  # noqa: F401 - fixtures
    MARKER,
    ConcernSite,
    concern_site,
    fake_idp,
    fiks,
    linked_thread,
    rp_key,
    rp_key_file,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def site(concern_site: ConcernSite) -> AsyncIterator[WebProcess]:  # noqa: F811
    """The browser fixtures' ``site``: the concern web process."""
    yield concern_site.web


async def nurse_page(new_context: Factory) -> Page:  # noqa: F811
    context, _ = await new_context(**DESKTOP)
    page = await context.new_page()
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", "demo.nurse")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                 timeout=15000)
    return page


async def test_nurse_sends_a_concern_report_and_retries_when_fiks_is_down(
    new_context: Factory, concern_site: ConcernSite,  # noqa: F811
) -> None:
    y, s = await linked_thread(concern_site)
    standin = concern_site.fiks
    try:
        page = await nurse_page(new_context)
        await page.click(f"#q-demo-skole button.claim[data-conversation='{s.conversation}']")
        await page.wait_for_selector("#concern-open:not([hidden])")
        assert await page.is_hidden("#concern-guidance")
        await page.click("#concern-open")
        await page.wait_for_selector("#concern-form:not([hidden])")
        # Without a category nothing is sent.
        await page.click("#concern-form button[type=submit]")
        assert "Velg hva" in (await page.text_content("#concern-msg") or "")
        await page.check("#concern-cat-neglect")
        await page.check("#concern-cat-mental_health")
        await page.fill("#concern-description", f"Forteller om mye krangling hjemme. {MARKER}")
        await page.check("#concern-urgency-urgent")
        await page.fill("#concern-phone", "+47 912 34 567")
        assert await page.input_value("#concern-name")  # filled with the nurse's name
        violations = await axe_violations(page)
        assert not violations, describe(violations)

        await asyncio.to_thread(standin.stop)
        try:
            await page.click("#concern-form button[type=submit]")
            await page.locator("#concern-msg", has_text="KS Fiks svarer ikke").wait_for()
            assert await page.is_visible("#concern-form")  # the form is kept for the retry
            assert await page.input_value("#concern-description") != ""
        finally:
            await asyncio.to_thread(standin.start)
        assert "Prøv igjen" in (await page.text_content("#concern-form button[type=submit]") or "")
        await page.click("#concern-form button[type=submit]")
        await page.wait_for_selector("#concern-log li.levert", timeout=20000)
        assert "levert til barneverntjenesten" in (await page.text_content("#concern-log") or "")
        assert await page.is_hidden("#concern-form")
        await page.click("#concern-open")  # a next report is a new one, not a retry
        assert (await page.text_content("#concern-form button[type=submit]") or "").strip() \
            == "Send bekymringsmelding"
        assert await page.input_value("#concern-description") == ""
        violations = await axe_violations(page)
        assert not violations, describe(violations)

        sent = [r for r in (await asyncio.to_thread(standin.reports)).values()
                if MARKER in r["report"]["bekymring"]["beskrivelse"]
                and "krangling" in r["report"]["bekymring"]["beskrivelse"]]
        assert len(sent) == 1
        cats = [k["kode"] for k in sent[0]["report"]["bekymring"]["kategorier"]]
        assert cats == ["neglect", "mental_health"]
    finally:
        await y.close()


async def test_anonymous_thread_shows_the_guidance_instead(
    new_context: Factory, concern_site: ConcernSite,  # noqa: F811
) -> None:
    y, s = await youth_start(concern_site.web.base, "demo-skole")
    try:
        page = await nurse_page(new_context)
        await page.click(f"#q-demo-skole button.claim[data-conversation='{s.conversation}']")
        await page.wait_for_selector("#concern-guidance:not([hidden])")
        await page.locator("#concern-numbers", has_text="23 45 67 89").wait_for()
        numbers = await page.text_content("#concern-numbers") or ""
        assert "116 111" in numbers and "Barneverntjenesten i Demo kommune" in numbers
        assert await page.is_hidden("#concern-open") and await page.is_hidden("#concern-form")
        assert "helsepersonelloven § 33" in (await page.text_content("#concern") or "")
        violations = await axe_violations(page)
        assert not violations, describe(violations)
    finally:
        await y.close()


async def test_the_form_fits_a_phone_and_stays_accessible(
    new_context: Factory, concern_site: ConcernSite,  # noqa: F811
) -> None:
    y, s = await linked_thread(concern_site)
    try:
        context, _ = await new_context(locale="nb-NO", viewport={"width": 360, "height": 740},
                                       is_mobile=True)
        page = await context.new_page()
        await page.goto("/nurse/login?lang=nb")
        await page.fill("#username", "demo.nurse")
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("form.login button[type=submit]")
        await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                     timeout=15000)
        await page.click(f"#q-demo-skole button.claim[data-conversation='{s.conversation}']")
        await page.click("#concern-open")
        await page.wait_for_selector("#concern-form:not([hidden])")
        assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        violations = await axe_violations(page)
        assert not violations, describe(violations)
    finally:
        await y.close()
