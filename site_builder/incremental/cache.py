"""Build caches under .cache/: parsed entries, classifications and rendered Markdown.

In: file bytes and text. Out: the same Paper / Classification / HTML as a fresh
computation, looked up by a hash of everything that determines them. A stale or
unreadable cache is simply ignored (it can only cost time, never correctness), and it
is saved atomically, so a crash mid-build leaves the previous cache usable.

The parsed entries (abstracts: 10 MB at 5,000 papers) are spread over shard files by
key (about PAPERS_PER_SHARD papers each, at most MAX_SHARDS files), and a save
rewrites only the shards whose keys changed: a one-paper edit rewrites one shard
instead of pickling every paper again. The rest (file stats, classifications,
rendered Markdown) is spread the same way over as many "meta" shard files, each read
the first time one of its keys is asked for: a scoped rebuild of one paper reads and
rewrites a few of those, where it read and rewrote all of it
(2.3 MB, 47 ms of a 0.30 s note edit at 5,000 papers). The main file keeps what
every build needs (the versions, the rules and model the classifications used). Keys
are content digests, so shards and the main file written by different builds agree.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from site_builder.errors import Diagnostic
from site_builder.incremental.engine import RACY_NS as RACY_NS
from site_builder.incremental.engine import digest as digest
from site_builder.incremental.engine import engine_digest
from site_builder.incremental.gcpause import paused_gc
from site_builder.incremental.sealed import seal, unseal
from site_builder.models import Classification, Paper, SourceRef

CACHE_VERSION = 18
MAX_SHARDS = 64
"""Most files the parsed entries are spread over (and as many for the rest). An edit
reads the shards of the edited papers and of those its page lists as related (their
cards and classifications): at 16 (2.7 MB each at 20,000 papers) a note edit spent
110 ms reading and rewriting parsed entries and 100 ms reading classifications."""
PAPERS_PER_SHARD = 300
"""About how many papers a shard holds below MAX_SHARDS: 64 files for 423 papers
(seven papers each) cost a whole build 20 ms of opening, checking and unpickling."""


def shard_count(papers: int) -> int:
    """The shards for ``papers`` papers: a power of two, so keys spread evenly."""
    count = 1
    while count < MAX_SHARDS and count * PAPERS_PER_SHARD < papers:
        count *= 2
    return count


META_KINDS = ("classes", "html", "stats")
"""What each meta shard holds, keys of its shard only (see _shard_of)."""
FileStat = tuple[int, int, str]
"""A file's size and mtime (ns) when it was read, and the key of what it held."""


class ParsedFile(NamedTuple):
    """What one entry file gave, computed once per distinct file (entries.load_entries)."""

    paper: Paper
    warnings: tuple[Diagnostic, ...]
    text_keys: tuple[str, ...]
    """Digests of its Markdown texts (entries.markdown_texts): keys of BuildCache.html."""
    class_material: str
    """A digest of what its classification depends on (entries.class_material)."""
    summary: str
    card_material: str
    text_material: str
    """A digest of what related papers read of it (site.text_material)."""


