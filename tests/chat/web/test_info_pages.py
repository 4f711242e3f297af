"""Information pages over real sockets: leads of the service edit them (CSRF, audited), anyone
reads them in three languages, sanitised; oversized pages are refused with a stable code."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from chat.client.protocol import nurse_login
from chat.domain.infopage import MAX_MARKDOWN
from chat.store import names as keys
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.domain.test_infopage import XSS, elements
from tests.chat.web.dashboard_fixtures import csrf_of, write_dash_config
from tests.conftest import DEMO_PASSWORD, start_clean_web


@pytest.fixture(scope="module")
def info_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("info")
    write_dash_config(d)
    return d


@pytest.fixture(scope="module")
async def iweb(redis_proc: RedisProcess, info_dir: Path) -> AsyncIterator[WebProcess]:
    proc = await start_clean_web(redis_proc.url, info_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


def _form(csrf: str, slug: str, action: str = "save", service: str = "dash-skole",
          **texts: str) -> dict[str, str]:
    data = {"csrf": csrf, "service": service, "slug": slug, "position": "10", "action": action,
            "title_nb": "Tittel", "md_nb": "Tekst på bokmål.", "title_nn": "", "md_nn": "",
            "title_en": "", "md_en": ""}
    data.update(texts)
    return data


async def _lead(base: str) -> tuple[httpx.AsyncClient, str]:
    cookie = await nurse_login(base, "demo.lead", DEMO_PASSWORD)
    http = httpx.AsyncClient(base_url=base, cookies={"hp_session": cookie},
                             follow_redirects=False)
    return http, await csrf_of(base, cookie)


def _main(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


async def test_a_lead_saves_and_anyone_reads_in_three_languages(iweb: WebProcess) -> None:
    http, csrf = await _lead(iweb.base)
    async with http:
        saved = await http.post("/lead/info", data=_form(
            csrf, "kontakt", title_nb="Slik når du oss", md_nb="Ring **oss**.",
            title_nn="Slik når du oss (nn)", md_nn="Ring *oss*.",
            title_en="How to reach us", md_en="Call [us](tel:+4740000000)."))
        assert saved.status_code == 303
        listed = await http.get("/lead/info")
        assert "Slik når du oss" in listed.text
        audit = (await http.get("/api/lead/audit?service=dash-skole")).json()["entries"]
    assert any(e["action"] == "info_save" and e["actor"] == "demo.lead"
               and e["detail"] == "kontakt" for e in audit)
    async with httpx.AsyncClient(base_url=iweb.base) as anon:
        nb = await anon.get("/s/dash-skole/info/kontakt")
        nn = await anon.get("/s/dash-skole/info/kontakt?lang=nn")
        en = await anon.get("/s/dash-skole/info/kontakt", headers={"accept-language": "en"})
        index = await anon.get("/s/dash-skole/info?lang=en")
        start = await anon.get("/s/dash-skole")
    assert nb.status_code == nn.status_code == en.status_code == 200
    assert '<html lang="nb"' in nb.text and "<strong>oss</strong>" in nb.text
    assert '<html lang="nn"' in nn.text and "Slik når du oss (nn)" in nn.text
    assert "<em>oss</em>" in nn.text
    assert '<html lang="en"' in en.text and '<a href="tel:+4740000000">us</a>' in en.text
    assert 'href="/s/dash-skole/info/kontakt?lang=en"' in index.text
    assert ">How to reach us</a>" in index.text
    assert 'href="/s/dash-skole/info?lang=nb"' in start.text
    assert "content-security-policy" in nb.headers


async def test_a_missing_language_falls_back_to_bokmal(iweb: WebProcess) -> None:
    http, csrf = await _lead(iweb.base)
    async with http:
        assert (await http.post("/lead/info", data=_form(
            csrf, "bare-bokmal", title_nb="Bare bokmål", md_nb="Hei."))).status_code == 303
    async with httpx.AsyncClient(base_url=iweb.base) as anon:
        en = await anon.get("/s/dash-skole/info/bare-bokmal?lang=en")
    assert '<html lang="en"' in en.text
    assert '<article class="info-page" lang="nb">' in en.text and "Bare bokmål" in en.text
    assert "This page is only available in Norwegian" in en.text


async def test_script_and_dangerous_links_are_sanitised(iweb: WebProcess) -> None:
    http, csrf = await _lead(iweb.base)
    hostile = "\n\n".join(XSS)
    async with http:
        preview = await http.post("/lead/info", data=_form(
            csrf, "xss", action="preview", md_nb=hostile, md_en=hostile, title_en="XSS"))
        assert preview.status_code == 200
        saved = await http.post("/lead/info", data=_form(csrf, "xss", md_nb=hostile))
        assert saved.status_code == 303
    async with httpx.AsyncClient(base_url=iweb.base) as anon:
        page = await anon.get("/s/dash-skole/info/xss")
    for got in (page.text, preview.text):
        body = _main(got)
        start = body.index('<div class="info-body">')
        for tag, attrs in elements(body[start:]):
            assert tag not in ("script", "img", "svg", "iframe", "details"), tag
            assert not any(a.startswith("on") or a == "style" for a in attrs), attrs
            assert not attrs.get("href", "").lower().startswith(("javascript", "data", "vbscript"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # shown as text, not run


async def test_oversized_pages_are_refused(iweb: WebProcess, r: aioredis.Redis) -> None:
    http, csrf = await _lead(iweb.base)
    async with http:
        too_long = await http.post("/lead/info", data=_form(
            csrf, "lang-side", md_en="x" * (MAX_MARKDOWN + 1), title_en="Long"))
        assert too_long.status_code == 413
        assert 'data-code="page_too_large"' in too_long.text
        assert "Siden er for lang" in too_long.text
        # What the lead wrote is still in the form, to shorten.
        assert "x" * 100 in too_long.text
        huge = await http.post("/lead/info", data=_form(csrf, "lang-side",
                                                        md_nb="y" * 400_000))
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "body_too_large"
        bad = await http.post("/lead/info", data=_form(csrf, "Ikke gyldig!"))
        assert bad.status_code == 400 and 'data-code="bad_info_page"' in bad.text
        # A new page at an address already taken does not replace that page.
        assert (await http.post("/lead/info", data=_form(csrf, "opptatt"))).status_code == 303
        again = await http.post("/lead/info", data=_form(csrf, "opptatt", md_nb="Ny tekst."))
        assert again.status_code == 400 and 'data-code="bad_info_page"' in again.text
        edited = await http.post("/lead/info", data={**_form(csrf, "opptatt", md_nb="Ny tekst."),
                                                      "exists": "1"})
        assert edited.status_code == 303
    assert not await r.hexists(keys.info_pages("dash-skole"), "lang-side")


async def test_only_the_services_leads_may_edit(iweb: WebProcess, r: aioredis.Redis) -> None:
    nurse_cookie = await nurse_login(iweb.base, "demo.nurse", DEMO_PASSWORD)
    nurse_csrf = await csrf_of(iweb.base, nurse_cookie)
    async with httpx.AsyncClient(base_url=iweb.base, cookies={"hp_session": nurse_cookie},
                                 follow_redirects=False) as nurse:
        assert (await nurse.get("/lead/info")).status_code == 403
        assert (await nurse.get("/lead/info/edit?service=dash-skole")).status_code == 403
        assert (await nurse.post("/lead/info", data=_form(nurse_csrf, "nurse"))).status_code == 403
    http, csrf = await _lead(iweb.base)
    async with http:
        other = await http.post("/lead/info", data=_form(csrf, "other", service="dash-hfu"))
        assert other.status_code == 403
        assert (await http.get("/lead/info/edit?service=dash-hfu")).status_code == 403
        no_csrf = await http.post("/lead/info", data=_form("wrong", "nocsrf"))
        assert no_csrf.status_code == 403
    async with httpx.AsyncClient(base_url=iweb.base, follow_redirects=False) as anon:
        assert (await anon.post("/lead/info", data=_form(csrf, "anon"))).status_code == 303
        assert (await anon.get("/lead/info")).status_code == 303
    stored = await r.hkeys(keys.info_pages("dash-skole")) + await r.hkeys(keys.info_pages("dash-hfu"))
    assert not {"nurse", "other", "nocsrf", "anon"} & set(stored)


async def test_remove_is_audited_and_the_page_is_gone(iweb: WebProcess) -> None:
    http, csrf = await _lead(iweb.base)
    async with http:
        await http.post("/lead/info", data=_form(csrf, "borte"))
        edit = await http.get("/lead/info/edit?service=dash-skole&slug=borte")
        assert edit.status_code == 200 and html.escape("Tekst på bokmål.") in edit.text
        gone = await http.post("/lead/info", data={"csrf": csrf, "service": "dash-skole",
                                                   "slug": "borte", "action": "remove"})
        assert gone.status_code == 303
        audit = (await http.get("/api/lead/audit?service=dash-skole")).json()["entries"]
    assert any(e["action"] == "info_remove" and e["detail"] == "borte" for e in audit)
    async with httpx.AsyncClient(base_url=iweb.base) as anon:
        assert (await anon.get("/s/dash-skole/info/borte")).status_code == 404
        assert (await anon.get("/s/nope/info")).status_code == 404
        assert (await anon.get("/s/dash-skole/info/" + "x" * 300)).status_code == 404
        empty = await anon.get("/s/dash-hfu/info")
        start = await anon.get("/s/dash-hfu")
    assert empty.status_code == 200 and "har ikke lagt ut informasjon" in empty.text
    assert not re.search(r'href="/s/dash-hfu/info', start.text)
