"""The nurse's live dashboard and the lead overview in real Chromium.

One web process for the module, with the dashboard services and a test clock: the process
reads its wall time from a file (HELSEPRAT_TEST_CLOCK_FILE, honoured only when
HELSEPRAT_ENV=test; empty = real time). Tests that need time to pass write a Unix time there
and the process's periodic inactivity sweep (every 0.5 s under a test clock) acts on it; no
test sleeps for the minutes it simulates.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page

from chat.client.protocol import ProtocolClient, YouthSession, youth_start
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import DESKTOP, Factory, axe_violations, describe
from tests.chat.web.dashboard_fixtures import ESCALATION, nurse_ws, write_dash_config
from tests.clockfile import new_clock_file, set_clock
from tests.conftest import DEMO_PASSWORD, start_clean_web

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_clock_file(tmp_path_factory)


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory,
               clock_file: Path) -> AsyncIterator[WebProcess]:
    """Overrides the browser conftest's ``site``: dashboard services and a test clock."""
    data_dir = tmp_path_factory.mktemp("dash-web")
    write_dash_config(data_dir)
    proc = await start_clean_web(redis_proc.url, data_dir,
                                 extra_env={"HELSEPRAT_TEST_CLOCK_FILE": str(clock_file)})
    yield proc
    await asyncio.to_thread(proc.stop)



async def nurse_page(new_context: Factory, user: str) -> Page:
    context, _ = await new_context(**DESKTOP)
    page = await context.new_page()
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", user)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.wait_for_selector("#dash-status[data-unlocked=true]", state="attached",
                                 timeout=15000)
    return page


async def claim_in(page: Page, service: str, cid: str) -> None:
    await page.click(f"#q-{service} button.claim[data-conversation='{cid}']")
    await page.wait_for_selector("#composer:not([hidden])")


async def youth(site: WebProcess, service: str = "dash-skole") -> tuple[ProtocolClient, YouthSession]:
    return await youth_start(site.base, service)


async def test_two_nurses_race_for_a_claim(new_context: Factory, site: WebProcess) -> None:
    y, s = await youth(site)
    a = await nurse_page(new_context, "demo.nurse")
    b = await nurse_page(new_context, "demo.lead")
    button = f"#q-dash-skole button.claim[data-conversation='{s.conversation}']"
    await asyncio.gather(a.wait_for_selector(button), b.wait_for_selector(button))
    await asyncio.gather(a.click(button), b.click(button))
    await y.expect("state", where=lambda f: f["state"] == "active")

    async def outcome(page: Page) -> str:
        await page.wait_for_function(
            "() => !document.querySelector('#composer').hidden"
            " || document.querySelector('#dash-status').textContent.length > 0")
        return "won" if await page.is_visible("#composer") else "lost"

    results = await asyncio.gather(outcome(a), outcome(b))
    assert sorted(results) == ["lost", "won"]
    loser = a if results[0] == "lost" else b
    winner = b if loser is a else a
    assert "En kollega tok samtalen." in (await loser.text_content("#dash-status") or "")
    await winner.click("#close-form button[type=submit]")
    await winner.click("#confirm-yes")
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.close()


async def test_transfer_to_another_service_and_the_receiver_reads_the_history(
    new_context: Factory, site: WebProcess,
) -> None:
    y, s = await youth(site)
    assert s.keys is not None
    await y.send({"type": "send", "cmid": "browserxfer1", "body": s.keys.seal("jeg trenger råd")})
    await y.expect("ack")
    sender = await nurse_page(new_context, "demo.nurse")
    await claim_in(sender, "dash-skole", s.conversation)
    await sender.wait_for_selector("#messages li.them")
    await sender.fill("#message", "jeg setter deg over til helsestasjonen")
    await sender.click("#composer button[type=submit]")
    await y.expect("deliver", where=lambda f: f["from"] == "nurse")

    await sender.select_option("#transfer-to", "service:dash-hfu")
    await sender.fill("#transfer-note", "intern: spør om prevensjon")
    await sender.click("#transfer-form button[type=submit]")
    await sender.click("#confirm-yes")
    await sender.wait_for_function(
        "() => document.querySelector('#dash-status').textContent.includes('overført')")
    moved = await y.expect("state", where=lambda f: f.get("transferred") is True)
    assert moved["service"] == "dash-hfu"

    receiver = await nurse_page(new_context, "other.nurse")
    await claim_in(receiver, "dash-hfu", s.conversation)
    await receiver.wait_for_selector("#messages li.note")
    texts = await receiver.locator("#messages li").all_text_contents()
    assert any("jeg trenger råd" in t for t in texts), texts
    assert any("jeg setter deg over til helsestasjonen" in t for t in texts), texts
    assert "intern: spør om prevensjon" in (await receiver.text_content("#messages li.note") or "")
    assert await receiver.locator("#messages li.failed").count() == 0
    # The receiver can answer, and the youth's client opens it with the same conversation key.
    await receiver.fill("#message", "hei, her er helsestasjonen")
    await receiver.click("#composer button[type=submit]")
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse"
                         and f["sender"] == "Annen Sykepleier")
    assert got["body"]
    assert not [f for f in y.seen if f["type"] == "note"]
    await receiver.click("#close-form button[type=submit]")
    await receiver.click("#confirm-yes")
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.close()


