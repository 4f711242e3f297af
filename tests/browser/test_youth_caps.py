"""A youth whose conversation is full is told so in words, in the page's language, and the
message shows as not sent (real Chromium, a real web process with a small cap)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.browser.conftest import PHONE, Factory, axe_violations
from tests.conftest import start_clean_web
from tests.servers import TEST_SERVICES, write_test_config

pytestmark = pytest.mark.browser

CAP = 2
FULL = {
    "nb": "Samtalen har nådd grensen for hvor lang den kan bli.",
    "nn": "Samtalen har nådd grensa for kor lang han kan bli.",
    "en": "This conversation has reached its length limit.",
}


@pytest.fixture(scope="module")
async def site(
    redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebProcess]:
    data: Path = tmp_path_factory.mktemp("web-small-cap")
    write_test_config(data, TEST_SERVICES.replace(
        "max_messages_per_conversation = 100000", f"max_messages_per_conversation = {CAP}"))
    proc = await start_clean_web(redis_proc.url, data)
    yield proc
    await asyncio.to_thread(proc.stop)


@pytest.mark.parametrize("lang", sorted(FULL))
async def test_a_full_conversation_is_said_in_words(new_context: Factory, lang: str) -> None:
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"/s/demo-skole?lang={lang}")
    await page.click("#start")
    await page.wait_for_selector("#chat-view:not([hidden])")
    for i in range(CAP + 1):
        await page.fill("#message", f"melding {i}")
        await page.locator("#composer").evaluate("f => f.requestSubmit()")
        if i < CAP:
            await page.wait_for_function(
                "n => document.querySelectorAll('#messages li.me').length === n "
                "&& ![...document.querySelectorAll('#messages li.me .meta')]"
                ".some(m => m.textContent.endsWith('…'))", arg=i + 1)
    await page.wait_for_selector("#messages li.me .meta.failed")
    # Beside the unsent message, where the queue's status updates cannot overwrite it.
    failed = page.locator("#messages li.me .meta.failed")
    assert (await failed.text_content() or "").startswith(FULL[lang])
    assert await axe_violations(page) == []
    await context.close()
