""""Svar senere" on the nurse's dashboard, in real Chromium on a 1366×768 desktop: a youth
writes while no nurse is on duty, the nurse logs in and finds the conversation in the
answer-later list with the time left to the reply target, takes it, answers, and leaves it to
wait for the youth's answer; the lead sees the answer counted. Plus the nurse's push opt-in,
which says honestly when this browser cannot do it.

One web process for the module with its own service (no one else's dashboard can be on duty
for it) and a test clock file (HELSEPRAT_TEST_CLOCK_FILE): one youth writes "three days ago",
so her card is past its target, without any test waiting for days.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.async_api import Page, Route

from chat.client.protocol import ProtocolClient, YouthSession, youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import Factory, axe_violations, describe
from tests.clockfile import new_clock_file, set_clock
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.servers import FAST_LIMITS, write_test_config

pytestmark = pytest.mark.browser

LAPTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 768}, "locale": "nb-NO"}
SERVICE = "later-skole"
SERVICE_NAME = "Skolehelsetjenesten, Svar senere skole"
LATER_SERVICES = FAST_LIMITS + f"""
[[municipality]]
id = "demo"
name = "Demo kommune"

[[service]]
id = "{SERVICE}"
municipality = "demo"
name = "{SERVICE_NAME}"
kind = "school"
retention_days = 30
members = ["demo.nurse", "demo.lead"]
max_chats_per_nurse = 20
outcomes = ["advice_given", "referred", "other"]

[service.hours]
daily = "00:00-24:00"

[service.answer_later]
enabled = true
working_days = 1
quiet_hours = ""
"""


def vapid_public_key() -> str:
    """A fresh P-256 public key, uncompressed and base64url, as the server hands it to pages."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_clock_file(tmp_path_factory)


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               clock_file: Path) -> AsyncIterator[WebProcess]:
    """Overrides the browser conftest's ``site``: one answer-later service and a test clock."""
    data_dir = tmp_path_factory.mktemp("later-web")
    write_test_config(data_dir, LATER_SERVICES)
    proc = await start_clean_web(redis_proc.url, data_dir,
                                 extra_env={"HELSEPRAT_TEST_CLOCK_FILE": str(clock_file)})
    yield proc
    await asyncio.to_thread(proc.stop)



async def dashboard(new_context: Factory, user: str = "demo.nurse", lang: str = "nb", **options: Any) -> Page:
    context, _ = await new_context(**{**LAPTOP, "color_scheme": "light", **options})
    page = await context.new_page()
    await page.goto(f"/nurse/login?lang={lang}")
    await page.fill("#username", user)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached", timeout=15000)
    return page


async def clean(page: Page, state: str) -> None:
    violations = await axe_violations(page)
    assert not violations, f"{state}:\n{describe(violations)}"


async def fits(page: Page) -> None:
    """The three panes side by side, the page itself not scrolling, close in view."""
    assert await page.evaluate("document.scrollingElement.scrollHeight <= innerHeight")
    assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    boxes = [await page.locator(sel).bounding_box() for sel in (".queue-pane", ".chat-pane", ".context-pane")]
    assert all(b is not None for b in boxes)
    xs = [b["x"] for b in boxes if b]
    assert xs == sorted(xs) and len(set(xs)) == 3, boxes
    for b in boxes:
        assert b is not None and b["x"] + b["width"] <= 1366 and b["y"] + b["height"] <= 768, b
    box = await page.locator("#close-form button[type=submit]").bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 768, box


async def writes_later(site: WebProcess, text: str, cmid: str) -> tuple[ProtocolClient, YouthSession]:
    """A youth who finds no nurse on duty: told the conversation waits for a later answer, and
    writes."""
    y, s = await youth_start(site.base, SERVICE)
    assert s.keys is not None
    await y.expect("state", where=lambda f: f["state"] == "later")
    await y.send({"type": "send", "cmid": cmid, "body": s.keys.seal(text)})
    await y.expect("ack")
    return y, s


def card(page: Page, cid: str) -> Any:
    return page.locator(f"#later li[data-conversation='{cid}']")


