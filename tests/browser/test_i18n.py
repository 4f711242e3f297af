"""Catalogs: every template string has a real nynorsk and English translation, and pages use them.

The catalog checks read files only (no browser); the rendering checks drive Chromium.
"""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from playwright.async_api import Page

from chat import i18n
from tests.browser.conftest import PHONE, Factory
from tests.conftest import ROOT

LOCALE = ROOT / "chat" / "locale"
TRANSLATED = ["nn", "en"]


def catalog(lang: str) -> Catalog:
    path = LOCALE / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def template_msgids() -> set[str | tuple[str, ...]]:
    found = extract_from_dir(
        str(ROOT / "chat" / "templates"),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {msgid for _file, _line, msgid, _comments, _ctx in found}


def test_every_language_has_a_catalog() -> None:
    for lang in i18n.LANGUAGES:
        assert (LOCALE / lang / "LC_MESSAGES" / "messages.po").is_file(), lang


def test_catalogs_cover_every_template_string() -> None:
    """Run `make i18n-update` after changing a template; this fails until you have."""
    wanted = template_msgids()
    assert len(wanted) > 50
    for lang in i18n.LANGUAGES:
        have = {m.id for m in catalog(lang) if m.id}
        missing = sorted(map(str, wanted - have))
        assert not missing, f"{lang}: not in the catalog (run `make i18n-update`): {missing}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_msgid_translated_without_fuzzy(lang: str) -> None:
    problems = []
    cat = catalog(lang)
    for m in cat:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {m.id!r}")
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
    # Placeholders (%(num)d, {pos}) must survive translation.
    for message, errors in cat.check():
        problems += [f"{message.id!r}: {e}" for e in errors]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_differ_from_bokmal(lang: str) -> None:
    """A catalog that copied the bokmål through would pass the emptiness check; it must not."""
    cat = catalog(lang)
    messages = [m for m in cat if m.id and isinstance(m.id, str) and len(m.id) > 25]
    same = [m.id for m in messages if m.string == m.id]
    assert len(same) <= len(messages) // 10, same


def test_compiled_catalogs_exist() -> None:
    for lang in TRANSLATED:
        mo = LOCALE / lang / "LC_MESSAGES" / "messages.mo"
        po = LOCALE / lang / "LC_MESSAGES" / "messages.po"
        assert mo.is_file(), f"{mo} missing: run `make i18n-compile`"
        assert mo.stat().st_mtime >= po.stat().st_mtime - 1, f"{mo} is older than {po}: `make i18n-compile`"


EXPECTED = {
    # path: {lang: text that must appear in the <h1>}
    "/": {"nb": "Chat med helsesykepleier", "nn": "Chat med helsesjukepleiar", "en": "Chat with a school nurse"},
    "/personvern": {"nb": "Personvern: hva skjer", "nn": "Personvern: kva skjer", "en": "Privacy: what happens"},
    "/s/closed-clinic": {"nb": "Stengt klinikk", "nn": "Stengt klinikk", "en": "Stengt klinikk"},
}
STATUS = {"nb": "Chatten er stengt nå.", "nn": "Chatten er stengd no.", "en": "The chat is closed right now."}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
async def test_pages_render_in_the_chosen_language(phone: Page, lang: str) -> None:
    for path, texts in EXPECTED.items():
        await phone.goto(f"{path}?lang={lang}")
        assert await phone.evaluate("document.documentElement.lang") == lang
        assert texts[lang] in (await phone.locator("h1").inner_text())
    assert STATUS[lang] in await phone.locator(".status.closed").inner_text()
    # The language links keep the page and mark the current language.
    current = phone.locator(".langs a[aria-current]")
    assert await current.get_attribute("lang") == lang
    assert await current.get_attribute("href") == f"/s/closed-clinic?lang={lang}"
    # Strings the page's script shows later are translated too (data-t-*).
    await phone.goto(f"/s/demo-skole?lang={lang}")
    closed = await phone.locator("#app").get_attribute("data-t-closed")
    want = {"nb": "Samtalen er avsluttet.", "nn": "Samtalen er avslutta.", "en": "The conversation has ended."}
    assert closed == want[lang]


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "lang"), [("nn-NO", "nn"), ("en-GB", "en"), ("nb-NO", "nb")])
async def test_browser_language_is_the_default(new_context: Factory, locale: str, lang: str) -> None:
    context, _ = await new_context(**{**PHONE, "locale": locale})
    page = await context.new_page()
    await page.goto("/")
    assert await page.evaluate("document.documentElement.lang") == lang


@pytest.mark.browser
async def test_language_links_lead_to_translated_pages(phone: Page) -> None:
    await phone.goto("/personvern")
    await phone.locator(".langs a[lang='en']").click()
    await phone.wait_for_url("**/personvern?lang=en")
    assert await phone.evaluate("document.documentElement.lang") == "en"
    assert "Privacy" in await phone.locator("h1").inner_text()
    # Links onwards keep the language (no cookie carries it).
    assert await phone.locator("a.brand").get_attribute("href") == "/?lang=en"
    assert await phone.locator("footer a[href^='/personvern']").get_attribute("href") == "/personvern?lang=en"
