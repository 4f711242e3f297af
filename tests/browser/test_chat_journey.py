"""The whole chat in real Chromium: youth on a phone, nurse on a desktop, end to end encrypted.

Also the crypto interop both ways (browser ↔ Python reference client) and a nurse reading the
team's open conversations from a second browser profile after unwrapping with her password.
"""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, Page

from chat.client.e2e import NurseCrypto, fetch_nurse_keys
from chat.client.protocol import nurse_connect, nurse_login, youth_start
from devservices.webproc import WebProcess
from tests.browser.conftest import DESKTOP, PHONE, Factory
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


async def youth_starts(page: Page) -> None:
    await page.goto("/s/demo-skole")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    await page.wait_for_function("() => document.querySelector('#conv-status').textContent.length > 0")


async def nurse_logs_in(context: BrowserContext, password: str = DEMO_PASSWORD) -> Page:
    page = await context.new_page()
    await page.goto("/nurse/login")
    await page.fill("#username", "demo.nurse")
    await page.fill("#password", password)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    return page


async def unlocked(page: Page) -> None:
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                 timeout=15000)


async def youth_says(page: Page, text: str) -> None:
    await page.fill("#message", text)
    await page.click("#composer button[type=submit]")


async def test_youth_and_nurse_chat_in_two_browsers(new_context: Factory) -> None:
    ycontext, _ = await new_context(**PHONE)
    youth = await ycontext.new_page()
    await youth_starts(youth)

    ncontext, _ = await new_context(**DESKTOP)
    nurse = await nurse_logs_in(ncontext)
    await unlocked(nurse)
    await nurse.click("#q-demo-skole button.claim")
    await nurse.wait_for_selector("#composer:not([hidden])")
    await youth.wait_for_function(
        "() => document.querySelector('#conv-status').textContent.includes('helsesykepleier')")

    await youth_says(youth, "hei, jeg lurer på noe")
    await nurse.wait_for_selector("#messages li.them")
    assert "hei, jeg lurer på noe" in await nurse.text_content("#messages li.them")
    await nurse.fill("#message", "hei! hva lurer du på?")
    await nurse.click("#composer button[type=submit]")
    await youth.wait_for_selector("#messages li.them")
    assert "hei! hva lurer du på?" in await youth.text_content("#messages li.them")
    # The youth's own message shows once, marked as sent.
    mine = await youth.locator("#messages li.me").all_text_contents()
    assert len(mine) == 1 and "Sendt" in mine[0]
    # The nurse's tab gets no deliver of its own message: it shows it once, from the ack.
    await nurse.wait_for_selector("#messages li.me")
    sent = await nurse.locator("#messages li.me").all_text_contents()
    assert len(sent) == 1 and "hei! hva lurer du på?" in sent[0]

    # Both sides show the same safety code.
    code = (await youth.text_content("#safety") or "").split(":")[-1].strip()
    assert len(code.replace(" ", "")) == 12
    assert code in (await nurse.text_content("#chat-title") or "")

    await nurse.click("#close-form button[type=submit]")
    await nurse.click("#confirm-yes")  # closing asks first
    await youth.wait_for_selector("#composer", state="hidden")
    assert "avsluttet" in (await youth.text_content("#conv-status") or "")


async def test_browser_youth_with_python_nurse(new_context: Factory, site: WebProcess) -> None:
    """Youth→nurse and nurse→youth between Chromium (libsodium.js) and Python (PyNaCl)."""
    ycontext, _ = await new_context(**PHONE)
    youth = await ycontext.new_page()
    await youth_starts(youth)
    cookie = await nurse_login(site.base, "demo.nurse", DEMO_PASSWORD)
    keys = NurseCrypto.from_keys_json(await fetch_nurse_keys(site.base, cookie), DEMO_PASSWORD)
    n = await nurse_connect(site.base, cookie)
    snap = await n.expect("queue_snapshot", where=lambda f: f["service"] == "demo-skole"
                          and bool(f["items"]))
    cid = snap["items"][-1]["conversation"]
    await n.send({"type": "claim", "conversation": cid})
    state = await n.expect("state")
    keys.open_conversation("demo-skole", cid, state["key_bundle"])

    await youth_says(youth, "kryptert i Chromium ✓")
    delivered = await n.expect("deliver")
    assert "kryptert" not in delivered["body"]
    assert keys.open(cid, delivered["body"]) == "kryptert i Chromium ✓"

    await n.send({"type": "send", "conversation": cid, "cmid": "pythonnurse1",
                  "body": keys.seal(cid, "kryptert i Python ✓")})
    await youth.wait_for_selector("#messages li.them")
    assert "kryptert i Python ✓" in await youth.text_content("#messages li.them")
    await n.close()


async def test_python_youth_with_browser_nurse(new_context: Factory, site: WebProcess) -> None:
    y, session = await youth_start(site.base, "demo-skole")
    assert session.keys is not None
    ncontext, _ = await new_context(**DESKTOP)
    nurse = await nurse_logs_in(ncontext)
    await unlocked(nurse)
    await nurse.click(f"#q-demo-skole button.claim[data-conversation='{session.conversation}']")
    await nurse.wait_for_selector("#composer:not([hidden])")

    await y.send({"type": "send", "cmid": "pythonyouth1",
                  "body": session.keys.seal("fra Python-ungdom")})
    await nurse.wait_for_selector("#messages li.them")
    assert "fra Python-ungdom" in await nurse.text_content("#messages li.them")

    await nurse.fill("#message", "fra sykepleier i Chromium")
    await nurse.click("#composer button[type=submit]")
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    assert session.keys.open(got["body"]) == "fra sykepleier i Chromium"
    await y.close()


async def test_second_profile_unwraps_and_reads_open_conversation(new_context: Factory) -> None:
    ycontext, _ = await new_context(**PHONE)
    youth = await ycontext.new_page()
    await youth_starts(youth)
    cid = await youth.evaluate(
        "JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
    first, _ = await new_context(**DESKTOP)
    nurse = await nurse_logs_in(first)
    await unlocked(nurse)
    await nurse.click(f"#q-demo-skole button.claim[data-conversation='{cid}']")
    await nurse.wait_for_selector("#composer:not([hidden])")
    await youth_says(youth, "melding før profilbytte")
    await nurse.wait_for_selector("#messages li.them")

    # Another workstation: a fresh profile, same account, keys unwrapped with the password.
    second, _ = await new_context(**DESKTOP)
    other = await nurse_logs_in(second)
    await unlocked(other)
    await other.click(f"#mine button[data-conversation='{cid}']")
    await other.wait_for_selector("#messages li.them")
    assert "melding før profilbytte" in await other.text_content("#messages li.them")


async def test_wrong_password_fails_cleanly(new_context: Factory) -> None:
    context, _ = await new_context(**DESKTOP)
    page = await nurse_logs_in(context)
    await unlocked(page)
    # A new tab of this session without the kept keys asks for the password again.
    await page.evaluate("sessionStorage.clear()")
    await page.reload()
    await page.wait_for_selector("#unlock-form:not([hidden])")
    await page.fill("#unlock-password", "not the password")
    await page.click("#unlock-form button[type=submit]")
    await page.wait_for_function(
        "() => document.querySelector('#unlock-message').textContent.length > 0")
    assert "Feil passord" in (await page.text_content("#unlock-message") or "")
    assert await page.get_attribute("#dash-status", "data-unlocked") is None
    await page.fill("#unlock-password", DEMO_PASSWORD)
    await page.click("#unlock-form button[type=submit]")
    await unlocked(page)
