"""Writing when no one can chat, on a 360×740 phone in real Chromium: a closed service offers
"Skriv nå – vi svarer senere" with the promise in words, the conversation waits for a written
answer, a Python nurse answers when she comes on duty, and the youth finds it on coming back;
"Svar meg senere" from a live chat; and the acute-danger guidance, which shows while the youth
types and sends nothing anywhere. axe-core on every new state, in bokmål and English."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, WebSocket

from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory, axe_violations, describe
from tests.browser.test_youth_experience import monday_10_oslo
from tests.browser.test_youth_journey import PythonNurse, say
from tests.clockfile import new_clock_file, set_clock
from tests.conftest import start_clean_web
from tests.servers import write_test_config

pytestmark = pytest.mark.browser
TEXT = {
    "nb": {"offer": "Skriv nå – vi svarer senere", "promise": "Du får svar innen neste arbeidsdag.",
           "today": "innen i dag kl. 18.00", "start": "Skriv til oss",
           "new": "Skriv meldingen din. Du får svar innen neste arbeidsdag.",
           "due": "Vi svarer deg innen i dag kl. 18.00.", "due_prefix": "Vi svarer deg innen",
           "answered": "Helsesykepleieren har svart.", "sent": "Sendt",
           "danger": "Er du i fare nå? Ring 113."},
    "nn": {"offer": "Skriv no – vi svarar seinare", "promise": "Du får svar innan neste arbeidsdag.",
           "today": "innan i dag kl. 18.00", "start": "Skriv til oss"},
    "en": {"offer": "Write now – we will answer later",
           "promise": "You will get an answer within the next working day.",
           "today": "by today at 18:00", "start": "Write to us",
           "new": "Write your message. You will get an answer within the next working day.",
           "due": "We will answer you by today at 18:00.", "due_prefix": "We will answer you by",
           "answered": "The nurse has answered.", "sent": "Sent",
           "danger": "Are you in danger now? Call 113."},
}


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory
               ) -> AsyncIterator[WebProcess]:
    """The test services with answer-later on (closed-clinic keeps it off), and a clock file,
    so a test can put the server outside a service's opening hours."""
    data_dir = tmp_path_factory.mktemp("web-later")
    write_test_config(data_dir, answer_later=True)
    port = free_port()
    clock = new_clock_file(tmp_path_factory)
    proc = await start_clean_web(redis_proc.url, data_dir, port=port, extra_env={
        "HELSEPRAT_QUICK_EXIT_URL": f"http://127.0.0.1:{port}/static/favicon.svg",
        "HELSEPRAT_TEST_CLOCK_FILE": str(clock)})
    proc.clock_file = clock  # type: ignore[attr-defined]
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.fixture
async def monday_10(site: WebProcess) -> AsyncIterator[Path]:
    """The server's clock on a Monday at 10.00 in Oslo: demo-hfu opens 14.00–18.00 that day."""
    clock: Path = site.clock_file  # type: ignore[attr-defined]
    await set_clock(clock, str(monday_10_oslo()))
    yield clock
    await set_clock(clock, "")


class Nurse(PythonNurse):
    """The Python nurse, for a conversation in any of her services."""

    async def claim_in(self, service: str, cid: str) -> None:
        self.cid = cid
        await self.client.send({"type": "claim", "conversation": cid})
        state = await self.client.expect("state", where=lambda f: f["conversation"] == cid)
        assert state["state"] == "active", state
        self.keys.open_conversation(service, cid, state["key_bundle"])


async def clean(page: Page, state: str) -> None:
    violations = await axe_violations(page)
    assert not violations, f"{state}:\n{describe(violations)}"


