"""Resume-code guessing over real sockets: the attempt limit holds under concurrency (counted
before the slow check, atomically), and an unknown handle is answered exactly like a known one
with wrong secret words, after the same argon2 work (the web process logs one line per argon2
verification, which is what these tests count; nothing in the line names the handle)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from anon.resume import new_resume_code, parse_resume_code
from chat.client.protocol import ProtocolClient, youth_start
from chat.crypto.resume import resume_auth
from devservices.webproc import WebProcess
from tests.conftest import start_clean_web
from tests.servers import BASE_SERVICES, FAST_LIMITS, write_test_config

LIMIT = 5  # resume_attempts_per_conversation (the default)
VERIFIED = "resume code verified"


@pytest.fixture
async def roomy_web(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebProcess]:
    """The per-client hourly limit out of the way, so only the per-code limit decides."""
    d = tmp_path_factory.mktemp("web-resume")
    write_test_config(d, FAST_LIMITS + "resume_attempts_per_client_per_hour = 1000\n"
                      + BASE_SERVICES)
    proc = await start_clean_web(redis_url, d)
    yield proc
    await asyncio.to_thread(proc.stop)


def verifications(web: WebProcess) -> int:
    count = 0
    for line in web.log_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        count += isinstance(record, dict) and record.get("msg") == VERIFIED
    return count


async def attempt(web: WebProcess, handle: str, auth: str) -> dict[str, Any]:
    c = await ProtocolClient.open(web.base.replace("http", "ws") + "/ws/youth")
    try:
        await c.send({"type": "resume_code", "handle": handle, "auth": auth})
        return await c.expect("error", timeout=30)
    finally:
        await c.close()


async def known_handle(web: WebProcess) -> tuple[str, str]:
    """A conversation with a resume code; returns (handle, the right auth)."""
    y, session = await youth_start(web.base, "demo-skole", resume_code=True)
    await y.close()
    assert session.resume_code
    code = parse_resume_code(session.resume_code)
    assert code is not None
    return code.handle_text, resume_auth(code.secret_text)


def wrong_auth() -> str:
    return resume_auth(new_resume_code().secret_text)


async def test_concurrent_guesses_are_verified_at_most_the_limit(roomy_web: WebProcess) -> None:
    handle, right = await known_handle(roomy_web)
    before = verifications(roomy_web)
    answers = await asyncio.gather(*(attempt(roomy_web, handle, wrong_auth()) for _ in range(30)))
    codes = sorted(a["code"] for a in answers)
    assert codes == ["bad_resume_code"] * LIMIT + ["too_many_attempts"] * (30 - LIMIT)
    assert verifications(roomy_web) - before == LIMIT
    # Locked now, for the right code too, and without verifying it.
    assert (await attempt(roomy_web, handle, right))["code"] == "too_many_attempts"
    assert verifications(roomy_web) - before == LIMIT


async def test_an_unknown_handle_is_answered_like_a_known_one_with_wrong_words(
    roomy_web: WebProcess,
) -> None:
    known, _ = await known_handle(roomy_web)
    unknown = new_resume_code().handle_text
    results: dict[str, tuple[list[dict[str, Any]], int]] = {}
    for name, handle in (("known", known), ("unknown", unknown)):
        before = verifications(roomy_web)
        answers = [await attempt(roomy_web, handle, wrong_auth()) for _ in range(LIMIT + 1)]
        results[name] = answers, verifications(roomy_web) - before
    known_answers, known_checks = results["known"]
    unknown_answers, unknown_checks = results["unknown"]
    assert [a["code"] for a in known_answers] == ["bad_resume_code"] * LIMIT + ["too_many_attempts"]
    assert unknown_answers == known_answers  # code, message, every field
    # The same argon2 work for both: one verification per try until the limit.
    assert known_checks == unknown_checks == LIMIT


async def test_the_right_code_still_works_and_clears_the_count(roomy_web: WebProcess) -> None:
    handle, right = await known_handle(roomy_web)
    for _ in range(LIMIT - 1):
        assert (await attempt(roomy_web, handle, wrong_auth()))["code"] == "bad_resume_code"
    c = await ProtocolClient.open(roomy_web.base.replace("http", "ws") + "/ws/youth")
    await c.send({"type": "resume_code", "handle": handle, "auth": right, "after": 0})
    assert (await c.expect("resumed"))["conversation"]
    await c.close()
    # The count started again: a full set of tries before the lock.
    for _ in range(LIMIT):
        assert (await attempt(roomy_web, handle, wrong_auth()))["code"] == "bad_resume_code"
    assert (await attempt(roomy_web, handle, wrong_auth()))["code"] == "too_many_attempts"
