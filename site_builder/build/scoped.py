"""A rebuild planned over the outputs an edit reaches, not over the whole Site.

In: the output record and the dependency index the last build left (incremental/
depindex.py), the entry files' stats (from the stamp), the config. Out: the site and
record a full build would make, having parsed the changed files, re-made the jobs of
the outputs that read them and rendered those whose fingerprints changed; or False,
when the edit may reach further, and build_site plans the whole Site.

Why: planning the whole Site loads and classifies every paper and fingerprints every
output, O(papers) (a second for a one-note edit at 20,000 papers); a curator's edit of
a note, a title or an author count changes a handful of pages.

When it applies: every input but the entry files is as the record says (its ``rest``
stamp), the same entry files exist, at most SCOPE_MAX of them have new contents, and
each edited paper keeps its pins (the theme model learns from them), whether it is
hidden, and its warnings. Then the outputs that can differ are its own page, those the
index lists as reading a record of it that changed (its card, feed item or BibTeX
entry), and, when its title or abstract changed, the pages whose related papers
changed (related_update.update_edited, exact). When an edited paper moved (its place:
tags, themes, date, featured, comments, dumps), every listing, feed, theme .bib file
and the sitemap are planned too, over a Site of every paper from the cache (their
classifications are cached); the other papers' pages are not. All are planned with
the same functions as a full build (build/plan.py), so their fingerprints are a clean
build's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from site_builder import urls as U
from site_builder.build.entries import cached_classifier, cached_markdown, parse_file, rules_key
from site_builder.build.plan import (
    dependencies,
    is_paper_bib,
    paper_record,
    paper_salts,
    plan,
    rendered_count,
    renderer_of,
    site_pages,
    stage_extras,
)
from site_builder.build.related import load_related, related_text
from site_builder.build.search import stage_search
from site_builder.classify.model import model_path
from site_builder.config import load_config
from site_builder.errors import ContentError
from site_builder.incremental.cache import BuildCache, ParsedFile, digest
from site_builder.incremental.depindex import (
    KINDS,
    Dependencies,
    DepIndex,
    PaperRecord,
    Spec,
    file_entry,
    read_dependencies,
    read_index,
    write_index,
)
from site_builder.incremental.salts import CompiledForms, make_salts
from site_builder.incremental.sync import OutputRecord
from site_builder.render.bibtex import BibJob, BibWriter
from site_builder.render.feeds import FeedJob, FeedWriter
from site_builder.render.pages import Renderer
from site_builder.render.templating import PageJob, make_environment
from site_builder.safefs import read_regular
from site_builder.site import KnownPaper, Site, assemble

if TYPE_CHECKING:
    from site_builder.build.result import BuildResult, Stopwatch
    from site_builder.config import Config
    from site_builder.site import Entry

SCOPE_MAX = 200
"""Most files with new contents taken this way: beyond, the full build's workers are
faster."""
OUTPUTS_MAX = 400
"""Most outputs re-planned this way (each needs the entries it shows)."""


def scoped_rebuild(config_path: Path, out: Path, base_url: str | None,
                   record: OutputRecord, stamp: str, rest: str,
                   paper_stats: dict[str, tuple[int, int]], result: BuildResult,
                   clock: Stopwatch, index_search: bool) -> bool:
    """Rebuild what the edited papers reach if the index can say what that is."""
    if not (stamp and rest and record.rest == rest):
        return False
    index = read_index(out, record.stamp)
    stats = {name: stat for name, stat in paper_stats.items() if name.endswith(".md")}
    if index is None or index.files.keys() != stats.keys():
        return False
    # Files touched, or written too recently to trust their stat last time, are read
    # again and compared by content (cheap); only new contents are parsed.
    changed = [name for name, stat in stats.items() if index.files[name][:2] != stat]


    config = load_config(config_path, base_url, check_patterns=False)
    cache_dir = config.root / ".cache"
    cache = BuildCache.load(cache_dir / "entries.pickle", shards=False)
    if cache.checked_rules != rules_key(config):
        return False

    if cache.model_key and not model_path(cache_dir, cache.model_key).is_file():
        return False  # a miss could not be classified as the last build did
    edited: dict[str, tuple[str, ParsedFile]] = {}  # by slug: its new key and parse
    files = dict(index.files)
    for name in changed:
        try:
            data = read_regular(config.papers_dir / name)
        except (OSError, ContentError):  # gone or odd since the stamp: the full build says
            return False
        key = digest(name, data)
        old_key = index.files[name][2]
        if key != old_key:
            if len(edited) == SCOPE_MAX:
                return False
            parsed = cache.parsed(key) or parse_file(data, config.papers_dir / name)
            old = cache.parsed(old_key)
            if old is None or not _same_standing(old, parsed, config, index.model_decides):
                return False
            cache.add(key, parsed)
            if not parsed.paper.hidden:  # hidden before and after: shown nowhere
                edited[name[:-3]] = (key, parsed)
        files[name] = file_entry(stats[name], key)
        cache.stats[name] = (*stats[name], key)
        cache.dirty = True
    related = load_related(cache_dir / index.related)
    if related is None or not record.outputs_intact():
        return False
    clock.lap("setup")

    found = _reach(out, config, cache, index, edited, related)
    if found is None:
        return False
    reached, site, records, related, deps, related_name, relist = found
    # A move re-plans every listing: _reach has read the dependencies they replace.
    listing_deps = deps if relist else None
    if relist and listing_deps is None:
        return False
    by_slug = {e.slug: e for e in site.entries}

    links = U.Urls(config.site.base_url)
    env = make_environment(config.root / "templates", cache_dir / "jinja")
    markdown = cached_markdown(cache, set())

    def related_of(entry: Entry) -> list[Entry]:
        return [by_slug[s] for s in related.get(entry.slug, []) if s in by_slug]

    renderer = Renderer(site, links, env, related_of, markdown)
    feed_writer, bib_writer = FeedWriter(site, links, markdown), BibWriter(site, links)
    pages: list[PageJob] = []
    feeds: list[FeedJob] = []
    bibs: list[BibJob] = []
    for spec in reached.values():
        if spec[0] == "feed":
            feeds.append(FeedJob(spec[1], spec[2], spec[3], tuple(by_slug[s] for s in spec[4])))
        elif spec[0] == "bib":
            bibs.append(BibJob(spec[1], tuple(by_slug[s] for s in spec[2])))
        else:
            pages.append(renderer.again(spec, by_slug))
    listed: tuple[list[PageJob], list[FeedJob], list[BibJob]] = ([], [], [])
    if relist:  # a paper moved: every listing, feed and theme .bib, as a full build has them
        listed = (site_pages(site, renderer, config.root), list(feed_writer.jobs()),
                  [b for b in bib_writer.jobs() if not is_paper_bib(b.path, b.slugs)])
    salts = make_salts(renderer.shared_record(), config.root / "templates",
                       renderer.everywhere, CompiledForms(env, cache_dir / "template-forms.json"))
    fingerprints = {rel: str(rec[0]) for rel, rec in record.outputs.items()
                    if not (relist and rel in index.site_outputs)}
    record.trust_all()  # outputs_intact held: every other output is as recorded
    tasks = plan(salts, record, fingerprints, [*pages, *listed[0]], [*feeds, *listed[1]],
                 [*bibs, *listed[2]], claim=False)
    clock.lap("plan")
    staged = renderer_of(tasks, env, feed_writer, bib_writer, record)(0, len(tasks))
    if listing_deps is not None:  # what a full build makes besides jobs (the sitemap)
        site_outputs = {job.path for job in listed[0]} | {job.path for job in listed[2]}
        site_outputs.update(path for job in listed[1] for path in job.paths)
        extras, staged_extras = stage_extras(site, links, feed_writer, config.root,
                                             fingerprints, record)
        site_outputs.update(extras)
        staged += staged_extras
        listing_deps.replace(index.site_outputs, dependencies(*listed))
        index.site_outputs = site_outputs
    clock.lap("render")


    search = stage_search(config.site.search, record, fingerprints, index_search, result)
    record.commit(staged, fingerprints, stamp, record.warnings, result.stats, rest, search)
    index.stamp, index.files = stamp, files
    index.paper_salts = paper_salts(salts)
    index.papers.update(records)
    if related_name:  # a text changed: the related map has a new cache file (the old
        index.related = related_name  # one is gone), even when no list moved
    if deps is not None:  # lists changed: which pages read which cards did too
        index.deps_id = stamp
    write_index(out, index, deps)
    clock.lap("write")
    result.stats.rendered = rendered_count(tasks)
    result.warnings = list(record.warnings)
    result.tally(fingerprints)
    if cache.dirty:
        cache.save(cache_dir / "entries.pickle", None, None, None)
    clock.lap("save")
    return True


def _same_standing(old: ParsedFile, new: ParsedFile, config: Config,
                   model_decides: bool) -> bool:
    """What a scoped rebuild cannot follow stays: whether it is hidden (it enters or
    leaves every related list), its warnings (the build record keeps every build's) and
    its pins, where the theme model learns from them and decides some paper's themes
    (``model_decides``); where it decides none, a paper may change its pins if it stays
    decided by them (model.decided_by_pins)."""
    from site_builder.classify.pins import decided_by_pins

    if (old.paper.hidden, old.warnings) != (new.paper.hidden, new.warnings):
        return False
    if (old.paper.themes, old.paper.not_themes) == (new.paper.themes, new.paper.not_themes):
        return True
    return not model_decides and decided_by_pins(new.paper, config)


class Reach(NamedTuple):
    specs: dict[str, Spec]
    """By output: the jobs to plan again."""
    site: Site
    """Of the papers those jobs show."""
    records: dict[str, PaperRecord]
    """The edited papers' new records."""
    related: dict[str, list[str]]
    deps: Dependencies | None
    """The Dependencies, when a paper moved (its listings are planned again; else they
    stay as they are)."""
    related_name: str
    """The related map's cache file, when a text changed (else "")."""
    relist: bool
    """An edited paper moved (its place changed): the Site holds every paper, and every
    listing, feed and theme .bib file is planned again."""


def _reach(out: Path, config: Config, cache: BuildCache, index: DepIndex,
           edited: dict[str, tuple[str, ParsedFile]], related: dict[str, list[str]]
           ) -> Reach | None:
    """What the edits reach; None if a pinned paper's text changed (the theme model
    learns from it) or the index cannot say."""

    known = {slug: _known(key, parsed) for slug, (key, parsed) in edited.items()}
    classify = cached_classifier(config, cache, known)
    mine = assemble(config, [parsed.paper for _, parsed in edited.values()], classify, known)
    records: dict[str, PaperRecord] = {}
    reached: dict[str, Spec] = {}
    deps: Dependencies | None = None  # read only when an edit reaches beyond its page
    relist = False
    showing: dict[str, list[str]] | None = None  # by slug: the pages listing it as related
    texts: dict[str, tuple[str, str]] = {}  # by slug, of the edited texts
    for entry in mine.entries:
        old, new = index.papers.get(entry.slug), paper_record(entry)
        if old is None:
            return None
        relist = relist or old.place != new.place
        if old.text != new.text:
            if (entry.paper.themes or entry.paper.not_themes) and index.model_decides:
                return None  # the model learns from a pinned paper's text
            texts[entry.slug] = (new.text, related_text(entry))
        records[entry.slug] = new
        own = U.paper_output(entry.slug)
        reached[own] = ("paper", entry.slug)
        kinds = [kind for kind in KINDS if getattr(old, kind) != getattr(new, kind)]
        if not kinds:
            continue
        deps = deps or read_dependencies(out, index)
        if deps is None:
            return None
        for kind in kinds:
            # The papers' own outputs are not in the index: the pages showing its card
            # are those whose related list holds it, and its own .bib reads its entry.
            if kind == "card":
                if showing is None:
                    showing = _showing(related)
                for reader in showing.get(entry.slug, ()):
                    reached[U.paper_output(reader)] = ("paper", reader)
            elif kind == "bib":
                own_bib = U.paper_bib_path(entry.slug)
                reached[own_bib] = ("bib", own_bib, (entry.slug,))
            for output in deps.reads.get(entry.slug, {}).get(kind, ()):
                reached[output] = deps.specs[output]
    related_name = ""
    if texts:
        # Where numpy enters a scoped rebuild: only when a title or abstract changed.
        from site_builder.build.related_update import update_edited

        updated = update_edited(config.root / ".cache", {
            slug: rec.text for slug, rec in index.papers.items() if rec is not None}, texts)
        if updated is None:
            return None
        new_related, moved, related_name = updated
        for slug in moved:  # its page lists other papers now
            reached[U.paper_output(slug)] = ("paper", slug)
        related = new_related
    if relist:  # the listings are planned whole: keep the papers' own outputs
        reached = {output: spec for output, spec in reached.items() if spec[0] == "paper"
                   or (spec[0] == "bib" and is_paper_bib(spec[1], spec[2]))}
        deps = deps or read_dependencies(out, index)
        if deps is None or not index.site_outputs:
            return None
    if len(reached) > OUTPUTS_MAX:
        return None
    shown = set(known)
    if relist:
        shown.update(slug for slug, rec in index.papers.items() if rec is not None)
    for spec in reached.values():
        shown.update(_slugs(spec, related))
    for slug in shown - set(known):
        entry_file = index.files.get(f"{slug}.md")
        parsed = cache.parsed(entry_file[2]) if entry_file else None
        if parsed is None or parsed.paper.hidden:
            return None  # not as the last build saw it: plan the whole Site
        known[slug] = _known(entry_file[2], parsed)  # type: ignore[index]
    papers = [cache.papers[k.key].paper for k in known.values()]
    return Reach(reached, assemble(config, papers, classify, known), records, related,
                 deps if relist else None, related_name, relist)


def _showing(related: dict[str, list[str]]) -> dict[str, list[str]]:
    """By slug, the papers whose pages list it among their related papers."""
    showing: dict[str, list[str]] = {}
    for slug, others in related.items():
        for other in others:
            showing.setdefault(other, []).append(slug)
    return showing


def _slugs(spec: Spec, related: dict[str, list[str]]) -> list[str]:
    """The papers the job of ``spec`` shows (a paper page: itself and its related)."""
    kind = spec[0]
    if kind == "paper":
        return [spec[1], *related.get(spec[1], [])]
    if kind == "listing":
        return [s for names in spec[4].values() for s in names]
    return list(spec[4] if kind == "feed" else spec[2])


def _known(key: str, parsed: ParsedFile) -> KnownPaper:

    return KnownPaper(key, parsed.summary, parsed.card_material, parsed.text_material)
