"""Load and validate config.yaml into a typed, frozen Config.

In: the path of config.yaml. Out: Config, or ConfigError listing *every* problem with
its dotted key (``themes[3].rules[0].pattern: ...``). Unknown keys are rejected, so a
typo never silently does nothing; theme rules are compiled here, so a bad regular
expression names its theme before any page is built.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from site_builder.errors import ConfigError, Diagnostic
from site_builder.textclean import INVALID
from site_builder.yamlsafe import compose as bounded_compose
from site_builder.yamlsafe import load as bounded_load
from site_builder.yamlsafe import shown

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# BCP 47 in shape (language, then subtags of 1-8 letters or digits: en, en-GB, zh-Hant,
# sr-Latn-RS): it goes into lang attributes, feeds and Pagefind, which panics on others.
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
RULE_FIELDS = ("title", "abstract", "text")


@dataclass(frozen=True)
class SiteSettings:
    title: str
    description: str
    base_url: str
    language: str
    author: str
    per_page: int
    feed_items: int
    home_items: int
    search: bool


@dataclass(frozen=True)
class DumpSpec:
    """One dump. Listed in config.yaml (its date as written there, possibly none), or
    found in content/dumps/ (``listed`` False): every ``*.txt`` there is a dump, dated
    by its header line (``header_line``), or not readable (``problem``: ingest reports
    it and skips that dump; builds give it no date)."""

    file: str
    captured: dt.date | None
    listed: bool = True
    header_line: int | None = None
    problem: Diagnostic | None = None

    def pin(self) -> str:
        """The config.yaml entry that would pin this dump's date."""
        date = self.captured.isoformat() if self.captured else "YYYY-MM-DD"
        return f"- {{file: {self.file}, captured: {date}}}"


