"""Verify a built site with Python-only tools: feeds, HTML pages, links, sitemap, hosts.

In: the output folder and the base URL it was built for (``--base-url``, else
site.base_url from config.yaml, else guessed from sitemap.xml). Out: one line per check
with its counts, then every problem naming the file and the link at fault; exit status
0 when all is well, 1 on problems, 2 when the check cannot run.

The site is judged as GitHub Pages serves it under its base path: a reference resolves
against its file's URL (``/repo/papers/x/``), must stay under the base path and map to
a file (``dir/`` -> ``dir/index.html``; ``page`` -> ``page``, ``page.html`` or
``page/index.html``); a ``#fragment`` must be an id on the target page.
feedparser, lxml and pybtex are dev-time dependencies, imported only when ``check`` runs.
BibTeX, JSON Feed, JSON-LD and the advertised alternates: check_formats.py.
"""

from __future__ import annotations

import email.utils
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
URL_ATTRS = ("href", "src", "action", "poster", "xlink:href")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.I)
LOCAL_HOST = re.compile(r"(?<![\w.-])(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0)(?![\w-]|\.\w)",
                        re.I)
TEXT_SUFFIXES = (".html", ".xml", ".css", ".js", ".json", ".txt", ".opml", ".svg", ".rss",
                 ".atom", ".webmanifest")
RFC822 = re.compile(r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
                    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                    r"\d{2}:\d{2}(?::\d{2})? (?:GMT|UT|[+-]\d{4})$")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Finding = tuple[str, str]  # (the link or value at fault, what is wrong with it)


@dataclass(frozen=True, order=True)
class Problem:
    check: str
    file: str  # site-relative path of the file at fault
    ref: str  # the link or value at fault ('' when it is the whole file)
    message: str


@dataclass(frozen=True)
class Result:
    name: str
    summary: str
    problems: list[Problem]


@dataclass(frozen=True)
class Page:
    """One HTML page as parsed: what is wrong with it, its ids, the URLs it references."""

    problems: tuple[Finding, ...]
    ids: frozenset[str]
    refs: tuple[str, ...]
    alternates: tuple[tuple[str, str], ...] = ()
    """(type, href) of each <link rel="alternate">."""
    json_ld: tuple[str, ...] = ()
    """The text of each <script type="application/ld+json">."""


def css_refs(text: str) -> list[str]:
    return [u for m in CSS_URL.finditer(text) if not (u := (m[2] or m[4]).strip()).startswith("#")]


def element_refs(element: Any) -> Iterator[str]:
    yield from (value for attr in URL_ATTRS if (value := element.get(attr)) is not None)
    if element.tag == "object" and element.get("data") is not None:
        yield element.get("data")
    yield from (c.split()[0] for c in (element.get("srcset") or "").split(",") if c.strip())
    yield from css_refs((element.get("style") or "") + (
        element.text or "" if element.tag == "style" else ""))


def page_problems(tree: Any) -> Iterator[Finding]:
    root = tree.getroot()
    if (tree.docinfo.doctype or "").lower() != "<!doctype html>":
        yield "", "does not start with <!DOCTYPE html>"
    if not (root.get("lang") or "").strip():
        yield "<html>", "has no lang attribute"
    if not root.xpath("string(head/title)").strip():
        yield "<title>", "is missing or empty"
    if (h1s := len(root.findall(".//h1"))) != 1:
        yield "<h1>", f"appears {h1s} times, expected exactly once"


def parse_page(path: Path) -> Page:
    """Parse one page with lxml (libxml2 also reports bad nesting and duplicate ids)."""
    from lxml import etree

    parser = etree.HTMLParser(recover=True, no_network=True)
    tree = etree.parse(str(path), parser)
    errors = [("", f"invalid HTML, line {e.line}: {e.message}")
              for e in parser.error_log if e.level >= 2]
    if tree.getroot() is None:
        return Page((*errors, ("", "empty page")), frozenset(), ())
    elements = list(tree.getroot().iter(etree.Element))
    ids = {e.get("id") or (e.get("name") if e.tag == "a" else None) for e in elements}
    alternates = tuple((e.get("type") or "", e.get("href") or "") for e in elements
                       if e.tag == "link" and "alternate" in (e.get("rel") or "").split())
    json_ld = tuple(e.text or "" for e in elements
                    if e.tag == "script" and e.get("type") == "application/ld+json")
    return Page((*errors, *page_problems(tree)), frozenset(i for i in ids if i),
                tuple(ref for element in elements for ref in element_refs(element)),
                alternates, json_ld)


