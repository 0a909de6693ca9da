"""What an ingest did, told to the curator, and recorded for the review page.

In: what merge.py found (dumps read, papers new and updated, their titles).
Out: ``IngestReport.lines()`` for the terminal (the new papers by title, the papers
that got a new source, where to review them) and ``.cache/last-ingest.json``, the
latest ingest's arrivals, which the preview's review page lists first.

The record is JSON only (never code: it is read by a server), written atomically
(a temporary file renamed over it), and only by an ingest that brought something:
an ingest re-run because config.yaml changed must not empty the review list.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from site_builder.errors import Diagnostic

SHOWN = 10
"""Titles listed per kind of arrival; the rest are counted ("and 29 more")."""
RECORD = Path(".cache") / "last-ingest.json"


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
    sourced: list[str] = field(default_factory=list)
    """Slugs of existing papers seen in a dump they were not recorded in before."""
    titles: dict[str, str] = field(default_factory=dict)
    """Title of each new or sourced slug."""
    unchanged: int = 0
    duplicates: int = 0
    orphans: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    """One line per dump config.yaml does not list: where its date came from."""

    def lines(self, review: str | None = None) -> list[str]:
        """The summary; ``review`` is where to review the arrivals (the review page's
        URL when serving), else how to open it."""
        out = list(self.found)
        out += [f"{d.file}: {d.entries} entries read, {d.warnings} warnings"
                + (f", FAILED: {d.error}" if d.error else "") for d in self.dumps]
        out.append(f"papers: {len(self.new)} new, {len(self.updated)} updated, "
                   f"{self.unchanged} unchanged; {self.duplicates} duplicates merged; "
                   f"{len(self.warnings)} warnings; {len(self.errors)} errors")
        out += self._titled("new papers", self.new)
        out += self._titled("papers with a new source", self.sourced)
        if self.new or self.sourced:
            out.append("review them: " + (review or "run `site-builder serve` (or `make serve`)"
                                          " and open <base path>/_review/"))
        out += [f"no listed dump holds this paper any more (kept): {s}" for s in self.orphans]
        return out

    def _titled(self, kind: str, slugs: list[str]) -> list[str]:
        if not slugs:
            return []
        out = [f"{kind} ({len(slugs)}):"]
        out += [f"  {self.titles.get(slug, slug)}  [{slug}]" for slug in slugs[:SHOWN]]
        if len(slugs) > SHOWN:
            out.append(f"  and {len(slugs) - SHOWN} more")
        return out


@dataclass(frozen=True)
class Arrivals:
    """The latest ingest's new papers and papers with a new source, by slug."""

    new: tuple[str, ...] = ()
    sourced: tuple[str, ...] = ()


def record_arrivals(root: Path, report: IngestReport) -> None:
    """Write .cache/last-ingest.json, atomically, if this ingest brought anything."""
    if not report.new and not report.sourced:
        return
    path = root / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"new": report.new, "sourced": report.sourced}, indent=1)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def read_arrivals(root: Path) -> Arrivals:
    """The recorded arrivals; none when there is no record or it is not what we write."""
    try:
        data = json.loads((root / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Arrivals()
    if not isinstance(data, dict):
        return Arrivals()

    def slugs(key: str) -> tuple[str, ...]:
        value = data.get(key)
        return tuple(s for s in value if isinstance(s, str)) if isinstance(value, list) else ()
    return Arrivals(slugs("new"), slugs("sourced"))
