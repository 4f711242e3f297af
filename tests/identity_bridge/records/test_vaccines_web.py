""""Mine vaksiner" through the real web process and the real SYSVAK stand-in: the school
vaccines given and due, the registry's faults as a message with nothing shown, the access
log, and nothing of the vaccinations kept in Redis or the logs."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import redis.asyncio as aioredis

from devservices.redis_proc import RedisProcess
from devservices.sysvak.app import OTHER_PID
from identity_bridge import fnr
from tests.identity_bridge.web.conftest import redis_dump
from tests.identity_bridge.web.test_identity_web_flow import Browser
from tests.system.test_privacy import aof_text

from .conftest import (  # noqa: F401 - fixtures
    VaccineSite,
    fake_idp,
    logged_in,
    person,
    rp_key,
    rp_key_file,
    sysvak,
    vaccine_site,
)

# What a vaccination answer holds: none of it may be kept anywhere.
# The stand-in's vaccine names and ATC codes, whole: a bare "J07" turns up by chance in the
# random base64 of the AOF.
VACCINE_WORDS = ("Priorix", "Gardasil", "Boostrix", "Hexyon", "Tetravac",
                 "J07BD52", "J07BM03", "J07CA02", "J07CA09")


@pytest.fixture
def mode(vaccine_site: VaccineSite) -> Iterator[None]:  # noqa: F811
    yield
    vaccine_site.sysvak.set_mode("ok")


def school(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-vaccine="([^"]+)" data-state="([^"]+)"', html))


async def test_a_youth_of_15_sees_mmr_and_hpv_given_and_the_10th_grade_booster_due(
    vaccine_site: VaccineSite,  # noqa: F811
) -> None:
    youth = person(15)
    b = await logged_in(vaccine_site, youth.pid)
    try:
        r = await b.http.get("/mine/vaksiner", params={"lang": "nb"})
    finally:
        await b.aclose()
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert school(r.text) == {"mmr2": "given", "hpv": "given", "dtap-ipv": "due"}
    assert "Du skal få denne vaksinen i år, i 10. klasse." in r.text
    assert "Gardasil 9 (HPV)" in r.text and 'id="all-vaccines"' in r.text
    assert "fhi.no/va/barnevaksinasjonsprogrammet" in r.text
    assert "må foreldrene dine si ja" in r.text  # under 16: the parents consent


async def test_from_16_the_page_says_the_youth_decides_and_a_missed_vaccine_is_late(
    vaccine_site: VaccineSite,  # noqa: F811
) -> None:
    b = await logged_in(vaccine_site, person(17).pid)
    try:
        r = await b.http.get("/mine/vaksiner", params={"lang": "en"})
    finally:
        await b.aclose()
    # The stand-in leaves out the latest school vaccine reached: at 17 that is last year's.
    assert school(r.text) == {"mmr2": "given", "hpv": "given", "dtap-ipv": "due"}
    assert "You should have had it in grade 10" in r.text
    assert "decide yourself" in r.text
    assert "Measles, mumps and rubella (MMR), dose 2" in r.text


@pytest.mark.parametrize(("fault", "code"), [
    ("down", "registry_unavailable"),
    ("slow", "registry_unavailable"),
    ("malformed", "registry_malformed"),
    ("other_person", "registry_other_person"),
])
async def test_a_registry_fault_shows_a_message_and_no_vaccination(
    vaccine_site: VaccineSite, mode: None, fault: str, code: str,  # noqa: F811
) -> None:
    logged = vaccine_site.web.log_text().count(f'"code": "{code}"')
    b = await logged_in(vaccine_site, person(14).pid)
    try:
        vaccine_site.sysvak.set_mode(fault)
        r = await b.http.get("/mine/vaksiner", params={"lang": "nb"})
    finally:
        await b.aclose()
    assert r.status_code == 200
    assert f'data-code="{code}"' in r.text
    assert 'id="all-vaccines"' not in r.text and not school(r.text)
    for word in VACCINE_WORDS:
        assert word not in r.text
    assert OTHER_PID not in r.text
    # The operator's log says which fault, and nothing of the answer.
    assert vaccine_site.web.log_text().count(f'"code": "{code}"') == logged + 1


async def test_without_login_the_page_asks_for_one(vaccine_site: VaccineSite) -> None:  # noqa: F811
    anon = Browser(vaccine_site.web.base)
    try:
        r = await anon.http.get("/mine/vaksiner")
    finally:
        await anon.aclose()
    assert r.status_code == 200 and 'id="login"' in r.text and not school(r.text)


async def aof_with(redis_proc: RedisProcess, needle: str) -> str:
    """The AOF once it holds ``needle`` (writes reach it within a second: appendfsync)."""
    for _ in range(100):
        text = aof_text(redis_proc)
        if needle in text:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError("the AOF never showed the access log")


async def test_each_view_is_in_the_access_log_and_nothing_of_it_is_kept(
    vaccine_site: VaccineSite, redis_proc: RedisProcess,  # noqa: F811
) -> None:
    youth = person(16)
    b = await logged_in(vaccine_site, youth.pid)
    try:
        for _ in range(2):
            assert school((await b.http.get("/mine/vaksiner")).text)
    finally:
        await b.aclose()
    redis = aioredis.from_url(vaccine_site.web.redis_url, decode_responses=True)
    try:
        access = [k async for k in redis.scan_iter("yp:*:access")]
        entries = [json.loads(e) for k in access for e in await redis.lrange(k, 0, -1)]
    finally:
        await redis.aclose()
    assert len([e for e in entries if e["k"] == "vaksiner"]) >= 2
    assert all(set(e) == {"at", "k"} for e in entries)
    aof = await aof_with(redis_proc, access[0])
    dump = await redis_dump(vaccine_site.web.redis_url)
    logs = vaccine_site.web.log_text() + vaccine_site.sysvak.log_file.read_text(errors="replace")
    for key, text in dump:
        assert youth.pid not in key and youth.pid not in text, key
        for word in (*VACCINE_WORDS, "Meslinger"):
            assert word not in text, f"vaccine data under {key}"
    for word in (youth.pid, *VACCINE_WORDS):
        assert word not in logs
        assert word not in aof


async def test_under_12_the_registry_is_not_asked(vaccine_site: VaccineSite) -> None:  # noqa: F811
    child = fnr.make_classic(date.today() - timedelta(days=11 * 365 + 100), synthetic=True)
    b = await logged_in(vaccine_site, child)
    try:
        vaccine_site.sysvak.set_mode("malformed")  # would show as an error if it were asked
        r = await b.http.get("/mine/vaksiner")
    finally:
        vaccine_site.sysvak.set_mode("ok")
        await b.aclose()
    assert 'data-code="not_for_age"' in r.text and not school(r.text)
