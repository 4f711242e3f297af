"""Web Push in the youth's browser: the service worker at /sw.js, the notice it shows, the
opt-in switch on the chat page, and quick exit — in real (Debian) Chromium, with service workers
allowed, on a web process that has a VAPID key.

What Chromium lets a test drive, and what it does not:
- A push is delivered to the real worker through the DevTools protocol
  (``ServiceWorker.deliverPushMessage``), and the notice it shows is read back with
  ``registration.getNotifications()``.
- ``pushManager.subscribe`` cannot succeed here: Chromium refuses the Push API in a test
  browser's (incognito-like) profile and has no push service to reach; the page must say so
  ("not available here") and send the server nothing.
- A click on a notice cannot be driven: neither the DevTools protocol nor WebDriver can click a
  notification, and a ``NotificationEvent`` made by script is untrusted (its ``waitUntil``
  throws, and ``openWindow``/``focus`` need the activation only a real click gives). The
  worker's part of a click that can be checked is checked: the tag → service page it keeps,
  which it accepts only for this site's youth pages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.async_api import Browser, BrowserContext, CDPSession, Page, WebSocket

from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, RequestLog, axe_violations, describe, guard
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.browser

IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
NOTICES_JS = """() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
    ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, renotify: n.renotify})))"""


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    """A web process with a VAPID key (so the page offers push) whose quick-exit target is on
    the same origin (so the request guard still fails any request that leaves the server)."""
    data = tmp_path_factory.mktemp("pushweb")
    write_test_config(data)
    key = ec.generate_private_key(ec.SECP256R1())
    (data / "secrets" / "vapid_private.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    port = free_port()
    proc = await start_clean_web(redis_proc.url, data, port=port, extra_env={
        "HELSEPRAT_QUICK_EXIT_URL": f"http://127.0.0.1:{port}/static/favicon.svg"})
    yield proc
    await asyncio.to_thread(proc.stop)


Contexts = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def sw_context(browser: Browser, site: WebProcess) -> AsyncIterator[Contexts]:
    """Guarded contexts like the suite's ``new_context``, but with service workers allowed."""
    made: list[tuple[BrowserContext, RequestLog]] = []

    async def make(**options: Any) -> BrowserContext:
        context = await browser.new_context(base_url=site.base, service_workers="allow",
                                            **{**PHONE, **options})
        made.append((context, await guard(context, site.base)))
        return context

    yield make
    for context, log in made:
        await context.close()
        log.assert_same_origin()


class Frames:
    """The frames a page sends on its youth socket."""

    def __init__(self, page: Page) -> None:
        self.sent: list[dict[str, Any]] = []
        page.on("websocket", self.watch)

    def watch(self, ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))

    def types(self) -> list[str]:
        return [str(f.get("type")) for f in self.sent]


async def start_chat(page: Page, lang: str = "nb") -> None:
    await page.goto(f"/s/demo-skole?lang={lang}")
    await page.wait_for_selector("#start:not([disabled])")
    await page.click("#start")
    await page.wait_for_selector("#push-box:not([hidden])")


async def push_state(page: Page) -> str:
    state: str = await page.get_attribute("#push-box", "data-state") or ""
    return state


async def settled(page: Page) -> str:
    """The switch's state once the browser has answered (no longer "asking")."""
    await page.wait_for_function(
        "() => !['', 'asking'].includes(document.getElementById('push-box').dataset.state || '')")
    return await push_state(page)


async def until(page: Page, js: str, arg: Any = None) -> None:
    """Poll a predicate that answers with a promise (``wait_for_function`` takes the promise
    itself as truthy) until it holds; give up, as Playwright's own waits do, after ~30 s."""
    for _ in range(600):
        if await page.evaluate(js, arg):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never came true: {js}")