async def test_written_with_no_one_on_duty_answered_later_and_left_to_wait(
    new_context: Factory, site: WebProcess, clock_file: Path,
) -> None:
    # One youth wrote three days ago (past her target); another writes now.
    await set_clock(clock_file, time.time() - 3 * 86_400)
    old_y, old = await writes_later(site, "skrev for lenge siden", "laterold0001")
    await old_y.close()
    await set_clock(clock_file, None)
    y, s = await writes_later(site, "kan jeg få svar i morgen?", "laternew0001")

    page = await dashboard(new_context)
    fresh = card(page, s.conversation)
    await fresh.locator("button.claim").wait_for()
    # Oldest owed first; both counted in the list's heading and the page header.
    order = await page.locator("#later li.later-item").evaluate_all("(els) => els.map((e) => e.dataset.conversation)")
    assert order == [old.conversation, s.conversation]
    assert await page.inner_text("#later-count") == "2"
    assert "Svar senere: 2" in await page.inner_text("#later-jump")
    # The fresh card: the service, how long ago she wrote, the time left (at least a day here).
    assert await fresh.locator(".svc").inner_text() == SERVICE_NAME
    assert re.fullmatch(r"Skrev for (under 1 min|\d+ min) siden", await fresh.locator(".wrote").inner_text())
    assert re.fullmatch(r"Svar innen 1 d( \d+ t)?", await fresh.locator(".due").inner_text())
    assert await fresh.get_attribute("class") == "queue-item later-item"
    # The old one: past the target, said in words (and in the danger colour).
    stale = card(page, old.conversation)
    assert re.fullmatch(r"Skrev for 3 d( \d+ t)? siden", await stale.locator(".wrote").inner_text())
    assert re.fullmatch(r"Over fristen med \d+ d( \d+ t)?", await stale.locator(".due").inner_text())
    assert "overdue" in (await stale.get_attribute("class") or "")
    assert await page.get_attribute("#later-live", "role") == "status"
    assert await page.text_content("#later-live") == ""
    await clean(page, "the answer-later list")

    # Taking it works like taking from the queue; the pane says she is not here live.
    await fresh.locator("button.claim").click()
    await page.wait_for_selector("#composer:not([hidden])")
    await y.expect("state", where=lambda f: f["state"] == "active")
    await page.wait_for_selector("#messages li.them:has-text('kan jeg få svar i morgen?')")
    assert await page.is_visible("#away")
    assert "Ungdommen er ikke pålogget – svaret leveres når hen kommer tilbake." in await page.inner_text("#away")
    await page.wait_for_function("(cid) => !document.querySelector(`#later li[data-conversation='${cid}']`)",
                                 arg=s.conversation)
    assert await page.inner_text("#later-count") == "1"
    # Said once to a screen reader (politely), not on the first lists after loading.
    assert await page.inner_text("#later-live") == "Svar senere: 1 venter på svar"
    await fits(page)

    await page.fill("#message", "ja, her er svaret ditt")
    await page.click("#composer button[type=submit]")
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    assert s.keys is not None and s.keys.open(got["body"]) == "ja, her er svaret ditt"

    # "Vent på svar" sits with the other actions and asks first.
    assert await page.is_visible("#park #park-later")
    box = await page.locator("#park-later").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768, box
    await page.click("#park-later")
    dialog = page.locator("dialog#confirm")
    await dialog.wait_for(state="visible")
    assert await page.inner_text("#confirm-title") == "Vente på svar fra ungdommen?"
    assert await page.inner_text("#confirm-yes") == "Vent på svar"
    assert await page.evaluate("document.activeElement.id") == "confirm-no"
    await clean(page, "the wait-for-an-answer dialog")
    await page.click("#confirm-no")
    await dialog.wait_for(state="hidden")
    assert await page.is_visible("#composer")
    assert [f["state"] for f in y.seen if f["type"] == "state"][-1] == "active"  # cancel: nothing sent

    await page.click("#park-later")
    await page.click("#confirm-yes")
    parked = await y.expect("state", where=lambda f: f["state"] == "later")
    assert parked.get("due") is None  # answered: nothing is owed
    await page.wait_for_selector("#composer", state="hidden")
    await page.wait_for_function("(cid) => !document.querySelector(`#mine [data-conversation='${cid}']`)",
                                 arg=s.conversation)
    assert await card(page, s.conversation).count() == 0
    assert "Samtalen venter på svar fra ungdommen." in await page.inner_text("#dash-status")
    await clean(page, "after leaving it to wait")
    await y.close()

    # The lead sees the answer counted for the week: within the target, and no one to tie it to.
    lead = await dashboard(new_context, "demo.lead")
    await lead.goto("/lead?lang=nb")
    row = lead.locator(f"#ov-{SERVICE} td[data-figure='later:share']")
    assert await row.get_attribute("data-answered") == "1"
    assert await row.get_attribute("data-within") == "1"
    assert re.sub(r"\s+", " ", await row.inner_text()).strip() == "100 % (1 av 1 svar)"
    head = await lead.locator(f"#ov-{SERVICE} tr:has(td[data-figure='later:share']) th").inner_text()
    assert re.fullmatch(r"Svar senere: besvart innen fristen, uke \d+", head), head
    assert s.conversation not in await lead.content() and old.conversation not in await lead.content()
    await clean(lead, "the lead overview")


