"""Every HTML page of the Site, described as a PageJob for templating.render_page.

In: a Site, its Urls and the Jinja environment (templating.make_environment). Out:
PageJobs for the home page, themes, tags, archive, papers, content pages, feeds list,
discussed, stats, search and 404: each a template and its view (or a key standing
for the view, built only if the page renders).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from site_builder import urls as U
from site_builder.content import SLUG_NAME, split_front_matter
from site_builder.errors import BuildError, ContentError
from site_builder.render.charts import bar_chart_svg, matrix_svg, timeline_svg
from site_builder.render.markdown import render_markdown, strip_invisible
from site_builder.render.templating import PageJob
from site_builder.render.views import View, Views
from site_builder.safefs import read_regular
from site_builder.site import Entry, Site, sort_key
from site_builder.textclean import clean_text, clean_value
from site_builder.yamlsafe import load as bounded_load


@dataclass(frozen=True)
class ContentPage:
    """A Markdown page of content/pages/ (about.md -> /about/)."""

    name: str
    title: str
    description: str
    html: str


def load_pages(pages_dir: Path, markdown: Callable[[str], str] = render_markdown
               ) -> list[ContentPage]:
    pages = []
    for path in sorted(pages_dir.glob("*.md")) if pages_dir.is_dir() else []:
        try:
            text = read_regular(path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContentError(str(path), None, f"not UTF-8: {exc.reason}") from exc
        text = clean_text(text.replace("\r\n", "\n").replace("\r", "\n"), str(path))
        front, body, _ = split_front_matter(text, str(path))
        try:
            data = bounded_load(front) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ContentError(str(path), mark.line + 2 if mark else 1,
                               f"front matter is not valid YAML: "
                               f"{getattr(exc, 'problem', None) or exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("title"), str):
            raise ContentError(str(path), 2, "field 'title': a page needs a title")
        if not SLUG_NAME.fullmatch(path.stem) or path.stem.endswith("."):
            raise ContentError(str(path), None, "a page's file name is its address: use "
                               "letters, digits, '-', '_' and '.' (not first or last)")
        title = clean_value(data["title"], str(path), 2, "field 'title'")
        description = clean_value(str(data.get("description", "")), str(path), 2,
                                  "field 'description'")
        pages.append(ContentPage(path.stem, title, description, markdown(body)))
    return pages


DISCUSSED_DESCRIPTION = "Papers with the most comments on their Daily Papers listing."


PAPER_TEMPLATE = "paper.html"
"""The template of every paper's own page."""


