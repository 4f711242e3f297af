""""Mine avtaler" in real Chromium, everything real: the EPJ stand-in publishes an appointment
through the NHN lookalike, the ``epj`` worker (a subprocess) stores it sealed, the youth logs
in with the ID-porten lookalike and sees it (Oslo time, place, who, the service's text in
three languages), downloads it as .ics; the page is axe-clean and fits 360 px."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from playwright.async_api import Browser, BrowserContext, Page

from chat.client.protocol import nurse_connect, nurse_login
from chat.store.client import connect
from devservices.demo import ensure_demo_pages
from devservices.epj.app import DECLINE_TEXT, REFUSAL_TEXT
from devservices.epj.process import EpjStandinProcess
from devservices.idporten.process import IdPortenLookalike
from devservices.nhn.process import NhnProcess
from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess
from identity_bridge.epj.ical import OSLO
from identity_bridge.web.config import CALLBACK_PATH, FRONTCHANNEL_PATH, LOGGED_OUT_PATH
from tests.browser.conftest import (  # noqa: F401 - fixtures
    DESKTOP,
    PHONE,
    axe_violations,
    browser,
    describe,
    playwright,
)
from tests.conftest import DEMO_PASSWORD
from tests.identity_bridge.web.conftest import (  # noqa: F401 - fixtures
    CLIENT_ID,
    assert_no_pid_anywhere,
    idporten_table,
    redis_dump,
    rp_key,
    rp_key_file,
    start_site,
)
from tests.identity_bridge.web.test_identity_journey import TwoOrigins, idporten_login

from .appt_support import start_world
from .conftest import Keys
from .test_journal_web import WorkerProcess

pytestmark = pytest.mark.browser

# The service's texts per type are the demo's (devservices/demo.py, in the test services).


@dataclass
class ApptSite:
    web: WebProcess
    idp: IdPortenLookalike
    nhn: NhnProcess
    epj: EpjStandinProcess
    person: dict[str, Any]
    start: datetime
    uid: str


def _start_at() -> datetime:
    return datetime.combine(date.today() + timedelta(days=3), time(14, 0), OSLO)


@pytest.fixture(scope="module")
async def appt_site(
    redis_proc: RedisProcess, rp_key: RSAKey, rp_key_file: Path, keys: Keys,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ApptSite]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    d = tmp_path_factory.mktemp("appt-web")
    idp = IdPortenLookalike(
        client_id=CLIENT_ID, redirect_uris=[base + CALLBACK_PATH],
        post_logout_redirect_uris=[base + LOGGED_OUT_PATH],
        frontchannel_logout_uri=base + FRONTCHANNEL_PATH,
        client_jwks={"keys": [rp_key.as_dict(private=False)]},
        work_dir=tmp_path_factory.mktemp("appt-idporten"))
    await asyncio.to_thread(idp.start)
    assert idp.persons_file is not None
    person = next(p for p in json.loads(idp.persons_file.read_text(encoding="utf-8"))
                  if p["age"] == 15)
    # The web process and the worker share the person key (d/secrets/person_key).
    nhn, epj, worker_config, _ = await asyncio.to_thread(start_world, d, keys)
    # [epj] tells the web process which EPJ keeps which service's appointments (the leads'
    # page); its gateway key is for journal notes, unused here.
    (d / "gateway.pub").write_text(
        base64.b64encode(bytes(keys.gateway_key.public_key)).decode() + "\n")
    epj_table = ('\n[epj]\ngateway_public_key_file = "gateway.pub"\n'
                 'receivers = { demo-hfu = 8000100, demo-skole = 8000100 }\n')
    web = await start_site(d, redis_proc.url,
                           idporten_table(idp.issuer, rp_key_file) + epj_table, port)
    worker = WorkerProcess(worker_config, redis_proc.url, d / "worker.log")
    worker.start()
    start = _start_at()
    sent = await asyncio.to_thread(
        epj.publish, pid=person["pid"], start=start.isoformat(), minutes=30,
        type_code="SAMTALE", location="Helsestasjonen, rom 2", who="Helsesykepleier Hanne",
        youth_only=True)
    try:
        yield ApptSite(web, idp, nhn, epj, person, start, sent["uid"])
    finally:
        await asyncio.to_thread(worker.stop)
        await asyncio.to_thread(web.stop)
        await asyncio.to_thread(epj.stop)
        await asyncio.to_thread(nhn.stop)
        await asyncio.to_thread(idp.stop)


@pytest.fixture
async def phone(browser: Browser, appt_site: ApptSite) -> AsyncIterator[Page]:  # noqa: F811
    ctx: BrowserContext = await browser.new_context(base_url=appt_site.web.base,
                                                    service_workers="block", accept_downloads=True,
                                                    **PHONE)
    guard = TwoOrigins(appt_site.web.base, appt_site.idp.issuer)
    await ctx.route("**/*", guard.handle)
    yield await ctx.new_page()
    await ctx.close()
    assert not guard.foreign, guard.foreign


async def log_in_and_open(page: Page, site: ApptSite) -> None:
    await page.goto("/mine")
    await page.click("#login")
    await page.wait_for_url("**/logg-inn*")
    await page.click("#consent-yes")
    await idporten_login(page, site, site.person["pid"])
    await page.wait_for_selector("#appointments-link")
    await page.click("#appointments-link")
    await page.wait_for_url("**/mine/avtaler*")
    await until_shown(page, 1)


async def until_shown(page: Page, count: int) -> None:
    for _ in range(100):  # the worker's poll may not have taken it yet: reload, bounded
        if await page.locator("li.appointment").count() >= count:
            return
        await asyncio.sleep(0.2)
        await page.reload()
    raise AssertionError("the appointment never showed")


async def test_the_youth_sees_the_appointment_in_three_languages_and_gets_an_ics(
        phone: Page, appt_site: ApptSite) -> None:
    # The service the EPJ serves (the first of its receivers) publishes "what happens".
    redis = connect(appt_site.web.redis_url)
    await ensure_demo_pages(redis, ["demo-hfu"])
    await redis.aclose()
    await log_in_and_open(phone, appt_site)
    card = phone.locator("#upcoming li.appointment", has_text="Helsestasjonen, rom 2")
    more = card.locator("p.about-more a")
    assert await more.get_attribute("href") == "/s/demo-hfu/info/hva-skjer?lang=nb"
    text = await card.inner_text()
    assert "Samtale med helsesykepleier" in text
    assert "kl. 14.00–14.30" in text
    assert "Helsestasjonen, rom 2" in text and "Helsesykepleier Hanne" in text
    assert "Dere snakker om det du vil" in text
    assert "Bare du kan se denne avtalen" in text
    assert "Bestilt" in text
    violations = await axe_violations(phone)
    assert not violations, describe(violations)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360

    await phone.goto("/mine/avtaler?lang=nn")
    assert "Samtale med helsesjukepleiar" in await card.inner_text()
    await phone.goto("/mine/avtaler?lang=en")
    english = await card.inner_text()
    assert "Talk with the school nurse" in english and "14:00–14:30" in english
    violations = await axe_violations(phone)
    assert not violations, describe(violations)

    aid = await card.get_attribute("data-aid")
    ics = await phone.request.get(f"/mine/avtaler/{aid}.ics")
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    body = await ics.text()
    local = appt_site.start.strftime("%Y%m%dT%H%M%S")
    assert f"DTSTART;TZID=Europe/Oslo:{local}" in body and "BEGIN:VTIMEZONE" in body
    assert "X-HN-" not in body and appt_site.person["pid"] not in body
    # Without the session nothing is shown and nothing downloads.
    await phone.context.clear_cookies()
    assert (await phone.request.get(f"/mine/avtaler/{aid}.ics")).status == 401
    await phone.goto("/mine/avtaler")
    assert await phone.locator("li.appointment").count() == 0


async def cancel(page: Page, card: Any, reason: str = "") -> None:
    await card.locator("details.cancel summary").click()
    if reason:
        await card.locator("textarea").fill(reason)
    await card.locator("button[type=submit]").click()
    await page.wait_for_url("**/mine/avtaler?*sent=1*")


async def test_cancel_then_the_epj_accepts_refuses_or_the_rules_say_no(
        phone: Page, appt_site: ApptSite) -> None:
    site = appt_site
    now = datetime.now(OSLO)
    for place, fields in (
        ("Rom A2", {"start": (_start_at() + timedelta(days=1)).isoformat()}),
        ("Rom A3", {"start": (_start_at() + timedelta(days=2)).isoformat(), "cancellable": False}),
        ("Rom A4", {"start": (now - timedelta(minutes=10)).isoformat(), "minutes": 60}),
    ):
        await asyncio.to_thread(site.epj.publish, pid=site.person["pid"], location=place,
                                type_code="SAMTALE", **fields)
    await log_in_and_open(phone, site)
    await until_shown(phone, 4)

    # Accepted: "avbestilling sendt" at once, then live (the page reloads itself) "Avbestilt".
    a2 = phone.locator("li.appointment", has_text="Rom A2")
    await cancel(phone, a2, "Jeg har prøve den dagen")
    assert "Avbestilling sendt" in await a2.inner_text()
    await phone.wait_for_selector("li.appointment[data-state=cancelled]:has-text('Rom A2')",
                                  timeout=30000)
    requests = (await asyncio.to_thread(site.epj.state))["requests"]
    assert [r["reason"] for r in requests] == ["Jeg har prøve den dagen"]
    assert requests[0]["known"] is True

    # Refused by the EPJ's answer: the youth sees its text.
    await asyncio.to_thread(site.epj.set_mode, cancellations="refuse")
    a1 = phone.locator("li.appointment", has_text="Helsestasjonen, rom 2")
    await cancel(phone, a1)
    await phone.wait_for_selector(
        "li.appointment[data-state=cancel_refused]:has-text('Helsestasjonen, rom 2')",
        timeout=30000)
    assert REFUSAL_TEXT in await a1.inner_text()
    assert "Avbestillingen ble ikke godtatt" in await a1.inner_text()

    # Not changeable, or already started: no button, and the server says no with a reason.
    for place, code, words in (("Rom A3", "appointment_not_changeable", "kan ikke avbestilles"),
                               ("Rom A4", "appointment_started", "allerede begynt")):
        card = phone.locator("li.appointment", has_text=place)
        assert await card.locator("details.cancel").count() == 0
        aid = await card.get_attribute("data-aid")
        resp = await phone.request.post(f"/mine/avtaler/{aid}/avbestill",
                                        form={"lang": "nb", "reason": "x"},
                                        headers={"Origin": site.web.base})
        assert resp.ok and f"refused={code}" in resp.url
        await phone.goto(resp.url)
        assert words in (await phone.text_content("p.status.refused") or "")
        assert await card.get_attribute("data-state") == "booked"
    # A cross-site form cannot cancel.
    aid = await a1.get_attribute("data-aid")
    for headers in ({"Origin": "https://evil.example"},
                    {"Origin": "null", "Sec-Fetch-Site": "cross-site"}):
        forged = await phone.request.post(f"/mine/avtaler/{aid}/avbestill", form={"lang": "nb"},
                                          headers=headers)
        assert forged.status == 403
    violations = await axe_violations(phone)
    assert not violations, describe(violations)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360


async def test_the_youth_asks_for_an_appointment_and_the_epj_books_or_declines(
        phone: Page, appt_site: ApptSite) -> None:
    site = appt_site
    await log_in_and_open(phone, site)
    before = await phone.locator("li.appointment").count()
    earliest = (date.today() + timedelta(days=10)).isoformat()
    await phone.select_option("#wish-service", "demo-hfu")
    await phone.fill("#wish-earliest", earliest)
    await phone.fill("#wish-text", "Vil snakke om søvn")
    await phone.click("#wish-form button[type=submit]")
    await phone.wait_for_url("**/mine/avtaler?*wished=1*")
    assert await phone.locator("li.wish[data-state=sent]").count() == 1
    # The stand-in books 10:00 that day: the answer shows live, and the appointment too.
    await phone.wait_for_selector("li.wish[data-state=booked]", timeout=30000)
    assert "10.00" in await phone.inner_text("li.wish")
    await until_shown(phone, before + 1)
    [wish] = (await asyncio.to_thread(site.epj.state))["wishes"]
    assert (wish["text"], wish["earliest"]) == ("Vil snakke om søvn", earliest)

    await asyncio.to_thread(site.epj.set_mode, wishes="decline")
    await phone.fill("#wish-earliest", earliest)
    await phone.click("#wish-form button[type=submit]")
    await phone.wait_for_url("**/mine/avtaler?*wished=1*")
    await phone.wait_for_selector("li.wish[data-state=declined]", timeout=30000)
    assert DECLINE_TEXT in await phone.inner_text("li.wish[data-state=declined]")
    violations = await axe_violations(phone)
    assert not violations, describe(violations)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    # A day in the past, or a service without an EPJ, is refused with a reason.
    resp = await phone.request.post("/mine/avtaler/onske", headers={"Origin": site.web.base},
                                    form={"lang": "nb", "service": "demo-no-epj",
                                          "earliest": earliest})
    assert "refused=bad_wish" in resp.url

async def test_the_lead_sees_counts_per_week_and_nothing_else(
        browser: Browser, appt_site: ApptSite) -> None:  # noqa: F811
    ctx = await browser.new_context(base_url=appt_site.web.base, service_workers="block",
                                    viewport={"width": 1280, "height": 800}, locale="nb-NO")
    try:
        page = await ctx.new_page()
        await page.goto("/lead/avtaler")
        await page.wait_for_url("**/nurse/login*")
        await page.fill("#username", "demo.lead")
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("form.login button[type=submit]")
        await page.wait_for_url("**/nurse*")
        await page.goto("/lead/avtaler")
        table = page.locator("table.appointment-stats", has_text="Helsestasjon for ungdom")
        cells = await table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")
        totals = [sum(int(row[i]) for row in cells) for i in range(1, 5)]
        # This module's appointments: four published and one booked on the youth's wish; the
        # youth cancelled one, the EPJ refused another (not counted); none cancelled by the
        # service, no no-shows.
        assert totals == [5, 1, 0, 0], cells
        text = await page.inner_text("main")
        assert appt_site.person["pid"] not in text and "Rom A2" not in text
        violations = await axe_violations(page)
        assert not violations, describe(violations)
        # A nurse is not a lead.
        await ctx.clear_cookies()
        await page.goto("/nurse/login")
        await page.fill("#username", "demo.nurse")
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("form.login button[type=submit]")
        await page.wait_for_url("**/nurse*")
        response = await page.goto("/lead/avtaler")
        assert response is not None and response.status == 403
    finally:
        await ctx.close()


def _proposal(cid: str, start: datetime, place: str, **over: object) -> dict[str, object]:
    return {"type": "propose_appointment", "conversation": cid,
            "proposal_id": str(uuid.uuid4()), "start": start.strftime("%Y-%m-%dT%H:%M"),
            "minutes": 45, "place": place, "type_code": "SAMTALE", **over}


async def dashboard(browser: Browser, site: ApptSite) -> tuple[BrowserContext, Page]:  # noqa: F811
    """The nurse's dashboard in its own Chromium context, logged in and unlocked."""
    ctx = await browser.new_context(base_url=site.web.base, service_workers="block", **DESKTOP)
    page = await ctx.new_page()
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", "demo.nurse")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                 timeout=15000)
    return ctx, page