async def with_vapid_key(page: Page) -> None:
    """Serve the dashboard as it is with a VAPID key on it (the page's CSP unchanged)."""
    key = vapid_public_key()

    async def handle(route: Route) -> None:
        response = await route.fetch()
        body = (await response.text()).replace('data-vapid-key=""', f'data-vapid-key="{key}"')
        await route.fulfill(response=response, body=body)

    await page.route(lambda url: urlsplit(url).path == "/nurse", handle)


async def test_push_switch_is_hidden_without_a_key_and_honest_where_it_cannot_work(
    new_context: Factory, site: WebProcess,
) -> None:
    page = await dashboard(new_context)
    if not await page.get_attribute("#dash", "data-vapid-key"):
        assert await page.locator("#push-field").is_hidden()
    # With a key: the switch is there, labelled; this headless browser has no push service, so
    # turning it on ends in "not possible here", never a switch that looks on, nothing posted.
    context, log = await new_context(**LAPTOP, permissions=["notifications"])
    page = await context.new_page()
    await with_vapid_key(page)
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", "demo.nurse")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached", timeout=15000)
    # The login's redirect is not routed; a fresh load of the dashboard is (the keys stay in the tab).
    await page.goto("/nurse?lang=nb")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached", timeout=15000)
    assert await page.get_attribute("#dash", "data-vapid-key")
    await page.click("details.alerts summary")
    switch = page.get_by_role("switch", name="Varsle meg når en ungdom venter og dashbordet er lukket")
    await switch.wait_for()
    await page.wait_for_function("() => document.querySelector('#push-field').dataset.state !== 'working'")
    assert await page.get_attribute("#push-field", "data-state") == "off"
    assert await page.inner_text("#push-status") == "Av."
    await clean(page, "the push switch, off")
    await switch.click()
    await page.wait_for_function(
        "() => !['off', 'working'].includes(document.querySelector('#push-field').dataset.state)", timeout=20000)
    assert await page.get_attribute("#push-field", "data-state") == "unsupported"
    assert not await switch.is_checked() and await switch.is_disabled()
    assert await page.inner_text("#push-status") == (
        "Ikke mulig her: denne nettleseren kan ikke ta imot varsler når dashbordet er lukket.")
    assert not [u for u in log.urls if u.endswith("/dashboard/push")]
    await clean(page, "the push switch, not possible here")


LEFT = {"nb": ("Ungdommen gikk og ba om svar senere.", r"Svar innen 1 d( \d+ t)?"),
        "en": ("The young person left and asked to be answered later.", r"Answer within 1 d( \d+ h)?")}
PHONE_SIZE: dict[str, Any] = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
                             "color_scheme": "dark"}


@pytest.mark.parametrize(("lang", "options"), [("nb", {}), ("en", PHONE_SIZE)], ids=["nb-desktop", "en-dark-phone"])
async def test_a_youth_who_leaves_for_later_moves_from_her_list_to_answer_later(
    new_context: Factory, site: WebProcess, lang: str, options: dict[str, Any],
) -> None:
    left, due = LEFT[lang]
    page = await dashboard(new_context, lang=lang, **options)  # on duty: the next youth waits live
    y, s = await youth_start(site.base, SERVICE)
    assert s.keys is not None
    await page.click(f"#q-{SERVICE} button.claim[data-conversation='{s.conversation}']")
    await page.wait_for_selector("#composer:not([hidden])")
    assert await page.is_hidden("#away")  # taken from the live queue: she is here
    await y.expect("state", where=lambda f: f["state"] == "active")
    await y.send({"type": "send", "cmid": "laterleave01", "body": s.keys.seal("jeg må gå, svar meg senere")})
    await y.expect("ack")
    await page.wait_for_selector("#messages li.them:has-text('jeg må gå')")
    await y.send({"type": "later"})
    await y.expect("state", where=lambda f: f["state"] == "later")
    await page.wait_for_selector("#composer", state="hidden")
    assert await page.locator(f"#mine [data-conversation='{s.conversation}']").count() == 0
    assert left in await page.inner_text("#dash-status")
    # Her message is still owed: the conversation waits in "Svar senere" for any nurse.
    await card(page, s.conversation).locator("button.claim").wait_for()
    assert re.fullmatch(due, await card(page, s.conversation).locator(".due").inner_text())
    assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    await clean(page, "after the youth left for later")
    await y.close()