@functools.cache
def compiled(source: str) -> re.Pattern[str]:
    """A rule's or tag's pattern, compiled once per process and only when first used:
    compiling the ~150 patterns of config.yaml takes 0.1 s, most of a rebuild that
    classifies nothing (see check_patterns for when they are validated)."""
    return re.compile(source, re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """A weighted pattern over one field of a paper (title, abstract, or both: text)."""

    source: str
    field: str
    weight: float

    @property
    def pattern(self) -> re.Pattern[str]:
        return compiled(self.source)


@dataclass(frozen=True)
class Theme:
    slug: str
    title: str
    description: str
    rules: tuple[Rule, ...]
    exclude: tuple[Rule, ...]
    threshold: float


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str
    sources: tuple[str, ...]

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(compiled(source) for source in self.sources)


@dataclass(frozen=True)
class PatternPlace:
    """Where a pattern was written, to report it if it does not compile."""

    source: str
    key: str
    owner: str
    written: str


@dataclass(frozen=True)
class Config:
    path: Path
    root: Path
    site: SiteSettings
    dumps: tuple[DumpSpec, ...]
    themes: tuple[Theme, ...]
    tags: tuple[Tag, ...]
    max_themes: int
    unchecked: tuple[PatternPlace, ...] = ()
    """Patterns not compiled yet (``load_config(check_patterns=False)``)."""

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def dumps_dir(self) -> Path:
        return self.root / "content" / "dumps"

    @property
    def papers_dir(self) -> Path:
        return self.root / "content" / "papers"

    def theme(self, slug: str) -> Theme:
        return next(t for t in self.themes if t.slug == slug)


class _Checker:
    """Collects problems while walking the YAML tree, so all of them are reported."""

    def __init__(self, file: str, text: str, check_patterns: bool = True) -> None:
        self.file = file
        self.text = text
        self.failures: list[tuple[str, str]] = []
        self.check_patterns = check_patterns
        self.unchecked: list[PatternPlace] = []

    def fail(self, key: str, message: str) -> None:
        self.failures.append((key, message))

    @property
    def problems(self) -> list[Diagnostic]:
        # Line numbers need a second, pure-Python parse: only worth it when reporting.
        lines = _key_lines(self.text) if self.failures else {}
        return [Diagnostic(self.file, _line_of(key, lines), f"{key}: {message}")
                for key, message in self.failures]

    def mapping(self, value: Any, key: str, allowed: dict[str, bool]) -> dict[str, Any]:
        """Check a mapping: known keys only, required ones present (allowed[k] = required)."""
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {type(value).__name__}")
            return {}
        for name in value:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(_join(key, str(name)), f"unknown key (known keys: {known})")
        for name, required in allowed.items():
            if required and name not in value:
                self.fail(_join(key, name), "is required")
        return value

    def string(self, value: Any, key: str, default: str | None = None) -> str:
        if value is None:
            # A missing required key was already reported by mapping().
            return default if default is not None else ""
        if not isinstance(value, str) or (default is None and not value.strip()):
            self.fail(key, "expected a non-empty string")
            return default or ""
        if INVALID.search(value):
            self.fail(key, "holds a character not allowed in XML or HTML (a control "
                      f"character?): {shown(value)}")
        return value

    def number(self, value: Any, key: str, default: float, minimum: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < minimum:
            # .nan compares false with everything (a rule that never counts) and .inf
            # makes a theme impossible: both are typos, not settings.
            self.fail(key, f"expected a finite number >= {minimum:g}, got {shown(value)}")
            return default
        return float(value)

    def integer(self, value: Any, key: str, default: int, minimum: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(key, f"expected an integer >= {minimum}")
            return default
        return value

    def flag(self, value: Any, key: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, "expected true or false")
            return default
        return value

    def regex(self, value: Any, key: str, owner: str, written: Any = None) -> str | None:
        """The pattern's source, compiled now or recorded to be checked later."""
        written = value if written is None else written
        if not isinstance(value, str) or not value:
            self.fail(key, f"{owner}: expected a regular expression string")
            return None
        if not self.check_patterns:
            self.unchecked.append(PatternPlace(value, key, owner, str(written)))
            return value
        try:
            compiled(value)
        except re.error as exc:
            self.fail(key, pattern_problem(owner, written, exc))
            return None
        return value

    def listing(self, value: Any, key: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {type(value).__name__}")
            return []
        return value


def slugify(text: str) -> str:
    """Lowercase ASCII letters and digits joined by single hyphens: tag and paper slugs."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _line_of(key: str, lines: dict[str, int]) -> int | None:
    """The line of ``key``, else of its nearest written parent: a rule written as a bare
    string has no ``.pattern`` key of its own."""
    while key:
        if key in lines:
            return lines[key]
        key = key.rpartition(".")[0]
    return None


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted keys to the 1-based line where they appear, for error messages."""
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, key: str) -> None:
        lines.setdefault(key, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k_node, v_node in node.value:
                child = _join(key, str(k_node.value))
                lines.setdefault(child, k_node.start_mark.line + 1)
                walk(v_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, f"{key}[{index}]")

    try:
        root = bounded_compose(text)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, "")
    return lines


def key_line(path: Path, key: str) -> int | None:
    """The line of dotted ``key`` in the config file at ``path`` (None if unreadable)."""
    try:
        return _line_of(key, _key_lines(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return None


def _rule(check: _Checker, raw: Any, key: str, owner: str) -> Rule | None:
    if isinstance(raw, str):
        raw = {"pattern": raw}
    item = check.mapping(raw, key, {"pattern": True, "field": False, "weight": False})
    if not item:
        return None
    pattern = check.regex(item.get("pattern"), _join(key, "pattern"), owner)
    field = item.get("field", "text")
    if field not in RULE_FIELDS:
        check.fail(_join(key, "field"), f"{owner}: expected one of {', '.join(RULE_FIELDS)}")
    weight = check.number(item.get("weight"), _join(key, "weight"), 1.0, 0.0)
    if pattern is None or field not in RULE_FIELDS:
        return None
    return Rule(pattern, str(field), weight)


def _themes(check: _Checker, raw: Any) -> tuple[Theme, ...]:
    themes: list[Theme] = []
    seen: set[str] = set()
    allowed = {"slug": True, "title": True, "description": True, "rules": True,
               "exclude": False, "threshold": False}
    for index, entry in enumerate(check.listing(raw, "themes")):
        key = f"themes[{index}]"
        item = check.mapping(entry, key, allowed)
        if not item:
            continue
        slug = check.string(item.get("slug"), _join(key, "slug"))
        owner = f"theme {shown(slug)}"
        if slug and not SLUG_RE.match(slug):
            check.fail(_join(key, "slug"), f"{shown(slug)} is not a lowercase-hyphenated slug")
        if slug in seen:
            check.fail(_join(key, "slug"), f"duplicate theme {shown(slug)}")
        seen.add(slug)
        rules = [_rule(check, r, f"{key}.rules[{i}]", owner)
                 for i, r in enumerate(check.listing(item.get("rules"), _join(key, "rules")))]
        exclude = [_rule(check, r, f"{key}.exclude[{i}]", owner)
                   for i, r in enumerate(check.listing(item.get("exclude"), _join(key, "exclude")))]
        themes.append(Theme(
            slug=slug,
            title=check.string(item.get("title"), _join(key, "title")),
            description=check.string(item.get("description"), _join(key, "description")),
            rules=tuple(r for r in rules if r is not None),
            exclude=tuple(r for r in exclude if r is not None),
            threshold=check.number(item.get("threshold"), _join(key, "threshold"), 1.0, 0.0),
        ))
    return tuple(themes)


def _tags(check: _Checker, raw: Any) -> tuple[Tag, ...]:
    tags: list[Tag] = []
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        check.fail("tags", "expected a mapping of tag name -> list of phrases")
        return ()
    for name, phrases in raw.items():
        if not isinstance(name, (str, int)) or len(str(name)) > 100:
            check.fail(_join("tags", "?"), f"a tag name must be short text, got {shown(name)}")
            continue
        key = _join("tags", str(name))
        slug = slugify(str(name))
        if not slug:
            check.fail(key, "tag name needs at least one ASCII letter or digit")
            continue
        patterns = []
        for index, phrase in enumerate(check.listing(phrases, key)):
            # Phrases are regular expressions matched as whole words, case-insensitively.
            source = check.regex(
                rf"(?<![\w-])(?:{phrase})(?![\w-])" if isinstance(phrase, str) else phrase,
                f"{key}[{index}]", f"tag {shown(name)}", phrase)
            if source is not None:
                patterns.append(source)
        tags.append(Tag(slug=slug, name=str(name), sources=tuple(patterns)))
    return tuple(tags)


def _dumps(check: _Checker, raw: Any) -> tuple[DumpSpec, ...]:
    specs: list[DumpSpec] = []
    for index, entry in enumerate(check.listing(raw, "dumps")):
        key = f"dumps[{index}]"
        if isinstance(entry, str):
            entry = {"file": entry}
        item = check.mapping(entry, key, {"file": True, "captured": False})
        if not item:
            continue
        file = check.string(item.get("file"), _join(key, "file"))
        captured = item.get("captured")
        if captured is not None and not isinstance(captured, dt.date):
            check.fail(_join(key, "captured"), f"{shown(captured)} is not a date (YYYY-MM-DD)")
            captured = None
        if "/" in file or "\\" in file or file.startswith("."):
            check.fail(_join(key, "file"), "a file name inside content/dumps/, not a path")
        specs.append(DumpSpec(file, captured))
    return tuple(specs)


def found_dumps(dumps_dir: Path, listed: set[str]) -> tuple[DumpSpec, ...]:
    """The ``*.txt`` of content/dumps/ config.yaml does not list, by file name, each
    dated by its header (the year from the file's modification date, in UTC so the
    date does not depend on the machine's time zone).

    Why here, in the config: the build dates papers by their dumps (paper pages, the
    statistics page) and ingest dates undated entries by them; both read
    ``Config.dumps``, so they cannot disagree. Reading the headers costs a read of
    each unlisted dump (a few, rarely large) per build that does not stop at the stamp.
    """
    from site_builder.errors import DumpError
    from site_builder.ingest.dumps import decode_dump, header_date

    if not dumps_dir.is_dir():
        return ()
    specs: list[DumpSpec] = []
    for path in sorted(dumps_dir.glob("*.txt")):
        if path.name in listed or path.name.startswith("."):
            continue
        try:
            try:
                saved = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
                data = path.read_bytes()
            except OSError as exc:
                raise DumpError(path.name, 1, f"cannot read dump: {exc.strerror or exc}"
                                ) from exc
            header = header_date(decode_dump(data, path.name), path.name, saved)
        except DumpError as exc:
            specs.append(DumpSpec(path.name, None, listed=False, problem=exc.diagnostic))
            continue
        specs.append(DumpSpec(path.name, header.captured, listed=False,
                              header_line=header.line))
    return tuple(specs)


def _site(check: _Checker, raw: Any) -> SiteSettings:
    allowed = {"title": True, "description": True, "base_url": True, "language": False,
               "author": False, "per_page": False, "feed_items": False, "home_items": False,
               "search": False}
    item = check.mapping(raw, "site", allowed)
    base_url = check.string(item.get("base_url"), "site.base_url")
    if base_url and not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", base_url):
        check.fail("site.base_url", f"{shown(base_url)} is not an absolute http(s) URL")
    language = check.string(item.get("language"), "site.language", "en")
    if not LANGUAGE_RE.fullmatch(language):
        check.fail("site.language", f"{shown(language)} is not a language tag such as en, "
                   "en-GB or zh-Hant (BCP 47)")
        language = "en"
    return SiteSettings(
        title=check.string(item.get("title"), "site.title"),
        description=check.string(item.get("description"), "site.description"),
        base_url=normalize_base_url(base_url),
        language=language,
        author=check.string(item.get("author"), "site.author", "The digest's curators"),
        per_page=check.integer(item.get("per_page"), "site.per_page", 25, 1),
        feed_items=check.integer(item.get("feed_items"), "site.feed_items", 50, 1),
        home_items=check.integer(item.get("home_items"), "site.home_items", 20, 1),
        search=check.flag(item.get("search"), "site.search", True),
    )


def normalize_base_url(url: str) -> str:
    """Base URLs always end with one slash, so joining a relative path is plain concatenation."""
    return url.rstrip("/") + "/" if url else url


def pattern_problem(owner: str, written: Any, exc: re.error) -> str:
    return f"{owner}: pattern {shown(written)} does not compile: {exc}"


def check_patterns(config: Config) -> None:
    """Compile the patterns load_config left unchecked; a ConfigError lists every one
    that does not compile, with its dotted key and line."""
    failures = []
    for place in config.unchecked:
        try:
            compiled(place.source)
        except re.error as exc:
            failures.append((place.key, pattern_problem(place.owner, place.written, exc)))
    if failures:
        check = _Checker(str(config.path), config.path.read_text(encoding="utf-8"))
        check.failures = failures
        raise ConfigError(str(config.path), check.problems)


def load_config(path: Path, base_url: str | None = None, check_patterns: bool = True
                ) -> Config:
    """Read config.yaml; ``base_url`` (from --base-url) overrides site.base_url.

    With ``check_patterns=False`` the theme and tag patterns are compiled on first use
    and listed in ``config.unchecked``, for check_patterns() (the build calls it only
    when the rules changed since they last compiled)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, [Diagnostic(name, None, f"cannot read: {exc}")]) from exc
    try:
        data = bounded_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(name, [Diagnostic(name, line, f"not valid YAML: {exc}")]) from exc
    check = _Checker(name, text, check_patterns)
    top = check.mapping(data, "", {"site": True, "dumps": True, "themes": True, "tags": False,
                                   "max_themes": False})
    site = _site(check, top.get("site"))
    if base_url is not None:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", base_url):
            check.fail("--base-url", f"{shown(base_url)} is not an absolute http(s) URL")
        site = SiteSettings(**{**site.__dict__, "base_url": normalize_base_url(base_url)})
    root = path.resolve().parent
    listed = _dumps(check, top.get("dumps"))
    # config.yaml's entries win: their order (preference between dumps) and their dates.
    found = found_dumps(root / "content" / "dumps", {d.file for d in listed})
    config = Config(
        path=path,
        root=root,
        site=site,
        dumps=listed + found,
        themes=_themes(check, top.get("themes")),
        tags=_tags(check, top.get("tags")),
        max_themes=check.integer(top.get("max_themes"), "max_themes", 4, 0),
        unchecked=tuple(check.unchecked),
    )
    if check.failures:
        raise ConfigError(name, check.problems)
    return config