async def registration_id(cdp: CDPSession, registrations: list[dict[str, Any]]) -> str:
    """The worker registration the DevTools protocol knows (from ServiceWorker.enable events)."""
    while not [r for r in registrations if not r["isDeleted"]]:
        await asyncio.sleep(0.05)  # polling for an event, not a timed assertion
    live = [r for r in registrations if not r["isDeleted"]]
    assert len({r["registrationId"] for r in live}) == 1, live
    return str(live[-1]["registrationId"])


async def worker_page(sw_context: Contexts, site: WebProcess,
                      ) -> tuple[Page, CDPSession, list[dict[str, Any]], Frames]:
    """A chat page whose youth turned the switch on: the worker is registered (scope "/"),
    notices are allowed, and the subscription itself failed, as it must in this browser."""
    context = await sw_context()
    await context.grant_permissions(["notifications"], origin=site.base)
    page = await context.new_page()
    frames = Frames(page)
    cdp = await context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda e: registrations.extend(e["registrations"]))
    await cdp.send("ServiceWorker.enable")
    await start_chat(page)
    await page.click("#push-switch")
    assert await settled(page) == "unavailable"
    return page, cdp, registrations, frames


async def test_the_worker_registers_for_the_whole_site_and_shows_only_the_fixed_title(
    sw_context: Contexts, site: WebProcess,
) -> None:
    page, cdp, registrations, frames = await worker_page(sw_context, site)
    # No push service in this browser: "not available here", the switch off, nothing sent.
    assert not await page.is_checked("#push-switch")
    assert "virker ikke her" in (await page.text_content("#push-state") or "")
    assert "push_subscribe" not in frames.types()

    scope = await page.evaluate(
        "() => navigator.serviceWorker.getRegistration('/').then((r) => r && r.scope)")
    assert scope == site.base + "/"
    rid = await registration_id(cdp, registrations)
    assert [r["scopeURL"] for r in registrations if r["registrationId"] == rid][-1] == site.base + "/"
    # Its clients are controlled (quick exit reaches it by postMessage, without waiting).
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    await cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": site.base, "registrationId": rid,
        "data": json.dumps({"title": "Du har fått svar", "tag": "t-1"})})
    await until(page, "() => navigator.serviceWorker.ready.then((r) => r.getNotifications())"
                      ".then((n) => n.length === 1)")
    assert await page.evaluate(NOTICES_JS) == [
        {"title": "Du har fått svar", "body": "", "tag": "t-1", "renotify": False}]

    # A payload that is not one of the fixed titles is never shown as it came: the notice
    # keeps the fixed title, and a body is never shown.
    await cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": site.base, "registrationId": rid,
        "data": json.dumps({"title": "hei, jeg lurer på om jeg er gravid", "tag": "t-2",
                            "body": "hei, jeg lurer på om jeg er gravid"})})
    await until(page, "() => navigator.serviceWorker.ready.then((r) => r.getNotifications({tag: 't-2'}))"
                      ".then((n) => n.length === 1)")
    notices = await page.evaluate(NOTICES_JS)
    assert sorted(notices, key=lambda n: n["tag"]) == [
        {"title": "Du har fått svar", "body": "", "tag": "t-1", "renotify": False},
        {"title": "Du har fått svar", "body": "", "tag": "t-2", "renotify": False}]
    assert "gravid" not in json.dumps(notices)

    # The nurses' fixed title (the dashboard's notices share this worker) is shown as it is.
    await cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": site.base, "registrationId": rid,
        "data": json.dumps({"title": "A young person is waiting", "tag": "t-3"})})
    await until(page, "() => navigator.serviceWorker.ready.then((r) => r.getNotifications({tag: 't-3'}))"
                      ".then((n) => n.length === 1 && n[0].title === 'A young person is waiting')")


