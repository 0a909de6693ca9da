"""RSS 2.0, Atom 1.0 (feedgen) and JSON Feed 1.1 (jsonfeed.py) feeds for the site, every
theme and every tag; OPML.

In: a Site, its Urls and the Views (for the rendered abstract). Out: OutputFiles.

Trust rules: an entry's id is ``urn:uuid:<paper id>``, the id recorded at ingest, so
it survives a new base_url, a rebuild and a curator's title edit. Dates are UTC
midnight of the paper's date; a paper with no date at all gets FALLBACK_DATE (never
the build time); a feed's updated/lastBuildDate is its newest entry's date, so an
unchanged digest gives byte-identical feeds. One FeedJob makes all three formats from one
choice of entries, so they list the same items under the same ids.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from site_builder import urls as U
from site_builder.models import OutputFile
from site_builder.render.jsonfeed import json_feed, json_item
from site_builder.render.markdown import strip_invisible
from site_builder.render.xmlescape import quoteattr
from site_builder.site import Entry, Site

if TYPE_CHECKING:  # imported when a feed is written: an incremental build rarely writes one
    from feedgen.feed import FeedGenerator

# Documented fallback for a paper with no published date and no dated dump.
FALLBACK_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FEED_NAMESPACE = uuid.UUID("0f1d6a44-2f8e-4c1b-8f0e-9b1f3c6c2a55")


def entry_datetime(entry: Entry) -> dt.datetime:
    if entry.date is None:
        return FALLBACK_DATE
    return dt.datetime(entry.date.year, entry.date.month, entry.date.day, tzinfo=dt.UTC)


def feed_id(section: str) -> str:
    """Stable feed id, independent of where the site is hosted."""
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, section or 'site')}"


@dataclass(frozen=True)
class FeedJob:
    """One feed (RSS, Atom and JSON Feed files) and the entries it lists."""

    section: str
    title: str
    subtitle: str
    entries: tuple[Entry, ...]

    @property
    def paths(self) -> tuple[str, str, str]:
        return (*U.feed_paths(self.section), U.json_feed_path(self.section))

    def fingerprint_material(self) -> str:
        items = "\0".join(map(feed_item_key, self.entries))
        return f"feed\0{self.section}\0{self.title}\0{self.subtitle}\0{items}"

    @property
    def spec(self) -> tuple[object, ...]:
        """How to make this job again (incremental/depindex.py)."""
        return ("feed", self.section, self.title, self.subtitle,
                tuple(e.slug for e in self.entries))


def feed_item_key(entry: Entry) -> str:
    """What a feed item shows of its entry (FeedWriter.add_entry and json_item), not the
    whole paper: a curator's note is not in the feeds, so editing it rewrites none.
    text_material stands for the title and abstract (a digest made at parse time)."""
    return repr((entry.paper.id, entry.slug, entry.text_material, entry.themes, entry.tags,
                 entry.date, entry.summary))


class FeedWriter:
    def __init__(self, site: Site, links: U.Urls, markdown: Callable[[str], str]) -> None:
        self.site, self.links, self.markdown = site, links, markdown
        self.theme_titles = {t.slug: t.title for t in site.config.themes}
        self.tag_names = {info.slug: info.name for info, _ in site.by_tag}

    def abstract_html(self, entry: Entry) -> str:
        return self.markdown(entry.paper.abstract or entry.paper.title)

    def job(self, section: str, title: str, subtitle: str,
            entries: tuple[Entry, ...]) -> FeedJob:
        # Entries are newest first, ties by slug: the feed takes the newest.
        return FeedJob(section, title, subtitle, entries[:self.site.config.site.feed_items])

    def write(self, job: FeedJob) -> list[OutputFile]:
        cfg = self.site.config.site
        section, title, subtitle, chosen = job.section, job.title, job.subtitle, job.entries
        from feedgen.feed import FeedGenerator

        rss_path, atom_path = U.feed_paths(section)
        fg = FeedGenerator()
        fg.id(feed_id(section))
        fg.title(strip_invisible(title))
        fg.subtitle(strip_invisible(" ".join(subtitle.split()) or title))
        fg.language(cfg.language)
        fg.author({"name": cfg.author})
        fg.generator("site-builder")
        fg.docs("https://www.rssboard.org/rss-specification")
        newest = max((entry_datetime(e) for e in chosen), default=FALLBACK_DATE)
        fg.updated(newest)
        fg.lastBuildDate(newest)
        items = []
        for entry in chosen:
            content = self.abstract_html(entry)
            self.add_entry(fg, entry, content)
            items.append(self.json_item(entry, content))
        # Self links differ per format. RSS takes its channel <link> from the last link
        # added, so the page link goes last there.
        home = {"href": self.links.abs_url(section), "rel": "alternate"}
        fg.link([home, {"href": self.links.abs_url(atom_path), "rel": "self"}], replace=True)
        atom = fg.atom_str(pretty=True)
        fg.link([{"href": self.links.abs_url(rss_path), "rel": "self"}, home], replace=True)
        rss = fg.rss_str(pretty=True)
        json_path = U.json_feed_path(section)
        data = json_feed(strip_invisible(title), strip_invisible(" ".join(subtitle.split())
                                                                 or title),
                         self.links.abs_url(section), self.links.abs_url(json_path),
                         cfg.language, strip_invisible(cfg.author), items)
        return [OutputFile(rss_path, rss), OutputFile(atom_path, atom),
                OutputFile(json_path, data)]

    def json_item(self, entry: Entry, content: str) -> dict[str, object]:
        """The JSON Feed item of an entry: what add_entry writes, in JSON Feed's terms
        (tags are the labels of the Atom categories)."""
        paper = entry.paper
        tags = [strip_invisible(self.theme_titles.get(s, s)) for s in entry.themes]
        tags += [strip_invisible(self.tag_names.get(s, s)) for s in entry.tags]
        return json_item(f"urn:uuid:{paper.id}", self.links.abs_url(U.paper_path(entry.slug)),
                         strip_invisible(paper.title), content,
                         strip_invisible(entry.summary) or strip_invisible(paper.title),
                         entry_datetime(entry), tags)

    def add_entry(self, fg: FeedGenerator, entry: Entry, content: str) -> None:
        paper = entry.paper
        when = entry_datetime(entry)
        fe = fg.add_entry(order="append")
        fe.id(f"urn:uuid:{paper.id}")
        fe.guid(f"urn:uuid:{paper.id}", permalink=False)
        fe.title(strip_invisible(paper.title))
        fe.link(href=self.links.abs_url(U.paper_path(entry.slug)), rel="alternate")
        fe.content(content, type="html")
        # Readers render an RSS <description> as HTML, so the plain-text summary goes in
        # escaped (type html): markup quoted in an abstract stays text, never runs.
        fe.summary(html.escape(strip_invisible(entry.summary) or strip_invisible(paper.title)),
                   type="html")
        fe.published(when)
        fe.updated(when)
        for slug in entry.themes:
            fe.category(term=slug, label=strip_invisible(self.theme_titles.get(slug, slug)),
                        scheme=self.links.abs_url("themes/"))
        for slug in entry.tags:
            fe.category(term=slug, label=strip_invisible(self.tag_names.get(slug, slug)),
                        scheme=self.links.abs_url("tags/"))

    def jobs(self) -> Iterator[FeedJob]:
        cfg = self.site.config.site
        yield self.job("", cfg.title, cfg.description, self.site.entries)
        for theme, entries in self.site.by_theme:
            yield self.job(U.theme_path(theme.slug), f"{theme.title} · {cfg.title}",
                           theme.description, entries)
        for info, entries in self.site.by_tag:
            yield self.job(U.tag_path(info.slug), f"Tag {info.name} · {cfg.title}",
                           f"Papers tagged {info.name} in {cfg.title}.", entries)

    def opml(self) -> OutputFile:
        """OPML listing every theme feed (and the site feed) to subscribe at once."""
        cfg = self.site.config.site
        outlines = [(cfg.title, "", "")]
        outlines += [(f"{t.title} · {cfg.title}", U.theme_path(t.slug), t.slug)
                     for t, _ in self.site.by_theme]
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
                 f"  <head><title>{_xml_text(strip_invisible(cfg.title))} feeds</title></head>",
                 "  <body>"]
        for raw_title, section, _ in outlines:
            title = strip_invisible(raw_title)
            rss, _atom = U.feed_paths(section)
            lines.append(
                f"    <outline type=\"rss\" text={quoteattr(title)} title={quoteattr(title)} "
                f"xmlUrl={quoteattr(self.links.abs_url(rss))} "
                f"htmlUrl={quoteattr(self.links.abs_url(section))}/>")
        lines += ["  </body>", "</opml>", ""]
        return OutputFile("feeds.opml", "\n".join(lines).encode("utf-8"))


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
