"""Information pages in real Chromium: a lead writes a page full of script through the form,
and the anonymous page runs none of it (no dialog, no CSP violation, nothing in the DOM); the
demo pages read well on a 360 px phone in three languages, with axe-core clean."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from chat.domain.infopage import SUGGESTED_SLUGS
from chat.store.client import connect
from devservices.demo import ensure_demo_pages
from devservices.webproc import WebProcess
from tests.browser.conftest import DESKTOP, PHONE, Factory, axe_violations, describe
from tests.chat.domain.test_infopage import XSS
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# Set up before any page script: every CSP violation and every error the page reports.
WATCH_JS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""

# What a sanitised body must not hold, whatever the lead wrote.
DANGER_JS = """() => {
  const body = document.querySelector('.info-body');
  const bad = [...body.querySelectorAll('script, img, svg, iframe, object, embed, details, style')]
    .map((e) => e.tagName);
  for (const e of body.querySelectorAll('*')) {
    for (const a of e.attributes) {
      if (a.name.startsWith('on') || a.name === 'style') bad.push(e.tagName + '@' + a.name);
    }
  }
  for (const a of body.querySelectorAll('a[href]')) {
    if (!['http:', 'https:', 'mailto:', 'tel:'].includes(new URL(a.href).protocol)) bad.push(a.href);
  }
  return bad;
}"""


async def _watched(page: Page) -> tuple[list[str], list[str]]:
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.add_init_script(WATCH_JS)
    return dialogs, errors


async def _lead_saves(new_context: Factory, slug: str, markdown: str) -> None:
    context, _ = await new_context(**DESKTOP)
    page = await context.new_page()
    dialogs, _ = await _watched(page)
    await page.goto("/nurse/login?lang=nb")
    await page.fill("#username", "demo.lead")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url("**/nurse*")
    await page.goto("/lead/info?lang=nb")
    await page.click("#info-demo-skole a:text('egen side')")
    await page.fill("#slug", slug)
    await page.fill("#title_nb", "Prøveside")
    await page.fill("#md_nb", markdown)
    await page.fill("#title_en", "Test page")
    await page.fill("#md_en", markdown)
    await page.click("button[value=preview]")
    await page.wait_for_selector(".info-preview")
    assert await page.evaluate(DANGER_JS) == []
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await page.click("button[value=save]")
    await page.wait_for_url("**/lead/info?*saved=*")
    assert await page.inner_text(f"#info-demo-skole a[href*='slug={slug}']") == "Prøveside"
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    assert dialogs == []


async def test_a_page_with_script_runs_none_of_it(new_context: Factory) -> None:
    hostile = "\n\n".join(XSS) + "\n\n[trygg lenke](https://example.no)"
    await _lead_saves(new_context, "xss-prove", hostile)
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    dialogs, errors = await _watched(page)
    for lang in ("nb", "en"):
        await page.goto(f"/s/demo-skole/info/xss-prove?lang={lang}")
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate(DANGER_JS) == []
        assert await page.evaluate("window.__csp") == []
        assert "<script>alert(1)</script>" in await page.inner_text(".info-body")
        rel = await page.get_attribute(".info-body a[href='https://example.no']", "rel")
        assert rel == "noopener noreferrer"
    assert dialogs == [] and errors == []
    # The listener hears the CSP: an inline script added now is refused and reported.
    await page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'alert(2)'; document.body.append(s); }""")
    await page.wait_for_function("window.__csp.length > 0")
    assert dialogs == []


async def _layout(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("""() => ({
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        lang: document.documentElement.lang,
        h1: document.querySelector('h1').textContent})""")
    return result


async def test_demo_pages_in_three_languages_on_a_phone(new_context: Factory,
                                                        site: WebProcess) -> None:
    redis = connect(site.redis_url)
    await ensure_demo_pages(redis, ["demo-skole"])
    await redis.aclose()
    context, _ = await new_context(**PHONE)
    page = await context.new_page()
    dialogs, errors = await _watched(page)
    await page.goto("/s/demo-skole?lang=nb")
    await page.click("a[href^='/s/demo-skole/info']")
    await page.wait_for_url("**/s/demo-skole/info?lang=nb")
    links = await page.eval_on_selector_all(".info-list a", "(as) => as.map((a) => a.pathname)")
    assert [p.rsplit("/", 1)[1] for p in links if not p.endswith("xss-prove")] == list(SUGGESTED_SLUGS)
    titles = {"nb": "Vaksiner på skolen", "nn": "Vaksinar på skulen", "en": "Vaccines at school"}
    for lang, title in titles.items():
        await page.goto(f"/s/demo-skole/info/skolevaksiner?lang={lang}")
        layout = await _layout(page)
        assert layout["lang"] == lang and layout["h1"] == title
        assert layout["overflow"] <= 0, layout  # the wide table scrolls inside itself
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
    await page.goto("/s/demo-skole/info/kontakt?lang=nn")
    assert await page.get_attribute("a:text('400 00 000')", "href") == "tel:+4740000000"
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    assert dialogs == [] and errors == [] and await page.evaluate("window.__csp") == []
