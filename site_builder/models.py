"""Stage-typed, immutable data passed between the pipeline stages.

RawEntry   what the dump parser read out of one dump entry (duplicates included).
ParseResult the entries and warnings of one dump.
Paper      one curated entry of content/papers/ (the source of truth for the site).
Classification the themes and tags classify found for one paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from site_builder.errors import Diagnostic


@dataclass(frozen=True, order=True)
class SourceRef:
    """Where an entry was read: the dump's file name and the 1-based line of its title."""

    file: str
    line: int


@dataclass(frozen=True)
class RawEntry:
    """One entry as the dump shows it. ``abstract`` is "" when the dump has none."""

    title: str
    abstract: str
    authors: int | None
    submitter: str | None
    published: dt.date | None
    comments: int | None
    source: SourceRef


@dataclass(frozen=True)
class ParseResult:
    """Everything read from one dump: entries in dump order and warnings in line order."""

    file: str
    entries: tuple[RawEntry, ...]
    warnings: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class OutputFile:
    """One file of the built site: its site-relative POSIX path and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True)
class Paper:
    """One entry of content/papers/<slug>.md.

    ``themes``, ``not_themes`` and ``tags`` are the curator's (front matter); the themes
    and tags a paper shows on the site are computed from these plus the config rules in
    classify. Non-empty ``themes`` is a pin: exactly those. A pin of "no theme at all"
    is ``not_themes`` listing every theme.
    """

    id: str
    slug: str
    title: str
    abstract: str
    published: dt.date | None
    authors: int | None
    submitter: str | None
    comments: int | None
    sources: tuple[SourceRef, ...]
    tags: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    not_themes: tuple[str, ...] = ()
    """Themes the curator ruled out: never assigned automatically (pinned themes win)."""
    note: str = ""
    featured: bool = False
    hidden: bool = False


@dataclass(frozen=True)
class Classification:
    """What classify found for one paper."""

    themes: tuple[str, ...]
    """Theme slugs, in config order."""
    tags: tuple[str, ...]
    """Tag slugs, sorted."""
    theme_scores: tuple[tuple[str, float], ...]
    """(slug, score) for every configured theme, in config order."""
    confidences: tuple[tuple[str, float], ...] = ()
    """(slug, confidence in [0, 1]) of each automatic theme (none for a pinned paper):
    shown to the curator (review page, ``themes --explain``), never to readers."""
    suggestions: tuple[tuple[str, float], ...] = ()
    """(slug, score) of themes just below the bar, most likely first: offered to the
    curator for one-click acceptance, never shown to readers. The score is the model's
    confidence nudged up by the theme's partly matched rules (model.RULE_NUDGE)."""
