"""The youth pages are light and honest about loading: at most 150 KB on the wire in all
(HTML, CSS, scripts, the lazily fetched crypto and libsodium's WebAssembly, headers included),
and a Start button that says "Laster …" and cannot be tapped until crypto is there."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, Request, Route

from tests.browser.conftest import PHONE, Factory

pytestmark = pytest.mark.browser

BUDGET = 150_000  # bytes, everything the page transfers until it is ready for input


async def transferred(page: Page, path: str, ready: str) -> tuple[int, list[str]]:
    """Load ``path`` in a fresh context, wait for ``ready``, and add up what came over the wire."""
    finished: list[Request] = []
    page.on("requestfinished", lambda r: finished.append(r))
    await page.goto(path)
    await page.wait_for_selector(ready)
    await page.wait_for_load_state("networkidle")
    total = 0
    rows = []
    for request in finished:
        sizes = await request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total += size
        rows.append(f"{size:>8} {request.url}")
    return total, rows


@pytest.mark.parametrize(("path", "ready"), [
    ("/s/demo-skole", "#start:not([disabled])"),
    ("/", "#service-list"),
])
async def test_youth_page_transfers_at_most_150_kb(new_context: Factory, path: str, ready: str) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    total, rows = await transferred(page, path, ready)
    assert total <= BUDGET, f"{total} bytes:\n" + "\n".join(rows)
    assert any(".wasm" in r for r in rows) or path == "/", rows  # crypto counted, not skipped


async def test_start_waits_for_crypto_and_says_so(new_context: Factory) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    release = asyncio.Event()
    held: list[str] = []

    async def hold(route: Route) -> None:
        held.append(route.request.url)
        await release.wait()
        await route.fallback()

    await page.route("**/static/dist/chunks/e2e-*.js", hold)
    await page.goto("/s/demo-skole")
    start = page.locator("#start")
    assert (await start.text_content() or "").strip() == "Laster …"
    await page.wait_for_function("() => document.readyState === 'complete'")
    for _ in range(100):  # until the page has asked for the crypto chunk (after its first paint)
        if held:
            break
        await asyncio.sleep(0.05)
    assert held, "the page never asked for the crypto chunk"
    assert (await start.text_content() or "").strip() == "Laster …"
    assert await start.is_disabled()
    assert await start.get_attribute("aria-disabled") == "true"
    await start.click(force=True)  # a tap now does nothing, and nothing breaks
    assert await page.locator("#chat-view").is_hidden()
    assert await page.get_attribute("#start-ready", "role") == "status"

    release.set()
    await page.wait_for_selector("#start:not([disabled])")
    assert (await start.text_content() or "").strip() == "Start chat"
    assert await start.get_attribute("aria-disabled") is None
    assert await page.text_content("#start-ready") == "Chatten er klar."
    await start.click()
    await page.wait_for_selector("#chat-view:not([hidden])")