async def fits_the_phone(page: Page, state: str) -> None:
    """Nothing is cut off or scrolls sideways at 360 px: no element reaches past the edge."""
    wide = await page.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const out = [...document.querySelectorAll('body *')].filter((el) => {
            // The skip link and screen-reader-only text sit off screen on purpose.
            if (!el.getClientRects().length || el.closest('.skip, .visually-hidden')) return false;
            const r = el.getBoundingClientRect();
            return r.width > 0 && (r.right > w + 1 || r.left < -1);
        }).map((el) => el.tagName + '#' + el.id + '.' + el.className);
        return {scroll: document.documentElement.scrollWidth, w, out: out.slice(0, 5)};
    }""")
    assert wide["scroll"] <= wide["w"] and not wide["out"], f"{state}: {wide}"


async def status(page: Page) -> str:
    return (await page.text_content("#conv-status") or "").strip()


async def wait_status(page: Page, starts: str) -> None:
    await page.wait_for_function(
        "(s) => document.querySelector('#conv-status').textContent.trim().startsWith(s)", arg=starts)


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
async def test_a_closed_service_offers_to_write_now_with_the_promise_in_words(
    new_context: Factory, site: WebProcess, monday_10: Path, lang: str,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/demo-hfu?lang={lang}")
    assert await page.text_content("#later-heading") == TEXT[lang]["offer"]
    promise = await page.text_content(".later-promise") or ""
    # Monday 10.00, before the 14.00 opening: the answer is promised by that day's closing.
    assert TEXT[lang]["promise"] in promise and TEXT[lang]["today"] in promise, promise
    # What happens next, the week's hours and the crisis numbers, all on the page.
    assert await page.locator(".later-steps li").count() == 3
    assert await page.locator(".hours-table tr").count() == 7
    for number in ("113", "116111", "116123"):
        assert await page.locator(f".crisis-now a[href='tel:{number}']").is_visible()
    await page.wait_for_selector(f"#start:enabled:text('{TEXT[lang]['start']}')")
    assert await page.is_visible("#remember") and await page.is_visible("#want-code")
    await clean(page, "write-later offer")
    await fits_the_phone(page, "write-later offer")


async def test_open_with_no_nurse_on_duty_offers_to_write_and_with_one_it_is_a_live_chat(
    new_context: Factory, site: WebProcess,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/demo-skole?lang=nb")  # open all day, nobody on duty
    assert "Ingen helsesykepleier er på vakt akkurat nå." in (
        await page.text_content(".status.closed") or "")
    assert await page.is_visible("#later-heading")
    nurse = await PythonNurse.login(site.base)
    try:
        await page.reload()
        assert await page.locator("#later-heading").count() == 0
        assert await page.is_visible(".status.open")
        await page.wait_for_selector("#start:enabled:text('Start chat')")
    finally:
        await nurse.client.close()


async def test_a_service_that_takes_no_later_messages_keeps_the_closed_page(
    new_context: Factory, site: WebProcess,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/closed-clinic?lang=nb")  # never open, answer_later disabled
    assert await page.locator("#later-heading").count() == 0
    assert "Chatten er stengt nå." in (await page.text_content(".status.closed") or "")
    assert await page.is_hidden(".start-options")
    assert await page.locator("#later").count() == 0


@pytest.mark.parametrize(("lang", "way_back"), [("nb", "remembered"), ("en", "code")])
async def test_write_while_closed_then_a_nurse_answers_and_the_youth_comes_back(
    new_context: Factory, site: WebProcess, monday_10: Path, lang: str, way_back: str,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/demo-hfu?lang={lang}")
    await page.check("#remember" if way_back == "remembered" else "#want-code")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    store = "localStorage" if way_back == "remembered" else "sessionStorage"
    cid: str = await page.evaluate(
        f"() => JSON.parse({store}.getItem('helseprat.conversation')).conversation")
    code = ""
    if way_back == "code":
        await page.wait_for_selector("#code-box:not([hidden])")
        code = await page.text_content("#code-text") or ""
        await page.click("#code-done")
    await wait_status(page, TEXT[lang]["new"])
    assert await page.is_visible("#later-note") and await page.is_visible("#composer")
    assert await page.is_hidden("#later")  # already later
    await clean(page, "later, nothing written yet")

    await say(page, "hei, kan dere svare meg i morgen?")
    await page.wait_for_selector(f"#messages li.me .meta:text-matches('^{TEXT[lang]['sent']}')")
    await wait_status(page, TEXT[lang]["due"])
    assert await page.is_hidden("section.hours")  # not between the top and the conversation
    await clean(page, "later, written")
    await fits_the_phone(page, "later, written")
    await page.close()

    # 14.30: the service opens; a nurse comes on duty, takes it from the answer-later list,
    # answers, and leaves it for the youth to read.
    await set_clock(monday_10, str(monday_10_oslo() + 4.5 * 3600))
    nurse = await Nurse.login(site.base)
    await nurse.claim_in("demo-hfu", cid)
    await nurse.say("Hei! Ja, vi kan snakke om det.", f"laterreply{lang}")
    await nurse.client.expect("ack")
    await nurse.client.send({"type": "later", "conversation": cid})
    await nurse.client.expect("state", where=lambda f: f["state"] == "later")
    await nurse.client.close()

    if way_back == "remembered":  # the same device: the conversation opens by itself
        page = await context.new_page()
        await page.goto(f"/s/demo-hfu?lang={lang}")
    else:  # another device, with the code
        other, _ = await new_context(**PHONE)
        page = await other.new_page()
        await page.goto(f"/s/demo-hfu?lang={lang}")
        await page.click("details.resume summary")
        await page.fill("#resume-code", code)
        await page.click("#resume-form button[type=submit]")
    await page.wait_for_selector("#messages li.them")
    assert "Hei! Ja, vi kan snakke om det." in (await page.text_content("#messages li.them") or "")
    await wait_status(page, TEXT[lang]["answered"])
    assert await page.is_visible("#composer") and await page.is_hidden("#later-note")
    await clean(page, "later, answered")
    await fits_the_phone(page, "later, answered")
    # Writing again: a new answer is owed, and promised.
    await say(page, "takk!")
    await wait_status(page, TEXT[lang]["due_prefix"])
    assert await page.is_visible("#later-note")


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_answer_me_later_from_a_waiting_chat(
    new_context: Factory, site: WebProcess, lang: str,
) -> None:
    nurse = await PythonNurse.login(site.base)  # on duty: a start waits in the queue
    try:
        context, _ = await new_context(**PHONE)
        page = await context.new_page()
        await page.goto(f"/s/demo-skole?lang={lang}")
        await page.click("#start")
        await page.wait_for_selector("#chat-view:not([hidden])")
        await page.wait_for_selector("#conv-status:text-matches('[0-9]')")  # in the queue
        cid: str = await page.evaluate(
            "() => JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
        await page.wait_for_selector("#later:visible")
        await say(page, "jeg lurer på noe, men må gå snart")
        await page.wait_for_selector(f"#messages li.me .meta:text-matches('^{TEXT[lang]['sent']}')")

        # Asked first; "no" keeps the chat as it was.
        await page.click("#later")
        await page.wait_for_selector("#later-dialog[open]")
        assert await page.is_visible("#later-remember")
        await clean(page, "later dialog")
        await fits_the_phone(page, "later dialog")
        await page.click("#later-cancel")
        await page.wait_for_selector("#later-dialog", state="hidden")
        assert await page.is_visible("#later") and await page.is_hidden("#later-note")

        await page.click("#later")
        await page.check("#later-remember")
        await page.click("#later-confirm")
        await wait_status(page, TEXT[lang]["due_prefix"])
        assert await page.is_hidden("#later") and await page.is_visible("#later-note")
        assert await page.is_visible("#composer")
        # "Remember" was chosen in the question: the conversation moved to this device's storage.
        saved = await page.evaluate("() => localStorage.getItem('helseprat.conversation')")
        assert saved is not None and json.loads(saved)["conversation"] == cid
        assert await page.evaluate("() => sessionStorage.getItem('helseprat.conversation')") is None
        # The nurses' answer-later list has it, with the answer owed and its promised time.
        listed = await nurse.client.expect("later_snapshot", where=lambda f: any(
            i["conversation"] == cid for i in f["items"]))
        item = next(i for i in listed["items"] if i["conversation"] == cid)
        assert isinstance(item["due"], int)
        await clean(page, "left for later")
    finally:
        await nurse.client.close()


ACUTE = {"nb": "Jeg vil ta livet mitt", "en": "I want to KILL MYSELF"}


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_acute_danger_guidance_shows_while_typing_and_nothing_is_sent(
    new_context: Factory, site: WebProcess, lang: str,
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    sent: list[str] = []  # every websocket frame the page sends
    bodies: list[str] = []  # every request's URL and body

    def watch(ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: sent.append(payload if isinstance(payload, str)
                                                       else payload.decode("utf-8", "replace")))

    page.on("websocket", watch)
    page.on("request", lambda r: bodies.append(r.url + " " + (r.post_data or "")))
    await page.goto(f"/s/demo-skole?lang={lang}")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    await page.type("#message", "hei")
    assert await page.is_hidden("#acute")

    await page.fill("#message", "")
    before = len(sent)
    await page.type("#message", ACUTE[lang])
    await page.wait_for_selector("#acute:visible")
    assert TEXT[lang]["danger"] in (await page.text_content("#acute") or "")
    for number in ("113", "116123", "116111"):
        assert await page.locator(f"#acute a[href='tel:{number}']").is_visible()
    # Above the field, in view while typing (the composer stays at the bottom of the screen)., in view while typing.
    acute = await page.locator("#acute").bounding_box()
    composer = await page.locator("#message").bounding_box()
    assert acute and composer and acute["y"] + acute["height"] <= composer["y"] + 1
    assert acute["y"] >= 0 and composer["y"] + composer["height"] <= 740  # both on the screen
    await clean(page, "acute guidance")
    await fits_the_phone(page, "acute guidance")

    # While typing, the page sent only "typing" (and keep-alive) frames: no text, no check.
    typed = [json.loads(f) for f in sent[before:]]
    assert {f["type"] for f in typed} <= {"typing", "ping"}, typed
    words = [w.lower() for w in ACUTE[lang].split()[-2:]]
    for text in sent + bodies:
        assert not any(w in text.lower() for w in words), text
    # Sent on purpose, the message travels sealed: still no plaintext on the wire.
    await page.click("#composer button[type=submit]")
    await page.wait_for_selector("#messages li.me .meta:text-matches('^(Sendt|Sent)')")
    sends: list[dict[str, Any]] = [json.loads(f) for f in sent if '"send"' in f]
    assert len(sends) == 1
    for text in sent + bodies:
        assert not any(w in text.lower() for w in words), text
    assert await page.is_visible("#acute")  # the guidance stays once shown
