"""What a build reports: counts, warnings, timings.

In: filled in by build_site stage by stage. Out: the summary line the CLI and the
preview print, and the seconds per stage for `build --timings` and the benchmark.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from site_builder.incremental.sync import SyncStats


@dataclass
class BuildResult:
    out: Path
    pages: int = 0
    files: int = 0
    stats: SyncStats = field(default_factory=SyncStats)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    noop: bool = False
    indexed: bool = False
    quick: bool = False  # only edited papers' own pages were rebuilt (quick.py)
    search_pending: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def tally(self, fingerprints: dict[str, str]) -> None:
        """Count the site's pages and files (every output, rendered now or not)."""
        self.pages = sum(1 for p in fingerprints if p.endswith(".html"))
        self.files = len(fingerprints)

    def summary(self) -> str:
        if self.noop:
            return f"{self.out}/ is up to date ({self.seconds:.2f}s)"
        return (f"built {self.pages} pages, {self.files} files into {self.out}/: "
                f"{self.stats.rendered} rendered, {self.stats.written} written, "
                f"{self.stats.removed} removed"
                + (", search index rebuilt" if self.indexed else "")
                + f" ({self.seconds:.2f}s)")


class Stopwatch:
    """Records the seconds each stage took, for `build --timings` and the benchmark."""

    def __init__(self, timings: dict[str, float], started: float) -> None:
        self.timings, self.last = timings, started

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self.last, 4)
        self.last = now