class Renderer:
    def __init__(self, site: Site, links: U.Urls, env: jinja2.Environment,
                 related: Callable[[Entry], list[Entry]],
                 markdown: Callable[[str], str]) -> None:
        self.site, self.links, self.env, self.related = site, links, env, related
        self.views = Views(site, links, markdown)
        settings = site.config.site
        rss, atom = U.feed_paths("")
        self.site_feed = {"title": settings.title, "rss": links.url(rss), "atom": links.url(atom),
                          "json": links.url(U.json_feed_path(""))}
        env.globals.update({
            "url": links.url,
            "abs_url": links.abs_url,
            "site": {"title": settings.title, "description": settings.description,
                     "base_url": settings.base_url, "language": settings.language,
                     "author": settings.author, "search": settings.search},
            "nav": {name: links.url(path) for name, path in (
                ("home", ""), ("themes", "themes/"), ("tags", "tags/"), ("archive", "archive/"),
                ("feeds", "feeds/"), ("about", "about/"), ("search", "search/"),
                ("discussed", "discussed/"), ("stats", "stats/"))},
            "site_feed": {"rss": self.site_feed["rss"], "atom": self.site_feed["atom"],
                          "json": self.site_feed["json"]},
            "card_html": self.card_html,
            "chrome": self.chrome,
        })
        self._cards_html: dict[tuple[str, int], Markup] = {}
        self._chrome: dict[tuple[str, tuple[tuple[str, Any], ...]], Markup] = {}

    def shared_record(self) -> tuple[object, ...]:
        """Every value all pages may show besides their own view: the template globals
        that are data (site settings, nav links, site feed), the theme and tag chip
        titles, and the dumps' capture dates (paper pages' sources). The build's salt
        is made of exactly this (incremental/salts.make_salts)."""
        data = sorted((k, v) for k, v in self.env.globals.items() if not callable(v))
        # Chip names as the vocabulary gives them (a tag outside it shows its slug), not
        # the tags this Site happens to hold: a quick rebuild's Site holds a few papers.
        tag_names = sorted((t.slug, t.name) for t in self.site.config.tags)
        return (repr(data), sorted(self.views.theme_titles.items()), tag_names,
                sorted((f, c.isoformat() if c else None) for f, c in self.site.captured.items()))

    everywhere: tuple[str, ...] = ("partials/site_header.html", "partials/site_footer.html",
                                   "partials/paper_card.html")
    """Templates a page reaches through a global (``chrome``, ``card_html``) rather than
    by name in a loading tag: every page's salt covers them (incremental/salts.py).
    chrome() refuses any other (a page would not be re-rendered when it changed)."""

    def chrome(self, template: str, **args: Any) -> Markup:
        """A piece of every page (header, footer) rendered once per distinct ``args``:
        it was a third of a paper page's rendering time."""
        key = (template, tuple(sorted(args.items())))
        html = self._chrome.get(key)
        if html is None:
            if template not in self.everywhere:
                raise BuildError(f"templates/{template}", None,
                                 "chrome() renders only " + ", ".join(self.everywhere)
                                 + ": load other templates with {% include %}, so that "
                                 "pages are rebuilt when they change")
            html = self._chrome[key] = Markup(self.env.get_template(template).render(**args))
        return html

    def card_html(self, card: View, level: int = 2) -> Markup:
        """A paper card rendered once (by the paper_card macro) and reused in every list."""
        key = (card["url"], level)
        html = self._cards_html.get(key)
        if html is None:
            macro = self.env.get_template("partials/paper_card.html").module.paper_card  # type: ignore[attr-defined]
            html = self._cards_html[key] = Markup(macro(card, level))
        return html

    def page_meta(self, path: str, title: str, description: str, section: str,
                  feed: View | None = None, og_type: str = "website",
                  alternates: list[View] | None = None) -> View:
        """``alternates``: other formats of the page ({type, title, href}), e.g. BibTeX."""
        feeds = [self.site_feed] + ([feed] if feed else [])
        # Cleaned here too (finalize cleans every template output): the view, and so the
        # fingerprint, holds what the page shows.
        return {"title": strip_invisible(title),
                "description": " ".join(strip_invisible(description).split())[:300],
                "canonical": self.links.abs_url(path), "og_type": og_type, "feeds": feeds,
                "section": section, "is_home": path == "", "alternates": alternates or []}

    def render(self, template: str, path: str, **context: Any) -> PageJob:
        """Describe a page; rendering happens later, only if its inputs changed."""
        return PageJob(U.output_path(path), template, context)

    def render_listing(self, template: str, path: str, lists: dict[str, Sequence[Entry]],
                       **context: Any) -> PageJob:
        """Describe a page that lists papers: ``lists`` names lists of entries, which the
        template sees as lists of cards. The cards are built only if the page renders;
        the key stands for them with the entries' card keys (a card is a function of
        its entry's card_key fields, config and code), so planning a build never builds
        50,000 cards."""
        def make_context() -> dict[str, Any]:
            cards = {name: [self.views.card(e) for e in entries]
                     for name, entries in lists.items()}
            return {**context, **cards}

        key = repr(sorted(context.items())) + "".join(
            f"\0{name}" + "".join(f"\0{e.card_key}" for e in entries)
            for name, entries in sorted(lists.items()))
        slugs = {name: tuple(e.slug for e in entries) for name, entries in lists.items()}
        return PageJob(U.output_path(path), template, make_context=make_context, key=key,
                       spec=("listing", template, path, context, slugs),
                       reads=tuple(dict.fromkeys(s for names in slugs.values() for s in names)))

    def paginate(self, entries: tuple[Entry, ...], path_of: Callable[[int], str]
                 ) -> Iterator[tuple[str, tuple[Entry, ...], View]]:
        per = self.site.config.site.per_page
        pages = max(1, math.ceil(len(entries) / per))
        for number in range(1, pages + 1):
            chunk = entries[(number - 1) * per:number * per]
            pagination = {
                "page": number, "pages": pages,
                "prev_url": self.links.url(path_of(number - 1)) if number > 1 else None,
                "next_url": self.links.url(path_of(number + 1)) if number < pages else None,
                "pages_list": [{"number": n, "url": self.links.url(path_of(n)) if n else "",
                                "current": n == number, "gap": n == 0}
                               for n in page_window(number, pages)],
            }
            yield path_of(number), chunk, pagination

    # -- pages ---------------------------------------------------------------

    def home(self) -> PageJob:
        cfg = self.site.config.site
        themes = [self.views.theme(t, len(es)) for t, es in self.site.by_theme]
        featured = [e for e in self.site.entries if e.paper.featured]
        latest = self.site.entries[:cfg.home_items]
        return self.render_listing("index.html", "", {"latest": latest, "featured": featured},
                                   page=self.page_meta("", cfg.title, cfg.description, "home"),
                                   themes=themes, total=len(self.site.entries),
                                   archive_url=self.links.url("archive/"))

    def themes(self) -> Iterator[PageJob]:
        views = [self.views.theme(t, len(es)) for t, es in self.site.by_theme]
        yield self.render("themes.html", "themes/", themes=views, page=self.page_meta(
            "themes/", "Themes", "Every theme of the digest with its paper count.", "themes"))
        for theme, entries in self.site.by_theme:
            view = self.views.theme(theme, len(entries))
            years: dict[str, int] = {}
            for entry in sorted(entries, key=lambda e: e.year_label):
                years[entry.year_label] = years.get(entry.year_label, 0) + 1
            svg = Markup(strip_invisible(timeline_svg(sorted(years.items()), theme.title)))
            feed = {"title": f"{theme.title} · {self.site.config.site.title}",
                    "rss": view["rss"], "atom": view["atom"], "json": view["json"]}
            bib = {"type": "application/x-bibtex", "href": view["bib"],
                   "title": f"{theme.title}: BibTeX of every paper"}
            for path, chunk, pagination in self.paginate(
                    entries, partial(U.theme_path, theme.slug)):
                title = theme.title + (f" (page {pagination['page']})"
                                       if pagination["page"] > 1 else "")
                yield self.render_listing("theme.html", path, {"papers": chunk}, theme=view,
                                          pagination=pagination, timeline_svg=svg,
                                          page=self.page_meta(path, title, theme.description,
                                                              "themes", feed,
                                                              alternates=[bib]))

    def tags(self) -> Iterator[PageJob]:
        views = sorted((self.views.tag(info, len(es)) for info, es in self.site.by_tag),
                       key=lambda v: (v["name"].casefold(), v["slug"]))
        yield self.render("tags.html", "tags/", tags=views,
                          max_count=max((v["count"] for v in views), default=0),
                          page=self.page_meta("tags/", "Tags", "Every tag with its paper count.",
                                              "tags"))
        for info, entries in self.site.by_tag:
            view = self.views.tag(info, len(entries))
            feed = {"title": f"Tag {info.name} · {self.site.config.site.title}",
                    "rss": view["rss"], "atom": view["atom"], "json": view["json"]}
            for path, chunk, pagination in self.paginate(
                    entries, partial(U.tag_path, info.slug)):
                title = f"Tag: {info.name}" + (f" (page {pagination['page']})"
                                               if pagination["page"] > 1 else "")
                yield self.render_listing("tag.html", path, {"papers": chunk}, tag=view,
                                          pagination=pagination,
                                          page=self.page_meta(path, title,
                                                              f"Papers tagged {info.name}.",
                                                              "tags", feed))

    def archive(self) -> Iterator[PageJob]:
        years = [{"label": label, "count": len(es), "url": self.links.url(U.year_path(label))}
                 for label, es in self.site.by_year]
        yield self.render("archive.html", "archive/", years=years, total=len(self.site.entries),
                          page=self.page_meta("archive/", "Archive",
                                              "Every paper of the digest, by year.", "archive"))
        for year, (label, entries) in zip(years, self.site.by_year, strict=True):
            for path, chunk, pagination in self.paginate(
                    entries, partial(U.year_path, label)):
                title = f"Papers of {label}" if label.isdigit() else "Undated papers"
                yield self.render_listing("archive_year.html", path, {"papers": chunk},
                                          year=year, pagination=pagination,
                                          page=self.page_meta(path, title, title + ".",
                                                              "archive"))

    def paper(self, entry: Entry) -> PageJob:
        path = U.paper_path(entry.slug)
        related = self.related(entry)

        def make_context() -> dict[str, Any]:
            view = self.views.paper(entry, related)
            bib = {"type": "application/x-bibtex", "title": "BibTeX",
                   "href": view["bibtex"]["url"]}
            return {"paper": view, "page": self.page_meta(path, view["title"], entry.summary,
                                                          "paper", og_type="article",
                                                          alternates=[bib])}

        key = "\0".join([entry.key, *(r.card_key for r in related)])
        return PageJob(U.paper_output(entry.slug), PAPER_TEMPLATE, make_context=make_context,
                       key=key, spec=("paper", entry.slug),
                       reads=tuple(r.slug for r in related))

    def again(self, spec: tuple[Any, ...], by_slug: dict[str, Entry]) -> PageJob:
        """The job a spec (PageJob.spec) describes, made with the entries it names."""
        if spec[0] == "paper":
            return self.paper(by_slug[spec[1]])
        _, template, path, context, slugs = spec
        return self.render_listing(template, path, {name: [by_slug[s] for s in names]
                                                    for name, names in slugs.items()},
                                   **context)

    def content_pages(self, pages: list[ContentPage]) -> Iterator[PageJob]:
        for content in pages:
            path = f"{content.name}/"
            section = "about" if content.name == "about" else "other"
            yield self.render("page.html", path, heading=content.title,
                              content_html=Markup(content.html),
                              page=self.page_meta(path, content.title,
                                                  content.description or content.title, section))

    def feeds_page(self) -> PageJob:
        feeds = [{"title": "Every paper", "kind": "site", "html_url": self.links.url(""),
                  "rss": self.site_feed["rss"], "atom": self.site_feed["atom"],
                  "json": self.site_feed["json"]}]
        for theme, entries in self.site.by_theme:
            view = self.views.theme(theme, len(entries))
            feeds.append({"title": theme.title, "kind": "theme", "html_url": view["url"],
                          "rss": view["rss"], "atom": view["atom"], "json": view["json"]})
        for info, entries in self.site.by_tag:
            view = self.views.tag(info, len(entries))
            feeds.append({"title": info.name, "kind": "tag", "html_url": view["url"],
                          "rss": view["rss"], "atom": view["atom"], "json": view["json"]})
        return self.render("feeds.html", "feeds/", feeds=feeds,
                           opml=self.links.url("feeds.opml"),
                           page=self.page_meta("feeds/", "Feeds",
                                               "RSS, Atom and JSON feeds for the whole digest, "
                                               "every theme and every tag.", "feeds"))

    def discussed(self) -> Iterator[PageJob]:
        """Papers by comment count on the listing, highest first (ties by date, slug)."""
        ranked = tuple(sorted((e for e in self.site.entries if e.paper.comments),
                              key=lambda e: (-(e.paper.comments or 0), *sort_key(e))))
        for path, chunk, pagination in self.paginate(ranked, partial(U.section_path,
                                                                     "discussed")):
            title = "Most discussed" + (f" (page {pagination['page']})"
                                        if pagination["page"] > 1 else "")
            yield self.render_listing("discussed.html", path, {"papers": chunk},
                                      pagination=pagination, total=len(ranked),
                                      page=self.page_meta(path, title, DISCUSSED_DESCRIPTION,
                                                          "discussed"))

    def stats(self) -> PageJob:
        entries = self.site.entries
        themes = [(t.title, len(es)) for t, es in self.site.by_theme]
        years = [(label, len(es)) for label, es in self.site.by_year]
        dumps: dict[str, int] = {d.file: 0 for d in self.site.config.dumps}
        for entry in entries:
            for name in dict.fromkeys(s.file for s in entry.paper.sources):
                dumps[name] = dumps.get(name, 0) + 1
        index = {t.slug: i for i, t in enumerate(self.site.config.themes)}
        matrix = [[0] * len(index) for _ in index]
        for entry in entries:  # one pass: each paper adds one to every pair of its themes
            for a in entry.themes:
                for b in entry.themes:
                    if a in index and b in index:
                        matrix[index[a]][index[b]] += 1
        no_theme = sum(1 for e in entries if not e.themes)
        return self.render(
            "stats.html", "stats/", total=len(entries), no_theme=no_theme,
            charts=[
                {"id": "per-theme", "title": "Papers per theme",
                 "svg": Markup(strip_invisible(bar_chart_svg(themes, "Papers per theme")))},
                {"id": "per-year", "title": "Papers per year",
                 "svg": Markup(strip_invisible(bar_chart_svg(years, "Papers per year")))},
                {"id": "per-dump", "title": "Papers per dump",
                 "svg": Markup(strip_invisible(bar_chart_svg(sorted(dumps.items()),
                                                           "Papers per dump")))},
                {"id": "together", "title": "Themes that occur together",
                 "svg": Markup(strip_invisible(matrix_svg(
                     [t.title for t in self.site.config.themes], matrix,
                     "Papers in both themes")))},
            ],
            page=self.page_meta("stats/", "Statistics", "The digest in numbers: papers per "
                                "theme, year and dump, and which themes occur together.",
                                "stats"))

    def search(self) -> PageJob:
        return self.render("search.html", "search/", page=self.page_meta(
            "search/", "Search", "Search every paper of the digest by title, abstract, theme "
            "and tag.", "search"))

    def not_found(self) -> PageJob:
        return self.render("404.html", "404.html", page=self.page_meta(
            "404.html", "Page not found", "This page does not exist.", "other"))


def page_window(current: int, pages: int, around: int = 2) -> list[int]:
    """Page numbers to link: the first, the last and a few around the current one, with 0
    where numbers are left out. Linking every page would make a listing of N pages cost
    N squared links (a tag with 600 pages); prev/next still reach every page."""
    shown = sorted({1, pages, *range(max(1, current - around), min(pages, current + around) + 1)})
    window: list[int] = []
    for number in shown:
        if window and number - window[-1] > 1:
            window.append(0)
        window.append(number)
    return window
