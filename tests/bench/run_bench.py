"""`make bench`: time ingest and builds on synthetic digests of 1,000 to 50,000 papers.

Synthetic digests are made from the real entries (titles suffixed so they stay unique,
dates spread over 2019-2025) and written as dumps in the real 000-style format, so
ingest parses them like the real thing. Every step runs in a fresh process (startup
and imports count) and is timed as the median of several runs; peak memory is the
child's max RSS from wait4 (for the search index, the most the build and its
Pagefind processes held at once). The table is printed and written as JSON.

Usage: python -m tests.bench.run_bench [--sizes 1000,5000] [--runs 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from site_builder.config import load_config  # noqa: E402
from site_builder.ingest.dumps import read_dump  # noqa: E402
from site_builder.models import RawEntry  # noqa: E402

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HEADER = ("new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"
          "byAK and the research community\n\nNov 26\n\n")
PER_DUMP = 2000


def real_entries() -> list[RawEntry]:
    config = load_config(REPO / "config.yaml")
    seen: dict[str, RawEntry] = {}
    for spec in config.dumps:
        for entry in read_dump(config.dumps_dir / spec.file, spec.captured).entries:
            seen.setdefault(entry.title, entry)
    return list(seen.values())


def synthetic_dumps(count: int, entries: list[RawEntry]) -> list[str]:
    start = dt.date(2019, 1, 1).toordinal()
    span = dt.date(2025, 12, 31).toordinal() - start
    blocks = []
    for i in range(count):
        base = entries[i % len(entries)]
        day = dt.date.fromordinal(start + (i * 7919) % span)
        title = f"{base.title} (variant {i // len(entries) + 1})" if i >= len(entries) \
            else base.title
        comments = f" {i % 17}" if i % 3 == 0 else ""
        blocks.append(f"{title}\n\n{base.abstract}\n\n  • {1 + i % 12} authors\n·\n"
                      f"{MONTHS[day.month - 1]} {day.day}, {day.year}{comments}")
    return [HEADER + "\n\n".join(blocks[i:i + PER_DUMP]) + "\n"
            for i in range(0, len(blocks), PER_DUMP)]


def make_project(root: Path, count: int, entries: list[RawEntry]) -> None:
    for folder in ("templates", "static"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "content" / "pages").mkdir(parents=True)
    shutil.copy(REPO / "content/pages/about.md", root / "content/pages/about.md")
    dumps = root / "content" / "dumps"
    dumps.mkdir()
    names = []
    for index, text in enumerate(synthetic_dumps(count, entries)):
        name = f"{index:03d}_synthetic.txt"
        (dumps / name).write_text(text, encoding="utf-8")
        names.append(name)
    config = (REPO / "config.yaml").read_text(encoding="utf-8")
    head, rest = config.split("\ndumps:\n", 1)
    tail = rest[rest.index("\nmax_themes:"):]
    listing = "".join(f"  - file: {n}\n    captured: 2025-11-26\n" for n in names)
    # Builds are timed without the search index, which is timed on its own line: the
    # last step turns it on and builds (bench_size).
    head = head.replace("  search: true", "  search: false")
    (root / "config.yaml").write_text(f"{head}\ndumps:\n{listing}{tail}", encoding="utf-8")


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and all its descendants now (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total = 0
    for pid in family:
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


class TreePeak:
    """The largest tree_rss of a process seen while it runs (sampled every 20 ms): what
    a machine must hold for a build and the indexers it runs side by side."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def timed(cmd: list[str], cwd: Path, stages: dict[str, list[float]] | None = None,
          tree: bool = False) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command in a fresh process.

    With ``stages``, the build's own per-stage timings (`build --timings`) are collected.
    With ``tree``, the peak is the most the process and its descendants held at once
    (sampled; for the search index, whose Pagefind processes run side by side), else
    the process's max RSS from wait4 (forked render workers share its pages).
    """
    # Dirty pages left by the previous step (and deleted runs) are flushed first, so a
    # step is not charged for its predecessor's disk writes.
    os.sync()
    started = time.perf_counter()
    # As a user runs it: bytecode cached (an environment that turns the cache off would
    # charge every step ~15 ms of compiling site_builder's sources).
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        watch = TreePeak(proc.pid) if tree else None
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        peak = watch.stop() / 2**20 if watch is not None else usage.ru_maxrss / 1024
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{err.read().decode()}")
        for line in out.read().decode().splitlines():
            if stages is not None and line.startswith("timings: "):
                for stage, value in json.loads(line[len("timings: "):]).items():
                    stages.setdefault(stage, []).append(value)
    return seconds, peak


def sb(*args: str) -> list[str]:
    return [sys.executable, "-m", "site_builder", *args]


def bench_size(count: int, runs: int, entries: list[RawEntry], scratch: Path
               ) -> dict[str, float]:
    results: dict[str, list[float]] = {}
    stages: dict[str, list[float]] = {}

    def record(name: str, value: tuple[float, float]) -> None:
        results.setdefault(name, []).append(value[0])
        peak = "search_peak_mib" if name == "search_index" else "peak_mib"
        results.setdefault(peak, []).append(value[1])

    for run in range(runs):
        # Runs are deleted only when the whole benchmark is done: on this machine's disk
        # (ext4 with online discard) deleting a run's gigabyte slowed file creation in
        # the next run's build several-fold for many seconds.
        root = scratch / f"bench-{count}-{run}"
        make_project(root, count, entries)
        record("ingest", timed(sb("ingest"), root))
        record("full_build", timed(sb("build", "--clean", "--timings"), root, stages))
        record("noop_rebuild", timed(sb("build"), root))
        paper = sorted((root / "content/papers").glob("*.md"))[count // 2]
        paper.write_text(paper.read_text().replace("note: ''", "note: Edited."))
        record("edit_one_paper", timed(sb("build"), root))
        # A comment (what this column measured before salts covered generated code:
        # Jinja compiles it away, so no page changes), then a visible edit: every paper
        # page renders and is written.
        template = root / "templates/paper.html"
        template.write_text(template.read_text() + "{# edited #}\n")
        record("edit_template", timed(sb("build"), root))
        template.write_text(template.read_text().replace(
            "{% block content %}", "{% block content %}<!-- edited -->", 1))
        record("edit_template_visible", timed(sb("build"), root))
        config = root / "config.yaml"
        config.write_text(config.read_text().replace("home_items: 20", "home_items: 21"))
        record("edit_config", timed(sb("build"), root))
        # The search index as a build makes it: search turned on, every page unchanged,
        # so the build indexes every shard (side by side) and renders nothing.
        config.write_text(config.read_text().replace("  search: false", "  search: true"))
        record("search_index", timed(sb("build"), root, tree=True))
    row = {name: round(max(values), 1) if name.endswith("peak_mib")
           else round(statistics.median(values), 3) for name, values in results.items()}
    # Stages of the full clean build, timed inside the build: related papers (TF-IDF)
    # and the Pagefind search index get their own columns.
    row.update({f"stage_{name}": round(statistics.median(values), 3)
                for name, values in stages.items()})
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", default="423,1000,5000,20000,50000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "bench-results" / "bench.json"))
    args = parser.parse_args()
    entries = real_entries()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "site_builder")],
                   check=True)
    scratch = Path(tempfile.mkdtemp(prefix="site-builder-bench-"))
    table = {}
    columns = ["ingest", "full_build", "noop_rebuild", "edit_one_paper", "edit_template",
               "edit_template_visible", "edit_config", "peak_mib", "stage_classify",
               "stage_related", "stage_render", "search_index", "search_peak_mib"]
    print("papers  " + "  ".join(f"{c.removeprefix('stage_'):>14}" for c in columns),
          flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        runs = args.runs if size <= 20000 else 1
        row = bench_size(size, runs, entries, scratch)
        table[str(size)] = row
        print(f"{size:>6}  " + "  ".join(f"{row.get(c, float('nan')):>14}" for c in columns),
              flush=True)
    shutil.rmtree(scratch)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out} (seconds, median of runs; peak_mib: largest max RSS of the "
          "ingest and build steps; search_index: a build that turns search on and indexes "
          "every shard, its peak the most its processes held at once)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
