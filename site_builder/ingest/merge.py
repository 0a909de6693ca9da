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
from dataclasses import dataclass, field, replace
from pathlib import Path

from site_builder.config import Config, slugify
from site_builder.content import FENCE, dump_paper, load_papers, split_front_matter
from site_builder.errors import ContentError, Diagnostic, DumpError, os_error
from site_builder.ingest.dumps import read_dump
from site_builder.lock import project_lock
from site_builder.models import Paper, ParseResult, RawEntry, SourceRef
from site_builder.write import commit_files, recover

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


@dataclass
class DumpSummary:
    file: str
    entries: int = 0
    warnings: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    dumps: list[DumpSummary] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0
    orphans: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{d.file}: {d.entries} entries read, {d.warnings} warnings"
               + (f", FAILED: {d.error}" if d.error else "") for d in self.dumps]
        out.append(f"papers: {len(self.new)} new, {len(self.updated)} updated, "
                   f"{self.unchanged} unchanged; {self.duplicates} duplicates merged; "
                   f"{len(self.warnings)} warnings; {len(self.errors)} errors")
        out += [f"no listed dump holds this paper any more (kept): {s}" for s in self.orphans]
        return out


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


def _rewrite(path: Path, paper: Paper) -> bytes:
    """New front matter, the curator's body kept byte for byte."""
    text = path.read_text(encoding="utf-8")
    _, body, _ = split_front_matter(text, str(path))
    front = dump_paper(replace(paper, abstract="")).rstrip("\n")
    return f"{front}\n{body}".encode() if body else f"{front}\n".encode()


def parse_dumps(config: Config, report: IngestReport) -> list[ParseResult]:
    results = []
    for spec in config.dumps:
        summary = DumpSummary(spec.file)
        report.dumps.append(summary)
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


def ingest(config: Config, dry_run: bool = False, lock_wait: float = 120.0) -> IngestReport:
    """Merge every dump into content/papers/ under the project lock (lock.py)."""
    with project_lock(config.root, "ingest", wait=lock_wait,
                      on_wait="waiting for another site-builder to finish"):
        try:
            return _ingest(config, dry_run)
        except OSError as exc:  # read-only content/papers, full disk: named, no traceback
            raise os_error(exc, config.papers_dir, ContentError) from exc


JOURNAL = ".ingest-journal.json"
"""In content/papers/ while an ingest renames its files (write.py); git-ignored."""


def _recover(config: Config, report: IngestReport) -> None:
    """Finish what a killed ingest left: its renames, its temporaries."""
    completed, removed = recover(config.papers_dir / JOURNAL)
    folder = str(config.papers_dir)
    if completed:
        report.warnings.append(Diagnostic(folder, None, f"completed an interrupted ingest: "
                                          f"{completed} entry file(s) renamed into place"))
    if removed:
        report.warnings.append(Diagnostic(folder, None, f"removed {removed} temporary "
                                          "file(s) an interrupted ingest left"))


def _ingest(config: Config, dry_run: bool) -> IngestReport:
    report = IngestReport()
    if not dry_run:
        _recover(config, report)
    results = parse_dumps(config, report)
    read_files = {r.file for r in results}
    order = {spec.file: index for index, spec in enumerate(config.dumps)}

    existing = {p.id: p for p in load_papers(config.papers_dir, report.warnings)}
    taken = {p.slug for p in existing.values()}

    groups: dict[str, list[RawEntry]] = {}
    for result in results:
        for entry in result.entries:
            groups.setdefault(paper_id(entry.title), []).append(entry)
    report.duplicates = sum(len(g) - 1 for g in groups.values())

    writes: dict[Path, bytes] = {}
    for pid, group in groups.items():
        merged = _merge(group)
        seen = [e.source for e in group]
        if pid in existing:
            old = existing[pid]
            kept = [s for s in old.sources if s.file not in read_files]
            sources = tuple(sorted(set(seen) | set(kept),
                                   key=lambda s: (order.get(s.file, len(order)), s.file, s.line)))
            paper = _update(old, merged, sources)
            if paper == old:
                report.unchanged += 1
                continue
            path = config.papers_dir / f"{old.slug}.md"
            writes[path] = _rewrite(path, paper)
            report.updated.append(old.slug)
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
        writes[config.papers_dir / f"{slug}.md"] = dump_paper(paper).encode()
        report.new.append(slug)

    listed = set(order)
    report.orphans = sorted(p.slug for pid, p in existing.items()
                            if pid not in groups and not any(s.file in listed for s in p.sources))
    if writes and not dry_run:
        commit_files(writes, journal=config.papers_dir / JOURNAL)
    return report


__all__ = ["FENCE", "IngestReport", "ingest", "paper_id", "slug_base", "title_key"]
