"""The dashboard's "Send til journal" in real Chromium: a verified thread, the nurse
picks a message, writes a summary, the browser seals the note part to the gateway key, and
the status comes back live as accepted. The dashboard stays axe-clean with the journal panel."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from devservices.webproc import WebProcess
from identity_bridge.epj.msghead import parse_msghead
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
from tests.identity_bridge.web.conftest import fake_idp, rp_key, rp_key_file  # noqa: F401

from .conftest import MARKER, stored_messages
from .test_journal_web import JournalSite, journal_site, nhn_proc, verified_thread  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def site(journal_site: JournalSite) -> AsyncIterator[WebProcess]:  # noqa: F811
    """The browser fixtures' ``site``: the journal web process."""
    yield journal_site.web


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


async def test_send_to_journal_from_the_dashboard(
    new_context: Factory, journal_site: JournalSite,  # noqa: F811
) -> None:
    y, s = await verified_thread(journal_site)
    try:
        page = await nurse_page(new_context)
        await page.click(f"#q-demo-skole button.claim[data-conversation='{s.conversation}']")
        await page.wait_for_selector("#journal:not([hidden])")
        await page.check("#messages li.them input.pick")
        await page.fill("#journal-summary", f"Snakket om søvn. {MARKER}")
        await page.click("#journal-form button[type=submit]")
        await page.wait_for_selector("#journal-log li.accepted", timeout=20000)
        assert "✓" in (await page.text_content("#journal-log") or "")
        assert await page.locator("#messages input.pick:checked").count() == 0
        violations = await axe_violations(page)
        assert not violations, describe(violations)

        docs = [parse_msghead(base64.b64decode(str(m["document"])))
                for m in stored_messages(journal_site.nhn)]
        texts = [d.notes[0].text or "" for d in docs if d.notes]
        mine = [t for t in texts if "Snakket om søvn" in t]
        assert len(mine) == 1
        assert MARKER in mine[0] and "Ungdom: hei anonymt" in mine[0]
    finally:
        await y.close()
