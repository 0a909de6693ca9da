"""The curator's review list and what each of its actions writes.

In: the Config, the entry files, the latest ingest's arrivals (.cache/last-ingest.json).
Out: ``review_items``: the papers to review, the latest arrivals first, then those
with no theme or the least certain automatic themes; ``changes``: the front-matter
fields one action sets (content.set_fields writes them); ``ReviewError`` when an
action makes no sense (an unknown theme, removing a tag the vocabulary found).

Themes follow the curator's model in models.Paper: non-empty ``themes`` is a pin.
Adding a theme to an unpinned paper pins the themes it shows plus the new one (so
the paper keeps what the reader saw); removing an automatic theme rules it out
(``not_themes``), so the rules never bring it back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from site_builder.build.entries import classify_all
from site_builder.classify.model import model_for
from site_builder.classify.rules import tag_slug
from site_builder.config import Config
from site_builder.content import paper_from_bytes
from site_builder.errors import SiteBuilderError
from site_builder.ingest.report import read_arrivals
from site_builder.models import Classification, Paper

ACTIONS = ("add-theme", "remove-theme", "add-tag", "remove-tag", "hidden", "featured", "note")
MAX_NOTE = 20_000
MAX_TAG = 60
MAX_REST = 300
"""Papers listed after the arrivals: enough for a week, not a page of thousands."""


class ReviewError(SiteBuilderError):
    """An action the review page cannot apply (answered 400 or 409, nothing written)."""


def digest_of(data: bytes) -> str:
    """What the page sends back with an action: the file as it showed it."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Item:
    paper: Paper
    digest: str
    why: str
    """"new", "new source", "no theme" or "uncertain"."""
    result: Classification

    @property
    def pinned(self) -> bool:
        return bool(self.paper.themes)

    @property
    def own_tags(self) -> tuple[str, ...]:
        """Slugs of the tags the curator set (removable; the vocabulary's are not)."""
        return tuple(tag_slug(t) for t in self.paper.tags)

    @property
    def lowest(self) -> float | None:
        return min((c for _, c in self.result.confidences), default=None)


def entry_files(config: Config) -> dict[str, Path]:
    """The server's own list of entry files by slug; requests name a slug, never a path.
    Symlinks are left out: a write must never land outside content/papers/."""
    folder = config.papers_dir
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.md"))
            if p.is_file() and not p.is_symlink() and not p.name.startswith(".")}


def review_items(config: Config) -> list[Item]:
    arrivals = read_arrivals(config.root)
    files = entry_files(config)
    items: dict[str, Item] = {}

    # Classified as the build does (rules, then the model learned from the pins), so
    # the page shows the confidences and suggestions the site's themes come from.
    read = {slug: (data := path.read_bytes(), paper_from_bytes(data, path))
            for slug, path in files.items()}
    papers = [paper for _, paper in read.values()]
    model = model_for(papers, config, config.root / ".cache")
    results = dict(zip(read, classify_all(papers, config, model), strict=True))

    def item(slug: str, why: str) -> Item | None:
        if slug not in read:
            return None
        data, paper = read[slug]
        return Item(paper, digest_of(data), why, results[slug])

    for why, slugs in (("new", arrivals.new), ("new source", arrivals.sourced)):
        for slug in slugs:
            if slug not in items and (found := item(slug, why)) is not None:
                items[slug] = found
    rest: list[Item] = []
    for slug in files:
        if slug in items:
            continue
        found = item(slug, "")
        if found is None or found.paper.hidden or found.pinned:
            continue
        if not found.result.themes:
            rest.append(Item(found.paper, found.digest, "no theme", found.result))
        elif found.lowest is not None:
            rest.append(Item(found.paper, found.digest, "uncertain", found.result))
    # No theme first, then the least certain; the slug breaks ties (a stable page).
    rest.sort(key=lambda i: (i.why != "no theme", i.lowest or 0.0, i.paper.slug))
    return [*items.values(), *rest[:MAX_REST]]


def changes(paper: Paper, shown: tuple[str, ...], config: Config, action: str,
            value: Any) -> dict[str, Any]:
    """The fields ``action`` sets on ``paper`` (which shows the themes ``shown``)."""
    if action not in ACTIONS:
        raise ReviewError(paper.slug, None, f"unknown action {action!r}")
    if action in ("add-theme", "remove-theme"):
        slugs = [t.slug for t in config.themes]
        if value not in slugs:
            raise ReviewError(paper.slug, None, f"no theme {value!r} in config.yaml")
        if action == "add-theme":
            base = list(paper.themes) if paper.themes else list(shown)
            themes = [s for s in slugs if s in base or s == value]  # in config order
            out: dict[str, Any] = {"themes": themes}
            if value in paper.not_themes:
                out["not_themes"] = [t for t in paper.not_themes if t != value]
            return out
        if paper.themes:
            left = [t for t in paper.themes if t != value]
            out = {"themes": left}
            if not left and value not in paper.not_themes:  # else the rules bring it back
                out["not_themes"] = [*paper.not_themes, value]
            return out
        return {"not_themes": [*paper.not_themes, value]} if value not in paper.not_themes else {}
    if action in ("add-tag", "remove-tag"):
        name = value.strip() if isinstance(value, str) else ""
        if not name or len(name) > MAX_TAG or not tag_slug(name):
            raise ReviewError(paper.slug, None, "a tag is a short name with a letter or digit")
        mine = [t for t in paper.tags if tag_slug(t) != tag_slug(name)]
        if action == "add-tag":
            return {"tags": [*paper.tags, name]} if len(mine) == len(paper.tags) else {}
        if len(mine) == len(paper.tags):
            raise ReviewError(paper.slug, None, f"tag {name!r} is found by the vocabulary in "
                              "config.yaml, not set on this paper: change the vocabulary")
        return {"tags": mine}
    if action in ("hidden", "featured"):
        if not isinstance(value, bool):
            raise ReviewError(paper.slug, None, f"{action}: expected true or false")
        return {action: value}
    if not isinstance(value, str) or len(value) > MAX_NOTE:
        raise ReviewError(paper.slug, None, f"a note is text of at most {MAX_NOTE} characters")
    return {"note": value}
