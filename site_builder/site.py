"""Assemble the Site: classified, dated, sorted entries and the indexes pages are made of.

In: the Config and the Papers of content/papers/. Out: a frozen Site holding every
entry (newest first, ties broken by slug) plus the theme, tag and year indexes.
Hidden papers are left out here, so no later stage can leak them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from site_builder.config import Config, Theme
from site_builder.models import Classification, Paper

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Characters that cannot appear raw in a URL end it: abstracts wrap links in LaTeX
# (\url{...}) or templates ({URL}), and those braces are not part of the link.
URL_RE = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
SUMMARY_CHARS = 300


def format_date(day: dt.date) -> str:
    """``Mar 5, 2024``, spelled out here rather than through a locale."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


@dataclass(frozen=True)
class Entry:
    """A paper as the site shows it: its themes, tags and the date it sorts by."""

    paper: Paper
    themes: tuple[str, ...]
    tags: tuple[str, ...]
    date: dt.date | None  # published, else the capture date of its first dated dump
    summary: str
    paper_key: str
    """A digest standing for the Paper (its file's, when the build knows it)."""
    card_material: str
    """A digest of what a card shows of the paper itself (see card_material)."""
    text_material: str
    """A digest of what related papers read of it (see text_material)."""
    # Set by make_entry, read tens of thousands of times a build: plain fields, not
    # properties (which were a tenth of planning a rebuild at 20,000 papers).
    slug: str
    """The paper's slug."""
    key: str
    """Everything a page can show of this entry, as one string (entry_keys)."""
    card_key: str
    """What a card shows of this entry (entry_keys): listings and related papers depend
    on this, so a curator's note or a late abstract edit does not re-render every
    listing the paper is in."""

    @cached_property
    def code_links(self) -> tuple[str, ...]:
        """URLs in the abstract; only paper pages show them, so found only when rendered."""
        return code_links(self.paper.abstract)

    @property
    def year_label(self) -> str:
        return str(self.date.year) if self.date else "Undated"


@dataclass(frozen=True)
class TagInfo:
    slug: str
    name: str


@dataclass(frozen=True)
class Site:
    config: Config
    entries: tuple[Entry, ...]
    by_theme: tuple[tuple[Theme, tuple[Entry, ...]], ...]
    by_tag: tuple[tuple[TagInfo, tuple[Entry, ...]], ...]
    by_year: tuple[tuple[str, tuple[Entry, ...]], ...]
    captured: Mapping[str, dt.date | None]


def plain_summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def code_links(abstract: str) -> tuple[str, ...]:
    """URLs mentioned in the abstract (code, data, project pages), trailing punctuation off."""
    if "://" not in abstract:  # most abstracts: no regex scan (URL_RE needs "://")
        return ()
    found = (m.group(0).rstrip(".,;:)]}") for m in URL_RE.finditer(abstract))
    return tuple(dict.fromkeys(u for u in found if len(u) > len("https://x.y")))


def place_key(entry: Entry) -> str:
    """What decides where an entry is listed and what the site counts of it: its id
    (unique across the digest), themes, tags and date (which listings and feeds hold
    it, in what order, on which page), featured (the home page), comments (the most
    discussed) and its dumps (the statistics). Everything assemble and the listing
    pages group, sort or count by; what a listing shows of it is its card."""
    return repr((entry.paper.id, entry.themes, entry.tags, entry.date, entry.paper.featured,
                 entry.paper.comments, tuple(dict.fromkeys(s.file for s in entry.paper.sources))))


def sort_key(entry: Entry) -> tuple[int, str]:
    """Newest first, undated last, ties broken by slug."""
    return (-(entry.date.toordinal()) if entry.date else 1, entry.slug)


class KnownPaper(NamedTuple):
    """What the build already knows of a paper (computed once per file, then cached)."""

    key: str
    """A digest standing for the Paper: its file's name and bytes."""
    summary: str
    """plain_summary of its abstract."""
    card_material: str
    """A digest of what its card shows of it (render/views.card_fields)."""
    text_material: str
    """text_material of the paper."""


def text_material(paper: Paper) -> str:
    """A digest of the text related papers compare (slug, title, abstract): the
    related-papers cache is keyed by these, computed once per file, rather than by
    hashing every abstract again on each rebuild."""
    text = repr((paper.slug, paper.title, paper.abstract)).encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def know(paper: Paper) -> KnownPaper:
    """What a build computes of a paper it does not know yet. Its card stands for the
    whole paper here (never stale); builds get a finer one from build/entries.py."""
    summary = plain_summary(paper.abstract)
    key = hashlib.blake2b(repr(paper).encode(), digest_size=16).hexdigest()
    return KnownPaper(key, summary, key, text_material(paper))


def make_entry(paper: Paper, classifier: Callable[[Paper], Classification],
               captured: Mapping[str, dt.date | None], known: KnownPaper | None = None
               ) -> Entry:
    result = classifier(paper)
    date = paper.published or next(
        (captured[s.file] for s in paper.sources if captured.get(s.file)), None)
    known = known or know(paper)
    themes, tags = ",".join(result.themes), ",".join(result.tags)
    # Joined, not hashed: the page fingerprints that hold them are digests already.
    # Slugs and ISO dates hold no separator, so distinct entries give distinct keys.
    # The card's slug is its link: card_fields (card_material) leaves it to the key.
    return Entry(paper=paper, themes=result.themes, tags=result.tags, date=date,
                 summary=known.summary, paper_key=known.key,
                 card_material=known.card_material, text_material=known.text_material,
                 slug=paper.slug, key=f"{known.key}\x1f{themes}\x1f{tags}\x1f{date}",
                 card_key=f"{known.card_material}\x1f{paper.slug}\x1f{date}\x1f{themes}"
                 f"\x1f{tags}")


def assemble(config: Config, papers: list[Paper],
             classifier: Callable[[Paper], Classification],
             known: Mapping[str, KnownPaper] | None = None) -> Site:
    """``known``: by slug, what the build knows of each paper (else it is computed)."""
    captured = {d.file: d.captured for d in config.dumps}
    known = known or {}
    entries = tuple(sorted((make_entry(p, classifier, captured, known.get(p.slug))
                            for p in papers if not p.hidden), key=sort_key))
    by_theme = tuple((t, tuple(e for e in entries if t.slug in e.themes)) for t in config.themes)

    names = {t.slug: t.name for t in config.tags}
    tag_members: dict[str, list[Entry]] = {}
    for entry in entries:
        for slug in entry.tags:
            tag_members.setdefault(slug, []).append(entry)
    by_tag = tuple((TagInfo(slug, names.get(slug, slug)), tuple(members))
                   for slug, members in sorted(tag_members.items()))

    year_members: dict[str, list[Entry]] = {}
    for entry in entries:
        year_members.setdefault(entry.year_label, []).append(entry)
    by_year = tuple((label, tuple(members)) for label, members in year_members.items())
    return Site(config=config, entries=entries, by_theme=by_theme, by_tag=by_tag,
                by_year=by_year, captured=captured)
