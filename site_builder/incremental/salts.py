"""Salts: the part of each output's fingerprint that is not its own record.

In: what every page may show besides its view (``shown_everywhere``: the renderer's
template globals and chip titles, render/pages.Renderer.shared_record), the templates
folder, and the templates every page reaches through Python rather than by name in
its own source (``everywhere``: the header and footer ``chrome()`` renders, the card
``card_html()`` renders). Out: ``Salts``: one salt for outputs made without templates
(feeds, BibTeX), and per page template, one that also covers the templates it uses.

Why per template: with one salt over every template, a template edit re-rendered
every output, feeds and ``.bib`` files included (they use none), and an edit of
theme.html every paper page. Now an edit re-renders the pages whose templates it
reaches: theme.html the theme pages, base.html every page, no edit a feed.

What a template uses is read off its source: the names in its ``extends``,
``include``, ``import`` and ``from`` tags, and theirs in turn. A tag whose template
is not a plain string (a variable, a list, a conditional) could name any template, so
such a template uses them all: the reading may only ever say "more". Jinja's own
``meta.find_referenced_templates`` is the reference it is tested against; it parses
each template (0.04 s for ours, on every build, a one-note rebuild included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from site_builder.incremental.engine import digest, engine_digest

SUFFIXES = (".html", ".xml", ".j2")
"""Files of the templates folder that are templates (README.md is not)."""

# A statement tag, with Jinja's whitespace-control signs, that loads another template.
_LOADING_TAG = re.compile(r"\{%[-+]?\s*(extends|include|import|from)\b(.*?)[-+]?%\}", re.S)
# Its argument when it is one string literal, with what each tag may add after it.
_PLAIN = {
    "extends": re.compile(r"\s*(\"[^\"\\]*\"|'[^'\\]*')\s*"),
    "include": re.compile(r"\s*(\"[^\"\\]*\"|'[^'\\]*')(\s+ignore\s+missing)?"
                          r"(\s+(with|without)\s+context)?\s*"),
    "import": re.compile(r"\s*(\"[^\"\\]*\"|'[^'\\]*')\s+as\s+\w+"
                         r"(\s+(with|without)\s+context)?\s*"),
    "from": re.compile(r"\s*(\"[^\"\\]*\"|'[^'\\]*')\s+import\s+.*", re.S),
}
ANY = None
"""What a template uses when a tag's template is not a plain string: any of them."""


def used_names(source: str) -> set[str] | None:
    """The templates ``source`` names in its loading tags; None when one tag's template
    is not a plain string (it may be any)."""
    names: set[str] = set()
    for tag, argument in _LOADING_TAG.findall(source):
        plain = _PLAIN[tag].fullmatch(argument)
        if plain is None:
            return ANY
        names.add(plain.group(1)[1:-1])
    return names


@dataclass(frozen=True)
class Salts:
    base: str
    """For outputs made without templates: what every output shows, and the engine."""
    pages: dict[str, str]
    """By page template: the base, and the bytes of every template it uses."""

    def of(self, template: str) -> str:
        return self.pages.get(template) or self.pages[""]


def template_sources(templates: Path) -> dict[str, bytes]:
    """Every template's bytes, by its name (path under ``templates``, with /)."""
    return {path.relative_to(templates).as_posix(): path.read_bytes()
            for path in sorted(templates.rglob("*"))
            if path.is_file() and path.suffix in SUFFIXES}


def closures(sources: dict[str, bytes], everywhere: Iterable[str]) -> dict[str, list[str]]:
    """For each template, the sorted names of the templates it uses (itself, what its
    tags name, in turn, and ``everywhere``); a name no file has is kept (so adding
    that file changes the salt). Key "" is every template."""
    direct: dict[str, set[str] | None] = {
        name: used_names(data.decode("utf-8", "replace")) for name, data in sources.items()}
    every = sorted(sources)
    found: dict[str, list[str]] = {"": every}
    for start in sources:
        seen: set[str] = set()
        todo = [start, *everywhere]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            names = direct.get(name, set())
            if names is ANY:
                seen = set(every)
                break
            todo.extend(names)
        found[start] = sorted(seen)
    return found


def make_salts(shown_everywhere: object, templates: Path, everywhere: Iterable[str]) -> Salts:
    """The build's salts (see the module docstring). Made from the values templates
    receive, so there is no second list of settings to keep in step (changing
    ``home_items`` still re-renders only the home page: it is in that page's record)."""
    base = digest(repr(shown_everywhere), engine_digest())
    sources = template_sources(templates)
    pages = {}
    for template, names in closures(sources, everywhere).items():
        parts: list[bytes | str] = [base]
        for name in names:
            parts += [name, sources.get(name, b"\0missing")]
        pages[template] = digest(*parts)
    return Salts(base, pages)
