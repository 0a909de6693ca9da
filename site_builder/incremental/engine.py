"""What renders the site, as one digest: our package's code and the libraries that shape bytes.

In: nothing but the installed package and its environment. Out: ``engine_digest()``,
the digest every cache key and every output fingerprint starts from, and
``engine_stamp()``, a cheap stand-in for it (file stats and version strings) for the
no-op check.

Why one digest: a cache keyed by content alone survives an upgrade of markdown-it-py
or an edit of our own renderer and serves stale bytes. With the engine in every key, a
new library version or any change to our code makes every cache miss and every
fingerprint differ, so the next build equals a clean one (the tests simulate both).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from site_builder.incremental.sealed import key_path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""site_builder/: all of it counts, wherever a module lives."""
# A file modified this recently may change again within its mtime's resolution with
# the same size (git's "racily clean" case): its stat is not trusted next time.
RACY_NS = 2_000_000_000
MEMO_ENTRIES = 8
"""Engine digests remembered by stamp (engine_digest): a few versions of the code."""

# Distributions whose behaviour reaches an output's bytes or a cached value: templating
# and escaping, Markdown and linkify, YAML, feeds (feedgen serialises with lxml), the
# search index, related papers and classification.
LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "linkify-it-py",
             "uc-micro-py", "mdurl", "pyyaml", "feedgen", "lxml", "python-dateutil",
             "pagefind", "pagefind-bin", "numpy", "scipy", "pyahocorasick", "scikit-learn")

def digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


_DIST_INFO = re.compile(r"^(?P<name>[A-Za-z0-9_.]+?)-(?P<version>[^-]+?)\.(?:dist|egg)-info$")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def library_versions() -> tuple[str, ...]:
    """``name==version`` for each installed library of LIBRARIES (``name==absent``
    otherwise), read off the ``*.dist-info`` folder names on sys.path: one listdir per
    path entry, where importlib.metadata costs 40 ms to import."""
    wanted = {_normalise(n) for n in LIBRARIES}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            match = _DIST_INFO.match(name)
            if match:
                key = _normalise(match["name"])
                if key in wanted and key not in found:  # first on sys.path wins, as import
                    found[key] = match["version"]
    python = f"python=={sys.implementation.name}-{sys.version_info[:3]}"
    return (python, *(f"{n}=={found.get(n, 'absent')}" for n in sorted(wanted)))


def _engine_files() -> list[Path]:
    files = []
    for path in sorted(PACKAGE_ROOT.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if path.suffix in (".py", ".rng", ".js", ".json", ".html"):
            files.append(path)
    return files


class Engine:
    """The stamp and digest of the engine one build runs on, found when first asked."""

    def __init__(self) -> None:
        self.stamp: tuple[str, ...] | None = None
        self.digest: str | None = None


# Within one build (one_engine), what was found first; outside, None.
_BUILD_ENGINE: contextvars.ContextVar[Engine | None] = contextvars.ContextVar(
    "build_engine", default=None)


@contextlib.contextmanager
def one_engine(engine: Engine | None = None) -> Iterator[None]:
    """Within the block, the engine's stamp and digest are worked out once (when first
    asked): one build is made by one engine. The input stamp, every cache and the salt
    ask for them, and each answer took a walk of the package and of site-packages
    (about 9 ms, seven times in a one-paper rebuild). Inside a block already open (the
    preview's, see running_engine), that block's engine holds."""
    if _BUILD_ENGINE.get() is not None:
        yield
        return
    token = _BUILD_ENGINE.set(engine or Engine())
    try:
        yield
    finally:
        _BUILD_ENGINE.reset(token)


def running_engine() -> Engine:
    """The engine this process runs, worked out now: for a long-lived process (the
    preview server) that builds many times. Its code and libraries are those loaded
    when it started; an edit of site_builder/ or a ``pip install -U`` while it runs
    changes the files, not what it runs, so its builds must not claim the new engine
    (a later build with the new code would take its outputs as current)."""
    engine = Engine()
    with one_engine(engine):
        engine_digest()
    return engine


def engine_stamp() -> list[str]:
    """The engine's files by size and mtime, and the library versions (for the stamp)."""
    held = _BUILD_ENGINE.get()
    if held is not None and held.stamp is not None:
        return list(held.stamp)
    parts = list(library_versions())
    for path in _engine_files():
        st = path.stat()
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    if held is not None:
        held.stamp = tuple(parts)
    return parts


def engine_digest() -> str:
    """The digest of every file of the package (by content) and every library version.
    The files are read once per distinct stamp (sizes, mtimes, versions), and the
    stamp is taken once per build (one_engine)."""
    held = _BUILD_ENGINE.get()
    if held is not None and held.digest is not None:
        return held.digest
    value = _engine_digest(tuple(engine_stamp()))
    if held is not None:
        held.digest = value
    return value


@functools.lru_cache(maxsize=2)
def _engine_digest(stamp: tuple[str, ...]) -> str:
    """The digest for ``stamp``: remembered across processes in the user's cache folder
    (beside the seal key, outside any project), by a digest of the stamp, the trust a
    no-op build already gives it; reading and hashing the package took 8 ms of every
    build that was not a no-op. Remembered only when every file is older than
    RACY_NS, so an edit that keeps a file's size and mtime cannot hide."""
    key = digest(*stamp)
    memo_path = _memo_path()
    memo = _read_memo(memo_path)
    if key in memo:
        return memo[key]
    parts: list[bytes | str] = list(library_versions())
    settled = True
    horizon = time.time_ns() - RACY_NS
    for path in _engine_files():
        settled = settled and path.stat().st_mtime_ns < horizon
        parts += [path.relative_to(PACKAGE_ROOT).as_posix(), path.read_bytes()]
    value = digest(*parts)
    if settled:
        memo.pop(key, None)
        memo[key] = value
        _write_memo(memo_path, dict(list(memo.items())[-MEMO_ENTRIES:]))
    return value


def _memo_path() -> Path:
    return key_path().parent / "engine-digests.json"


def _read_memo(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _write_memo(path: Path, memo: dict[str, str]) -> None:
    with contextlib.suppress(OSError):  # a memo only ever saves time
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".engine-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(memo, handle)
        os.replace(tmp, path)
