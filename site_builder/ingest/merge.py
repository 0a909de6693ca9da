"""Ingest: dumps -> one curated Markdown entry per unique paper in content/papers/.

In: the Config (which dumps, their capture dates) and the existing entries.
Out: an IngestReport, and the changed entry files written all-or-nothing.

Curation is safe by construction: an existing entry is matched by its ``id`` (a UUID
derived once from the normalised title and never recomputed from the file), and
ingest only ever (a) records the dump sources where the paper was seen and (b) fills
a metadata field that is still empty. It never overwrites a value, the title, the
body, or any curator field; running it twice on the same dumps changes no byte.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path

from site_builder.config import Config, slugify
from site_builder.content import (
    FENCE,
    check_unique_ids,
    dump_paper,
    paper_from_bytes,
    rewrite_front_matter,
)
from site_builder.errors import ContentError, Diagnostic, DumpError, os_error
from site_builder.ingest.commit import Hook, Planned, commit_plan
from site_builder.ingest.dumps import read_dump
from site_builder.ingest.report import DumpSummary, IngestReport, record_arrivals
from site_builder.lock import project_lock
from site_builder.models import Paper, ParseResult, RawEntry, SourceRef
from site_builder.safefs import read_regular
from site_builder.write import recover

# Fixed namespace: the same normalised title gives the same id on every machine.
PAPER_NAMESPACE = uuid.UUID("6b0e6f0c-5d1a-4f55-9a35-3f1c3f0d7a11")
MAX_SLUG = 80


def title_key(title: str) -> str:
    """Identity of a paper: NFC form, case and runs of whitespace ignored; punctuation kept,
    so two titles that differ only in punctuation stay two papers."""
    return " ".join(unicodedata.normalize("NFC", title).casefold().split())


def paper_id(title: str) -> str:
    return str(uuid.uuid5(PAPER_NAMESPACE, title_key(title)))


def slug_base(title: str, fallback_id: str) -> str:
    """Readable ASCII slug: accents folded, other characters become hyphens."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = slugify(ascii_text)
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] or slug[:MAX_SLUG]
    if not re.search(r"[a-z]", slug):
        slug = f"paper-{fallback_id[:8]}" + (f"-{slug}" if slug else "")
    return slug


def _merge(group: list[RawEntry]) -> dict[str, object]:
    """First non-empty value of each field, in dump order (config order, then line)."""
    def first(values: Iterable[object]) -> object:
        return next((v for v in values if v not in (None, "")), None)
    return {
        "abstract": first(e.abstract for e in group) or "",
        "authors": first(e.authors for e in group),
        "submitter": first(e.submitter for e in group),
        "published": first(e.published for e in group),
        "comments": first(e.comments for e in group),
    }


def _update(existing: Paper, merged: dict[str, object], sources: tuple[SourceRef, ...]) -> Paper:
    filled = {k: v for k, v in merged.items()
              if k != "abstract" and getattr(existing, k) is None and v is not None}
    return replace(existing, sources=sources, **filled)  # type: ignore[arg-type]


def parse_dumps(config: Config, report: IngestReport) -> list[ParseResult]:
    results = []
    for spec in config.dumps:
        summary = DumpSummary(spec.file)
        report.dumps.append(summary)
        if spec.problem is not None:  # found in content/dumps/, header unreadable
            summary.error = spec.problem.message
            report.errors.append(spec.problem)
            continue
        if not spec.listed and spec.captured is not None:
            report.found.append(
                f"{spec.file}: not listed in config.yaml; captured {spec.captured.isoformat()} "
                f"from its header (line {spec.header_line}, year from the file's date); "
                f"to pin it, add under dumps: {spec.pin()}")
        try:
            result = read_dump(config.dumps_dir / spec.file, spec.captured)
        except DumpError as exc:
            summary.error = exc.diagnostic.message
            report.errors.append(exc.diagnostic)
            continue
        summary.entries, summary.warnings = len(result.entries), len(result.warnings)
        report.warnings.extend(result.warnings)
        results.append(result)
    return results


def ingest(config: Config, dry_run: bool = False, lock_wait: float = 120.0,
           hook: Hook | None = None) -> IngestReport:
    """Merge every dump into content/papers/ under the project lock (lock.py). ``hook``
    is called where ingest re-reads and renames each file (commit.py; for tests)."""
    with project_lock(config.root, "ingest", wait=lock_wait,
                      on_wait="waiting for another site-builder to finish"):
        try:
            return _ingest(config, dry_run, hook)
        except OSError as exc:  # read-only content/papers, full disk: named, no traceback
            raise os_error(exc, config.papers_dir, ContentError) from exc


