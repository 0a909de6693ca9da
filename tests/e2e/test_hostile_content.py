"""Hostile paper content ends up inert in every page, feed and the sitemap.

A curator's (or a dump's) text may hold <script>, event-handler attributes,
javascript: links and bidi override characters. After a build no output may carry an
executable script, an on* attribute or a javascript:/vbscript:/data: link that came
from the content, and no title may hold a bidi control.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.minisite import build_project, paper_text

pytestmark = pytest.mark.e2e

RLO, PDF = "\u202e", "\u202c"
TITLE = f"<script>alert('t')</script> Evil {RLO}txet desrever{PDF} <img src=x onerror=alert(1)>"
ABSTRACT = f"""Abstract <script>alert(2)</script> with <img src=x onerror="alert(3)">,
<a href="javascript:alert(4)">raw link</a>, [md link](javascript:alert(5)),
[mixed case](JaVaScRiPt:alert(6)), [spaced](java%0ascript:alert(7)),
[vb](vbscript:msgbox(8)), [data](data:text/html;base64,PHNjcmlwdD5hbGVydCg5KTwvc2NyaXB0Pg==),
<svg onload=alert(10)>, <iframe src="javascript:alert(11)"></iframe>,
![img](javascript:alert(12)) and {RLO}reversed{PDF} text about data selection."""
NOTE = f"[click](javascript:alert(13)) <script>alert(14)</script> <b onclick=alert(15)>b</b> {RLO}x"
SUBMITTER = f"<b onmouseover=alert(16)>Org</b>{RLO}"
# What BibTeX, JSON and XML writers must survive, and invisible controls at the very start
# of the abstract, so they reach the summary (<meta name="description">, og:description).
TEX_TITLE = ("Unbalanced { and } 100% \\LaTeX $x^2$ & #1 a_b ~c ^d \u4e2d\u6587\u6807\u9898 "
             + RLO + "end")
TEX_ABSTRACT = (f"{RLO}\u2066\u200f\x07\x1b Invisible controls first. Costs 10^{{23}} FLOPs, "
                "50% of {data} with \\emph{x} & y_i ~ z^2 and $\\alpha$ about data selection.")
# Invisible characters a test may find (a pattern of its own, not the package's).
INVISIBLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e"
                          "\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
URL_ATTRS = ("href", "src", "action", "formaction", "poster", "data", "srcset")
UNSAFE_URL = re.compile(r"^(javascript|vbscript|data):", re.I)
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    evil = paper_text("00000000-0000-4000-8000-0000000000ee", TITLE, ABSTRACT, "2024-03-07",
                      note=NOTE, submitter=SUBMITTER)
    tex = paper_text("00000000-0000-4000-8000-0000000000ef", TEX_TITLE, TEX_ABSTRACT,
                     "2024-03-08")
    return build_project(tmp_path_factory.mktemp("hostile"), {"evil-paper": evil,
                                                                "tex-paper": tex})


def unsafe_in_html(document: Any, where: str) -> Iterator[str]:
    """Executable bits in a parsed HTML document, HTML fragment or XML (XHTML) document."""
    from lxml import etree

    for element in document.iter(etree.Element):
        tag = etree.QName(element).localname
        if tag == "script" and element.get("type") == "application/ld+json":
            # A data block, never run; it must stay JSON and must not close early.
            try:
                json.loads(element.text or "")
            except ValueError:
                yield f"{where}: JSON-LD that is not JSON: {(element.text or '')[:80]!r}"
            if "<" in (element.text or ""):
                yield f"{where}: JSON-LD holding '<': {(element.text or '')[:80]!r}"
            continue
        if tag == "script" and "alert" in (element.text or "") + (element.get("src") or ""):
            yield f"{where}: <script> from the content: {etree.tostring(element)[:80]!r}"
        for name, value in element.attrib.items():
            name = etree.QName(name).localname.lower()
            if name.startswith("on"):
                yield f"{where}: <{tag} {name}={value!r}>"
            if name in URL_ATTRS and UNSAFE_URL.match(re.sub(r"[\x00-\x20]", "", value)):
                yield f"{where}: <{tag} {name}={value!r}>"


def html_fields(feed: Any) -> Iterator[str]:
    """The parts of an RSS or Atom feed that readers render as HTML."""
    for element in feed.iter():
        tag = str(element.tag)
        atom_html = tag.startswith(ATOM) and element.get("type") == "html"
        if atom_html or tag in ("description", CONTENT_ENCODED):
            yield element.text or ""


def test_no_executable_content_in_pages(hostile_site: Path) -> None:
    from lxml import html

    pages = sorted(hostile_site.rglob("*.html"))
    paper = hostile_site / "papers/evil-paper/index.html"
    assert paper in pages and "Evil" in paper.read_text("utf-8")
    found = [problem for page in pages for problem in unsafe_in_html(
        html.parse(str(page)).getroot(), str(page.relative_to(hostile_site)))]
    assert not found, "\n".join(found)
    for page in pages:
        text = page.read_text("utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text, page


def test_no_executable_content_in_feeds(hostile_site: Path) -> None:
    """Readers render RSS <description>, <content:encoded> and Atom type="html" text as
    HTML: once unescaped, that markup must be inert too (plain text needs escaping there)."""
    from lxml import etree, html

    feeds = sorted(hostile_site.rglob("*.xml"))
    evil = [f for f in feeds if "Evil" in f.read_text("utf-8")]
    assert len(evil) >= 2, "the hostile paper should be in the RSS and Atom feeds"
    found: list[str] = []
    for feed in feeds:
        where = str(feed.relative_to(hostile_site))
        document = etree.parse(str(feed)).getroot()
        found += unsafe_in_html(document, where)  # inline XHTML, if any
        for markup in html_fields(document):
            if markup.strip():
                found += unsafe_in_html(html.fragment_fromstring(markup, create_parent="div"),
                                        where)
    assert not found, "\n".join(found)


def test_sitemap_and_robots_are_plain(hostile_site: Path) -> None:
    for name in ("sitemap.xml", "robots.txt", "feeds.opml"):
        text = (hostile_site / name).read_text("utf-8")
        assert "<script" not in text.lower() and "javascript:" not in text.lower(), name
        assert RLO not in text, name


def test_titles_hold_no_bidi_controls(hostile_site: Path) -> None:
    from lxml import etree, html

    titles: list[tuple[str, str]] = []
    for page in sorted(hostile_site.rglob("*.html")):
        root = html.parse(str(page)).getroot()
        titles += [(str(page), e.text_content()) for e in root.iter("title", "h1", "h2", "h3")]
        titles += [(str(page), m.get("content", "")) for m in root.iter("meta")
                   if m.get("property") == "og:title"]
    for feed in sorted(hostile_site.rglob("*.xml")):
        titles += [(str(feed), e.text or "") for e in etree.parse(str(feed)).iter()
                   if str(e.tag).endswith("title")]
    assert any("txet desrever" in text for _, text in titles)
    bad = [f"{where}: {text!r}" for where, text in titles if RLO in text or PDF in text]
    assert not bad, "\n".join(bad)


def test_no_bidi_controls_anywhere(hostile_site: Path) -> None:
    """Not in titles, and not in descriptions, summaries or notes either."""
    bad = [str(p.relative_to(hostile_site)) for p in sorted(hostile_site.rglob("*"))
           if p.is_file() and p.suffix in (".html", ".xml", ".opml", ".json", ".bib", ".txt")
           and INVISIBLE_RE.search(p.read_text("utf-8", "replace"))]
    assert not bad, f"invisible controls left in: {', '.join(bad)}"


def test_attribute_values_hold_no_invisible_controls(hostile_site: Path) -> None:
    """Every attribute of every page, as a browser or Zotero reads them (lxml)."""
    from lxml import etree, html

    paper = html.parse(str(hostile_site / "papers/tex-paper/index.html")).getroot()
    description = paper.xpath("string(//meta[@name='description']/@content)")
    assert description.startswith("Invisible controls first."), description
    bad = []
    for page in sorted(hostile_site.rglob("*.html")):
        for element in html.parse(str(page)).getroot().iter(etree.Element):
            bad += [f"{page.relative_to(hostile_site)}: <{element.tag} {name}={value!r}>"
                    for name, value in element.attrib.items() if INVISIBLE_RE.search(value)]
    assert not bad, "\n".join(bad)
