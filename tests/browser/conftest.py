"""Browser end-to-end fixtures: one headless Chromium (Debian's) for the session, Playwright's
async API on the suite's session event loop, one real web process per test module.

Nothing here talks to anything but 127.0.0.1: every context refuses requests to other hosts
(and records them, so a test fails when a page tries) — fonts, scripts and styles must all come
from the server's own origin, as the CSP demands.

axe-core is evaluated into the page through the DevTools protocol (``page.evaluate`` of the
source), not added with a ``<script>`` tag under ``bypass_csp``: that way the page keeps its real
Content-Security-Policy while it is checked, so a template that only renders correctly without
the CSP (an inline style, an inline script) cannot pass by accident.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright

from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.conftest import ROOT, chromium_path, start_clean_web

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "nb-NO"}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "nb-NO"}

# -- the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    b = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield b
    await b.close()


# -- the server --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, web_data_dir: Path) -> AsyncIterator[WebProcess]:
    """One web process for the whole test module (pages are read-only here), on a clean Redis."""
    proc = await start_clean_web(redis_proc.url, web_data_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


# -- same-origin guard -------------------------------------------------------------------------
@dataclass
class RequestLog:
    """Every URL a context asked for; requests to any other origin are recorded and refused."""

    origin: str  # "127.0.0.1:<port>"
    urls: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == self.origin

    def record(self, url: str) -> None:
        self.urls.append(url)
        if not self.allowed(url):
            self.foreign.append(url)

    def assert_same_origin(self) -> None:
        assert not self.foreign, f"requests left {self.origin}: {self.foreign}"


async def guard(context: BrowserContext, base: str) -> RequestLog:
    """Attach a RequestLog to a context: record every request and websocket, block foreign ones."""
    log = RequestLog(urlsplit(base).netloc)

    async def handle(route: Route) -> None:
        url = route.request.url
        log.record(url)
        if log.allowed(url):
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    await context.route("**/*", handle)
    context.on("page", lambda page: page.on("websocket", lambda ws: log.record(ws.url)))
    return log


Factory = Callable[..., Awaitable[tuple[BrowserContext, RequestLog]]]


@pytest.fixture
async def new_context(browser: Browser, site: WebProcess) -> AsyncIterator[Factory]:
    """Make guarded contexts: ``await new_context(**PHONE, color_scheme="dark")``.

    Each is closed at the end of the test, and the test fails if any of them requested another
    host.
    """
    made: list[tuple[BrowserContext, RequestLog]] = []

    async def make(**options: Any) -> tuple[BrowserContext, RequestLog]:
        context = await browser.new_context(base_url=site.base, service_workers="block", **options)
        log = await guard(context, site.base)
        made.append((context, log))
        return context, log

    yield make
    for context, log in made:
        await context.close()
        log.assert_same_origin()


@pytest.fixture
async def phone(new_context: Factory) -> Page:
    """A 360×740 phone (scale 2, touch, nb-NO) with the system in light mode."""
    context, _ = await new_context(**PHONE, color_scheme="light")
    return await context.new_page()


@pytest.fixture
async def phone_dark(new_context: Factory) -> Page:
    context, _ = await new_context(**PHONE, color_scheme="dark")
    return await context.new_page()


@pytest.fixture
async def desktop(new_context: Factory) -> Page:
    """A nurse's desktop browser."""
    context, _ = await new_context(**DESKTOP, color_scheme="light")
    return await context.new_page()


# -- axe ---------------------------------------------------------------------------------------
SETTLED_JS = """() => Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map((a) => a.finished.catch(() => null)))"""


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


async def axe_violations(page: Page, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations for the page as it is now (empty list = clean)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(_axe_source())
    # Colours are judged as they settle: mid-way through a dialog's or a button's fade axe sees
    # a blend of two colours that the page never rests on. Endless ones (a spinner) never end.
    await page.evaluate(SETTLED_JS)
    result: dict[str, Any] = await page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        tags or WCAG_TAGS)
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable summary for assertion messages."""
    out = []
    for v in violations:
        nodes = [{"target": n["target"], "summary": n.get("failureSummary", "")[:300]}
                 for n in v["nodes"][:5]]
        out.append(f"{v['id']} ({v['impact']}): {v['help']}\n{json.dumps(nodes, indent=1, ensure_ascii=False)}")
    return "\n".join(out)
