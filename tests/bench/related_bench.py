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

Usage: python -m tests.bench.related_bench [--sizes 5000,20000,50000]
       [--corpora copies,mixed] [--check-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SENTENCE = re.compile(r"(?<=[.!?])\s+")


def corpus(kind: str, count: int) -> tuple[list[str], list[str]]:
    """Slugs (sorted) and texts (title twice, then abstract, as related_map builds them)."""
    from tests.bench.run_bench import real_entries

    entries = real_entries()
    pairs: list[tuple[str, str]] = []
    if kind == "copies":
        for i in range(count):
            base = entries[i % len(entries)]
            title = (f"{base.title} (variant {i // len(entries) + 1})" if i >= len(entries)
                     else base.title)
            pairs.append((f"p{i:06d}", f"{title}\n{title}\n{base.abstract}"))
    elif kind == "mixed":
        pick = random.Random(17)
        sentences = [SENTENCE.split(e.abstract) for e in entries]
        for i in range(count):
            title = entries[i % len(entries)].title
            drawn = [s for source in pick.sample(sentences, 3)
                     for s in pick.sample(source, max(1, len(source) // 3))]
            pairs.append((f"p{i:06d}", f"{title}\n{title}\n{' '.join(drawn)}"))
    else:
        raise SystemExit(f"unknown corpus {kind!r}")
    pairs.sort()
    return [s for s, _ in pairs], [t for _, t in pairs]


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
    from site_builder.build.related import compute_related

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--corpora", default="copies,mixed")
    parser.add_argument("--check-dir", default="")
    parser.add_argument("--one", nargs=2, metavar=("CORPUS", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, size = args.one[0], int(args.one[1])
        check = Path(args.check_dir) / f"{kind}-{size}.json" if args.check_dir else None
        print(json.dumps(run_one(kind, size, check)))
        return 0
    for kind in args.corpora.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            cmd = [sys.executable, "-m", "tests.bench.related_bench", "--one", kind, str(size)]
            if args.check_dir:
                cmd += ["--check-dir", args.check_dir]
            out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
            print(f"{kind:>7} {size:>6} {out.stdout.strip()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