@dataclass
class BuildCache:
    # hash(name, bytes) -> what the file gave
    papers: dict[str, ParsedFile] = field(default_factory=dict)
    classes: dict[str, Classification] = field(default_factory=dict)
    html: dict[str, str] = field(default_factory=dict)  # hash(markdown) -> html
    # file name -> its stat and key when last read: an unchanged stat spares reading it
    # (the same trust as the no-op stamp, see stamp.py)
    stats: dict[str, FileStat] = field(default_factory=dict)
    meta_unloaded: set[int] = field(default_factory=set)
    """Meta shards not read yet (load with shards=False): unchanged unless written to."""
    meta_dirty: set[int] = field(default_factory=set)
    """Meta shards something was stored in since they were read."""
    # rules_key of the theme and tag rules whose patterns all compiled
    checked_rules: str = ""
    # training_key of the theme model its classifications used ("" = rules alone)
    model_key: str = ""
    dirty: bool = False
    shards: int = 1
    """How many shard files of each kind the cache is spread over (shard_count)."""
    # The paper keys each shard file held when loaded (a shard not loaded: absent).
    shard_keys: dict[int, set[str]] = field(default_factory=dict)

    path: Path | None = None
    """Where it was loaded from (shards not loaded yet are read from beside it)."""
    unloaded: set[int] = field(default_factory=set)
    """Shards not read yet (load with shards=False): unchanged, so never rewritten."""
    engine: str = field(default_factory=lambda: engine_digest())
    """The code and libraries that filled it (engine.py): part of every key."""

    @classmethod
    def load(cls, path: Path | None, shards: bool = True) -> BuildCache:
        """The cache at ``path``; with ``shards=False`` the parsed entries are read only
        when ``parsed`` asks for them (a rebuild of one page needs a few)."""
        if path is None or not path.exists():
            return cls()
        with paused_gc():
            data = _read(path)
            engine = engine_digest()
            if data is None or data.get("version") != CACHE_VERSION \
                    or data.get("engine") != engine:
                return cls()  # other code or libraries filled it: start empty
            count = data.get("shards")
            if count not in {1 << n for n in range(MAX_SHARDS.bit_length())}:
                return cls()  # not a layout shard_count makes
            cache = cls(checked_rules=data["checked_rules"],
                        model_key=data.get("model_key", ""), path=path, engine=engine,
                        shards=count, unloaded=set(range(count)),
                        meta_unloaded=set(range(count)))
            if shards:
                for shard in range(count):
                    cache._load_shard(shard)
                for shard in range(count):
                    cache._load_meta(shard)
            else:  # read a meta shard when one of its keys is first asked for
                cache.classes = _Lazy(cache._key_shard, cache._load_meta, cache.meta_dirty)
                cache.html = _Lazy(cache._key_shard, cache._load_meta, cache.meta_dirty)
                cache.stats = _Lazy(cache._name_shard, cache._load_meta, cache.meta_dirty)
            return cache

    def _key_shard(self, key: str) -> int:
        return _shard_of(key, self.shards)

    def _name_shard(self, name: str) -> int:
        return _name_shard_of(name, self.shards)

    def _load_meta(self, shard: int) -> None:
        if shard not in self.meta_unloaded:
            return
        self.meta_unloaded.discard(shard)
        assert self.path is not None
        with paused_gc():
            rows = _read(_meta_path(self.path, shard))
            if rows is None or rows.get("version") != CACHE_VERSION \
                    or rows.get("engine") != self.engine:
                return
            # dict.update, not the _Lazy's own methods: they would ask for this shard
            dict.update(self.classes, {k: Classification(*row)
                                       for k, row in rows["classes"].items()})
            dict.update(self.html, rows["html"])
            dict.update(self.stats, rows["stats"])

    def _load_shard(self, shard: int) -> None:
        self.unloaded.discard(shard)
        assert self.path is not None
        rows = _read(_shard_path(self.path, shard))
        if rows is not None and rows.get("version") == CACHE_VERSION \
                and rows.get("engine") == self.engine:
            papers = {k: ParsedFile(_paper(row), *rest)
                      for k, (row, *rest) in rows["papers"].items()}
            self.papers.update(papers)
            self.shard_keys[shard] = set(papers)

    def parsed(self, key: str) -> ParsedFile | None:
        """The entry parsed under ``key``, reading its shard if it is not loaded yet."""
        shard = _shard_of(key, self.shards)
        if shard in self.unloaded:
            with paused_gc():
                self._load_shard(shard)
        return self.papers.get(key)

    def add(self, key: str, parsed: ParsedFile) -> None:
        """A newly parsed entry (its shard is read first, so saving it keeps the rest)."""
        self.parsed(key)
        self.papers[key] = parsed
        self.dirty = True

    def save(self, path: Path | None, live_papers: set[str] | None, live_classes: set[str] | None,
             live_html: set[str] | None) -> None:
        """Keep only what this build used, so the cache never grows without bound. None
        keeps everything (a scoped rebuild knows only what it touched); shards that were
        never loaded are left as they are."""
        if path is None or (not self.dirty and live_papers is not None
                            and len(self.papers) == len(live_papers)):
            return
        keep_all = live_papers is None  # papers of unread shards are live too
        if live_papers is None:
            live_papers = set(self.papers)
        if live_classes is None:
            live_classes = set(self.classes)
        if live_html is None:
            live_html = set(self.html)
        settled = time.time_ns() - RACY_NS
        # A whole build that read every shard lays the cache out for its papers; a
        # scoped one keeps the layout it read.
        count = self.shards
        if not keep_all and not self.unloaded and not self.meta_unloaded:
            count = shard_count(len(live_papers))
        if count != self.shards or self.path != path:
            self.shard_keys = {}  # a new layout: every shard is written
        self.shards = count
        shards: list[list[str]] = [[] for _ in range(count)]
        for key in self.papers:
            if key in live_papers:
                shards[_shard_of(key, count)].append(key)
        with paused_gc():
            # Shards first: the main file's stats name keys, and a key missing from the
            # shards only means that file is parsed again.
            for shard, keys in enumerate(shards):
                if shard in self.unloaded and self.path == path:
                    continue  # not read (a scoped rebuild): nothing of it changed
                if self.shard_keys.get(shard) != set(keys):
                    self._write(_shard_path(path, shard), {
                        "version": CACHE_VERSION, "engine": self.engine,
                        "papers": {k: (_paper_row(self.papers[k][0]), *self.papers[k][1:])
                                   for k in keys}})
                    self.shard_keys[shard] = set(keys)
            metas: list[dict[str, dict[str, Any]]] = [
                {kind: {} for kind in META_KINDS} for _ in range(count)]
            for name, stat in self.stats.items():
                if (keep_all or stat[2] in live_papers) and stat[1] < settled:
                    metas[_name_shard_of(name, count)]["stats"][name] = stat
            for k, v in self.classes.items():
                if k in live_classes:
                    metas[_shard_of(k, count)]["classes"][k] = (
                        v.themes, v.tags, v.theme_scores, v.confidences, v.suggestions)
            for k, html in self.html.items():
                if k in live_html:
                    metas[_shard_of(k, count)]["html"][k] = html
            for shard, meta in enumerate(metas):
                # A scoped rebuild (keep_all) writes the shards it stored in; a whole
                # build has read them all and keeps only what it used.
                if shard in self.meta_unloaded and self.path == path:
                    continue
                if keep_all and shard not in self.meta_dirty and self.path == path:
                    continue
                self._write(_meta_path(path, shard), {
                    "version": CACHE_VERSION, "engine": self.engine, **meta})
            self.meta_dirty.clear()
            self._write(path, {
                "version": CACHE_VERSION, "engine": self.engine,
                "checked_rules": self.checked_rules, "model_key": self.model_key,
                "shards": count,
            })
        if not keep_all:  # shard files of another layout (an older version) are dead
            current = {_shard_path(path, n).name for n in range(count)} | \
                {_meta_path(path, n).name for n in range(count)}
            for kind in ("papers", "meta"):
                for old in path.parent.glob(f"{path.stem}-{kind}-*{path.suffix}"):
                    if old.name not in current:
                        old.unlink(missing_ok=True)

    @staticmethod
    def _write(path: Path, data: dict[str, Any]) -> None:
        sealed = seal(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        if sealed is None:
            return  # no key to seal with (sealed.py): nothing is cached
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cache-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
        os.replace(tmp, path)


def _shard_of(key: str, shards: int) -> int:
    """Keys (of parsed entries, classifications, Markdown texts) are hex digests: their
    first two digits spread them evenly over the shards of either kind."""
    try:
        return int(key[:2], 16) % shards
    except ValueError:
        return 0


def _shard_path(path: Path, shard: int) -> Path:
    return path.with_name(f"{path.stem}-papers-{shard:02x}{path.suffix}")


def _name_shard_of(name: str, shards: int) -> int:
    """A file's stat is kept by its name: spread by a checksum of the name."""
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % shards


def _meta_path(path: Path, shard: int) -> Path:
    return path.with_name(f"{path.stem}-meta-{shard:02x}{path.suffix}")


Value = TypeVar("Value")


class _Lazy(dict[str, Value]):
    """A dict filled shard by shard: asking for a key (or storing one) first reads the
    key's shard, so a scoped rebuild reads the few shards its papers' keys fall in.
    Stores mark the shard dirty (BuildCache.save writes those)."""

    def __init__(self, shard_of: Callable[[str], int], load: Callable[[int], None],
                 dirty: set[int]) -> None:
        super().__init__()
        self._shard_of, self._load, self._dirty = shard_of, load, dirty

    def __getitem__(self, key: str) -> Value:
        self._load(self._shard_of(key))
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._load(self._shard_of(key))
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._load(self._shard_of(key))
        return super().__contains__(key)

    def __setitem__(self, key: str, value: Value) -> None:
        shard = self._shard_of(key)
        self._load(shard)
        self._dirty.add(shard)
        super().__setitem__(key, value)


def _read(path: Path) -> dict[str, Any] | None:
    """A pickled dict, or None when it is missing, unreadable or not sealed by this
    machine (only costs time). Nothing is unpickled before its seal is checked."""
    try:
        blob = unseal(path.read_bytes())
        data = pickle.loads(blob) if blob is not None else None
    except Exception:
        return None
    return data if isinstance(data, dict) else None




# Papers and classifications are stored as plain tuples: unpickling 5,000 dataclass
# instances took 0.06 s of every incremental build, rebuilding them from tuples 0.02 s.
PaperRow = tuple[Any, ...]


def _paper_row(paper: Paper) -> PaperRow:
    return (paper.id, paper.slug, paper.title, paper.abstract, paper.published,
            paper.authors, paper.submitter, paper.comments,
            tuple((s.file, s.line) for s in paper.sources), paper.tags, paper.themes,
            paper.not_themes, paper.note, paper.featured, paper.hidden)


def _paper(row: PaperRow) -> Paper:
    (id_, slug, title, abstract, published, authors, submitter, comments, sources, tags,
     themes, not_themes, note, featured, hidden) = row
    return Paper(id=id_, slug=slug, title=title, abstract=abstract, published=published,
                 authors=authors, submitter=submitter, comments=comments,
                 sources=tuple(SourceRef(file, line) for file, line in sources), tags=tags,
                 themes=themes, not_themes=not_themes, note=note, featured=featured, hidden=hidden)
