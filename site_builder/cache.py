"""Build caches under .cache/: parsed entries, classifications and rendered Markdown.

In: file bytes and text. Out: the same Paper / Classification / HTML as a fresh
computation, looked up by a hash of everything that determines them. A stale or
unreadable cache is simply ignored (it can only cost time, never correctness), and it
is saved atomically, so a crash mid-build leaves the previous cache usable.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from site_builder.classify import Classification
from site_builder.errors import Diagnostic
from site_builder.models import Paper

CACHE_VERSION = 6
FileStat = tuple[int, int, str]
"""A file's size and mtime (ns) when it was read, and the key of what it held."""
# A file modified this recently may change again within its mtime's resolution with
# the same size (git's "racily clean" case): its stat is not trusted next time.
RACY_NS = 2_000_000_000
ParsedFile = tuple[Paper, tuple[Diagnostic, ...], tuple[str, ...], str]


def digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


@dataclass
class BuildCache:
    # hash(name, bytes) -> the parsed entry, the warnings its parse gave, the hashes of
    # its Markdown texts (entries.markdown_texts, keys of ``html``) and of what its
    # classification depends on (entries.class_material)
    papers: dict[str, ParsedFile] = field(default_factory=dict)
    classes: dict[str, Classification] = field(default_factory=dict)
    html: dict[str, str] = field(default_factory=dict)  # hash(markdown) -> html
    # file name -> its stat and key when last read: an unchanged stat spares reading it
    # (the same trust as the no-op stamp, see stamp.py)
    stats: dict[str, FileStat] = field(default_factory=dict)
    # rules_key of the theme and tag rules whose patterns all compiled
    checked_rules: str = ""
    dirty: bool = False

    @classmethod
    def load(cls, path: Path | None) -> BuildCache:
        if path is None or not path.exists():
            return cls()
        try:
            with path.open("rb") as handle:
                data: dict[str, Any] = pickle.load(handle)
        except Exception:
            return cls()
        if data.get("version") != CACHE_VERSION:
            return cls()
        return cls(papers=data["papers"], classes=data["classes"], html=data["html"],
                   stats=data["stats"], checked_rules=data["checked_rules"])

    def save(self, path: Path | None, live_papers: set[str], live_classes: set[str],
             live_html: set[str]) -> None:
        """Keep only what this build used, so the cache never grows without bound."""
        if path is None or (not self.dirty and len(self.papers) == len(live_papers)):
            return
        settled = time.time_ns() - RACY_NS
        data = {"version": CACHE_VERSION, "checked_rules": self.checked_rules,
                "stats": {name: stat for name, stat in self.stats.items()
                          if stat[2] in live_papers and stat[1] < settled},
                "papers": {k: v for k, v in self.papers.items() if k in live_papers},
                "classes": {k: v for k, v in self.classes.items() if k in live_classes},
                "html": {k: v for k, v in self.html.items() if k in live_html}}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cache-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
