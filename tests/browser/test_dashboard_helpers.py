"""A colleague asked into a conversation, in real Chromium: the holder asks from her action
panel, the colleague (a second nurse browser) sees the request on her dashboard and joins,
writes, leaves; the youth's page shows "… ble med i samtalen" live and after a reload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory, axe_violations, describe
from tests.browser.test_dashboard import nurse_page
from tests.chat.web.dashboard_fixtures import write_dash_config
from tests.conftest import start_clean_web

pytestmark = pytest.mark.browser

JOINED = "Demo Leder ble med i samtalen."
LEFT = "Demo Leder forlot samtalen."


@pytest.fixture(scope="module")
async def site(redis_proc: RedisProcess,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebProcess]:
    """Overrides the browser conftest's ``site``: the dashboard services."""
    data_dir = tmp_path_factory.mktemp("helpers-web")
    write_dash_config(data_dir)
    proc = await start_clean_web(redis_proc.url, data_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


async def line_shown(page: Page, text: str) -> None:
    await page.wait_for_function(
        "(t) => [...document.querySelectorAll('#messages li.system')]"
        ".some((li) => li.textContent.includes(t))", arg=text)


async def no_violations(*pages: Page) -> None:
    for page in pages:
        violations = await axe_violations(page)
        assert not violations, describe(violations)


async def test_a_colleague_joins_writes_and_leaves(new_context: Factory) -> None:
    ycontext, _ = await new_context(**PHONE)
    youth = await ycontext.new_page()
    await youth.goto("/s/dash-skole?lang=nb")
    await youth.click("#start")
    await youth.wait_for_selector("#chat-view:not([hidden])")
    cid = await youth.evaluate(
        "() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)"
        ".find((k) => sessionStorage.getItem(k).includes('\"conversation\"')))).conversation")

    holder = await nurse_page(new_context, "demo.nurse")
    await holder.click(f"#q-dash-skole button.claim[data-conversation='{cid}']")
    await holder.wait_for_selector("#composer:not([hidden])")
    colleague = await nurse_page(new_context, "demo.lead")

    # The holder asks; the colleague's dashboard shows the request.
    await holder.wait_for_selector("#invite-form:not([hidden])")
    await holder.select_option("#invite-to", "demo.lead")
    await holder.click("#invite-form button[type=submit]")
    await holder.wait_for_function(
        "() => document.querySelector('#dash-status').textContent.includes('sendt')")
    request = "#invites li"
    await colleague.wait_for_selector(request)
    assert "Demo Helsesykepleier" in await colleague.inner_text(request)
    assert cid[:6] in await colleague.inner_text(request)
    await no_violations(colleague)

    # She joins: the conversation opens with a composer but without the holder's actions.
    await colleague.click(f"{request} button[data-variant=primary]")
    await colleague.wait_for_selector("#composer:not([hidden])")
    await colleague.wait_for_selector("#leave:not([hidden])")
    assert await colleague.is_hidden("#close-form")
    assert await colleague.is_hidden("#tools")
    assert await colleague.is_hidden("#invites-section")
    await line_shown(youth, JOINED)
    await line_shown(holder, JOINED)
    await holder.wait_for_function(
        "() => document.querySelector('#helpers-list').textContent.includes('Demo Leder')")

    # She writes: the youth reads it with her name.
    await colleague.fill("#message", "Hei, jeg er her også")
    await colleague.click("#composer button[type=submit]")
    await youth.wait_for_function(
        "() => [...document.querySelectorAll('#messages li.them')]"
        ".some((li) => li.textContent.includes('Hei, jeg er her også')"
        " && li.textContent.includes('Demo Leder'))")
    await holder.wait_for_function(
        "() => document.querySelector('#messages').textContent.includes('Hei, jeg er her også')")
    await no_violations(youth, holder, colleague)

    # After a reload the youth's page shows the line again, in its place.
    await youth.reload()
    await youth.wait_for_selector("#chat-view:not([hidden])")
    await line_shown(youth, JOINED)

    # She leaves: the line, and the conversation goes from her dashboard.
    await colleague.click("#leave")
    await line_shown(youth, LEFT)
    await colleague.wait_for_selector("#composer", state="hidden")
    assert await colleague.locator(f"#mine button[data-conversation='{cid}']").count() == 0
    await holder.wait_for_function(
        "() => document.querySelector('#helpers-list').hidden")
