"""A rebuild after edits that only the edited papers' own pages show: a note, a source line.

In: the output record and the entry index the last build left, the entry files' stats
(from the stamp), the config. Out: the site a full build would make, having parsed
the changed files and re-rendered only their pages; or False, when anything else may
have changed, and build_site then does the full build.

Why: a full rebuild re-derives every page's fingerprint and loads every parsed entry,
O(papers) (1.3 s for a one-note edit at 20,000 papers). A curator's most common edit,
a note, changes one page.

When it applies: every input but the entry files is as the record says (its ``rest``
stamp), the same entry files exist, at most QUICK_MAX of them have new contents, and
each changed file's signature (entries.signature: its card, title and abstract, what its
themes, tags, date and dumps come from, featured, hidden, id and warnings) equals the
last build's. Then no other page, feed, listing or related-papers list can differ,
and their fingerprints are carried over. The build record and the index are written
as by a full build; the incremental == clean tests run through this path.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from site_builder.config import load_config
from site_builder.errors import ContentError
from site_builder.incremental.cache import RACY_NS, BuildCache, ParsedFile, digest
from site_builder.incremental.sealed import seal, unseal
from site_builder.incremental.sync import OutputRecord
from site_builder.safefs import read_regular

if TYPE_CHECKING:
    import jinja2

    from site_builder.build.result import BuildResult, Stopwatch
    from site_builder.config import Config
    from site_builder.render.templating import PageJob

INDEX_VERSION = 3
QUICK_MAX = 200
"""Most files with new contents taken this way: beyond, the full build's workers are
faster."""

IndexEntry = tuple[int, int, str, str]
"""An entry file's size, mtime (0 if it was too recent to trust), key and signature."""


def index_path(out: Path) -> Path:
    return out.parent / f".{out.name}.build-index.pickle"


