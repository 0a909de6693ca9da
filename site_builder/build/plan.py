"""Planning, the one way every build decides what to render, and the index it leaves.

In: jobs (pages, feeds, BibTeX files), the build's salt and the output record. Out:
each job's fingerprint (the digest of the salt and of its job's record) and the jobs
whose outputs are not current, rendered into staging. A build of the whole Site and a
rebuild of a few papers (build/scoped.py) plan with these same functions, over all jobs
or over the jobs an edit reaches; so both give a clean build's outputs and record.

Also here: the dependency index (incremental/depindex.py) made from a build's jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder import urls as U
from site_builder.errors import BuildError
from site_builder.incremental.cache import digest
from site_builder.incremental.depindex import Dependencies, DepIndex, PaperRecord
from site_builder.render.bibtex import BibJob, bib_item_key
from site_builder.render.feeds import FeedJob, feed_item_key
from site_builder.render.pages import PAPER_TEMPLATE, load_pages
from site_builder.render.sitefiles import pages_files, static_files
from site_builder.render.templating import render_page
from site_builder.site import Entry, place_key

if TYPE_CHECKING:
    import jinja2

    from site_builder.incremental.salts import Salts
    from site_builder.incremental.sync import OutputRecord
    from site_builder.render.bibtex import BibWriter
    from site_builder.render.feeds import FeedWriter
    from site_builder.render.pages import Renderer
    from site_builder.render.templating import PageJob
    from site_builder.site import Site

    Task = PageJob | FeedJob | BibJob


def plan(salts: Salts, record: OutputRecord, fingerprints: dict[str, str],
         pages: Iterable[PageJob], feeds: Iterable[FeedJob], bibs: Iterable[BibJob],
         claim: bool = True) -> list[Task]:
    """Fingerprint the jobs into ``fingerprints``; return those to render, feeds first
    (they cost the most each, and early chunks spread best over workers). A page's
    salt covers its templates; feeds and BibTeX use none (incremental/salts.py).
    ``claim``: a path already fingerprinted is an error (two outputs on one path); a
    scoped rebuild re-plans paths the record holds, so it replaces them."""
    def put(path: str, fp: str) -> None:
        if claim and path in fingerprints:
            raise BuildError(path, None, "two outputs would be written to this path "
                             "(two papers or pages with the same slug?)")
        fingerprints[path] = fp

    todo_pages: list[Task] = []
    todo_feeds: list[Task] = []
    todo_bibs: list[Task] = []
    for job in pages:
        fp = digest(salts.of(job.template), job.fingerprint_material())
        put(job.path, fp)
        if not record.is_current(job.path, fp):
            todo_pages.append(job)
    for feed in feeds:
        fp = digest(salts.base, feed.fingerprint_material())
        for path in feed.paths:
            put(path, fp)
        if not all(record.is_current(path, fp) for path in feed.paths):
            todo_feeds.append(feed)
    for bib in bibs:  # planned like a feed: its fingerprint is its entries' fields
        fp = digest(salts.base, bib.fingerprint_material())
        put(bib.path, fp)
        if not record.is_current(bib.path, fp):
            todo_bibs.append(bib)
    return [*todo_feeds, *todo_pages, *todo_bibs]


def renderer_of(tasks: Sequence[Task], env: jinja2.Environment, feeds: FeedWriter,
                bibs: BibWriter, record: OutputRecord) -> Callable[[int, int], list[str]]:
    """Render tasks[start:stop] into staging; the paths staged (bytes that changed)."""

    def render_range(start: int, stop: int) -> list[str]:
        staged: list[str] = []
        for task in tasks[start:stop]:
            outputs = (feeds.write(task) if isinstance(task, FeedJob)
                       else [bibs.write(task)] if isinstance(task, BibJob)
                       else [render_page(env, task)])
            staged += [o.path for o in outputs if record.stage(o)]
        return staged
    return render_range


def rendered_count(tasks: Sequence[Task]) -> int:

    return sum(len(t.paths) if isinstance(t, FeedJob) else 1 for t in tasks)


def claim_path(fingerprints: dict[str, str], path: str, fp: str) -> None:
    """Fingerprint an output no job made (sitemap, static files), refusing a clash."""
    if path in fingerprints:
        raise BuildError(path, None, "two outputs would be written to this path "
                         "(a static file where the site writes a page?)")
    fingerprints[path] = fp


def site_pages(site: Site, renderer: Renderer, root: Path) -> list[PageJob]:
    """Every page but the papers' own: what an edit that moves a paper (its tags,
    themes, date...) may change, besides the pages showing its card (scoped.py)."""
    pages: list[PageJob] = [renderer.home()]
    pages += renderer.themes()
    pages += renderer.tags()
    pages += renderer.archive()
    pages += renderer.content_pages(load_pages(root / "content" / "pages", renderer.views.markdown))
    pages += renderer.discussed()
    pages.append(renderer.stats())
    if site.config.site.search:
        pages.append(renderer.search())
    pages.append(renderer.feeds_page())
    pages.append(renderer.not_found())
    return pages


def stage_extras(site: Site, links: U.Urls, feeds: FeedWriter, root: Path,
                 fingerprints: dict[str, str], record: OutputRecord
                 ) -> tuple[list[str], list[str]]:
    """The outputs no job makes (the OPML file, the sitemap and robots.txt, static/),
    made after planning (the sitemap lists the planned pages), fingerprinted by their
    bytes and staged when they changed. Returns their paths, and those staged."""
    extras = [feeds.opml()]
    extras += pages_files(site, links, sorted(p for p in fingerprints if p.endswith(".html")))
    extras += static_files(root / "static")
    staged: list[str] = []
    for output in extras:
        claim_path(fingerprints, output.path, digest(output.data))
        if record.stage(output):
            staged.append(output.path)
    return [output.path for output in extras], staged


def is_paper_bib(path: str, slugs: Sequence[str]) -> bool:
    """A paper's own .bib file (not a theme's), given the slugs of its entries."""
    return len(slugs) == 1 and path == U.paper_bib_path(slugs[0])


def paper_outputs(entries: Iterable[Entry]) -> set[str]:
    """The papers' own outputs: their pages and .bib files."""
    found: set[str] = set()
    for entry in entries:
        found.add(U.paper_output(entry.slug))
        found.add(U.paper_bib_path(entry.slug))
    return found


