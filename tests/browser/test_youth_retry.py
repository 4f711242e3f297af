"""With the production limits (5 sends/s, burst 20), a youth who types faster than that sees
which messages were not sent, and sends them again with one tap; each is stored once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory
from tests.conftest import start_clean_web
from tests.servers import BASE_SERVICES, write_test_config

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def site(
    redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebProcess]:
    data: Path = tmp_path_factory.mktemp("web-production-limits")
    write_test_config(data, BASE_SERVICES)
    proc = await start_clean_web(redis_proc.url, data)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_refused_messages_can_be_sent_again(
    new_context: Factory, site: WebProcess, redis_proc: RedisProcess
) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto("/s/demo-skole")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    cid = await page.evaluate(
        "() => JSON.parse(sessionStorage.getItem('helseprat.conversation')).conversation")
    # Faster than any thumb: 26 messages submitted in one go.
    await page.evaluate("""() => {
      for (let i = 0; i < 26; i++) {
        document.querySelector('#message').value = 'melding ' + i;
        document.querySelector('#composer').requestSubmit();
      }
    }""")
    await page.wait_for_selector("#messages li.me button.retry")
    failed = await page.locator("#messages li.me button.retry").count()
    assert failed >= 1

    await asyncio.sleep(1.5)  # the bucket refills
    for _ in range(failed):
        await page.locator("#messages li.me button.retry").first.click()
        await asyncio.sleep(0.25)
    await page.wait_for_function(
        "() => document.querySelectorAll('#messages li.me button.retry').length === 0")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#messages li.me .meta')]"
        ".every(m => !m.classList.contains('failed'))")
    r = aioredis.from_url(redis_proc.url)
    assert await r.xlen(f"c:{{{cid}}}:l") == 26  # every message stored, each once
    await r.aclose()
