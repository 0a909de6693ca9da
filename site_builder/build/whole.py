"""The whole Site, stage by stage: what a build does when an edit may reach anything.

content/papers/*.md -> Paper -> classify -> Site -> related -> page, feed and BibTeX
jobs -> plan (fingerprints; plan.py) -> render the jobs whose fingerprints changed ->
staged, then committed into the output folder with the search index and the
dependency index the next build plans an edit with (scoped.py).

A job's fingerprint covers everything its output is made of (its input record; the
templates, config and code: the salt), so an incremental build is byte-identical to a
clean one by construction, and a clean build is this with an empty cache. Nothing is
moved into the output folder until every job has rendered.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from site_builder import urls as U
from site_builder.build.entries import (
    cached_classifier,
    cached_markdown,
    load_entries,
    prepare,
    rules_key,
    theme_model,
)
from site_builder.build.parallel import fork_map, worker_count
from site_builder.build.plan import (
    dependencies,
    kept_paper_outputs,
    paper_outputs,
    paper_records,
    paper_salts,
    plan,
    rendered_count,
    renderer_of,
    site_pages,
    stage_extras,
)
from site_builder.build.related import related_file, related_map
from site_builder.build.result import BuildResult, Stopwatch
from site_builder.build.search import stage_search
from site_builder.classify.pins import decided_by_pins
from site_builder.config import check_patterns, load_config
from site_builder.errors import Diagnostic
from site_builder.incremental.cache import BuildCache
from site_builder.incremental.depindex import DepIndex, file_entry, read_index, write_index
from site_builder.incremental.engine import engine_digest
from site_builder.incremental.salts import CompiledForms, make_salts
from site_builder.incremental.sync import OutputRecord
from site_builder.render.bibtex import BibWriter
from site_builder.render.feeds import FeedJob, FeedWriter
from site_builder.render.pages import Renderer
from site_builder.render.templating import PageJob, compile_templates, make_environment
from site_builder.site import Entry, Site, assemble


def build_whole(config_path: Path, out: Path, base_url: str | None, clean: bool,
                workers: int | None, index_search: bool, record: OutputRecord, stamp: str,
                rest: str, paper_stats: dict[str, tuple[int, int]], result: BuildResult,
                clock: Stopwatch) -> None:
    """Build every output of the Site into ``out`` (see the module's docstring)."""
    config = load_config(config_path, base_url, check_patterns=False)
    cache_dir = config.root / ".cache"
    cache = BuildCache() if clean else BuildCache.load(cache_dir / "entries.pickle")
    # Patterns are compiled when first used; they are checked here only when the rules
    # differ from those that last compiled (and were cached with their results).
    rules = rules_key(config)
    new_rules = cache.checked_rules != rules  # every paper is classified again
    if new_rules:
        check_patterns(config)
        cache.checked_rules, cache.dirty = rules, True
    diagnostics: list[Diagnostic] = []
    env = make_environment(config.root / "templates", cache_dir / "jinja")
    clock.lap("setup")
    papers, known = load_entries(config, cache, diagnostics, workers, paper_stats)
    clock.lap("load")
    model = theme_model(config, cache, known)
    used_classes, used_html = prepare(config, cache, known, workers, model)
    site = assemble(config, papers, cached_classifier(config, cache, known, model), known)
    clock.lap("classify")
    related = related_map(site.entries, cache_dir, reuse=not clean)
    clock.lap("related")
    by_slug = {e.slug: e for e in site.entries}

    def related_of(entry: Entry) -> list[Entry]:
        return [by_slug[s] for s in related.get(entry.slug, []) if s in by_slug]

    links = U.Urls(config.site.base_url)
    markdown = cached_markdown(cache, used_html)
    renderer = Renderer(site, links, env, related_of, markdown)
    feeds = FeedWriter(site, links, markdown)
    bibs = BibWriter(site, links)
    salts = make_salts(renderer.shared_record(), config.root / "templates",
                       renderer.everywhere,
                       CompiledForms(env, cache_dir / "template-forms.json", reuse=not clean))
    # The last index, read before the commit replaces what it goes with: its records
    # are kept for entries whose key did not change (plan.paper_records), and with
    # them the fingerprints of the papers' own outputs (plan.kept_paper_outputs).
    engine = engine_digest()
    previous = None if clean else read_index(out, record.stamp)
    records = paper_records(site.entries, previous, engine)
    related_name = related_file(site.entries)
    # (Slugs name files, so they are unique; were two alike, neither would be kept and
    # planning would refuse the clash.)
    fingerprints = kept_paper_outputs(previous, salts, related_name, related, records,
                                      record) if len(records) == len(site.entries) else {}
    page_jobs, feed_jobs = make_jobs(site, renderer, feeds, config.root, fingerprints)
    bib_jobs = [job for job in bibs.jobs() if job.path not in fingerprints]
    tasks = plan(salts, record, fingerprints, page_jobs, feed_jobs, bib_jobs)
    clock.lap("plan")
    # Templates are compiled here before forking, not once in every render worker; in
    # this process they load as pages ask for them (a config edit renders one page).
    if worker_count(len(tasks), workers) > 1 and \
            any(isinstance(task, PageJob) for task in tasks):
        compile_templates(env)
    staged = fork_map(renderer_of(tasks, env, feeds, bibs, record), len(tasks), workers)
    clock.lap("render")
    staged += stage_extras(site, links, feeds, config.root, fingerprints, record)[1]

    result.stats.rendered = rendered_count(tasks)
    result.warnings = [str(d) for d in diagnostics]
    clock.lap("extras")
    # Indexed before anything moves: a failing indexer leaves the previous site whole.
    search = stage_search(config.site.search, record, fingerprints, index_search, result)
    clock.lap("search")
    record.commit(staged, fingerprints, stamp, result.warnings, result.stats,
                  rest, search)
    index = DepIndex(stamp, related_name, {
        name: file_entry(stat, known[name[:-3]].key)
        for name, stat in paper_stats.items() if name.endswith(".md") and name[:-3] in known})
    index.papers = {p.slug: None for p in papers if p.hidden}
    index.papers.update(records)
    index.engine = engine
    index.deps_id = stamp
    index.site_outputs = set(fingerprints) - paper_outputs(site.entries)
    index.paper_salts = paper_salts(salts)
    index.model_decides = not all(decided_by_pins(p, config) for p in papers if not p.hidden)
    write_index(out, index, dependencies(page_jobs, feed_jobs, bib_jobs))
    clock.lap("write")
    cache.save(cache_dir / "entries.pickle", {k.key for k in known.values()}, used_classes,
               used_html)
    clock.lap("save")
    result.tally(fingerprints)


def make_jobs(site: Site, renderer: Renderer, feeds: FeedWriter, root: Path,
              kept: Container[str] = ()) -> tuple[list[PageJob], list[FeedJob]]:
    """Every page and feed job, but the paper pages whose paths are in ``kept``."""
    papers = [renderer.paper(e) for e in site.entries
              if U.paper_output(e.slug) not in kept]
    return [*papers, *site_pages(site, renderer, root)], list(feeds.jobs())