async def propose(page: Page, at: datetime, place: str, minutes: int = 45) -> None:
    """Fill in "Foreslå time" on the dashboard and send it."""
    await page.click("#appt-open")
    await page.fill("#appt-date", at.strftime("%Y-%m-%d"))
    await page.fill("#appt-time", at.strftime("%H:%M"))
    await page.fill("#appt-minutes", str(minutes))
    await page.fill("#appt-place", place)
    await page.select_option("#appt-type", "SAMTALE")
    await page.click("#appt-form button[type=submit]")


async def test_the_nurse_proposes_a_time_and_the_youth_accepts_or_asks_for_another(
        browser: Browser, phone: Page, appt_site: ApptSite) -> None:  # noqa: F811
    """The youth chats, links the thread with the ID-porten lookalike; the nurse proposes a
    time with the dashboard's "Foreslå time" (Chromium); the youth accepts in Chromium; the
    EPJ stand-in books; both the page and the dashboard see it booked. Then a second proposal,
    declined. The stable error codes are checked over the dashboard's WebSocket too."""
    site = appt_site
    await phone.goto("/s/demo-skole")
    await phone.click("#start")
    await phone.wait_for_selector("#upgrade-box:not([hidden])")
    cid = await phone.evaluate(
        "JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
    nurse_ctx, desk = await dashboard(browser, site)
    nurse = await nurse_connect(site.web.base,
                                await nurse_login(site.web.base, "demo.nurse", DEMO_PASSWORD))
    try:
        assert {"demo-hfu", "demo-skole"} <= set(
            next(f for f in nurse.seen if f["type"] == "hello")["journal"]["appointment_services"])
        await desk.click(f"#q-demo-skole button.claim[data-conversation='{cid}']")
        await desk.wait_for_selector("#composer:not([hidden])")
        # An anonymous thread has no "Foreslå time", and the server refuses one anyway.
        assert await desk.locator("#appt").is_hidden()
        at = datetime.combine(date.today() + timedelta(days=5), time(13, 15), OSLO)

        async def refused(frame: dict[str, object]) -> str:
            await nurse.send(frame)
            error = await nurse.expect("error")
            return str(error["code"])

        assert await refused(_proposal(cid, at, "Rom B1")) == "proposal_not_linked"
        await phone.click("#upgrade")
        await phone.wait_for_url("**/logg-inn?*")
        await phone.click("#consent-yes")
        await idporten_login(phone, site, site.person["pid"])
        await phone.wait_for_selector("#verified-box:not([hidden])")
        # The dashboard learns the thread is linked and offers the form.
        await desk.wait_for_selector("#appt-open:not([hidden])")
        assert await desk.get_attribute("#appt-open", "aria-expanded") == "false"
        # Bad input: each with its stable code (raw frames, past what the form lets through).
        assert await refused(_proposal(cid, datetime.now(OSLO) - timedelta(hours=1),
                                       "Rom B1")) == "proposal_in_past"
        assert await refused(_proposal(cid, at, "Rom B1", minutes=600)) == "proposal_bad_duration"
        assert await refused(_proposal(cid, at, "")) == "proposal_bad_place"
        # The form says why in words: a time that has passed.
        await propose(desk, datetime.now(OSLO) - timedelta(hours=1), "Rom B1")
        await desk.wait_for_selector("#appt-msg:has-text('Tidspunktet har passert')")
        assert await desk.locator("#appt-form").is_visible()  # kept, to correct
        assert await desk.locator("#appt-log li").count() == 0
        await desk.click("#appt-cancel")

        await propose(desk, at, "Helsestasjonen, rom B1")
        first = desk.locator("#appt-log li.proposed")
        await first.wait_for()
        assert await first.inner_text() == (
            f"Foreslått {at.strftime('%d.%m.')} kl. 13.15 – venter på svar")
        assert await desk.locator("#appt-form").is_hidden()
        first_id = await first.get_attribute("data-proposal-id")
        violations = await axe_violations(desk)
        assert not violations, describe(violations)

        await phone.goto("/mine/avtaler")
        card = phone.locator("li.appointment", has_text="Helsestasjonen, rom B1")
        await card.wait_for()
        assert await card.get_attribute("data-state") == "proposed"
        text = await card.inner_text()
        assert "Forslag fra helsesykepleieren" in text and "kl. 13.15–14.00" in text
        violations = await axe_violations(phone)
        assert not violations, describe(violations)
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
        await card.locator("form.accept-form button").click()
        await phone.wait_for_url("**/mine/avtaler?*done=accepted*")
        # The EPJ stand-in books it; the page (polling) and the dashboard (live) see it booked.
        await phone.wait_for_selector(
            "li.appointment[data-state=booked]:has-text('Helsestasjonen, rom B1')", timeout=30000)
        assert "Bestilt" in await card.inner_text()
        booked = desk.locator(f"#appt-log li.booked[data-proposal-id='{first_id}']")
        await booked.wait_for(timeout=30000)
        assert "Takket ja – bestilt" in await booked.inner_text()
        [booking] = (await asyncio.to_thread(site.epj.state))["bookings"]
        assert (booking["start"], booking["minutes"], booking["type_code"]) == (
            at.strftime("%Y-%m-%dT%H:%M"), 45, "SAMTALE")
        # Accepting twice changes nothing.
        aid = await card.get_attribute("data-aid")
        again = await phone.request.post(f"/mine/avtaler/{aid}/ta", form={"lang": "nb"},
                                         headers={"Origin": site.web.base})
        assert "refused=proposal_not_open" in again.url

        # A second proposal: the youth asks for another time; the dashboard is told.
        await propose(desk, at + timedelta(days=1), "Helsestasjonen, rom B2", minutes=30)
        second = desk.locator("#appt-log li.proposed")
        await second.wait_for()
        second_id = await second.get_attribute("data-proposal-id")
        await phone.goto("/mine/avtaler")
        other = phone.locator("li.appointment", has_text="Helsestasjonen, rom B2")
        await other.locator("form.decline-form button").click()
        await phone.wait_for_url("**/mine/avtaler?*done=declined*")
        assert await other.get_attribute("data-state") == "proposal_declined"
        declined = desk.locator(f"#appt-log li.proposal_declined[data-proposal-id='{second_id}']")
        await declined.wait_for()
        assert "Ba om en annen tid" in await declined.inner_text()
        violations = await axe_violations(phone)
        assert not violations, describe(violations)
        violations = await axe_violations(desk)
        assert not violations, describe(violations)
        # A dashboard opening the thread again sees how both stand.
        await desk.reload()
        await desk.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                     timeout=15000)
        await desk.click(f"#mine button[data-conversation='{cid}']")
        await desk.wait_for_selector(f"#appt-log li.proposal_declined[data-proposal-id='{second_id}']")
        assert await desk.locator(
            f"#appt-log li.booked[data-proposal-id='{first_id}']").count() == 1
    finally:
        await nurse.close()
        await nurse_ctx.close()
    # And so does the WebSocket: all of the thread's proposals again on open.
    nurse = await nurse_connect(site.web.base,
                                await nurse_login(site.web.base, "demo.nurse", DEMO_PASSWORD))
    try:
        await nurse.send({"type": "open", "conversation": cid})
        await nurse.expect("history_end")
        replayed = {f["proposal_id"]: f["status"] for f in nurse.seen
                    if f["type"] == "appointment_status"}
        assert replayed == {first_id: "booked", second_id: "proposal_declined"}
    finally:
        await nurse.close()


