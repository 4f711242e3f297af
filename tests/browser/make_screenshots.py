"""Screenshots of the youth pages on a 360×740 phone, for review and for docs/screenshots/.

    python -m tests.browser.make_screenshots [--out docs/screenshots] [--lang nb]

Starts its own redis-server and web process (the same test configuration as the browser tests,
so the closed clinic exists) on free ports on 127.0.0.1, and refuses every request that is not
for that server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route, async_playwright

from chat.i18n import LANGUAGES
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import CHROMIUM_ARGS, PHONE
from tests.conftest import ROOT, _add_accounts, chromium_path
from tests.servers import write_test_config

SHOTS: list[tuple[str, str, Literal["light", "dark"]]] = [
    # (file name, path, colour scheme)
    ("start", "/", "light"),
    ("service-open", "/s/demo-skole", "light"),
    ("service-closed", "/s/closed-clinic", "light"),
    ("privacy", "/personvern", "light"),
    ("service-open-dark", "/s/demo-skole", "dark"),
    ("chat-waiting", "/s/demo-skole", "light"),  # after tapping "Start chat": in the queue
]


async def start_chat(page: Page) -> None:
    """Tap Start and wait until the page shows the queue status (needs the youth script)."""
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])", timeout=10_000)
    # Wait for the real queue figures, not the "…" shown before the first queue frame.
    await page.wait_for_function("() => /\\d/.test(document.querySelector('#conv-status').textContent)",
                                 timeout=10_000)


async def take(base: str, out: Path, lang: str) -> list[Path]:
    own = urlsplit(base).netloc
    written = []

    async def only_own(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for name, path, scheme in SHOTS:
                context = await browser.new_context(**PHONE, color_scheme=scheme, base_url=base)
                await context.route("**/*", only_own)
                page = await context.new_page()
                await page.goto(f"{path}?lang={lang}")
                await page.wait_for_load_state("networkidle")
                if name.startswith("chat-"):
                    try:
                        await start_chat(page)
                    except PlaywrightError as exc:
                        print(f"skipped {name}: the chat did not start ({exc.message.splitlines()[0]})",
                              file=sys.stderr)
                        await context.close()
                        continue
                suffix = "" if lang == "nb" else f"-{lang}"
                target = out / f"{name}{suffix}.png"
                await page.screenshot(path=str(target), full_page=True)
                written.append(target)
                await context.close()
        finally:
            await browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", default="nb", choices=sorted(LANGUAGES))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helseprat-shots-") as tmp:
        data_dir = Path(tmp)
        write_test_config(data_dir)
        redis = RedisProcess(data_dir=data_dir / "redis")
        redis.start()
        web = WebProcess(data_dir, redis.url)
        try:
            # The demo nurses (and with them the services' team keys) exist, as in the tests, so a
            # youth can start a chat.
            asyncio.run(_add_accounts(redis.url, data_dir))
            web.start()
            for path in asyncio.run(take(web.base, args.out, args.lang)):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            web.stop()
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