async def test_acute_flag_reaches_the_other_nurse_live(new_context: Factory, site: WebProcess) -> None:
    y, s = await youth(site)
    a = await nurse_page(new_context, "demo.nurse")
    b = await nurse_page(new_context, "demo.lead")
    await claim_in(a, "dash-skole", s.conversation)
    await a.select_option("#flag-kind", "acute")
    await a.click("#flag-form button[type=submit]")
    await a.wait_for_selector("#escalation:not([hidden])")
    assert ESCALATION in (await a.text_content("#escalation-text") or "")
    # The colleague's dashboard pins it at the top, live, without reloading.
    pinned = f"#pinned li[data-conversation='{s.conversation}']"
    await b.wait_for_selector(pinned)
    text = await b.text_content(pinned) or ""
    assert "Akutt" in text and "Demo Helsesykepleier" in text
    assert await b.is_visible("#pinned-section")
    for page in (a, b):
        violations = await axe_violations(page)
        assert not violations, describe(violations)
    await a.click("#close-form button[type=submit]")
    await a.click("#confirm-yes")
    await b.wait_for_selector(pinned, state="detached")
    await y.close()


async def test_keyboard_only_claim_reply_and_close(new_context: Factory, site: WebProcess) -> None:
    y, s = await youth(site)
    assert s.keys is not None
    page = await nurse_page(new_context, "demo.nurse")
    await page.wait_for_selector(f"button.claim[data-conversation='{s.conversation}']")

    async def tab_to(check: str) -> None:
        for _ in range(80):
            await page.keyboard.press("Tab")
            if await page.evaluate(check):
                return
        raise AssertionError(f"never reached {check}")

    await tab_to(f"() => document.activeElement.dataset.conversation === '{s.conversation}'"
                 " && document.activeElement.classList.contains('claim')")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#composer:not([hidden])")
    await page.wait_for_function("() => document.activeElement.id === 'message'")
    await page.keyboard.type("svar med bare tastatur")
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.closest('#composer') !== null"
                               " && document.activeElement.type === 'submit'")
    await page.keyboard.press("Space")
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    assert s.keys.open(got["body"]) == "svar med bare tastatur"
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    await tab_to("() => document.activeElement.closest('#close-form') !== null"
                 " && document.activeElement.type === 'submit'")
    await page.keyboard.press("Enter")
    # The confirmation opens on Cancel; the confirm button is one step back.
    await page.wait_for_function("() => document.activeElement.id === 'confirm-no'")
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.id") == "confirm-yes"
    await page.keyboard.press("Enter")
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.close()


async def test_auto_close_fires_with_a_fake_clock(
    new_context: Factory, site: WebProcess, clock_file: Path,
) -> None:
    t0 = 1_777_000_000.0  # a frozen moment; the sweep runs twice a second on real time
    await set_clock(clock_file, t0)
    try:
        y, s = await youth(site)
        page = await nurse_page(new_context, "demo.nurse")
        await claim_in(page, "dash-skole", s.conversation)
        await set_clock(clock_file, t0 + 51 * 60)  # 10 minutes before the 60-minute limit
        notice = await y.expect("system", timeout=10)
        assert notice["code"] == "inactivity_warning" and notice["minutes"] == 9
        assert "avsluttes om 9 minutter" in notice["text"]["nb"]
        await page.wait_for_function(
            "() => document.querySelector('#messages').textContent.includes('avsluttes om')")
        await set_clock(clock_file, t0 + 61 * 60)
        closed = await y.expect("state", where=lambda f: f["state"] == "closed", timeout=10)
        assert closed["outcome"] == "inactive"
        await page.wait_for_selector("#composer", state="hidden")
        assert "Samtalen er avsluttet." in (await page.text_content("#messages") or "")
        await y.close()
    finally:
        await set_clock(clock_file, None)


def p90(samples: list[int]) -> int:
    """Nearest rank, written out again here so the test does not trust the code it checks."""
    ordered = sorted(samples)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