JOURNAL = ".ingest-journal.json"
"""In content/papers/ while an ingest renames its files (write.py); git-ignored."""


def _recover(config: Config, report: IngestReport) -> None:
    """Finish what a killed ingest left: its renames, its temporaries."""
    completed, removed, kept = recover(config.papers_dir / JOURNAL)
    folder = str(config.papers_dir)
    for path in kept:
        report.warnings.append(Diagnostic(str(path), None, "changed since an ingest was "
                                          "interrupted: kept as it is (this ingest updates it)"))
    if completed:
        report.warnings.append(Diagnostic(folder, None, f"completed an interrupted ingest: "
                                          f"{completed} entry file(s) renamed into place"))
    if removed:
        report.warnings.append(Diagnostic(folder, None, f"removed {removed} temporary "
                                          "file(s) an interrupted ingest left"))


def _load(papers_dir: Path, report: IngestReport) -> tuple[list[Paper], dict[str, bytes]]:
    """Every entry, and the bytes each was read from (to notice a save made meanwhile)."""
    if not papers_dir.is_dir():
        return [], {}
    papers, seen = [], {}
    for path in sorted(papers_dir.glob("*.md")):
        data = read_regular(path)  # no link, FIFO or device (safefs.py)
        papers.append(paper_from_bytes(data, path, report.warnings))
        seen[path.stem] = data
    check_unique_ids(papers, papers_dir)
    return papers, seen


def _ingest(config: Config, dry_run: bool, hook: Hook | None) -> IngestReport:
    report = IngestReport()
    if not dry_run:
        _recover(config, report)
    results = parse_dumps(config, report)
    read_files = {r.file for r in results}
    order = {spec.file: index for index, spec in enumerate(config.dumps)}

    papers, seen_bytes = _load(config.papers_dir, report)
    existing = {p.id: p for p in papers}
    taken = {p.slug for p in existing.values()}

    def updated(old: Paper, merged: dict[str, object], seen: list[SourceRef]) -> Paper:
        kept = [s for s in old.sources if s.file not in read_files]
        sources = tuple(sorted(set(seen) | set(kept),
                               key=lambda s: (order.get(s.file, len(order)), s.file, s.line)))
        return _update(old, merged, sources)

    groups: dict[str, list[RawEntry]] = {}
    for result in results:
        for entry in result.entries:
            groups.setdefault(paper_id(entry.title), []).append(entry)
    report.duplicates = sum(len(g) - 1 for g in groups.values())

    plans: list[Planned] = []
    for pid, group in groups.items():
        merged = _merge(group)
        seen = [e.source for e in group]
        if pid in existing:
            old = existing[pid]
            paper = updated(old, merged, seen)
            if paper == old:
                report.unchanged += 1
                continue
            path = config.papers_dir / f"{old.slug}.md"
            text = seen_bytes[old.slug]
            plans.append(Planned(path, text, rewrite_front_matter(text.decode(), str(path), paper),
                                 partial(updated, merged=merged, seen=seen)))
            report.updated.append(old.slug)
            if {s.file for s in paper.sources} - {s.file for s in old.sources}:
                report.sourced.append(old.slug)
                report.titles[old.slug] = old.title
            continue
        base = slug_base(group[0].title, pid)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        paper = Paper(id=pid, slug=slug, title=unicodedata.normalize("NFC", group[0].title),
                      abstract=str(merged["abstract"]), published=merged["published"],  # type: ignore[arg-type]
                      authors=merged["authors"], submitter=merged["submitter"],  # type: ignore[arg-type]
                      comments=merged["comments"], sources=tuple(seen))  # type: ignore[arg-type]
        plans.append(Planned(config.papers_dir / f"{slug}.md", None, dump_paper(paper).encode()))
        report.new.append(slug)
        report.titles[slug] = paper.title

    listed = set(order)
    report.orphans = sorted(p.slug for pid, p in existing.items()
                            if pid not in groups and not any(s.file in listed for s in p.sources))
    if plans and not dry_run:
        commit_plan(plans, hook, journal=config.papers_dir / JOURNAL)
        record_arrivals(config.root, report)
    return report


__all__ = ["FENCE", "DumpSummary", "IngestReport", "ingest", "paper_id", "slug_base", "title_key"]
