"""Paper entries on disk: YAML front matter plus a Markdown body, in and out.

In: the text of content/papers/<slug>.md (or a Paper). Out: a Paper (or the text).
``dump_paper`` is deterministic and quotes every value through PyYAML, so titles such
as ``null``, ``2024``, ``- x`` or ``<script>`` round-trip exactly. ``load_paper``
names the file, line and field of anything malformed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from site_builder.errors import ContentError, Diagnostic
from site_builder.models import Paper, SourceRef
from site_builder.quickyaml import quick_front_matter
from site_builder.safefs import read_regular
from site_builder.textclean import INVALID, clean_text, clean_value
from site_builder.yamlsafe import BoundedLoader, shown
from site_builder.yamlsafe import compose as bounded_compose
from site_builder.yamlsafe import load as bounded_load

FIELD_ORDER = ("id", "title", "published", "authors", "submitter", "comments", "sources",
               "themes", "not_themes", "tags", "note", "featured", "hidden")
FENCE = "---"
# An entry's file name is its slug and so its URL: characters a URL gives a meaning to
# ('#', '?', '%', spaces) or that name no file ('..md') would make broken links. Refused
# rather than slugified: two names could slugify alike, and the curator's file name
# would no longer say where the page is.
SLUG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class _Loader(BoundedLoader):
    """Safe loader whose impossible dates (2024-02-30) are a YAML error with a line."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{shown(node.value)} is not a real date ({exc})",
            node.start_mark) from exc


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_LOADER: type[yaml.SafeLoader] = _Loader
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_paper(paper: Paper) -> str:
    """The file text for a paper: front matter in FIELD_ORDER, then the abstract."""
    data: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "published": paper.published,
        "authors": paper.authors,
        "submitter": paper.submitter,
        "comments": paper.comments,
        "sources": [{"file": s.file, "line": s.line} for s in paper.sources],
        "themes": list(paper.themes),
        # Only when set: entries written before the field existed keep every byte.
        **({"not_themes": list(paper.not_themes)} if paper.not_themes else {}),
        "tags": list(paper.tags),
        "note": paper.note,
        "featured": paper.featured,
        "hidden": paper.hidden,
    }
    front = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True,
                      width=1_000_000, default_flow_style=False)
    body = paper.abstract.strip()
    return f"{FENCE}\n{front}{FENCE}\n" + (f"\n{body}\n" if body else "")


def _field_text(key: str, value: list[str]) -> str:
    """``key: value`` as dump_paper writes it (block list, or ``[]``)."""
    text: str = yaml.dump({key: value}, Dumper=_DUMPER, sort_keys=False, allow_unicode=True,
                          width=1_000_000, default_flow_style=False)
    return text


def set_list_fields(text: str, file: str, values: dict[str, list[str]]) -> str:
    """``text`` with the top-level list fields in ``values`` replaced, every other byte
    kept: the safe way to pin themes without re-dumping a curator's front matter.

    A field set to [] that is optional (``not_themes``) is removed; a field not in the
    file is inserted after the last present field that precedes it in FIELD_ORDER.
    """
    if text.startswith("\ufeff") or "\r" in text:
        raise ContentError(file, 1, "only LF files without a BOM can be edited in place")
    lines = text.split("\n")
    if not lines or lines[0] != FENCE or FENCE not in lines[1:]:
        raise ContentError(file, 1, "front matter must be fenced by '---' lines")
    close = lines.index(FENCE, 1)
    front = lines[1:close]

    def span(key: str) -> tuple[int, int] | None:
        """Lines of ``key``: its own and the indented or ``- `` lines under it."""
        for i, line in enumerate(front):
            if line.startswith(f"{key}:"):
                j = i + 1
                while j < len(front) and (front[j].startswith((" ", "- ")) or front[j] == "-"):
                    j += 1
                return i, j
        return None

    for key, value in values.items():
        if key not in FIELD_ORDER:
            raise ContentError(file, None, f"unknown field '{key}'")
        new = [] if (not value and key == "not_themes") else \
            _field_text(key, value).rstrip("\n").split("\n")
        found = span(key)
        if found is None:
            before = FIELD_ORDER[:FIELD_ORDER.index(key)]
            at = max((s[1] for k in before if (s := span(k)) is not None), default=len(front))
            front[at:at] = new
        else:
            front[found[0]:found[1]] = new
    return "\n".join([lines[0], *front, *lines[close:]])


def rewrite_front_matter(text: str, file: str, paper: Paper) -> bytes:
    """The file's new bytes: ``paper``'s front matter, the body of ``text`` byte for byte."""
    _, body, _ = split_front_matter(text, file)
    front = dump_paper(replace(paper, abstract="")).rstrip("\n")
    return f"{front}\n{body}".encode() if body else f"{front}\n".encode()