def paper_salts(salts: Salts) -> tuple[str, str]:
    """The salts of a paper's own page and of its .bib file (plan())."""
    return salts.of(PAPER_TEMPLATE), salts.base


def kept_paper_outputs(previous: DepIndex | None, salts: Salts, related_name: str,
                       related: dict[str, list[str]], records: dict[str, PaperRecord],
                       record: OutputRecord) -> dict[str, str]:
    """The papers' own outputs whose fingerprints are those recorded, and which are
    intact on disk: by path, the fingerprint. A whole build plans no job for them.

    A paper page's fingerprint is a function of its template's salt, its entry's key
    and its related papers' cards; its .bib file's of the base salt and the entry's
    key. When the last build had the same salts and the same related map, a paper
    whose record this build took over from it (paper_records: same key, same engine)
    and whose related papers' records it took over too has the same fingerprints.
    So a config or template edit of 5,000 papers no longer makes and digests 10,000
    jobs to find them unchanged; any other change makes them as before.
    """
    if (previous is None or previous.related != related_name
            or previous.paper_salts != paper_salts(salts)):
        return {}
    last = previous.papers
    kept = {slug for slug, rec in records.items() if last.get(slug) is rec}
    wanted: list[str] = []
    for slug in records:
        if slug in kept:
            wanted.append(U.paper_bib_path(slug))
            if kept.issuperset(related.get(slug, ())):
                wanted.append(U.paper_output(slug))
    return record.as_recorded(wanted)


# -- the dependency index ----------------------------------------------------------


def paper_record(entry: Entry, entry_digest: str | None = None) -> PaperRecord:
    """Each way another output reads the entry, as the digest its fingerprint takes."""
    return PaperRecord(digest(place_key(entry)), digest(entry.card_key),
                       digest(feed_item_key(entry)), digest(bib_item_key(entry)),
                       entry.text_material, entry_digest or digest(entry.key))


def paper_records(entries: Iterable[Entry], previous: DepIndex | None, engine: str
                  ) -> dict[str, PaperRecord]:
    """Every entry's record, by slug. A record the previous index holds for an entry of
    the same key, made by the same engine, is taken as it is (the record is a function
    of the key): a whole build after a config or template edit made 5,000 records
    again (67 ms) where one digest each says they are the same."""
    known = previous.papers if previous is not None and previous.engine == engine else {}
    records: dict[str, PaperRecord] = {}
    for entry in entries:
        key = digest(entry.key)
        old = known.get(entry.slug)
        records[entry.slug] = old if old is not None and old.entry == key \
            else paper_record(entry, key)
    return records


def dependencies(pages: Iterable[PageJob], feeds: Iterable[FeedJob], bibs: Iterable[BibJob]
                 ) -> Dependencies:
    """Which outputs show which papers, and how to make each of them again: the
    listings, feeds and theme .bib files. Not the papers' own outputs, which follow
    from the related map and the slug (scoped._reach): they were two thirds of the
    index, written by every whole build and read by every edit that reaches a card."""
    index = Dependencies()
    for page in pages:
        if page.spec is not None and page.spec[0] != "paper":
            index.add_job(page.path, page.spec, {"card": page.reads})
    for feed in feeds:
        spec = feed.spec
        index.add_job(feed.paths[0], spec, {"feed": spec[4]})  # type: ignore[dict-item]
    for bib in bibs:
        spec = bib.spec
        if not is_paper_bib(bib.path, bib.slugs):
            index.add_job(bib.path, spec, {"bib": spec[2]})  # type: ignore[dict-item]
    return index
