"""The whole identity-bridge journey in real Chromium against the ID-porten lookalike:
anonymous chat → consent → ID-porten login → the thread continues with its history → log out
→ log in on a fresh browser profile → "Mine samtaler" → the history is readable once the
(Python reference) nurse has re-sealed the conversation key to the new device."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route

from chat import crypto
from chat.client.e2e import NurseCrypto, fetch_nurse_keys
from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login
from tests.browser.conftest import (  # noqa: F401 - fixtures
    PHONE,
    axe_violations,
    browser,
    describe,
    playwright,
)
from tests.conftest import DEMO_PASSWORD
from tests.identity_bridge.web.conftest import LookalikeSite, assert_no_pid_anywhere

pytestmark = pytest.mark.browser


class TwoOrigins:
    """Like tests/browser's guard, with the lookalike's origin allowed as well."""

    def __init__(self, base: str, idp: str) -> None:
        self.allowed = {urlsplit(base).netloc, urlsplit(idp).netloc}
        self.foreign: list[str] = []

    async def handle(self, route: Route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc in self.allowed:
            await route.continue_()
        else:
            self.foreign.append(route.request.url)
            await route.abort("blockedbyclient")


@pytest.fixture
async def contexts(
    browser: Browser, lookalike_site: LookalikeSite,  # noqa: F811
) -> AsyncIterator[Any]:
    made: list[tuple[BrowserContext, TwoOrigins]] = []

    async def make() -> BrowserContext:
        ctx = await browser.new_context(base_url=lookalike_site.web.base,
                                        service_workers="block", **PHONE)
        guard = TwoOrigins(lookalike_site.web.base, lookalike_site.idp.issuer)
        await ctx.route("**/*", guard.handle)
        made.append((ctx, guard))
        return ctx

    yield make
    for ctx, guard in made:
        await ctx.close()
        assert not guard.foreign, guard.foreign


async def idporten_login(page: Page, site: LookalikeSite, pid: str) -> None:
    await page.wait_for_url(site.idp.issuer + "/interaction/**")
    await page.check(f"input[name=pid][value='{pid}']")
    await page.click("button[type=submit]")


async def youth_says(page: Page, text: str) -> None:
    await page.fill("#message", text)
    await page.click("#composer button[type=submit]")


async def test_anonymous_chat_upgrade_logout_and_new_device(
    contexts: Any, lookalike_site: LookalikeSite,
) -> None:
    site = lookalike_site
    base = site.web.base
    person = next(p for p in site.persons if p["age"] == 15)

    # -- anonymous chat, answered by the Python reference nurse ------------------------------
    phone = await (await contexts()).new_page()
    await phone.goto("/s/demo-skole")
    await phone.click("#start")
    await phone.wait_for_selector("#chat-view:not([hidden])")
    await phone.wait_for_selector("#upgrade-box:not([hidden])")
    # Logging in is an explained, optional step below the conversation, not a demand under
    # the queue status.
    upgrade = await phone.locator("#upgrade-box").bounding_box()
    composer = await phone.locator("#composer").bounding_box()
    assert upgrade and composer and upgrade["y"] > composer["y"]
    assert "valgfritt" in (await phone.text_content("#upgrade-box") or "")
    assert not await axe_violations(phone)
    cid = await phone.evaluate(
        "JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
    ncookie = await nurse_login(base, "demo.nurse", DEMO_PASSWORD)
    keys = NurseCrypto.from_keys_json(await fetch_nurse_keys(base, ncookie), DEMO_PASSWORD)
    nurse: ProtocolClient = await nurse_connect(base, ncookie)
    try:
        await nurse.send({"type": "claim", "conversation": cid})
        state = await nurse.expect("state", where=lambda f: bool(f.get("key_bundle")))
        keys.open_conversation("demo-skole", cid, state["key_bundle"])
        await youth_says(phone, "hei, anonym ennå")
        got = await nurse.expect("deliver", where=lambda f: f["from"] == "youth")
        assert keys.open(cid, got["body"]) == "hei, anonym ennå"
        await nurse.send({"type": "send", "conversation": cid, "cmid": "nurse-msg-1",
                          "body": keys.seal(cid, "hei! dette er helsesykepleieren")})
        await phone.wait_for_selector("#messages li.them")

        # -- consent, then ID-porten ----------------------------------------------------------
        await phone.click("#upgrade")
        await phone.wait_for_url("**/logg-inn?*")
        consent = await phone.text_content("main") or ""
        assert "under 16 år" in consent and "journalen" in consent and "anonymt" in consent
        violations = await axe_violations(phone)
        assert not violations, describe(violations)
        await phone.click("#consent-yes")
        await idporten_login(phone, site, person["pid"])
        await phone.wait_for_url(f"{base}/s/demo-skole*")
        await phone.wait_for_selector("#verified-box:not([hidden])")
        live = await nurse.expect("state", where=lambda f: "verified" in f)
        assert live["verified"]["age"] == 15 and live["verified"]["level"] == "substantial"
        # The thread continues, with its history, on the same phone.
        # (Waiting for the nurse's own line, not a count of lines: the welcome and the "is with
        # you" lines come first, and the history may still be on its way.)
        await phone.wait_for_function(
            "() => [...document.querySelectorAll('#messages li.them')]"
            ".some((li) => li.textContent.includes('dette er helsesykepleieren'))")
        assert await phone.evaluate(
            "JSON.parse(sessionStorage.getItem('helseprat.conversation')).token") is None
        await youth_says(phone, "nå er jeg logget inn")
        got = await nurse.expect("deliver", where=lambda f: f["from"] == "youth")
        assert keys.open(cid, got["body"]) == "nå er jeg logget inn"
        cookies = await phone.context.cookies(base)
        youth_cookie = next(c for c in cookies if c["name"] == "hp_youth")
        assert youth_cookie["httpOnly"] and youth_cookie["sameSite"] == "Lax"

        # -- log out (RP-initiated, then ID-porten's front-channel page) -----------------------
        await phone.click("#logout")
        await phone.wait_for_url(site.idp.issuer + "/**")
        await phone.click("button[name=logout]")
        await phone.wait_for_selector("#continue")
        await phone.click("#continue")
        await phone.wait_for_url("**/mine?*logged_out=1*")
        assert "Du er logget ut" in (await phone.text_content("main") or "")
        violations = await axe_violations(phone)
        assert not violations, describe(violations)
        assert await phone.evaluate("sessionStorage.getItem('helseprat.conversation')") is None
        assert not [c for c in await phone.context.cookies(base) if c["name"] == "hp_youth"]

        # -- a fresh browser profile: log in, "Mine samtaler", new device, re-seal ------------
        laptop = await (await contexts()).new_page()
        await laptop.goto("/mine")
        await laptop.click("#login")
        await laptop.wait_for_url("**/logg-inn*")
        await laptop.click("#consent-yes")
        await idporten_login(laptop, site, person["pid"])
        await laptop.wait_for_selector(f"a.thread[data-conversation='{cid}']")
        await laptop.click(f"a.thread[data-conversation='{cid}']")
        pending = await nurse.expect("device_pending", timeout=15)
        assert pending["conversation"] == cid
        ck = keys.sessions[cid].ck
        sign_pk = crypto.b64decode(pending["sign"])
        bundle = crypto.make_key_bundle(ck, sign_pk, keys.teams["demo-skole"].statement)
        await nurse.send({"type": "reseal", "conversation": cid, "device": pending["device"],
                          "sealed_ck": crypto.b64encode(crypto.seal_conversation_key(
                              ck, cid, crypto.b64decode(pending["box"]))),
                          "key_bundle": crypto.b64encode(crypto.encode_key_bundle(bundle))})
        assert (await nurse.expect("resealed"))["device"] == pending["device"]
        await laptop.wait_for_function(  # the history's last line, not a count of lines
            "() => document.querySelector('#messages').textContent.includes('nå er jeg logget inn')",
            timeout=15000)
        history = await laptop.text_content("#messages") or ""
        assert "hei, anonym ennå" in history
        assert "dette er helsesykepleieren" in history
        assert "nå er jeg logget inn" in history
        assert "⚠" not in history
        # The new device writes; the nurse accepts its key from the member-made bundle.
        keys.sessions[cid] = crypto.with_senders(keys.sessions[cid], [sign_pk])
        await youth_says(laptop, "fra den nye enheten")
        got = await nurse.expect("deliver", where=lambda f: f["from"] == "youth")
        assert keys.open(cid, got["body"]) == "fra den nye enheten"
    finally:
        await nurse.close()
    await assert_no_pid_anywhere(site.web.redis_url, person["pid"], site.web.log_text())
