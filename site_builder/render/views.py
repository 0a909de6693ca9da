"""The explicit view each template sees, built in one place from the Site.

In: Site entries, themes, tags. Out: plain dicts (the template contract in
templates/README.md). Templates never reach into models, so renaming a model field
cannot silently blank a page: StrictUndefined fails the build on any missing key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from markupsafe import Markup

from site_builder import urls as U
from site_builder.config import Theme
from site_builder.models import Paper
from site_builder.render.bibtex import bib_entry
from site_builder.render.markdown import strip_invisible
from site_builder.render.scholarly import citation_meta, coins, json_ld, keywords
from site_builder.site import Entry, Site, TagInfo, format_date

View = dict[str, Any]
CARD_TAGS = 4


def card_fields(paper: Paper, summary: str) -> View:
    """What a card shows of the paper itself. The build digests exactly this for the
    card's fingerprint (build/entries.py), so a field added here re-renders every list
    that shows the paper: there is no second list of what a card shows."""
    if paper.authors is not None:
        authors_label: str | None = f"{paper.authors} author" + ("" if paper.authors == 1
                                                                else "s")
    else:
        authors_label = strip_invisible(paper.submitter) if paper.submitter else None
    return {"title": strip_invisible(paper.title), "summary": strip_invisible(summary),
            "comments": paper.comments, "authors_label": authors_label}


class Views:
    """Builds views for one Site; caches per-paper pieces that several pages share."""

    def __init__(self, site: Site, links: U.Urls, markdown: Callable[[str], str]) -> None:
        self.site = site
        self.markdown = markdown
        self.links = links
        self.theme_titles = {t.slug: t.title for t in site.config.themes}
        self.tag_names = {info.slug: info.name for info, _ in site.by_tag}
        self._cards: dict[str, View] = {}

    def theme_chip(self, slug: str) -> View:
        return {"slug": slug, "title": self.theme_titles.get(slug, slug),
                "url": self.links.url(U.theme_path(slug))}

    def tag_chip(self, slug: str) -> View:
        return {"slug": slug, "name": self.tag_names.get(slug, slug),
                "url": self.links.url(U.tag_path(slug))}

    def card(self, entry: Entry) -> View:
        cached = self._cards.get(entry.slug)
        if cached is not None:
            return cached
        # The rest of a card follows from the entry's card_key fields (slug, date,
        # themes, tags) and the chip titles (in the build's salt).
        view = {
            **card_fields(entry.paper, entry.summary),
            "url": self.links.url(U.paper_path(entry.slug)),
            "date_label": format_date(entry.date) if entry.date else "Undated",
            "date_iso": entry.date.isoformat() if entry.date else None,
            "themes": [self.theme_chip(s) for s in entry.themes],
            "tags": [self.tag_chip(s) for s in entry.tags[:CARD_TAGS]],
            # A card's fields only (title, date, slug): card_key covers them.
            "coins": coins(entry, self.links.abs_url(U.paper_path(entry.slug))),
        }
        self._cards[entry.slug] = view
        return view

    def paper(self, entry: Entry, related: list[Entry]) -> View:
        paper = entry.paper
        query = quote_plus(paper.title)
        words = keywords(entry, self.theme_titles, self.tag_names)
        url = self.links.abs_url(U.paper_path(entry.slug))
        view = dict(self.card(entry))
        view.update({
            "abstract_html": Markup(self.markdown(paper.abstract)),
            "note_html": Markup(self.markdown(paper.note)) if paper.note.strip() else "",
            "published_label": format_date(paper.published) if paper.published else None,
            "authors": paper.authors,
            "submitter": strip_invisible(paper.submitter) if paper.submitter else None,
            "tags": [self.tag_chip(s) for s in entry.tags],
            "sources": [{"file": s.file, "line": s.line,
                         "captured_label": format_date(c) if (c := self.site.captured.get(
                             s.file)) else None} for s in paper.sources],
            "links": [
                {"label": "arXiv",
                 "url": f"https://arxiv.org/search/?query={query}&searchtype=title"},
                {"label": "Hugging Face papers", "url": f"https://huggingface.co/papers?q={query}"},
                {"label": "Google Scholar", "url": f"https://scholar.google.com/scholar?q={query}"},
            ],
            "code_links": list(entry.code_links),
            "related": [self.card(r) for r in related],
            "citation_meta": citation_meta(entry, words),
            # Safe as the text of a <script> element: json_ld escapes <, > and &.
            "json_ld": Markup(json_ld(entry, url, words, self.site.config.site.title,
                                      self.links.abs_url(""))),
            "bibtex": {"text": bib_entry(entry, url, words),
                       "url": self.links.url(U.paper_bib_path(entry.slug))},
        })
        return view

    def theme(self, theme: Theme, count: int) -> View:
        section = U.theme_path(theme.slug)
        rss, atom = U.feed_paths(section)
        return {"slug": theme.slug, "title": theme.title, "description": theme.description,
                "count": count, "url": self.links.url(U.theme_path(theme.slug)),
                "bib": self.links.url(U.theme_bib_path(theme.slug)),
                "rss": self.links.url(rss), "atom": self.links.url(atom),
                "json": self.links.url(U.json_feed_path(section))}

    def tag(self, info: TagInfo, count: int) -> View:
        section = U.tag_path(info.slug)
        rss, atom = U.feed_paths(section)
        return {"slug": info.slug, "name": info.name, "count": count,
                "url": self.links.url(section),
                "rss": self.links.url(rss), "atom": self.links.url(atom),
                "json": self.links.url(U.json_feed_path(section))}
