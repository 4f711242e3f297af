"""Languages: Norwegian bokmål (default), nynorsk and English, through Babel catalogs.

One Jinja2 environment per language (three, built lazily) keeps the per-request work to picking
one. Catalogs live in chat/locale/<lang>/LC_MESSAGES/messages.po and are compiled by the Makefile.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

LANGUAGES = {"nb": "Norsk bokmål", "nn": "Norsk nynorsk", "en": "English"}
DEFAULT = "nb"
LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATE_DIR = Path(__file__).parent / "templates"


def pick_language(query: str | None, accept: str | None) -> str:
    """Explicit choice (``?lang=``) wins; then the browser's list; then bokmål.

    No cookie: anonymous youths get none, so the choice travels in links instead.
    """
    if query in LANGUAGES:
        return query
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag in ("nb", "no", "nb-no", "no-no"):
            return "nb"
        if tag in ("nn", "nn-no"):
            return "nn"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


@cache
def translations(lang: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [lang], domain="messages")


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)
