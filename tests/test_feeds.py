"""Feeds: parsed back with feedparser, as a reader would."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.sax import saxutils

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_builder.build.pipeline import build_site
from site_builder.config import load_config
from site_builder.content import read_paper
from site_builder.ingest.merge import ingest
from site_builder.render import xmlescape
from site_builder.render.feeds import FALLBACK_DATE
from tests.conftest import dump_text

ENTRIES = [
    "Data Selection Alpha\n\nData selection for LLMs.\n\n  • 2 authors\n·\nMar 5, 2024",
    "Data Selection Beta\n\nMore data selection for code.\n\n  • 2 authors\n·\nMar 5, 2024 3",
    "Long-Context Gamma\n\nA long-context study.\n\n  • 1 author\n·\nJan 9, 2023",
    "Undated Long Context Delta\n\nLong context, no date at all.",
    "Newest Data Selection\n\nThe newest data selection work.\n\n  • 4 authors\n·\nOct 1",
    "Data Selection Six\n\nData selection again.\n\n  • 4 authors\n·\nFeb 1, 2020",
    "Data Selection Seven\n\nData selection, once more.\n\n  • 4 authors\n·\nFeb 2, 2020",
]


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    # undated.txt has no capture date, so its paper has no date at all.
    root = project({"a.txt": dump_text(*(e for e in ENTRIES if "Undated" not in e)),
                    "undated.txt": dump_text(ENTRIES[3])}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    return root


def build(root: Path, out: str = "_site", base_url: str | None = None) -> Path:
    build_site(root / "config.yaml", root / out, base_url=base_url)
    return root / out


def parse(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def test_site_feeds_order_ids_dates_and_limit(root: Path) -> None:
    site = build(root)
    for name in ("feed.xml", "atom.xml"):
        feed = parse(site / name)
        titles = [e.title for e in feed.entries]
        # feed_items is 5 in the test config; newest first, same day broken by slug.
        assert titles == ["Newest Data Selection", "Data Selection Alpha", "Data Selection Beta",
                          "Long-Context Gamma", "Data Selection Seven"], name
        for entry in feed.entries:
            assert entry.id.startswith("urn:uuid:")
            assert entry.link.startswith("https://example.github.io/repo/papers/")
            assert entry.published_parsed is not None
        assert feed.entries[0].published_parsed[:3] == (2025, 10, 1)


def test_entry_ids_are_the_ids_recorded_at_ingest(root: Path) -> None:
    site = build(root)
    paper = read_paper(root / "content/papers/data-selection-alpha.md")
    atom = parse(site / "atom.xml")
    entry = next(e for e in atom.entries if e.title == "Data Selection Alpha")
    assert entry.id == f"urn:uuid:{paper.id}"
    rss = (site / "feed.xml").read_text()
    assert f'<guid isPermaLink="false">urn:uuid:{paper.id}</guid>' in rss


def test_ids_survive_base_url_change_rebuild_and_title_edit(root: Path) -> None:
    def ids(site: Path) -> dict[str, str]:
        return {e.link.rsplit("/papers/", 1)[1]: e.id for e in parse(site / "atom.xml").entries}

    first = ids(build(root, "one"))
    assert ids(build(root, "two", base_url="https://other.example.org/digest/")) == first
    assert ids(build(root, "one")) == first
    path = root / "content/papers/data-selection-alpha.md"
    path.write_text(path.read_text().replace("title: Data Selection Alpha",
                                             "title: Data Selection Alpha (curated title)"))
    edited = parse(build(root, "one") / "atom.xml")
    entry = next(e for e in edited.entries if e.title.endswith("(curated title)"))
    assert entry.id == first["data-selection-alpha/"]


def test_content_summary_and_categories(root: Path) -> None:
    site = build(root)
    atom = parse(site / "atom.xml")
    entry = next(e for e in atom.entries if e.title == "Data Selection Beta")
    assert entry.content[0].type == "text/html"
    assert "<p>More data selection for code.</p>" in entry.content[0].value
    assert entry.summary == "More data selection for code."
    terms = {t.term for t in entry.tags}
    assert {"data-selection", "code"} <= terms
    rss = parse(site / "feed.xml")
    item = next(e for e in rss.entries if e.title == "Data Selection Beta")
    # RSS <category> carries the human-readable name, with the taxonomy as its domain.
    assert {"Data selection", "code"} <= {t.term for t in item.tags}


def test_dates_are_timezone_aware_with_documented_fallback(root: Path) -> None:
    site = build(root)
    theme = parse(site / "themes/long-context/atom.xml")
    undated = next(e for e in theme.entries if e.title == "Undated Long Context Delta")
    assert undated.published == FALLBACK_DATE.isoformat()
    rss = (site / "themes/long-context/feed.xml").read_text()
    for stamp in ET.fromstring(rss).iter("pubDate"):
        assert parsedate_to_datetime(stamp.text or "").tzinfo is not None
    build_date = ET.fromstring(rss).find("channel/lastBuildDate")
    assert build_date is not None
    assert parsedate_to_datetime(build_date.text or "") == dt.datetime(
        2023, 1, 9, tzinfo=dt.UTC)
    assert parse(site / "themes/long-context/atom.xml").feed.updated.startswith("2023-01-09")


def test_rebuild_gives_byte_identical_feeds(root: Path) -> None:
    one = build(root, "one")
    two = build(root, "two")
    for name in ("feed.xml", "atom.xml", "themes/data-selection/atom.xml", "feeds.opml"):
        assert (one / name).read_bytes() == (two / name).read_bytes().replace(b"/two/", b"/one/")


def test_every_theme_and_tag_has_feeds_announced_on_its_page(root: Path) -> None:
    site = build(root)
    for section in ("themes/data-selection/", "themes/long-context/", "tags/code/", "tags/llm/"):
        page = (site / section / "index.html").read_text()
        assert 'type="application/rss+xml" title=' in page
        assert f'href="/repo/{section}feed.xml"' in page
        assert f'href="/repo/{section}atom.xml"' in page
        assert parse(site / section / "feed.xml").entries
    home = (site / "index.html").read_text()
    assert 'rel="alternate" type="application/atom+xml"' in home and 'href="/repo/atom.xml"' in home


def test_opml_lists_every_theme_feed(root: Path) -> None:
    site = build(root)
    tree = ET.parse(site / "feeds.opml")
    urls = {o.get("xmlUrl") for o in tree.iter("outline")}
    for theme in load_config(root / "config.yaml").themes:
        assert f"https://example.github.io/repo/themes/{theme.slug}/feed.xml" in urls
    assert "https://example.github.io/repo/feed.xml" in urls
    feeds_page = (site / "feeds/index.html").read_text()
    assert "/repo/feeds.opml" in feeds_page and "/repo/tags/code/atom.xml" in feeds_page


@given(st.text(alphabet=st.sampled_from("ab&<>\"'\n\r\t é"), max_size=12) | st.text())
def test_xml_escapes_equal_saxutils(value: str) -> None:
    # Ours exist only to avoid importing xml.sax.saxutils (and urllib.request) per build.
    assert xmlescape.escape(value) == saxutils.escape(value)
    assert xmlescape.quoteattr(value) == saxutils.quoteattr(value)
