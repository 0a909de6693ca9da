"""The review page's writes: one action on one paper's front matter, and its undo.

In: the project's config.yaml, a slug (looked up in the server's own list of entry
files, never a path from the request), the digest of the file as the page showed
it, an action and its value. Out: the file rewritten through content.set_fields
(only the changed fields' lines differ), a line for the terminal, and an undo record
that restores the file byte for byte.

Every write holds the project lock (no build or ingest runs meanwhile), reads the file
again under it and refuses, naming the file, when it differs from what the page
showed (an editor saved it, or another tab wrote first); the same compare runs right
before the atomic rename, for an editor's save that takes no lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from site_builder.classify.rules import classify
from site_builder.config import load_config
from site_builder.content import paper_from_bytes, set_fields
from site_builder.lock import project_lock
from site_builder.serve.review import ReviewError, changes, digest_of, entry_files
from site_builder.write import commit_files

LOCK_WAIT = 60.0


@dataclass(frozen=True)
class Done:
    path: Path
    before: bytes
    after: bytes
    said: str


class Desk:
    """Applies actions; remembers the last one for undo (one per server run)."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.root = config_path.parent
        self._last: Done | None = None
        self._mutex = threading.Lock()  # the undo record, between executor threads

    def _name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _replace(self, path: Path, expected: bytes, data: bytes) -> None:
        def unchanged(_: Path) -> None:
            if path.read_bytes() != expected:
                raise ReviewError(self._name(path), None, "changed on disk while it was "
                                  "being written; nothing written: reload the page")
        commit_files({path: data}, before_replace=unchanged)

    def act(self, slug: str, digest: str, action: str, value: Any) -> Done | None:
        """Apply one action; None when it changes nothing. ReviewError when refused."""
        with project_lock(self.root, f"review page: {action} on {slug}", wait=LOCK_WAIT):
            config = load_config(self.config_path)
            path = entry_files(config).get(slug)
            if path is None:
                raise ReviewError(f"content/papers/{slug}.md"[:200], None,
                                  "no such entry file in content/papers/")
            data = path.read_bytes()
            name = self._name(path)
            if digest_of(data) != digest:
                raise ReviewError(name, None, "changed since the page showed it (saved in an "
                                  "editor, or by another tab); reload the page and try again")
            paper = paper_from_bytes(data, path)
            shown = classify(paper, config).themes
            values = changes(paper, shown, config, action, value)
            if not values:
                return None
            text = set_fields(data.decode("utf-8"), name, values)
            new = text.encode("utf-8")
            self._replace(path, data, new)
            fields = ", ".join(f"{k}: {v!r}" for k, v in values.items())
            done = Done(path, data, new, f"{name}: {action} {value!r} -> {fields}")
            with self._mutex:
                self._last = done
            return done

    def undo(self) -> Done:
        """Put back the file the last action changed, byte for byte."""
        with self._mutex:
            last = self._last
        if last is None:
            raise ReviewError("review page", None, "nothing to undo")
        with project_lock(self.root, "review page: undo", wait=LOCK_WAIT):
            name = self._name(last.path)
            if not last.path.exists() or last.path.read_bytes() != last.after:
                raise ReviewError(name, None, "changed since the last action; not undone "
                                  "(nothing written)")
            self._replace(last.path, last.after, last.before)
        with self._mutex:
            self._last = None
        return Done(last.path, last.after, last.before, f"{name}: undone ({last.said})")