class Site:
    """A built site as Pages serves it at base_url, its HTML pages parsed once."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root, self.base_url = root, base_url.rstrip("/") + "/"
        self.netloc, self.base_path = urlsplit(self.base_url).netloc, urlsplit(self.base_url).path
        self.files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        self.known = set(self.files)
        self.pages = {rel: parse_page(root / rel) for rel in self.files if rel.endswith(".html")}

    def url_of(self, rel: str) -> str:
        """Absolute URL a file is served at (``x/index.html`` -> ``.../x/``)."""
        return self.base_url + quote(re.sub(r"(^|/)index\.html$", r"\1", rel))

    def locate(self, url: str) -> str | None:
        """The file served at an absolute URL of this site, or None."""
        path = urlsplit(url).path
        if not (path + "/").startswith(self.base_path):
            return None
        rel = unquote(path[len(self.base_path):])
        names = [rel + "index.html"] if rel == "" or rel.endswith("/") else [
            rel, rel + ".html", rel + "/index.html"]
        return next((name for name in names if name in self.known), None)

    def broken(self, source_url: str, raw: str) -> str | None:
        """Why a reference found in a file served at source_url is broken, or None."""
        parts = urlsplit(urljoin(source_url, raw.strip()))
        if parts.scheme == "javascript":
            return "is a javascript: URL"
        if parts.scheme not in ("http", "https") or parts.netloc != self.netloc:
            return None  # external, mailto:, data: ...: not ours to resolve
        shown = "" if parts.path == raw.strip() else f" ({parts.path})"
        if not (parts.path + "/").startswith(self.base_path):
            return f"is outside the base path {self.base_path}{shown}"
        target = self.locate(parts.geturl())
        if target is None:
            return f"does not resolve to a file of the site{shown}"
        fragment, page = unquote(parts.fragment), self.pages.get(target)
        if fragment and fragment != "top" and page is not None and fragment not in page.ids:
            return f"has no target: no id {fragment!r} on {target}"
        return None


def check_html(site: Site) -> Result:
    problems = [Problem("html", rel, ref, message) for rel, page in site.pages.items()
                for ref, message in page.problems]
    return Result("html", f"{len(site.pages)} pages", problems)


def check_links(site: Site) -> Result:
    """Every href/src/srcset/action of every page, every url() of every stylesheet."""
    sources = [(rel, page.refs) for rel, page in site.pages.items()]
    sources += [(rel, tuple(css_refs((site.root / rel).read_text("utf-8", "replace"))))
                for rel in site.files if rel.endswith(".css")]
    problems = {Problem("links", rel, ref, why) for rel, refs in sources for ref in refs
                if (why := site.broken(site.url_of(rel), ref))}
    count = sum(len(refs) for _, refs in sources)
    return Result("links", f"{count} references in {len(sources)} files", sorted(problems))


def rfc822_problem(value: str) -> str | None:
    match = RFC822.match(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value) if match else None
    except (TypeError, ValueError) as exc:
        return f"is not a real date ({exc})"
    if match is None or when is None:
        return "is not an RFC 822 date (like 'Wed, 01 May 2024 00:00:00 +0000')"
    if match[1] and match[1] != DAYS[when.weekday()]:
        return f"says {match[1]} but that day is a {DAYS[when.weekday()]}"
    return None


def rss_dates(doc: Any) -> Iterator[Finding]:
    for element in doc.iter("pubDate", "lastBuildDate"):
        if why := rfc822_problem(element.text or ""):
            yield element.text or "", f"line {element.sourceline}: <{element.tag}> {why}"


def feed_links(site: Site, rel: str, doc: Any, rng: Any) -> Iterator[Finding]:
    """The grammar (Atom), dates (RSS) and the feed's own links."""
    if doc.tag == ATOM + "feed":
        if not rng.validate(doc.getroottree()):
            yield from ((f"line {e.line}", f"RELAX NG (RFC 4287): {e.message}")
                        for e in rng.error_log)
        homes = [link.get("href", "") for link in doc.findall(ATOM + "link")
                 if link.get("rel", "alternate") == "alternate"]
    else:
        yield from rss_dates(doc)
        homes = [doc.findtext("channel/link") or ""]
    url = site.url_of(rel)
    yield from ((home, "the feed's site link does not lead to an HTML page") for home in homes
                if not str(site.locate(urljoin(url, home))).endswith(".html"))
    selves = [link.get("href", "") for link in doc.iter(ATOM + "link") if link.get("rel") == "self"]
    yield from ((self_link, "the self link does not lead to this feed") for self_link in selves
                if site.locate(urljoin(url, self_link)) != rel)


