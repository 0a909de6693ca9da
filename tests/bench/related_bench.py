"""Time the related-papers stage alone on synthetic corpora of 5,000 to 50,000 papers.

Two corpora, both made from the real digest's entries:

- ``copies``: what `make bench` builds (run_bench.synthetic_dumps): every real paper
  again and again, its title suffixed "(variant N)", its abstract unchanged.
- ``mixed``: every paper a real title and sentences drawn from three real abstracts
  (seeded), so no two texts are alike and neighbours are not copies: closer to a real
  digest's score spread, and harder to prune (the vocabulary stays the real one's).

Each (corpus, size) runs in a fresh process: wall and CPU seconds of ``compute_related``
(tokenizing included) and
its peak memory (max RSS of the process and of its forked workers, minus the RSS
before the stage). With ``--check FILE`` the result is compared with (or, when the file
does not exist, saved to) a JSON map, so two versions of the code can be shown to
agree.

With ``--edits N``: N one-word abstract edits in turn, each applied by update_related
from the last state (run_edits says what is reported).

Usage: python -m tests.bench.related_bench [--sizes 5000,20000,50000]
       [--corpora copies,mixed] [--check-dir DIR] [--edits N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SENTENCE = re.compile(r"(?<=[.!?])\s+")


def papers(kind: str, count: int) -> list[tuple[str, str, str]]:
    """(slug, title, abstract) of every paper, sorted by slug."""
    from tests.bench.run_bench import real_entries

    entries = real_entries()
    made: list[tuple[str, str, str]] = []
    if kind == "copies":
        for i in range(count):
            base = entries[i % len(entries)]
            title = (f"{base.title} (variant {i // len(entries) + 1})" if i >= len(entries)
                     else base.title)
            made.append((f"p{i:06d}", title, base.abstract))
    elif kind == "mixed":
        pick = random.Random(17)
        sentences = [SENTENCE.split(e.abstract) for e in entries]
        for i in range(count):
            drawn = [s for source in pick.sample(sentences, 3)
                     for s in pick.sample(source, max(1, len(source) // 3))]
            made.append((f"p{i:06d}", entries[i % len(entries)].title, " ".join(drawn)))
    else:
        raise SystemExit(f"unknown corpus {kind!r}")
    return sorted(made)


def corpus(kind: str, count: int) -> tuple[list[str], list[str]]:
    """Slugs (sorted) and texts (title twice, then abstract, as related_map builds them)."""
    made = papers(kind, count)
    return [s for s, _, _ in made], [f"{t}\n{t}\n{a}" for _, t, a in made]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers: steadier than wall time on a
    machine shared with other work."""
    own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def run_one(kind: str, count: int, check: Path | None) -> dict[str, float]:
    """In this process: build the corpus, time the stage, report seconds and memory."""
    from site_builder.build.tfidf import compute_related

    slugs, texts = corpus(kind, count)
    import numpy  # noqa: F401  (imports are not the stage's memory)
    import scipy.sparse  # noqa: F401

    before = rss_mib()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    result = compute_related(slugs, texts, 5)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    row = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
           "peak_mib": round(max(own, workers) - before, 1)}
    if check is not None:
        if check.exists():
            row["same_as_saved"] = float(json.loads(check.read_text()) == result)
        else:
            check.write_text(json.dumps(result, sort_keys=True))
    return row


@dataclass(frozen=True)
class _Paper:
    title: str
    abstract: str


@dataclass(frozen=True)
class _Entry:
    """What related papers read of an Entry (slug, paper title and abstract, digest)."""

    slug: str
    paper: _Paper
    text_material: str


def _entry(slug: str, title: str, abstract: str) -> Any:
    digest = hashlib.blake2b(repr((slug, title, abstract)).encode(), digest_size=16)
    return _Entry(slug, _Paper(title, abstract), digest.hexdigest())


def run_edits(kind: str, count: int, edits: int) -> dict[str, float]:
    """One-word abstract edits, one after another, each applied with update_related:
    how many rows each moved (its own, and those sharing a word whose idf changed), how
    often the cheap path applied (the update ranks again only those rows and their
    readers, not everything), and the update's CPU seconds (workers included). Each
    replaces a random word of a random abstract with a random word of another one."""
    import numpy as np

    from site_builder.build import related_update
    from site_builder.words import TOKEN

    entries = [_entry(*made) for made in papers(kind, count)]
    cache = Path(tempfile.mkdtemp(prefix="related-edits-", dir="/dev/shm"))
    started = cpu_seconds()
    related_update.update_related(cache, entries, ())  # no state yet: the clean path
    clean = cpu_seconds() - started
    pick = random.Random(5)
    moved_rows: list[int] = []
    seconds: list[float] = []
    cheap = 0
    for _ in range(edits):
        index = pick.randrange(count)
        target = entries[index]
        words = [m for m in TOKEN.finditer(target.paper.abstract.lower())]
        other = TOKEN.findall(entries[pick.randrange(count)].paper.abstract.lower())
        if not words or not other:
            continue
        place = pick.choice(words)
        abstract = (target.paper.abstract[:place.start()] + pick.choice(other)
                    + target.paper.abstract[place.end():])
        old = related_update.load_state(cache, 5)
        assert old is not None
        entries[index] = _entry(target.slug, target.paper.title, abstract)
        redo = np.asarray([index])
        counted = related_update.updated_counts(old, entries, redo)
        moved = len(np.union1d(redo, related_update.idf_changed_rows(old.counted, counted)))
        moved_rows.append(moved)
        cheap += moved * 4 <= count
        started = cpu_seconds()
        related_update.update_related(cache, entries, {target.slug})
        seconds.append(cpu_seconds() - started)
    shutil.rmtree(cache)
    return {"clean_cpu_seconds": round(clean, 2), "edits": len(seconds),
            "cheap_path_share": round(cheap / max(1, len(seconds)), 2),
            "moved_rows_median": float(np.median(moved_rows)),
            "moved_rows_max": float(max(moved_rows)),
            "update_cpu_seconds_median": round(float(np.median(seconds)), 2),
            "update_cpu_seconds_max": round(max(seconds), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--corpora", default="copies,mixed")
    parser.add_argument("--check-dir", default="")
    parser.add_argument("--edits", type=int, default=0,
                        help="instead: this many one-word edits, each applied by update_related")
    parser.add_argument("--one", nargs=2, metavar=("CORPUS", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, size = args.one[0], int(args.one[1])
        check = Path(args.check_dir) / f"{kind}-{size}.json" if args.check_dir else None
        print(json.dumps(run_edits(kind, size, args.edits) if args.edits
                         else run_one(kind, size, check)))
        return 0
    for kind in args.corpora.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            cmd = [sys.executable, "-m", "tests.bench.related_bench", "--one", kind, str(size)]
            if args.check_dir:
                cmd += ["--check-dir", args.check_dir]
            if args.edits:
                cmd += ["--edits", str(args.edits)]
            out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
            print(f"{kind:>7} {size:>6} {out.stdout.strip()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
