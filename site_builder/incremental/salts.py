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

What a template contributes is what renders: the Python Jinja generates from it
(``CompiledForms``), not its bytes. An edit that leaves that code as it was (a
``{# comment #}`` or a change inside one) re-renders nothing, where it used to
re-render every page using the template to find the same bytes. Generating the code
costs about as much as compiling, so each form is kept in ``.cache``, keyed by the
engine, the template's name and its bytes: only an edited template is generated again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from site_builder.errors import BuildError
from site_builder.incremental.engine import digest, engine_digest
from site_builder.incremental.sealed import seal, unseal

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


FORMS_VERSION = 2


class CompiledForms:
    """Per template, the digest of the Python code Jinja generates from it under the
    build's environment (its options, such as autoescape and whitespace control, shape
    that code; its version and our filters are in the engine digest). The code keeps
    the template's line numbers (in messages and debug info), so moving a line still
    counts as an edit: the reading may only ever say "more".

    A template Jinja cannot compile is a BuildError naming its file and line, whether
    or not a page renders with it this build (an unused template with a syntax
    error passed unnoticed while no page that used it rendered)."""

    def __init__(self, env: jinja2.Environment, memo: Path, reuse: bool = True) -> None:
        self.env = env
        self.memo = memo
        self.known: dict[str, str] = _read_forms(memo) if reuse else {}
        self.used: dict[str, str] = {}

    def of(self, name: str, source: bytes) -> str:
        key = digest(engine_digest(), name, source)
        form = self.known.get(key)
        if form is None:  # a template edit or a clean build: generate its code
            try:
                code = self.env.compile(source.decode("utf-8"), name, raw=True)
            except UnicodeDecodeError as exc:
                raise BuildError(f"templates/{name}", None, "not UTF-8 text") from exc
            except jinja2.TemplateSyntaxError as exc:
                raise BuildError(f"templates/{name}", exc.lineno,
                                 exc.message or str(exc)) from exc
            form = digest(code)
        self.used[key] = form
        return form

    def save(self) -> None:
        """Keep the forms of today's templates (a cache: a failed write costs time)."""
        if self.used == self.known:
            return
        # Sealed like the other caches: a planted memo could otherwise make an edited
        # template pass for the one before, and its pages stay as they were.
        sealed = seal(json.dumps({"version": FORMS_VERSION, "forms": self.used},
                                 sort_keys=True).encode())
        if sealed is None:
            return
        with contextlib.suppress(OSError):
            self.memo.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".forms-", dir=self.memo.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
            os.replace(tmp, self.memo)


def _read_forms(memo: Path) -> dict[str, str]:
    try:
        data = json.loads(unseal(memo.read_bytes()) or b"{}")
        forms = data["forms"] if data.get("version") == FORMS_VERSION else {}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return {}
    if not isinstance(forms, dict):
        return {}
    return {k: v for k, v in forms.items() if isinstance(k, str) and isinstance(v, str)}


def make_salts(shown_everywhere: object, templates: Path, everywhere: Iterable[str],
               forms: CompiledForms | None = None) -> Salts:
    """The build's salts (see the module docstring). Made from the values templates
    receive, so there is no second list of settings to keep in step (changing
    ``home_items`` still re-renders only the home page: it is in that page's record).
    Without ``forms`` a template contributes its bytes (any edit counts)."""
    base = digest(repr(shown_everywhere), engine_digest())
    sources = template_sources(templates)
    shaped = {name: forms.of(name, data) if forms is not None else data
              for name, data in sources.items()}
    if forms is not None:
        forms.save()
    pages = {}
    for template, names in closures(sources, everywhere).items():
        parts: list[bytes | str] = [base]
        for name in names:
            parts += [name, shaped.get(name, b"\0missing")]
        pages[template] = digest(*parts)
    return Salts(base, pages)