async def test_the_youth_withdraws_a_wish_not_yet_answered(
        phone: Page, appt_site: ApptSite) -> None:
    site = appt_site
    await asyncio.to_thread(site.epj.set_mode, wishes="ignore")
    await log_in_and_open(phone, site)
    await phone.select_option("#wish-service", "demo-hfu")
    await phone.fill("#wish-earliest", (date.today() + timedelta(days=20)).isoformat())
    await phone.click("#wish-form button[type=submit]")
    await phone.wait_for_url("**/mine/avtaler?*wished=1*")
    waiting = phone.locator("li.wish[data-state=sent]")
    await waiting.locator("form.withdraw-form button").click()
    await phone.wait_for_url("**/mine/avtaler?*done=withdrawn*")
    assert await phone.locator("li.wish[data-state=withdrawn]").count() == 1
    assert await phone.locator("li.wish[data-state=sent]").count() == 0
    for _ in range(150):  # the worker sends it on its next round
        wishes = (await asyncio.to_thread(site.epj.state))["wishes"]
        if any(w.get("answer") == "withdrawn" for w in wishes):
            break
        await asyncio.sleep(0.2)
    withdrawal = next(w for w in wishes if w.get("answer") == "withdrawn")
    asked = [w for w in wishes if w.get("earliest")][-1]
    assert withdrawal["withdraws"] == asked["msg_id"]
    violations = await axe_violations(phone)
    assert not violations, describe(violations)


async def test_after_it_all_nothing_in_clear_in_redis_or_the_logs(appt_site: ApptSite) -> None:
    """The person number, the places, the reasons and the wish's words, after everything the
    tests above did: nowhere in Redis, nowhere in the web, worker or stand-in logs."""
    site = appt_site
    logs = [site.web.log_text(), (site.web.data_dir / "worker.log").read_text(),
            (site.web.data_dir / "epj-standin" / "epj-standin.log").read_text()]
    await assert_no_pid_anywhere(site.web.redis_url, site.person["pid"], *logs)
    for secret in ("Rom A2", "Helsestasjonen, rom 2", "Jeg har prøve", "Vil snakke om søvn",
                   "Helsesykepleier Hanne", "Helsestasjonen, rom B1", "Helsestasjonen, rom B2"):
        for key, text in await redis_dump(site.web.redis_url):
            assert secret not in text and secret not in key, key
        for log in logs:
            assert secret not in log
