"""WCAG 2.1 AA (axe-core), 360 px phones, dark mode and 200 % zoom on every public page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory, axe_violations, describe

pytestmark = pytest.mark.browser

PAGES = ["/", "/s/demo-skole", "/s/closed-clinic", "/personvern", "/nurse/login",
         "/s/demo-skole/info"]
LANGS = ["nb", "nn", "en"]


async def open_page(page: Page, path: str, lang: str) -> None:
    response = await page.goto(f"{path}?lang={lang}")
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    await page.wait_for_load_state("load")


async def no_horizontal_scroll(page: Page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: scrollWidth {scroll} > {width}"
    # Nothing visible may stick out to the right either (overflow hidden on an ancestor would
    # otherwise hide a clipped control).
    wide = await page.evaluate("""(w) => [...document.querySelectorAll('body *')]
        .filter((el) => el.getClientRects().length && !el.closest('.visually-hidden, .skip'))
        .filter((el) => el.getBoundingClientRect().right > w + 0.5)
        .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className)""",
                               width)
    assert not wide, f"{page.url}: wider than {width}px: {wide[:10]}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", LANGS)
async def test_axe_clean_at_360(new_context: Factory, site: WebProcess, lang: str, scheme: str) -> None:
    context, _ = await new_context(**PHONE, color_scheme=scheme)
    page = await context.new_page()
    for path in PAGES:
        await open_page(page, path, lang)
        assert await page.evaluate("document.documentElement.lang") == lang
        violations = await axe_violations(page)
        assert not violations, f"{path}?lang={lang} ({scheme}):\n{describe(violations)}"
        await no_horizontal_scroll(page, 360)


async def test_axe_clean_with_start_options_and_resume_open(phone: Page) -> None:
    """The parts of the youth page that a tap reveals (resume form) are checked too."""
    await open_page(phone, "/s/demo-skole", "nb")
    await phone.locator("details.resume summary").click()
    await phone.locator("#resume-code").wait_for(state="visible")
    violations = await axe_violations(phone)
    assert not violations, describe(violations)


@pytest.mark.parametrize("path", PAGES)
async def test_usable_at_200_percent_zoom(new_context: Factory, path: str) -> None:
    """360 px at 200 % zoom is a 180 CSS-px viewport: no sideways scrolling, controls reachable."""
    context, _ = await new_context(viewport={"width": 180, "height": 370}, device_scale_factor=4,
                                   is_mobile=True, has_touch=True, locale="nb-NO")
    page = await context.new_page()
    await open_page(page, path, "nb")
    await no_horizontal_scroll(page, 180)
    controls = page.locator("main button:visible, main a:visible, main input:visible, "
                            "header a:visible, header button:visible, footer a:visible")
    for i in range(await controls.count()):
        box = await controls.nth(i).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 180.5, await controls.nth(i).evaluate(
            "(el) => el.outerHTML.slice(0, 120)")
    # Text is not cut off: no element clips its own text horizontally.
    clipped = await page.evaluate("""() => [...document.querySelectorAll('main *, header *, footer *')]
        .filter((el) => el.getClientRects().length && !el.closest('.visually-hidden'))
        .filter((el) => { const s = getComputedStyle(el);
                          return s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1; })
        .map((el) => el.tagName + '#' + el.id)""")
    assert not clipped, clipped


async def test_quick_exit_and_crisis_numbers_visible_on_phone(phone: Page) -> None:
    await open_page(phone, "/s/demo-skole", "nb")
    quick = phone.locator("#quick-exit")
    await quick.wait_for(state="visible")
    box = await quick.bounding_box()
    assert box is not None and box["y"] < 120 and box["height"] >= 44
    assert await phone.locator("footer a[href='tel:113']").count() == 1
    assert await phone.locator("footer a[href^='/personvern']").count() == 1


async def test_axe_check_is_live(phone: Page) -> None:
    """Guard against a vacuous pass: axe must find a planted violation under the real CSP."""
    await open_page(phone, "/personvern", "nb")
    await phone.evaluate("""() => { const i = document.createElement('input');
                                    document.querySelector('main').append(i); }""")
    ids = {v["id"] for v in await axe_violations(phone)}
    assert "label" in ids


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_axe_clean_in_the_chat_view(new_context: Factory, scheme: str) -> None:
    """After "Start chat": the queue status, composer and safety code (drawn by the script)."""
    context, _ = await new_context(**PHONE, color_scheme=scheme)
    page = await context.new_page()
    await open_page(page, "/s/demo-skole", "nb")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    await page.wait_for_function("() => document.querySelector('#conv-status').textContent.length > 0")
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    await no_horizontal_scroll(page, 360)
    # The figures shown before starting are gone; only the live queue status remains.
    assert not await page.locator(".queue-now").is_visible()
    await page.locator("#end").click()
    await page.locator("#end-confirm").click()
    await page.locator("#ended").wait_for(state="visible")
