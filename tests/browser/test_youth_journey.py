"""A young person's journeys on a 360×740 phone in real Chromium, a nurse on the Python client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page

from chat.client.e2e import NurseCrypto, fetch_nurse_keys
from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login
from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory
from tests.conftest import DEMO_PASSWORD, start_clean_web

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, web_data_dir: Path) -> AsyncIterator[WebProcess]:
    """This module's own web process: the quick-exit target is a same-origin page here, so
    the browser's request guard can still fail any request that leaves the server."""
    port = free_port()
    proc = await start_clean_web(redis_proc.url, web_data_dir, port=port, extra_env={
        "HELSEPRAT_QUICK_EXIT_URL": f"http://127.0.0.1:{port}/static/favicon.svg"})
    yield proc
    await asyncio.to_thread(proc.stop)


class PythonNurse:
    def __init__(self, client: ProtocolClient, keys: NurseCrypto) -> None:
        self.client = client
        self.keys = keys
        self.cid = ""

    @classmethod
    async def login(cls, base: str) -> PythonNurse:
        cookie = await nurse_login(base, "demo.nurse", DEMO_PASSWORD)
        keys = NurseCrypto.from_keys_json(await fetch_nurse_keys(base, cookie), DEMO_PASSWORD)
        return cls(await nurse_connect(base, cookie), keys)

    async def claim(self, cid: str) -> None:
        self.cid = cid
        await self.client.send({"type": "claim", "conversation": cid})
        state = await self.client.expect("state", where=lambda f: f["conversation"] == cid)
        self.keys.open_conversation("demo-skole", cid, state["key_bundle"])

    async def say(self, text: str, cmid: str) -> None:
        await self.client.send({"type": "send", "conversation": self.cid, "cmid": cmid,
                                "body": self.keys.seal(self.cid, text)})

    async def hears(self) -> str:
        f = await self.client.expect("deliver", where=lambda f: f["from"] == "youth")
        return self.keys.open(self.cid, f["body"])


async def conversation_id(page: Page) -> str:
    cid: str = await page.evaluate(
        "() => JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
    return cid


async def start_chat(page: Page, *, code: bool = False) -> str:
    if code:
        await page.check("#want-code")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    return await conversation_id(page)


async def say(page: Page, text: str) -> None:
    await page.fill("#message", text)
    await page.click("#composer button[type=submit]")


async def test_find_start_chat_and_end(new_context: Factory, site: WebProcess) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/")
    await page.fill("#service-search", "ungdomsskole")
    visible = await page.locator("#service-list li:visible").count()
    assert visible == 1
    await page.click("#service-list li:visible a")
    await page.wait_for_url("**/s/demo-skole*")
    cid = await start_chat(page)
    await page.wait_for_function(
        "() => document.querySelector('#conv-status').textContent.includes('1')")

    nurse = await PythonNurse.login(site.base)
    await nurse.claim(cid)
    await say(page, "hei, kan jeg spørre om noe?")
    assert await nurse.hears() == "hei, kan jeg spørre om noe?"
    await nurse.say("selvsagt!", "nursejourney1")
    await page.wait_for_selector("#messages li.them")
    assert "selvsagt!" in await page.text_content("#messages li.them")

    await page.click("#end")
    await page.click("#end-confirm")  # ending is asked about first
    await page.wait_for_selector("#composer", state="hidden")
    ended = await nurse.client.expect("state", where=lambda f: f["state"] == "closed")
    assert ended["outcome"] == "youth_ended"
    await nurse.client.close()


async def test_quick_exit_leaves_no_trace(new_context: Factory, site: WebProcess) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/")
    await page.click("a[href^='/s/demo-skole']")
    await page.wait_for_url("**/s/demo-skole*")
    await start_chat(page)
    await say(page, "noe privat")
    assert await page.evaluate("() => sessionStorage.length") > 0

    await page.keyboard.press("Escape")  # the shortcut; the button does the same
    await page.wait_for_url("**/static/favicon.svg")
    assert await page.evaluate("() => sessionStorage.length") == 0
    assert await page.evaluate("() => localStorage.length") == 0
    # Neither the chat page nor the start page before it is left in the history: moving
    # between youth pages replaced the entry, so Back leads to before helseprat.
    await page.go_back()
    assert not page.url.startswith(site.base), page.url


async def test_reconnects_by_itself_after_a_server_restart(
    new_context: Factory, site: WebProcess
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/demo-skole")
    cid = await start_chat(page)
    nurse = await PythonNurse.login(site.base)
    await nurse.claim(cid)
    await nurse.client.close()

    await asyncio.to_thread(site.stop)
    await page.wait_for_selector("#banner:not([hidden])")
    await asyncio.to_thread(site.start)
    await page.wait_for_selector("#banner", state="hidden", timeout=30000)

    nurse = await PythonNurse.login(site.base)
    await nurse.client.send({"type": "open", "conversation": cid})
    state = await nurse.client.expect("state", where=lambda f: f["conversation"] == cid)
    nurse.cid = cid
    nurse.keys.open_conversation("demo-skole", cid, state["key_bundle"])
    await nurse.say("er du der fortsatt?", "afterrestart1")
    await page.wait_for_selector("#messages li.them")
    await say(page, "ja!")
    assert await nurse.hears() == "ja!"
    await nurse.client.close()


async def test_resume_code_on_a_second_device(new_context: Factory, site: WebProcess) -> None:
    first, _ = await new_context(**PHONE)
    page = await first.new_page()
    await page.goto("/s/demo-skole")
    cid = await start_chat(page, code=True)
    await page.wait_for_selector("#code-box:not([hidden])")
    code = await page.text_content("#code-text") or ""
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code), code
    await say(page, "skrevet på telefonen")
    await page.wait_for_selector("#messages li.me .meta:text('Sendt')")

    second, _ = await new_context(**PHONE)
    other = await second.new_page()
    await other.goto("/s/demo-skole")
    await other.click("details.resume summary")
    # Typed as a person would copy it: small letters, spaces, O for zero.
    await other.fill("#resume-code", code.lower().replace("-", " ").replace("0", "o"))
    await other.click("#resume-form button[type=submit]")
    await other.wait_for_selector("#messages li.me")
    assert "skrevet på telefonen" in await other.text_content("#messages li.me")
    assert await conversation_id(other) == cid
    # The first device's token was replaced: it is sent back to the start.
    await page.reload()
    await page.wait_for_selector("#start-view:not([hidden])")


async def test_a_changed_team_root_is_warned_about_and_nothing_is_sealed(
    new_context: Factory,
) -> None:
    context, log = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/demo-skole")
    # This browser pinned another root for the service on an earlier visit.
    await page.evaluate(
        "() => sessionStorage.setItem('helseprat.pins', JSON.stringify({'demo-skole': 'ff'.repeat(16)}))")
    await page.click("#start")
    await page.wait_for_function(
        "() => document.querySelector('#conv-status').textContent.length > 0")
    assert await page.is_hidden("#chat-view")
    assert await page.evaluate("() => sessionStorage.getItem('helseprat.conversation')") is None
    assert not [u for u in log.urls if u.endswith("/ws/youth")]  # no conversation was started
    # A first visit pins the root and starts normally.
    await page.evaluate("() => sessionStorage.removeItem('helseprat.pins')")
    await start_chat(page)
    pins = await page.evaluate("() => JSON.parse(sessionStorage.getItem('helseprat.pins'))")
    assert len(pins["demo-skole"]) == 32
