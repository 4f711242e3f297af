"""A service's information pages: what one is, its limits, and turning its Markdown into HTML
that is safe to show anyone (docs/info-pages.md).

Leads write the pages; youths read them, logged in or not. The text is public information
about the service, never about a person. Rendering is two independent steps, so a gap in one
is closed by the other: markdown-it-py with raw HTML off (a ``<script>`` in the text stays
text) and its own link check, then nh3 with an allow-list of tags, attributes and URL schemes
(a ``javascript:`` or ``data:`` link loses its address). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

LANGS = ("nb", "nn", "en")
DEFAULT_LANG = "nb"
MAX_MARKDOWN = 16_000  # characters of Markdown per language
MAX_TITLE = 120
MAX_PAGES = 40  # per service
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?")

# The kinds of page every service is asked to publish, in the order the index shows them when
# their positions are equal. A lead may add others.
SUGGESTED_SLUGS = ("hva-skjer", "skolevaksiner", "seksuell-helse", "psykisk-helse", "kontakt")

# No images: a picture from another site would tell that site who reads the page, and the
# pages' CSP would block it anyway. No raw HTML reaches here; these are what Markdown makes.
_TAGS = {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "code", "pre",
         "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
_SCHEMES = {"http", "https", "mailto", "tel"}
_EXTERNAL_REL = "noopener noreferrer"


@dataclass(frozen=True)
class PageText:
    """One language of a page."""

    title: str
    markdown: str


@dataclass(frozen=True)
class InfoPage:
    slug: str
    position: int
    texts: dict[str, PageText]  # language -> text; bokmål is always there

    def text(self, lang: str) -> tuple[str, PageText]:
        """(the language shown, its text): the page's language, else bokmål."""
        if lang in self.texts:
            return lang, self.texts[lang]
        return DEFAULT_LANG, self.texts[DEFAULT_LANG]


class PageProblem(ValueError):
    """What is wrong with a page a lead sent: ``kind`` is "too_large" or "invalid"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def check_page(slug: str, position: int, texts: dict[str, PageText]) -> InfoPage:
    """The page, if it may be stored; a ``PageProblem`` says why not. Languages left empty are
    dropped (readers then get bokmål), bokmål itself is required."""
    if not SLUG.fullmatch(slug):
        raise PageProblem("invalid", "slug: lower-case letters, digits and hyphens")
    if not 0 <= position <= 999:
        raise PageProblem("invalid", "position: 0-999")
    kept: dict[str, PageText] = {}
    for lang, t in texts.items():
        if lang not in LANGS:
            raise PageProblem("invalid", f"unknown language {lang!r}")
        if len(t.markdown) > MAX_MARKDOWN or len(t.title) > MAX_TITLE:
            raise PageProblem("too_large", lang)
        title, body = t.title.strip(), t.markdown.strip()
        if title or body:
            if not title:
                raise PageProblem("invalid", f"title missing ({lang})")
            kept[lang] = PageText(title, body.replace("\r\n", "\n"))
    if DEFAULT_LANG not in kept:
        raise PageProblem("invalid", "the bokmål text is required")
    return InfoPage(slug, position, kept)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    return md


_MD = _markdown()


def _is_external(href: str) -> bool:
    return urlsplit(href).scheme in ("http", "https")


def _adjust(tokens: list[Token]) -> None:
    """Headings one level down (the page's title is its only h1), and external links marked."""
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(6, int(tok.tag[1]) + 1)}"
        if tok.children:
            _adjust(tok.children)
        if tok.type == "link_open" and _is_external(str(tok.attrGet("href") or "")):
            tok.attrSet("rel", _EXTERNAL_REL)


def render(markdown: str) -> str:
    """Markdown → sanitised HTML for a page body."""
    env: dict[str, object] = {}
    tokens = _MD.parse(markdown, env)
    _adjust(tokens)
    html = _MD.renderer.render(tokens, _MD.options, env)
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href"}},
                     tag_attribute_values={"a": {"rel": {_EXTERNAL_REL}}},
                     url_schemes=_SCHEMES, link_rel=None, strip_comments=True,
                     clean_content_tags={"script", "style"})