def check_feed(site: Site, rel: str, doc: Any, rng: Any) -> tuple[int, list[Problem]]:
    import feedparser

    found = list(feed_links(site, rel, doc, rng))
    parsed = feedparser.parse((site.root / rel).read_bytes(), sanitize_html=False,
                              resolve_relative_uris=False)
    if parsed.bozo or not parsed.entries:
        found.append(("", f"feedparser: bozo {parsed.get('bozo_exception')}" if parsed.bozo
                      else "feedparser finds no entries"))
    ids: dict[str, int] = {}
    for i, entry in enumerate(parsed.entries, 1):
        # Readers key entries by id: two with one id show as one (or flicker).
        if entry.get("id") and (first := ids.setdefault(entry["id"], i)) != i:
            found.append((entry["id"], f"entries {first} and {i} have the same id"))
        missing = [key for key in ("id", "link", "title") if not entry.get(key)]
        # dict.get: feedparser's own get() warns when it maps updated_parsed to published_parsed
        dated = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        missing += [] if dated else ["date"]
        if missing:
            found.append((f"entry {i}", f"has no {', '.join(missing)} (feedparser)"))
        if entry.get("link") and (why := site.broken(site.url_of(rel), entry["link"])):
            found.append((entry["link"], f"entry {i} link {why}"))
    return len(parsed.entries), [Problem("feeds", rel, ref, msg) for ref, msg in found]


def check_feeds(site: Site) -> Result:
    """Every *.xml/*.rss/*.atom whose root is <rss> or Atom's <feed>."""
    from lxml import etree

    rng = etree.RelaxNG(etree.parse(str(resources.files("site_builder") / "atom.rng")))
    problems: list[Problem] = []
    kinds: dict[str, int] = defaultdict(int)
    for rel in (rel for rel in site.files if rel.endswith((".xml", ".rss", ".atom"))):
        try:
            doc = etree.parse(str(site.root / rel), etree.XMLParser(
                resolve_entities=False, no_network=True)).getroot()
        except etree.XMLSyntaxError as exc:
            problems.append(Problem("feeds", rel, "", f"not well-formed XML: {exc}"))
            continue
        if doc.tag in ("rss", ATOM + "feed"):
            count, found = check_feed(site, rel, doc, rng)
            kinds["RSS" if doc.tag == "rss" else "Atom"] += 1
            kinds["entries"] += count
            problems += found
    if not kinds:
        problems.append(Problem("feeds", ".", "", "no RSS or Atom feed in the site"))
    return Result("feeds", f"{kinds['Atom'] + kinds['RSS']} feeds: {kinds['Atom']} Atom, "
                  f"{kinds['RSS']} RSS; {kinds['entries']} entries", problems)


def check_sitemap(site: Site) -> Result:
    from lxml import etree

    try:
        doc = etree.parse(str(site.root / "sitemap.xml"), etree.XMLParser(no_network=True))
    except (OSError, etree.XMLSyntaxError) as exc:
        return Result("sitemap", "unreadable", [Problem("sitemap", "sitemap.xml", "", str(exc))])
    locs = [(loc.text or "").strip() for loc in doc.iter(SITEMAP + "loc")]
    problems = [Problem("sitemap", "sitemap.xml", loc, f"is not under the base URL {site.base_url}"
                        if not loc.startswith(site.base_url) else "does not resolve to a file")
                for loc in locs if not loc.startswith(site.base_url) or site.locate(loc) is None]
    if doc.getroot().tag != SITEMAP + "urlset" or not locs:
        problems.append(Problem("sitemap", "sitemap.xml", "", "is no sitemaps.org <urlset> "
                                "with <url><loc> entries"))
    return Result("sitemap", f"{len(locs)} URLs", problems)


