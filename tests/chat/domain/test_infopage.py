"""Rendering and checking a service's information pages (no I/O)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chat.domain.infopage import (
    MAX_MARKDOWN,
    MAX_TITLE,
    InfoPage,
    PageProblem,
    PageText,
    check_page,
    render,
)

# Each vector, rendered, must leave nothing a browser would run or fetch.
XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[klikk](javascript:alert(1))",
    "[klikk](JaVaScRiPt:alert(1))",
    "[klikk](  javascript:alert(1))",
    "[klikk](&#106;avascript:alert(1))",
    "[klikk](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[klikk](vbscript:msgbox(1))",
    "[bilde](data:image/png;base64,iVBORw0KGgo=)",  # markdown-it lets this one through; nh3 not
    "<https://example.no/\"onmouseover=\"alert(1)>",
    "[x](file:///etc/passwd)",
    "[[inner](javascript:alert(1))](https://example.no)",
    "[a [b](javascript:alert(2))](javascript:alert(1))",
    "![bilde](https://evil.example/track.png)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](https://example.no \"title\" onmouseover=alert(1))",
    "<!-- <script>alert(1)</script> -->",
    "`<script>alert(1)</script>`",
    "<details open ontoggle=alert(1)>",
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


SAFE_TAGS = {"p", "a", "strong", "em", "code", "h2", "ul", "li", "br"}


@pytest.mark.parametrize("markdown", XSS)
def test_nothing_runs_or_fetches(markdown: str) -> None:
    for tag, attrs in elements(render(markdown)):
        assert tag in SAFE_TAGS, (markdown, tag)
        assert set(attrs) <= {"href", "rel"}, (markdown, attrs)
        href = attrs.get("href", "").strip().lower()
        assert href.startswith(("https:", "http:", "mailto:", "tel:", "/")) or ":" not in href, \
            (markdown, href)


def test_raw_html_is_shown_as_text() -> None:
    assert render("<b>hei</b>") == "<p>&lt;b&gt;hei&lt;/b&gt;</p>\n"


def test_links_kept_for_allowed_schemes_and_relative() -> None:
    html = render("[a](https://fhi.no) [b](skolevaksiner) [c](mailto:post@demo.no) "
                  "[d](tel:+4711611700) [e](/s/demo-skole) [f](http://example.no)")
    assert '<a href="https://fhi.no" rel="noopener noreferrer">a</a>' in html
    assert '<a href="http://example.no" rel="noopener noreferrer">f</a>' in html
    assert '<a href="skolevaksiner">b</a>' in html
    assert '<a href="mailto:post@demo.no">c</a>' in html
    assert '<a href="tel:+4711611700">d</a>' in html
    assert '<a href="/s/demo-skole">e</a>' in html


def test_a_dangerous_link_keeps_its_words_and_loses_its_address() -> None:
    html = render("[klikk her](javascript:alert(1))")
    assert "klikk her" in html and "<a" not in html
    nested = render("[[inner](javascript:alert(1))](https://example.no)")
    assert nested.count("<a ") == 1 and 'href="https://example.no"' in nested


def test_headings_move_below_the_page_title() -> None:
    html = render("# En\n\n## To\n\n###### Seks")
    assert "<h1" not in html
    assert "<h2>En</h2>" in html and "<h3>To</h3>" in html and "<h6>Seks</h6>" in html


def test_lists_tables_and_emphasis_survive() -> None:
    html = render("- **sterk** og *svak*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<ul>" in html and "<strong>sterk</strong>" in html and "<em>svak</em>" in html
    assert "<table>" in html and "<td>1</td>" in html


def _texts(**langs: tuple[str, str]) -> dict[str, PageText]:
    return {k: PageText(*v) for k, v in langs.items()}


def test_check_keeps_the_languages_given_and_requires_bokmal() -> None:
    page = check_page("kontakt", 10, _texts(nb=("Kontakt", "Ring oss."), nn=("", ""),
                                            en=("Contact", "Call us.")))
    assert set(page.texts) == {"nb", "en"}
    assert page.text("nn") == ("nb", PageText("Kontakt", "Ring oss."))
    assert page.text("en")[0] == "en"
    with pytest.raises(PageProblem) as e:
        check_page("kontakt", 10, _texts(en=("Contact", "Call us.")))
    assert e.value.kind == "invalid"
    with pytest.raises(PageProblem):
        check_page("kontakt", 10, _texts(nb=("", "text without a title")))


@pytest.mark.parametrize("slug", ["", "Kontakt", "../x", "a b", "-a", "a-", "x" * 49, "æ"])
def test_check_refuses_bad_slugs(slug: str) -> None:
    with pytest.raises(PageProblem) as e:
        check_page(slug, 10, _texts(nb=("T", "b")))
    assert e.value.kind == "invalid"


def test_check_refuses_oversized_text_and_title() -> None:
    assert isinstance(check_page("x", 1, _texts(nb=("T" * MAX_TITLE, "b" * MAX_MARKDOWN))),
                      InfoPage)
    for texts in (_texts(nb=("T", "b" * (MAX_MARKDOWN + 1))),
                  _texts(nb=("T" * (MAX_TITLE + 1), "b")),
                  _texts(nb=("T", "b"), en=("T", "b" * (MAX_MARKDOWN + 1)))):
        with pytest.raises(PageProblem) as e:
            check_page("x", 1, texts)
        assert e.value.kind == "too_large"


def test_check_refuses_positions_out_of_range_and_unknown_languages() -> None:
    for position in (-1, 1000):
        with pytest.raises(PageProblem):
            check_page("x", position, _texts(nb=("T", "b")))
    with pytest.raises(PageProblem):
        check_page("x", 1, {"nb": PageText("T", "b"), "de": PageText("T", "b")})
