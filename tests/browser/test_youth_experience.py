"""What a new user meets on a 360×740 phone: the end of a chat, leaving without a trace, the
resume code, waiting, and a closed service. Real Chromium, a real web process, a Python nurse;
axe-core on every new state, in bokmål and English."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page

from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory, axe_violations, describe
from tests.browser.test_youth_journey import PythonNurse, say, start_chat
from tests.clockfile import new_clock_file, set_clock
from tests.conftest import start_clean_web

pytestmark = pytest.mark.browser
OSLO = ZoneInfo("Europe/Oslo")
TIME = r"\d{2}\.\d{2}"  # "14.05"
TEXT = {
    "nb": {"joined": "Demo Helsesykepleier er med i samtalen.", "ended": "Samtalen er avsluttet",
           "nurse_ended": "Helsesykepleieren avsluttet samtalen.", "you_ended": "Du avsluttet samtalen.",
           "thanks": "Takk for svaret!", "copied": "Kopiert!", "sent": "Sendt"},
    "en": {"joined": "Demo Helsesykepleier has joined the chat.", "ended": "The chat has ended",
           "nurse_ended": "The nurse ended the chat.", "you_ended": "You ended the chat.",
           "thanks": "Thank you for answering!", "copied": "Copied!", "sent": "Sent"},
}


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, web_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> AsyncIterator[WebProcess]:
    """A same-origin quick-exit target (the request guard fails anything else), and a clock
    file so a test can put the server on a known weekday."""
    port = free_port()
    clock = new_clock_file(tmp_path_factory)
    proc = await start_clean_web(redis_proc.url, web_data_dir, port=port, extra_env={
        "HELSEPRAT_QUICK_EXIT_URL": f"http://127.0.0.1:{port}/static/favicon.svg",
        "HELSEPRAT_TEST_CLOCK_FILE": str(clock)})
    proc.clock_file = clock  # type: ignore[attr-defined]
    yield proc
    await asyncio.to_thread(proc.stop)


async def clean(page: Page, state: str) -> None:
    violations = await axe_violations(page)
    assert not violations, f"{state}:\n{describe(violations)}"


async def in_view(page: Page, selector: str) -> bool:
    box = await page.locator(selector).bounding_box()
    return box is not None and box["y"] < 740 and box["y"] + box["height"] > 0


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_the_end_is_shown_in_the_conversation_with_what_now(
    new_context: Factory, site: WebProcess, lang: str,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/demo-skole?lang={lang}")
    cid = await start_chat(page)
    nurse = await PythonNurse.login(site.base)
    await nurse.claim(cid)
    # The nurse's name comes with the claim, as a line in the conversation.
    await page.wait_for_selector(f"#messages li.joined:has-text('{TEXT[lang]['joined']}')")
    await say(page, "hei")
    assert await nurse.hears() == "hei"
    await page.wait_for_function(
        "(re) => [...document.querySelectorAll('#messages li.me .meta')]"
        ".some((m) => new RegExp(re).test(m.textContent))", arg=f"^{TEXT[lang]['sent']} {TIME}$")
    for i in range(10):
        await nurse.say(f"svar {i}", f"nurseanswer{i:02d}")
    await page.wait_for_function("() => document.querySelectorAll('#messages li.them').length === 10")
    meta = await page.locator("#messages li.them .meta").first.text_content() or ""
    assert re.fullmatch(rf"Demo Helsesykepleier · {TIME}", meta), meta
    await clean(page, "chatting")

    await nurse.client.send({"type": "close", "conversation": cid, "outcome": "advice_given"})
    await page.wait_for_selector("#ended")
    # The end is on the screen, not only in the status line far above.
    assert await in_view(page, "#ended")
    assert TEXT[lang]["ended"] in (await page.text_content("#ended h3") or "")
    assert await page.text_content("#ended-why") == TEXT[lang]["nurse_ended"]
    assert await page.locator("#ended a[href='tel:116111']").count() == 1
    assert await page.is_hidden("#composer")
    await clean(page, "ended")

    await page.click("#ended button[data-helpful='1']")
    await page.wait_for_selector(f"#feedback-thanks:text('{TEXT[lang]['thanks']}')")
    await clean(page, "feedback given")
    await nurse.client.close()

    # After a reload the ended chat is still explained, and the way out is there.
    await page.reload()
    await page.wait_for_selector("#ended")
    assert await page.is_visible("#feedback-thanks") and await page.is_hidden("#feedback")
    await page.click("#new-chat")
    await page.wait_for_selector("#start-view:not([hidden])")
    assert await page.evaluate("() => sessionStorage.getItem('helseprat.conversation')") is None
    await page.wait_for_selector("#start:enabled")  # once the crypto has loaded again


async def test_ending_it_yourself_is_asked_first(new_context: Factory, site: WebProcess) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/demo-skole?lang=nb")
    await start_chat(page)
    await page.click("#end")
    await page.wait_for_selector("#end-dialog[open]")
    await clean(page, "end dialog")
    await page.click("#end-cancel")  # no: the chat goes on
    await page.wait_for_selector("#end-dialog", state="hidden")
    assert await page.is_visible("#composer") and await page.locator("#ended").count() == 0
    await page.click("#end")
    await page.click("#end-confirm")
    await page.wait_for_selector("#ended")
    assert await page.text_content("#ended-why") == TEXT["nb"]["you_ended"]


async def test_quick_exit_forgets_a_remembered_chat_and_leaves_no_history(
    new_context: Factory, site: WebProcess,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/?lang=nb")
    assert await page.is_visible("#quick-exit")  # the start page has it too
    await page.click("a[href^='/s/demo-skole']")
    await page.wait_for_url("**/s/demo-skole*")
    await page.check("#remember")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    assert await page.evaluate("() => localStorage.getItem('helseprat.conversation')") is not None
    await page.click("#quick-exit")
    await page.wait_for_url("**/static/favicon.svg")
    assert await page.evaluate("() => localStorage.length") == 0
    assert await page.evaluate("() => sessionStorage.length") == 0
    await page.go_back()
    assert not page.url.startswith(site.base), page.url  # neither the chat nor the start page


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_the_resume_code_is_easy_to_keep(new_context: Factory, site: WebProcess, lang: str) -> None:
    context, _ = await new_context(**PHONE)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    page = await context.new_page()
    await page.goto(f"/s/demo-skole?lang={lang}")
    await start_chat(page, code=True)
    await page.wait_for_selector("#code-box:not([hidden])")
    code = await page.text_content("#code-text") or ""
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code), code
    await page.click("#copy-code")
    await page.wait_for_selector(f"#copy-status:text('{TEXT[lang]['copied']}')")
    assert await page.evaluate("() => navigator.clipboard.readText()") == code
    await clean(page, "code shown")


async def test_the_nurses_typing_hides_when_she_clears_the_field(
    new_context: Factory, site: WebProcess,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/demo-skole?lang=nb")
    cid = await start_chat(page)
    nurse = await PythonNurse.login(site.base)
    await nurse.claim(cid)
    await nurse.client.send({"type": "typing", "conversation": cid})
    await page.wait_for_selector("#typing:not([hidden])")
    await nurse.client.send({"type": "typing", "conversation": cid, "stopped": True})
    # The nurse's own connection gets her typing frames too: once the stop is back, it is out.
    await nurse.client.expect("typing", where=lambda f: f.get("stopped") is True)
    await say(page, "er du der?")
    await page.wait_for_selector("#messages li.me .meta:text-matches('^Sendt')")
    # Frames reach the page in order: the stop came before our own message's ack.
    assert await page.is_hidden("#typing")
    await nurse.client.close()


def monday_10_oslo() -> float:
    today = dt.datetime.now(OSLO).date()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    return dt.datetime.combine(monday, dt.time(10, 0), tzinfo=OSLO).timestamp()


@pytest.mark.parametrize(("lang", "today", "later"), [
    ("nb", "Vi åpner igjen i dag kl. 14.00.", "Åpner i morgen kl. 14.00"),
    ("en", "today at 14.00", "Opens tomorrow at 14.00"),
])
async def test_a_closed_service_says_when_it_opens_and_its_week(
    new_context: Factory, site: WebProcess, lang: str, today: str, later: str,
) -> None:
    clock: Path = site.clock_file  # type: ignore[attr-defined]
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    try:
        await set_clock(clock, str(monday_10_oslo()))  # Monday 10.00: opens 14.00
        await page.goto(f"/s/demo-hfu?lang={lang}")
        assert today in (await page.text_content(".status.closed") or "")
        rows = await page.locator(".hours-table tr").all_text_contents()
        assert len(rows) == 7 and "14.00–18.00" in rows[0]
        await clean(page, "closed service")
        # Tuesday 19.00: closed, opens Wednesday; open services are listed first.
        await set_clock(clock, str(monday_10_oslo() + 33 * 3600))
        await page.goto(f"/?lang={lang}")
        links = await page.locator("#service-list a").evaluate_all("(as) => as.map((a) => a.href)")
        closed = [i for i, h in enumerate(links) if "/s/demo-hfu" in h or "/s/closed-clinic" in h]
        assert closed == list(range(len(links) - 2, len(links))), links  # the closed ones last
        assert later in (await page.locator("#service-list li:has(a[href^='/s/demo-hfu'])").inner_text())
        await page.fill("#service-search", "zzzz")
        await page.wait_for_selector("#no-match:not([hidden])")
        await clean(page, "no match")
        await page.click("#show-all")
        assert await page.locator("#service-list li:visible").count() >= 3
    finally:
        await set_clock(clock, "")