def split_front_matter(text: str, file: str) -> tuple[str, str, int]:
    """Return (front matter, body, line number of the body's first line)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise ContentError(file, 1, "front matter must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise ContentError(file, 1, "front matter is not closed by a '---' line")


def _field_lines(front: str) -> dict[str, int]:
    """1-based line (within the file) of each top-level key, for error messages."""
    try:
        root = bounded_compose(front, _LOADER)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 2 for k, _ in root.value}


def list_item_line(text: str, field: str, value: str) -> int | None:
    """The 1-based line in an entry file's text of ``value`` in the list ``field`` (or
    of the field itself), for an error found after loading (an unknown theme)."""
    try:
        front, _, _ = split_front_matter(text, "")
        root = yaml.compose(front, Loader=_LOADER)
    except (ContentError, yaml.YAMLError):
        return None
    for key, node in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == field:
            items = node.value if isinstance(node, yaml.SequenceNode) else [node]
            hit = next((i for i in items if getattr(i, "value", None) == value), key)
            return int(hit.start_mark.line) + 2
    return None


class _Fields:
    """Typed access to the front-matter mapping; each error names file, line and field."""

    def __init__(self, data: dict[str, Any], file: str, front: str,
                 warnings: list[Diagnostic] | None = None) -> None:
        self.data, self.file, self.front, self.warnings = data, file, front, warnings
        self._lines: dict[str, int] | None = None

    def line(self, field: str) -> int | None:
        """The field's line in the file. Composed only when asked (an error or a
        warning): composing the front matter again costs as much as loading it."""
        if self._lines is None:
            self._lines = _field_lines(self.front)
        return self._lines.get(field)

    def error(self, field: str, message: str) -> ContentError:
        return ContentError(self.file, self.line(field) or 1, f"field '{field}': {message}")

    def text(self, field: str, required: bool = False) -> str | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.error(field, "is required")
            return None
        if not isinstance(value, str):
            raise self.error(field, f"expected text, got {shown(value)} (quote it)")
        return self.clean(field, value)

    def clean(self, field: str, value: str) -> str:
        """``value`` without XML-invalid characters (YAML escapes such as ``"\\f"``
        make any), with a warning naming the field."""
        if not INVALID.search(value):  # the common case, without composing for a line
            return value
        return clean_value(value, self.file, self.line(field) if self.warnings is not None
                           else None, f"field '{field}'", self.warnings)

    def integer(self, field: str) -> int | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(field, f"expected a whole number >= 0, got {shown(value)}")
        return value

    def flag(self, field: str) -> bool:
        value = self.data.get(field, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(field, f"expected true or false, got {shown(value)}")
        return value

    def date(self, field: str) -> dt.date | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise self.error(field, f"expected a date YYYY-MM-DD, got {shown(value)}")

    def words(self, field: str) -> tuple[str, ...]:
        value = self.data.get(field)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(field, f"expected a list of names, got {shown(value)}")
        return tuple(dict.fromkeys(self.clean(field, v.strip()) for v in value))

    def sources(self) -> tuple[SourceRef, ...]:
        value = self.data.get("sources") or []
        refs = []
        if not isinstance(value, list):
            raise self.error("sources", "expected a list of {file, line}")
        for item in value:
            if (not isinstance(item, dict) or not isinstance(item.get("file"), str)
                    or isinstance(item.get("line"), bool) or not isinstance(item.get("line"), int)):
                raise self.error("sources",
                                 f"expected {{file: NAME, line: N}}, got {shown(item)}")
            refs.append(SourceRef(self.clean("sources", item["file"]), item["line"]))
        return tuple(refs)


def load_paper(text: str, path: Path, warnings: list[Diagnostic] | None = None) -> Paper:
    """Parse one entry file. Unknown keys are warnings (appended to ``warnings``)."""
    file = str(path)
    if not SLUG_NAME.fullmatch(path.stem) or path.stem.endswith("."):
        raise ContentError(file, None, f"file name {shown(path.name)} cannot be a page's "
                           "address: use letters, digits, '-', '_' and '.' (not first or "
                           "last), as ingest does")
    # Removed before parsing, so every line number below stays the file's own.
    text = clean_text(text.replace("\r\n", "\n").replace("\r", "\n"), file, 1, warnings)
    front, body, _ = split_front_matter(text, file)
    data = quick_front_matter(front)
    try:
        if data is None:
            data = bounded_load(front, _LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        field = next((k for k, n in _field_lines(front).items() if n == line), None)
        where = f"field '{field}': " if field else ""
        raise ContentError(file, line, f"{where}front matter is not valid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise ContentError(file, 2, "front matter must be a mapping of field: value")
    fields = _Fields(data, file, front, warnings)
    for key in data:
        if key not in FIELD_ORDER and warnings is not None:
            warnings.append(Diagnostic(file, fields.line(str(key)),
                                       f"unknown field '{key}' ignored"))
    paper_id = fields.text("id", required=True) or ""
    title = fields.text("title", required=True) or ""
    if not title.strip():
        raise fields.error("title", "must not be empty")
    return Paper(
        id=paper_id,
        slug=path.stem,
        title=title,
        abstract=body.strip(),
        published=fields.date("published"),
        authors=fields.integer("authors"),
        submitter=fields.text("submitter"),
        comments=fields.integer("comments"),
        sources=fields.sources(),
        themes=fields.words("themes"),
        not_themes=fields.words("not_themes"),
        tags=fields.words("tags"),
        note=fields.text("note") or "",
        featured=fields.flag("featured"),
        hidden=fields.flag("hidden"),
    )


def read_paper(path: Path, warnings: list[Diagnostic] | None = None) -> Paper:
    return paper_from_bytes(read_regular(path), path, warnings)


def paper_from_bytes(data: bytes, path: Path, warnings: list[Diagnostic] | None = None
                     ) -> Paper:
    """Parse the bytes of the entry file at ``path`` (already read by the caller)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(str(path), None, f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    return load_paper(text, path, warnings)


def load_papers(papers_dir: Path, warnings: list[Diagnostic]) -> list[Paper]:
    """Every content/papers/*.md, sorted by file name (so every later stage is deterministic)."""
    if not papers_dir.is_dir():
        return []
    papers = [read_paper(p, warnings) for p in sorted(papers_dir.glob("*.md"))]
    check_unique_ids(papers, papers_dir)
    return papers


def check_unique_ids(papers: list[Paper], papers_dir: Path) -> None:
    """Ids name a paper in every feed and for ingest: two files with one id are an error
    naming both (feed readers would merge them, ingest would update only one)."""
    first: dict[str, str] = {}
    for paper in papers:
        other = first.setdefault(paper.id, paper.slug)
        if other != paper.slug:
            raise ContentError(str(papers_dir / f"{paper.slug}.md"), None,
                               f"id {shown(paper.id)} is already the id of "
                               f"{papers_dir / (other + '.md')}: every entry needs its own")


def set_fields(text: str, file: str, values: dict[str, Any]) -> str:
    """``text`` with the front-matter fields in ``values`` set, every other byte kept.

    The one writer of curator edits (the review page): only the lines of the changed
    fields change; a missing field is inserted where FIELD_ORDER puts it; comments,
    unknown fields, line ends and the body stay as they are. The fields' lines are
    found by composing the YAML (so a quoted value spanning lines is one field), and
    the result is read back: if any other field's value moved, it is a ContentError
    rather than a silent change."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = _LINE_END.split(text[len(bom):])
    lines = [a + b for a, b in zip(lines[::2], [*lines[1::2], ""], strict=True)]
    if not lines or lines[0].strip() != FENCE:
        raise ContentError(file, 1, "front matter must start with a '---' line")
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if close is None:
        raise ContentError(file, 1, "front matter is not closed by a '---' line")
    newline = lines[0][len(lines[0].rstrip("\r\n")):] or "\n"
    front = "".join(lines[1:close])
    before = _mapping(front, file)
    starts = _key_starts(front)  # field -> its first line, within the front matter
    order = sorted(starts.items(), key=lambda item: item[1])
    spans: dict[str, tuple[int, int]] = {}
    for index, (name, start) in enumerate(order):
        first = start + 1  # lines[] counts the opening fence as line 0
        end = order[index + 1][1] + 1 if index + 1 < len(order) else close
        while end - 1 > first and lines[end - 1].strip()[:1] in ("", "#"):
            end -= 1  # blank and comment lines after a field belong to no field
        spans[name] = (first, end)
    edits: list[tuple[int, int, list[str]]] = []  # replace lines[start:end] by new
    for name, value in values.items():
        dumped = yaml.dump({name: value}, Dumper=_DUMPER, sort_keys=False,
                           allow_unicode=True, width=1_000_000, default_flow_style=False)
        new = [line + newline for line in dumped.rstrip("\n").split("\n")]
        if name in spans:
            edits.append((*spans[name], new))
            continue
        rank = FIELD_ORDER.index(name) if name in FIELD_ORDER else len(FIELD_ORDER)
        at = max((spans[k][1] for k in spans if k in FIELD_ORDER and FIELD_ORDER.index(k) < rank),
                 default=1)
        edits.append((at, at, new))
    out: list[str] = []
    position = 0
    for begin, stop, new in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        out += lines[position:begin] + new
        position = max(position, stop)
    out += lines[position:]
    result = bom + "".join(out)
    _check_only(result, file, before, values)
    return result


_LINE_END = re.compile(r"(\r\n|\r|\n)")


def _mapping(front: str, file: str) -> dict[str, Any]:
    try:
        data = bounded_load(front, _LOADER)
    except yaml.YAMLError as exc:
        raise ContentError(file, None, f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ContentError(file, 2, "front matter must be a mapping of field: value")
    return data


def _key_starts(front: str) -> dict[str, int]:
    """0-based line (within the front matter) where each top-level field starts."""
    root = bounded_compose(front, _LOADER)
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line for k, _ in root.value}


def _check_only(result: str, file: str, before: dict[str, Any], values: dict[str, Any]) -> None:
    """Read the written text back: the changed fields hold their values, no other moved."""
    front, _, _ = split_front_matter(result, file)
    after = _mapping(front, file)
    expected = {**before, **values}
    if after != expected:
        moved = sorted(k for k in expected.keys() | after.keys()
                       if after.get(k) != expected.get(k))
        raise ContentError(file, None, "cannot change this file's front matter line by line "
                           f"(fields {', '.join(moved)} would move): edit it by hand")