def check_hosts(site: Site) -> Result:
    """No link or text may point at a development server."""
    scanned = [rel for rel in site.files if rel.endswith(TEXT_SUFFIXES)]
    problems = [Problem("hosts", rel, match[0], "points at a local address") for rel in scanned
                for match in LOCAL_HOST.finditer((site.root / rel).read_text("utf-8", "replace"))]
    return Result("hosts", f"{len(scanned)} text files scanned for local addresses", problems)


def guess_base_url(root: Path) -> str | None:
    """The longest folder URL every sitemap entry starts with (the home page's URL)."""
    try:
        locs = re.findall(r"<loc>\s*([^<\s]+)", (root / "sitemap.xml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    prefix = os.path.commonprefix(locs)  # noqa: RUF071  (a URL prefix, not a file path)
    prefix = prefix[: prefix.rfind("/") + 1]
    return prefix if re.match(r"^https?://[^/]+/", prefix) else None


def choose_base_url(root: Path, config_path: Path | None) -> tuple[str | None, str]:
    from site_builder.config import load_config
    from site_builder.errors import ConfigError

    if config_path is not None and config_path.is_file():
        try:
            return load_config(config_path).site.base_url, f"site.base_url in {config_path}"
        except ConfigError as exc:
            print(f"warning: cannot read {config_path}, guessing the base URL: {exc}",
                  file=sys.stderr)
    return guess_base_url(root), "guessed from sitemap.xml"


def print_problems(result: Result, per_kind: int = 5) -> None:
    """The same link broken on many pages is one line; a kind shows its first few."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for problem in sorted(result.problems):
        files = groups[(problem.ref, problem.message)]
        files += [] if problem.file in files[-1:] else [problem.file]
    shown: dict[str, int] = defaultdict(int)
    for (ref, message), files in groups.items():
        shown[message] += 1
        if shown[message] <= per_kind:
            more = f" (and {len(files) - 1} more files)" if len(files) > 1 else ""
            print(f"  {result.name}: {files[0]}{more}: " + (f"{ref!r} " if ref else "") + message)
    for message, count in shown.items():
        if count > per_kind:
            print(f"  {result.name}: ... and {count - per_kind} more: {message}")


def run_checks(site: Site) -> list[Result]:
    from site_builder.check_formats import run_format_checks

    return [check_feeds(site), check_html(site), check_links(site), check_sitemap(site),
            check_hosts(site), *run_format_checks(site)]


def check_site(site_dir: Path, base_url: str | None = None,
               config_path: Path | None = None) -> int:
    started = time.perf_counter()
    for package in (name for name in ("feedparser", "lxml", "pybtex")
                    if find_spec(name) is None):
        print(f"error: `site-builder check` needs the Python package {package!r} "
              f"(pip install {package}; `make venv` installs the dev dependencies)",
              file=sys.stderr)
        return 2
    if not (site_dir / "index.html").is_file():
        print(f"error: {site_dir}/ holds no built site (no index.html); run `site-builder build`",
              file=sys.stderr)
        return 2
    source = "--base-url"
    if base_url is None:
        base_url, source = choose_base_url(site_dir, config_path)
    if not base_url:
        print("error: no base URL: pass --base-url (no config.yaml and no usable sitemap.xml)",
              file=sys.stderr)
        return 2
    site = Site(site_dir, base_url)
    print(f"checking {site_dir}/ ({len(site.files)} files) served at {site.base_url} ({source})")
    if (guess := guess_base_url(site_dir)) and not guess.startswith(site.base_url):
        print(f"note: sitemap.xml says the site was built for {guess}; pass --base-url {guess}?")
    results = run_checks(site)
    for result in results:
        state = f"FAIL, {len(result.problems)} problems" if result.problems else "ok"
        print(f"check {result.name}: {state} ({result.summary})")
    for result in results:
        print_problems(result)
    failed = sum(1 for result in results if result.problems)
    print(f"check: {len(results) - failed} of {len(results)} checks ok "
          f"in {time.perf_counter() - started:.1f}s")
    return 1 if failed else 0