async def test_the_worker_keeps_only_youth_pages_and_quick_exit_forgets_it_all(
    sw_context: Contexts, site: WebProcess,
) -> None:
    page, cdp, registrations, _ = await worker_page(sw_context, site)
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    rid = await registration_id(cdp, registrations)
    await cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": site.base, "registrationId": rid,
        "data": json.dumps({"title": "Du har fått svar", "tag": "t-2"})})
    await until(page, "() => navigator.serviceWorker.ready.then((r) => r.getNotifications())"
                      ".then((n) => n.length === 1)")

    # What a tapped notice would open: the page tells the worker tag → its service page. Only a
    # youth page of this site is kept; anything else is refused.
    for path in ("/s/demo-skole?lang=nb", "https://evil.example/s/x", "//evil.example/",
                 "/nurse"):
        await page.evaluate("""(path) => navigator.serviceWorker.controller.postMessage(
            {type: 'push-target', tag: 't-2', path})""", path)
    kept_js = """() => caches.open('helseprat-push-targets').then(async (c) =>
        Promise.all((await c.keys()).map(async (k) => [new URL(k.url).pathname,
                                                        await (await c.match(k)).text()])))"""
    await until(page, f"() => ({kept_js})().then((kept) => kept.length === 2)")
    # Messages are handled in order: once the last one is in, the refused ones were refused.
    await page.evaluate("""() => navigator.serviceWorker.controller.postMessage(
        {type: 'push-target', tag: 'last', path: '/s/demo-skole?lang=en'})""")
    await until(page, f"() => ({kept_js})().then((kept) => kept.length === 3)")
    kept = dict(await page.evaluate(kept_js))
    assert kept == {"/_tag/t-2": "/s/demo-skole?lang=nb", "/_tag/last": "/s/demo-skole?lang=en",
                    "/_tag/*": "/s/demo-skole?lang=en"}

    await page.click("#quick-exit")
    await page.wait_for_url("**/static/favicon.svg")
    # The worker drops its notices and what it kept, and unregisters itself.
    await until(page, "() => navigator.serviceWorker.getRegistrations().then((rs) => rs.length === 0)")
    assert await page.evaluate("() => caches.keys()") == []
    assert await page.evaluate("() => sessionStorage.length + localStorage.length") == 0


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_the_switch_and_its_states_pass_axe_at_360(
    sw_context: Contexts, site: WebProcess, lang: str,
) -> None:
    # Off, then "not available here" (a browser that allows notices but has no push service).
    context = await sw_context(locale="nb-NO" if lang == "nb" else "en-GB")
    await context.grant_permissions(["notifications"], origin=site.base)
    page = await context.new_page()
    await start_chat(page, lang)
    assert await push_state(page) == "off"
    assert await page.is_visible("#push-switch") and not await page.is_checked("#push-switch")
    assert await page.is_hidden("#notify")  # one "tell me" switch, not two
    label = await page.text_content("label[for=push-switch]")
    assert label == {"nb": "Gi meg beskjed når jeg får svar",
                     "en": "Tell me when I get an answer"}[lang]
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    await page.click("#push-switch")
    assert await settled(page) == "unavailable"
    assert await page.text_content("#push-state")
    assert await page.is_visible("#notify")  # no push here: the in-tab notice is offered instead
    violations = await axe_violations(page)
    assert not violations, describe(violations)

    # Blocked: the browser refuses notices (not granted: headless Chromium answers "denied").
    context = await sw_context(locale="nb-NO" if lang == "nb" else "en-GB")
    page = await context.new_page()
    await start_chat(page, lang)
    await page.click("#push-switch")
    assert await settled(page) == "blocked"
    assert await page.is_disabled("#push-switch")
    violations = await axe_violations(page)
    assert not violations, describe(violations)

    # An iPhone in Safari, not from the home screen: how to add it, the switch unavailable.
    context = await sw_context(user_agent=IPHONE_SAFARI)
    page = await context.new_page()
    await start_chat(page, lang)
    assert await push_state(page) == "ios"
    assert await page.is_visible("#push-ios") and await page.is_disabled("#push-switch")
    assert {"nb": "Legg til på Hjem-skjerm", "en": "Add to Home Screen"}[lang] in (
        await page.text_content("#push-ios") or "")
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    scroll = await page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= 360