async def test_lead_overview_after_a_scripted_day(
    new_context: Factory, site: WebProcess, clock_file: Path,
) -> None:
    day = "2026-03-03"
    d0 = 1_772_524_800.0  # 2026-03-03 09:00 in Oslo (08:00 UTC)
    svc = "dash-stats"
    # (start, claim, close, outcome, flag) in seconds after d0; None = did not happen.
    script = [
        (0, 30, 330, "advice_given", None),
        (60, 150, 750, "referred", "acute"),
        (100, 110, 1300, "advice_given", "concern"),
        (200, None, 260, "youth_ended", None),
        (1000, None, None, None, None),  # still waiting at the end
    ]
    end = 1400
    events: list[tuple[int, int, str]] = []
    for i, (start, claim, close, _, flag) in enumerate(script):
        events.append((start, 0, f"start {i}"))
        if claim is not None:
            events.append((claim, 1, f"claim {i}"))
            if flag:
                events.append((claim + 5, 2, f"flag {i}"))
        if close is not None:
            events.append((close, 3, f"close {i}"))
    events.sort()
    try:
        lead, _ = await nurse_ws(site.base, "demo.lead")
        youths: dict[int, tuple[ProtocolClient, YouthSession]] = {}
        for at, _, what in events:
            await set_clock(clock_file, d0 + at)
            kind, idx = what.split()
            i = int(idx)
            if kind == "start":
                youths[i] = await youth(site, svc)
            elif kind == "claim":
                await lead.send({"type": "claim", "conversation": youths[i][1].conversation})
                await lead.expect("claimed")
            elif kind == "flag":
                await lead.send({"type": "flag", "conversation": youths[i][1].conversation,
                                 "kind": script[i][4]})
                await lead.expect("flagged")
            elif script[i][1] is None:
                await youths[i][0].send({"type": "end"})
                await youths[i][0].expect("state", where=lambda f: f["state"] == "closed")
            else:
                await lead.send({"type": "close", "conversation": youths[i][1].conversation,
                                 "outcome": script[i][3]})
                await youths[i][0].expect("state", where=lambda f: f["state"] == "closed")
        await set_clock(clock_file, d0 + end)

        # Independently computed expectations.
        waits = [c - s for s, c, *_ in script if c is not None]
        durations = [x - c for _, c, x, *_ in script if c is not None and x is not None]
        outcomes: dict[str, int] = {}
        for *_, o, _f in script:
            if o:
                outcomes[o] = outcomes.get(o, 0) + 1
        expected = {
            "started": len(script), "claimed": len(waits),
            "closed": sum(1 for row in script if row[2] is not None),
            "waiting_now": 1, "longest_wait_s": end - 1000,
            "claim_median_s": int(statistics.median(waits)), "claim_p90_s": p90(waits),
            "duration_median_s": int(statistics.median(durations)),
            "duration_p90_s": p90(durations),
            **{f"outcome:{k}": v for k, v in outcomes.items()},
            "flag:acute": 1, "flag:concern": 1, "transfers": 0, "auto_closed": 0,
        }

        page = await nurse_page(new_context, "demo.lead")
        await page.goto(f"/lead?lang=nb&day={day}")
        section = page.locator(f"#ov-{svc}")
        shown = {}
        for name in expected:
            shown[name] = int(await section.locator(f"td[data-figure='{name}']").inner_text())
        assert shown == expected
        # Outcomes by their names in the lead's language, not their codes.
        heads = await section.locator("th[scope=row]").all_inner_texts()
        assert "Utfall: Ga råd" in heads and not any("advice_given" in h for h in heads), heads
        violations = await axe_violations(page)
        assert not violations, describe(violations)

        csv_text = await (await page.request.get(f"/lead/overview.csv?day={day}")).text()
        header, *rows = [line.split(",") for line in csv_text.strip().splitlines()]
        row = dict(zip(header, next(r for r in rows if r[0] == svc), strict=True))
        for name, value in expected.items():
            assert int(row[name]) == value, name

        await page.goto(f"/lead/audit?lang=nb&service={svc}")
        actions = await page.locator("table.audit tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.action)")
        assert actions[0] == "export" and actions.count("claim") == 3
        assert actions.count("flag") == 2 and actions.count("close") == 4
        violations = await axe_violations(page)
        assert not violations, describe(violations)
        await page.goto("/lead/canned?lang=nb")
        violations = await axe_violations(page)
        assert not violations, describe(violations)
        for y, _ in youths.values():
            await y.close()
        await lead.close()
    finally:
        await set_clock(clock_file, None)
