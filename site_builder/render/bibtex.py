"""BibTeX: a static ``.bib`` per paper and one per theme with all its papers.

In: a Site and its Urls. Out: BibJobs (an output path and the entries it holds, planned
like feeds), the OutputFiles they render to, and ``bib_entry`` (the text a paper page
shows in its Cite block: the same text as its ``.bib``).

Keys: the paper's slug (the entry file's name, stable across rebuilds and title
edits); a slug with characters a key cannot hold (space, comma, braces, ``%``...) gets
them replaced and a short digest of the slug appended, so keys stay distinct.

Escaping, so that BibTeX, biber and pybtex read every title: the ten characters LaTeX
treats specially are written as commands (``\\%``, ``\\textbackslash{}``, braces as
``\\textbraceleft{}``/``\\textbraceright{}``, since BibTeX counts ``\\{`` as a brace);
every word of a title holding a capital is wrapped in braces, so a style that
lowercases titles keeps ``LLMs`` and ``BERT``. A protected word that starts with a
command starts with ``{}`` first: BibTeX reads ``{\\...`` as one "special character"
and would change its case after all. Other text (CJK, accents) is UTF-8, which biber
and BibTeX 0.99d pass through; invisible controls are removed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from site_builder import urls as U
from site_builder.models import OutputFile
from site_builder.render.scholarly import keywords, paper_date, plain
from site_builder.site import Entry, Site

SPECIAL = {"\\": "\\textbackslash{}", "{": "\\textbraceleft{}", "}": "\\textbraceright{}",
           "%": "\\%", "&": "\\&", "$": "\\$", "#": "\\#", "_": "\\_",
           "~": "\\textasciitilde{}", "^": "\\textasciicircum{}"}
SPECIAL_RE = re.compile("[" + re.escape("".join(SPECIAL)) + "]")
KEY_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
HOWPUBLISHED = "Hugging Face Daily Papers"


def bib_key(slug: str) -> str:
    if KEY_SAFE.match(slug):
        return slug
    safe = re.sub(r"[^A-Za-z0-9_.:-]+", "-", slug).strip("-") or "paper"
    return f"{safe}-{hashlib.blake2b(slug.encode(), digest_size=4).hexdigest()}"


def escape(text: str) -> str:
    """Plain text as BibTeX field text: specials as commands, whitespace collapsed."""
    return _escape_plain(plain(text))


def _escape_plain(text: str) -> str:
    return SPECIAL_RE.sub(lambda m: SPECIAL[m[0]], text)


def protect(text: str) -> str:
    """A title: escaped, and every word holding a capital letter in braces."""
    words = []
    # Escaped once, then split: no escape holds a space or a capital, so the words of
    # the escaped text are the escaped words, capitals where the title had them (one
    # substitution a title instead of one a word).
    for escaped in _escape_plain(plain(text)).split(" "):
        if any(c.isupper() for c in escaped):
            escaped = "{" + ("{}" if escaped.startswith("\\") else "") + escaped + "}"
        words.append(escaped)
    return " ".join(words)


def bib_entry(entry: Entry, url: str, keywords: list[str]) -> str:
    """One ``@misc`` entry (no venue is known). No author field: the dumps only count
    authors, and a count is not a name; it goes in the note."""
    paper = entry.paper
    fields = [("title", "{" + protect(paper.title) + "}"),
              ("howpublished", "{" + HOWPUBLISHED + "}")]
    day = paper_date(entry)
    if day is not None:
        fields += [("year", "{" + str(day.year) + "}"), ("month", MONTHS[day.month - 1]),
                   ("date", "{" + day.isoformat() + "}")]
    # The URL verbatim (biblatex and the url package read it so): links are
    # percent-encoded, so it holds no space or brace.
    fields.append(("url", "{" + url + "}"))
    if keywords:
        fields.append(("keywords", "{" + ", ".join(escape(k) for k in keywords) + "}"))
    if paper.authors is not None:
        count = f"{paper.authors} author" + ("" if paper.authors == 1 else "s")
        fields.append(("note", "{" + count + "}"))
    if abstract := escape(paper.abstract):
        fields.append(("abstract", "{" + abstract + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{bib_key(entry.slug)},\n{body}\n}}\n"


@dataclass(slots=True)  # not frozen: one per paper, and a frozen __init__ is 3x slower
class BibJob:
    """One ``.bib`` file and the entries it holds, in order."""

    path: str
    entries: tuple[Entry, ...]

    @property
    def paths(self) -> tuple[str]:
        return (self.path,)

    def fingerprint_material(self) -> str:
        return "\0".join(("bib", self.path, *map(bib_item_key, self.entries)))

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(e.slug for e in self.entries)

    @property
    def spec(self) -> tuple[object, ...]:
        """How to make this job again (incremental/depindex.py)."""
        return ("bib", self.path, self.slugs)


def bib_item_key(entry: Entry) -> str:
    """What bib_entry reads of an entry: its title and abstract (text_material), its
    card (the author count, slug, themes and tags: card_key) and its published date;
    theme titles, tag names and the base URL are in the build's salt. A note is not in
    it, so a note edit rewrites no .bib file."""
    return f"{entry.text_material}\x1f{entry.card_key}\x1f{entry.paper.published}"


class BibWriter:
    def __init__(self, site: Site, links: U.Urls) -> None:
        self.links = links
        self.theme_titles = {t.slug: t.title for t in site.config.themes}
        self.tag_names = {info.slug: info.name for info, _ in site.by_tag}
        self.site = site

    def entry(self, entry: Entry) -> str:
        return bib_entry(entry, self.links.abs_url(U.paper_path(entry.slug)),
                         keywords(entry, self.theme_titles, self.tag_names))

    def jobs(self) -> Iterator[BibJob]:
        for entry in self.site.entries:
            yield BibJob(U.paper_bib_path(entry.slug), (entry,))
        for theme, entries in self.site.by_theme:
            yield BibJob(U.theme_bib_path(theme.slug), entries)

    def write(self, job: BibJob) -> OutputFile:
        text = "\n".join(self.entry(e) for e in job.entries)
        return OutputFile(job.path, text.encode("utf-8"))