def write_index(out: Path, stamp: str, related_file: str,
                entries: dict[str, IndexEntry]) -> None:
    """What the last build knew of each entry file, under the stamp of its record (a
    record and an index from different builds never go together). A sealed pickle
    (incremental/sealed.py): JSON cost a one-note rebuild of 5,000 papers 0.05 s."""
    data = seal(pickle.dumps({"version": INDEX_VERSION, "stamp": stamp,
                              "related": related_file, "entries": entries},
                             protocol=pickle.HIGHEST_PROTOCOL))
    path = index_path(out)
    if data is None:
        path.unlink(missing_ok=True)  # no key: no quick rebuilds, never a stale index
        return
    fd, tmp = tempfile.mkstemp(prefix=".index-", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def index_entry(stat: tuple[int, int], key: str, signature: str) -> IndexEntry:
    settled = stat[1] < time.time_ns() - RACY_NS
    return (stat[0], stat[1] if settled else 0, key, signature)


def _read_index(out: Path, stamp: str) -> dict[str, Any] | None:
    try:  # unpickled only under this machine's seal: a planted file must not run code
        blob = unseal(index_path(out).read_bytes())
        data: Any = pickle.loads(blob) if blob is not None else None
    except Exception:  # missing or unreadable: only costs a full build
        return None
    ok = isinstance(data, dict) and data.get("version") == INDEX_VERSION \
        and data.get("stamp") == stamp and isinstance(data.get("entries"), dict)
    return dict(data) if ok else None


def quick_rebuild(config_path: Path, out: Path, base_url: str | None,
                  record: OutputRecord, stamp: str, rest: str,
                  paper_stats: dict[str, tuple[int, int]], result: BuildResult,
                  clock: Stopwatch, index_search: bool) -> bool:
    """Rebuild the edited papers' pages if nothing else can have changed; False if not."""
    if not (stamp and rest and record.rest == rest):
        return False
    index = _read_index(out, record.stamp)
    stats = {name: stat for name, stat in paper_stats.items() if name.endswith(".md")}
    if index is None or index["entries"].keys() != stats.keys():
        return False
    entries: dict[str, IndexEntry] = index["entries"]
    # Files touched, or written too recently to trust their stat last time, are read
    # again and compared by content (cheap); only new contents are parsed.
    changed = [name for name, stat in stats.items() if entries[name][:2] != stat]

    from site_builder.build.entries import parse_file, rules_key
    from site_builder.build.related import load_related

    config = load_config(config_path, base_url, check_patterns=False)
    cache_dir = config.root / ".cache"
    cache = BuildCache.load(cache_dir / "entries.pickle", shards=False)
    if cache.checked_rules != rules_key(config):
        return False
    from site_builder.classify.model import model_path

    if cache.model_key and not model_path(cache_dir, cache.model_key).is_file():
        return False  # a miss could not be classified as the last build did
    edited: dict[str, tuple[str, ParsedFile]] = {}  # by name: its new key and parse
    new_entries = dict(entries)
    for name in changed:
        try:
            data = read_regular(config.papers_dir / name)
        except (OSError, ContentError):  # gone or odd since the stamp: the full build says
            return False
        key = digest(name, data)
        if key != entries[name][2]:
            if len(edited) == QUICK_MAX:
                return False
            parsed = cache.parsed(key) or parse_file(data, config.papers_dir / name)
            if parsed.signature != entries[name][3]:
                return False
            edited[name] = (key, parsed)
            cache.add(key, parsed)
        new_entries[name] = index_entry(stats[name], key, entries[name][3])
        cache.stats[name] = (*stats[name], key)
        cache.dirty = True
    related = load_related(cache_dir / index["related"])
    if related is None or not record.outputs_intact():
        return False
    clock.lap("setup")

    # The edited papers, and the papers their pages list as related (cards only).
    need = dict(edited)
    for _, parsed in edited.values():
        for slug in related.get(parsed.paper.slug, []) if not parsed.paper.hidden else []:
            name = f"{slug}.md"
            other = cache.parsed(entries[name][2]) if name in entries else None
            if other is None:
                return False
            need.setdefault(name, (entries[name][2], other))
    fingerprints = {rel: str(rec[0]) for rel, rec in record.outputs.items()}
    planned = _plan(config, cache, need, set(edited), related, fingerprints)
    if planned is None:
        return False
    env, jobs = planned
    from site_builder.render.templating import render_page

    record.trust_all()  # outputs_intact held: every other output is as recorded
    staged = [job.path for job in jobs if record.stage(render_page(env, job))]
    clock.lap("render")

    from site_builder.build.search import stage_search

    search = stage_search(config.site.search, record, fingerprints, index_search, result)
    record.commit(staged, fingerprints, stamp, record.warnings, result.stats, rest, search)
    write_index(out, stamp, index["related"], new_entries)
    clock.lap("write")
    result.stats.rendered = len(jobs)
    result.warnings = list(record.warnings)
    result.tally(fingerprints)
    if cache.dirty:
        cache.save(cache_dir / "entries.pickle", None, None, None)
    clock.lap("save")
    return True


def _plan(config: Config, cache: BuildCache, need: dict[str, tuple[str, ParsedFile]],
          edited: set[str], related: dict[str, list[str]], fingerprints: dict[str, str]
          ) -> tuple[jinja2.Environment, list[PageJob]] | None:
    """The edited papers' page jobs whose fingerprints changed (updated in
    ``fingerprints``), made with a Site of just the papers those pages show; None if a
    page is not in the record (then this is not an edit of one page)."""
    from site_builder import urls as U
    from site_builder.build.entries import cached_classifier, cached_markdown
    from site_builder.incremental.engine import render_salt
    from site_builder.render.pages import Renderer
    from site_builder.render.templating import make_environment
    from site_builder.site import Entry, KnownPaper, assemble

    known = {parsed.paper.slug: KnownPaper(key, parsed.summary, parsed.card_material,
                                           parsed.text_material)
             for key, parsed in need.values()}
    papers = [parsed.paper for _, parsed in need.values()]
    site = assemble(config, papers, cached_classifier(config, cache, known), known)
    by_slug = {e.slug: e for e in site.entries}

    def related_of(entry: Entry) -> list[Entry]:
        return [by_slug[s] for s in related.get(entry.slug, []) if s in by_slug]

    links = U.Urls(config.site.base_url)
    env = make_environment(config.root / "templates", config.root / ".cache" / "jinja")
    renderer = Renderer(site, links, env, related_of, cached_markdown(cache, set()))
    salt = render_salt(renderer.shared_record(), config.root / "templates")
    jobs = []
    for entry in site.entries:
        if f"{entry.slug}.md" not in edited:
            continue
        job = renderer.paper(entry)
        if job.path not in fingerprints:
            return None
        fingerprint = digest(salt, job.fingerprint_material())
        if fingerprints[job.path] != fingerprint:
            fingerprints[job.path] = fingerprint
            jobs.append(job)
    return env, jobs
