"""Screenshots of the youth pages on a 360×740 phone and of the nurse's dashboard on a 1366×768
desktop (a queue and a conversation), for review and for docs/screenshots/.

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

from chat.client.protocol import ProtocolClient, youth_start
from chat.i18n import LANGUAGES
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import CHROMIUM_ARGS, PHONE
from tests.conftest import DEMO_PASSWORD, ROOT, _add_accounts, chromium_path
from tests.servers import write_test_config

SHOTS: list[tuple[str, str, Literal["light", "dark"]]] = [
    # (file name, path, colour scheme)
    ("start", "/", "light"),
    ("service-open", "/s/demo-skole", "light"),
    ("service-closed", "/s/closed-clinic", "light"),
    ("privacy", "/personvern", "light"),
    ("service-open-dark", "/s/demo-skole", "dark"),
    ("chat-waiting", "/s/demo-skole", "light"),  # after tapping "Start chat": in the queue
    ("chat-active", "/s/demo-skole", "light"),  # a nurse has it and has answered
    ("chat-ended", "/s/demo-skole", "light"),  # the nurse closed it: the end line in view
]


async def chat_with_nurse(base: str, page: Page, name: str) -> None:
    """A Python nurse claims the page's conversation, answers, and (for "ended") closes it."""
    from tests.browser.test_youth_journey import PythonNurse, conversation_id, say

    nurse = await PythonNurse.login(base)
    cid = await conversation_id(page)
    await nurse.claim(cid)
    await say(page, "Hei, kan jeg spørre om noe privat?")
    await nurse.hears()
    await nurse.say("Hei! Ja, selvfølgelig. Det du skriver her er mellom oss. Hva lurer du på?", "shot00001")
    await page.wait_for_selector("#messages li.them", timeout=10_000)
    if name == "chat-ended":
        await nurse.client.send({"type": "close", "conversation": cid, "outcome": "advice_given"})
        await page.wait_for_selector("#ended", timeout=10_000)
    await nurse.client.close()


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
                        if name != "chat-waiting":
                            await chat_with_nurse(base, page, name)
                    except PlaywrightError as exc:
                        print(f"skipped {name}: the chat did not start ({exc.message.splitlines()[0]})",
                              file=sys.stderr)
                        await context.close()
                        continue
                suffix = "" if lang == "nb" else f"-{lang}"
                target = out / f"{name}{suffix}.png"
                # The chat states as the phone shows them (the screen, not the whole page).
                await page.screenshot(path=str(target), full_page=not name.startswith("chat-"))
                written.append(target)
                await context.close()
        finally:
            await browser.close()
    return written


DESK = {"viewport": {"width": 1366, "height": 768}, "locale": "nb-NO"}
DASHBOARD_SHOTS = ["dashboard", "dashboard-confirm-close", "dashboard-shortcuts"]


async def youths_waiting(base: str) -> tuple[list[ProtocolClient], str]:
    """Three youths in the demo queue; the first has written, and is the one claimed."""
    clients: list[ProtocolClient] = []
    first = ""
    for service, text in (("demo-skole", "hei, jeg lurer på noe om prevensjon"), ("demo-skole", ""),
                          ("demo-skole", "")):
        y, s = await youth_start(base, service)
        first = first or s.conversation
        if text and s.keys is not None:
            await y.send({"type": "send", "cmid": f"screenshot{len(clients):04d}", "body": s.keys.seal(text)})
            await y.expect("ack")
        clients.append(y)
    return clients, first


async def take_dashboard(base: str, out: Path, lang: str, route: object) -> list[Path]:
    """The dashboard with a queue and a claimed conversation, the close confirmation and the
    shortcut list (viewport-sized: the dashboard is built not to scroll)."""
    youths, cid = await youths_waiting(base)
    suffix = "" if lang == "nb" else f"-{lang}"
    written = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(**DESK, color_scheme="light", base_url=base,
                                                reduced_motion="reduce")
            await context.route("**/*", route)  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(f"/nurse/login?lang={lang}")
            await page.fill("#username", "demo.nurse")
            await page.fill("#password", DEMO_PASSWORD)
            await page.click("form.login button[type=submit]")
            await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                         timeout=15_000)
            await page.goto(f"/nurse?lang={lang}")
            await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached")
            claim = f"#q-demo-skole button.claim[data-conversation='{cid}']"
            await page.wait_for_selector(claim)
            await page.click(claim)
            await page.wait_for_selector("#messages li.them")
            await page.fill("#message", "Hei! Så fint at du tok kontakt. Hva lurer du på?")
            await page.keyboard.press("Control+Enter")
            await page.wait_for_selector("#messages li.me")
            for name in DASHBOARD_SHOTS:
                if name == "dashboard-confirm-close":
                    await page.click("#close-form button[type=submit]")
                elif name == "dashboard-shortcuts":
                    await page.keyboard.press("Escape")
                    await page.click("#shortcuts-open")
                await page.wait_for_timeout(200)
                target = out / f"{name}{suffix}.png"
                await page.screenshot(path=str(target))
                written.append(target)
            await context.close()
        finally:
            await browser.close()
            for y in youths:
                await y.close()
    return written


async def take_all(base: str, out: Path, lang: str) -> list[Path]:
    own = urlsplit(base).netloc

    async def only_own(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    return [*await take(base, out, lang), *await take_dashboard(base, out, lang, only_own)]


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
            for path in asyncio.run(take_all(web.base, args.out, args.lang)):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            web.stop()
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
