"""The nurse's dashboard as a busy nurse meets it on a 1366×768 desktop, in real Chromium:
three panes that fit the window, everything labelled in her language, a confirmation before
every irreversible step, and keyboard shortcuts that never fire while she types."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page

from chat.client.protocol import ProtocolClient, YouthSession, youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import Factory, axe_violations, describe
from tests.chat.web.dashboard_fixtures import write_dash_config
from tests.conftest import DEMO_PASSWORD, start_clean_web

pytestmark = pytest.mark.browser

LAPTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 768}, "locale": "nb-NO"}
SERVICE = "dash-skole"

# What the page must say, per language (from the catalogs, written out again here).
WORDS = {
    "nb": {"conversation": "Samtale", "safety": "Sikkerhetskode", "advice": "Ga råd",
           "earlier": "Har snakket med oss før", "service": "Skolehelsetjenesten, Dashbord skole, Demo kommune",
           "close_title": "Avslutte samtalen?", "active": "Pågår", "release_title": "Legge samtalen tilbake i køen?",
           "transfer_title": "Overføre samtalen?", "help": "Hurtigtaster"},
    "en": {"conversation": "Conversation", "safety": "Safety code", "advice": "Advice given",
           "earlier": "Has talked with us before", "service": "Skolehelsetjenesten, Dashbord skole, Demo kommune",
           "close_title": "Close the conversation?", "active": "Ongoing",
           "release_title": "Put the conversation back in the queue?",
           "transfer_title": "Transfer the conversation?", "help": "Keyboard shortcuts"},
    "nn": {"conversation": "Samtale", "safety": "Tryggleikskode", "advice": "Gav råd",
           "earlier": "Har snakka med oss før", "service": "Skolehelsetjenesten, Dashbord skole, Demo kommune",
           "close_title": "Avslutte samtalen?", "active": "Pågår",
           "release_title": "Leggje samtalen tilbake i køen?",
           "transfer_title": "Overføre samtalen?", "help": "Snøggtastar"},
}


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               ) -> AsyncIterator[WebProcess]:
    """Overrides the browser conftest's ``site``: the dashboard services."""
    data_dir = tmp_path_factory.mktemp("dash-layout")
    write_dash_config(data_dir)
    proc = await start_clean_web(redis_proc.url, data_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


async def dashboard(new_context: Factory, lang: str, user: str = "demo.nurse") -> Page:
    context, _ = await new_context(**LAPTOP, color_scheme="light")
    page = await context.new_page()
    await page.goto(f"/nurse/login?lang={lang}")
    await page.fill("#username", user)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached", timeout=15000)
    return page


async def clean(page: Page) -> None:
    # A dialog fades in: check it as it stands once shown, not half transparent.
    await page.evaluate("() => Promise.all(document.getAnimations().map((a) => a.finished))")
    violations = await axe_violations(page)
    assert not violations, describe(violations)


async def fits(page: Page) -> None:
    """Nothing below the fold: the page does not scroll, and the close button is in view."""
    assert await page.evaluate("document.scrollingElement.scrollHeight <= innerHeight")
    assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    box = await page.locator("#close-form button[type=submit]").bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box


async def claim(page: Page, cid: str) -> None:
    await page.click(f"#q-{SERVICE} button.claim[data-conversation='{cid}']")
    await page.wait_for_selector("#composer:not([hidden])")


async def released_youth(site: WebProcess, new_context: Factory) -> tuple[ProtocolClient, YouthSession]:
    """A youth whose conversation a nurse had and put back: 'has talked with us before'."""
    y, s = await youth_start(site.base, SERVICE)
    other = await dashboard(new_context, "nb", "demo.lead")
    await claim(other, s.conversation)
    await other.click("#release")
    await other.click("#confirm-yes")
    await y.expect("state", where=lambda f: f["state"] == "waiting")
    await other.context.close()
    return y, s


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_three_panes_fit_labelled_and_close_asks_first(
    new_context: Factory, site: WebProcess, lang: str,
) -> None:
    w = WORDS[lang]
    y, s = await released_youth(site, new_context)
    page = await dashboard(new_context, lang)
    card = page.locator(f"#q-{SERVICE} li[data-conversation='{s.conversation}']")
    await card.locator("button.claim").wait_for()
    # The card: service, returning, wait and connection; the topic slot is there but empty.
    assert await card.locator(".svc").inner_text() == "Skolehelsetjenesten, Dashbord skole"
    assert await card.locator(".returning").inner_text() == w["earlier"]
    assert await card.locator("[data-slot=topic]").count() == 1
    assert await card.locator("[data-slot=topic]").inner_text() == ""
    assert not await card.locator("[data-slot=topic]").is_visible()
    await clean(page)

    await claim(page, s.conversation)
    await page.wait_for_function("() => document.querySelector('#chat-title').textContent.includes('·')")
    title = await page.inner_text("#chat-title")
    assert w["service"] in title and f"{w['conversation']} {s.conversation[:6]}" in title, title
    await page.wait_for_function(
        "(label) => document.querySelector('#chat-title').textContent.includes(label)", arg=w["safety"])
    assert await page.inner_text("#chat-state") == w["active"]
    options = await page.locator("#outcome option").all_inner_texts()
    assert w["advice"] in options and not any("_" in o for o in options), options
    await fits(page)
    await clean(page)

    # Close asks first; cancelling leaves the conversation open.
    await page.click("#close-form button[type=submit]")
    dialog = page.locator("dialog#confirm")
    await dialog.wait_for(state="visible")
    assert await page.inner_text("#confirm-title") == w["close_title"]
    assert w["advice"] in await page.inner_text("#confirm-text")
    assert await page.evaluate("document.activeElement.id") == "confirm-no"
    await clean(page)
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    assert await page.is_visible("#composer")
    await page.click("#close-form button[type=submit]")
    await page.click("#confirm-yes")
    closed = await y.expect("state", where=lambda f: f["state"] == "closed")
    assert closed["outcome"] == "advice_given"
    await page.wait_for_selector("#composer", state="hidden")
    assert lang != "nb" or "Samtalen er avsluttet." in await page.inner_text("#messages")
    await clean(page)
    await y.close()


async def test_release_and_transfer_ask_first(new_context: Factory, site: WebProcess) -> None:
    w = WORDS["nn"]
    y, s = await youth_start(site.base, SERVICE)
    page = await dashboard(new_context, "nn")
    await claim(page, s.conversation)
    await page.click("#release")
    await page.locator("dialog#confirm").wait_for(state="visible")
    assert await page.inner_text("#confirm-title") == w["release_title"]
    await clean(page)
    await page.click("#confirm-no")
    await page.locator("dialog#confirm").wait_for(state="hidden")
    assert await page.is_visible("#composer")
    await page.click("#release")
    await page.click("#confirm-yes")
    await y.expect("state", where=lambda f: f["state"] == "waiting")

    await claim(page, s.conversation)
    await page.select_option("#transfer-to", "service:dash-hfu")
    await page.click("#transfer-form button[type=submit]")
    await page.locator("dialog#confirm").wait_for(state="visible")
    assert await page.inner_text("#confirm-title") == w["transfer_title"]
    assert "Helsestasjon for ungdom, Dashbord" in await page.inner_text("#confirm-text")
    await page.click("#confirm-no")
    assert await page.is_visible("#composer")
    assert not [f for f in y.seen if f.get("transferred")]
    await page.click("#transfer-form button[type=submit]")
    await page.click("#confirm-yes")
    moved = await y.expect("state", where=lambda f: f.get("transferred") is True)
    assert moved["service"] == "dash-hfu"
    await clean(page)
    await y.close()


async def test_shortcuts_claim_reply_send_close_but_not_while_typing(
    new_context: Factory, site: WebProcess,
) -> None:
    y, s = await youth_start(site.base, SERVICE)
    assert s.keys is not None
    page = await dashboard(new_context, "nb")
    claim_button = f"#q-{SERVICE} button.claim[data-conversation='{s.conversation}']"
    await page.wait_for_selector(claim_button)
    # Documented in the page: aria-keyshortcuts, and the visible list.
    assert await page.get_attribute(claim_button, "aria-keyshortcuts") == "Alt+Shift+T"
    assert await page.get_attribute("#close-form button[type=submit]", "aria-keyshortcuts") == "Alt+Shift+A"
    assert await page.get_attribute("#message", "aria-keyshortcuts") == "Alt+Shift+S"
    await page.click("#shortcuts-open")
    await page.locator("dialog#shortcuts").wait_for(state="visible")
    assert "Alt+Shift+T" in (await page.inner_text("dialog#shortcuts")).replace(" ", "")
    await clean(page)
    await page.keyboard.press("Escape")
    await page.locator("dialog#shortcuts").wait_for(state="hidden")

    # Typing in a field: Alt+Shift+T is a character there, not a claim.
    await page.click("details.alerts summary")
    await page.focus("#notify-on")
    await page.evaluate("() => { const f = document.querySelector('#transfer-note');"
                        " f.closest('#tools').hidden = false; f.focus(); }")
    await page.keyboard.press("Alt+Shift+KeyT")
    await asyncio.sleep(0.3)  # give a wrongly fired claim its round trip before looking
    assert not [f for f in y.seen if f["type"] == "state" and f["state"] == "active"]
    await page.evaluate("() => { document.querySelector('#tools').hidden = true; document.activeElement.blur(); }")

    await page.keyboard.press("Alt+Shift+KeyT")
    await page.wait_for_selector("#composer:not([hidden])")
    await y.expect("state", where=lambda f: f["state"] == "active")
    await page.focus("#messages")
    await page.keyboard.press("Alt+Shift+KeyS")
    assert await page.evaluate("document.activeElement.id") == "message"
    await page.keyboard.type("sendt med ctrl enter")
    await page.keyboard.press("Alt+Shift+KeyA")  # in the reply box: no close
    await page.keyboard.press("Control+Enter")
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    assert s.keys.open(got["body"]) == "sendt med ctrl enter"
    assert await page.is_hidden("dialog#confirm")

    await page.focus("#messages")
    await page.keyboard.press("Alt+Shift+KeyA")
    await page.locator("dialog#confirm").wait_for(state="visible")
    await page.keyboard.press("Tab")  # from Cancel round to the confirm button
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.id") == "confirm-yes"
    await page.keyboard.press("Enter")
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.close()


@pytest.mark.parametrize("options", [
    {"viewport": {"width": 1366, "height": 768}, "color_scheme": "dark"},
    {"viewport": {"width": 360, "height": 740}, "color_scheme": "light", "is_mobile": True},
], ids=["dark-desktop", "phone"])
async def test_dark_and_narrow_stay_accessible(
    new_context: Factory, site: WebProcess, options: dict[str, Any],
) -> None:
    y, s = await youth_start(site.base, SERVICE)
    context, _ = await new_context(locale="nb-NO", **options)
    page = await context.new_page()
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", "demo.nurse")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached", timeout=15000)
    await claim(page, s.conversation)
    assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    await clean(page)
    await page.click("#close-form button[type=submit]")
    await page.locator("dialog#confirm").wait_for(state="visible")
    await clean(page)
    await page.click("#confirm-yes")
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.close()
