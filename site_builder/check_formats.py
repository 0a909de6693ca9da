"""The checks of ``site-builder check`` for the formats beside HTML and XML feeds: BibTeX
files, JSON Feeds, JSON-LD blocks, and the ``<link rel="alternate">`` every page
advertises.

In: a check.Site (its files, and its pages as parsed once: their alternates and JSON-LD
texts). Out: one check.Result per check. Each format is read the way its consumers
read it: pybtex (strictly: a warning is a problem) for BibTeX, JSON with JSON Feed
1.1's rules for feeds, JSON with a schema.org @context and @type for JSON-LD.
pybtex is a dev-time dependency, imported only when ``check`` runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from site_builder.check import Finding, Problem, Result, Site

JSON_FEED = "https://jsonfeed.org/version/1.1"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# What an advertised alternate of each type must be: a file name ending, and for feeds
# which of the site's formats.
ALTERNATE_SUFFIX = {"application/x-bibtex": ".bib", "application/feed+json": ".json",
                    "application/rss+xml": ".xml", "application/atom+xml": ".xml"}


def bib_problems(text: str) -> tuple[int, list[Finding]]:
    import pybtex.errors
    from pybtex.database import parse_string
    from pybtex.exceptions import PybtexError

    found: list[Finding] = []
    strict = pybtex.errors.strict  # pybtex's own switch: set for this parse, then restored
    pybtex.errors.set_strict_mode(True)
    try:
        data = parse_string(text, "bibtex")
    except PybtexError as exc:  # unbalanced braces, a repeated key, a bad field...
        return 0, [("", f"pybtex: {exc}")]
    finally:
        pybtex.errors.set_strict_mode(strict)
    for key, entry in data.entries.items():
        if not entry.fields.get("title", "").strip():
            found.append((key, "entry has no title"))
        if not entry.fields.get("url", "").strip():
            found.append((key, "entry has no url"))
    if not data.entries and text.strip():
        found.append(("", "pybtex finds no entry in a file that is not empty"))
    return len(data.entries), found


def check_bibtex(site: Site) -> Result:
    problems: list[Problem] = []
    entries = 0
    files = [rel for rel in site.files if rel.endswith(".bib")]
    for rel in files:
        try:
            text = (site.root / rel).read_text("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem("bibtex", rel, "", f"not UTF-8: {exc}"))
            continue
        count, found = bib_problems(text)
        entries += count
        problems += [Problem("bibtex", rel, ref, message) for ref, message in found]
    return Result("bibtex", f"{len(files)} files, {entries} entries", problems)


def json_feed_problems(site: Site, rel: str, feed: dict[str, Any]) -> Iterator[Finding]:
    """JSON Feed 1.1's required fields and types, and links that lead where they say."""
    if feed.get("version") != JSON_FEED:
        yield str(feed.get("version")), f"version is not {JSON_FEED}"
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        yield "title", "the feed has no title"
    url = site.url_of(rel)
    if site.locate(urljoin(url, str(feed.get("feed_url", "")))) != rel:
        yield str(feed.get("feed_url")), "feed_url does not lead to this feed"
    if not str(site.locate(urljoin(url, str(feed.get("home_page_url", ""))))).endswith(".html"):
        yield str(feed.get("home_page_url")), "home_page_url does not lead to an HTML page"
    items = feed.get("items")
    if not isinstance(items, list) or not items:
        yield "items", "the feed has no items"
        return
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        where = f"item {number}"
        if not isinstance(item, dict):
            yield where, "is not an object"
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            yield where, "has no string id"
        elif item_id in seen:
            yield item_id, f"{where} repeats an id"
        else:
            seen.add(item_id)
        if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
            yield where, "has neither content_html nor content_text"
        for key in ("date_published", "date_modified"):
            if key in item and not RFC3339.match(str(item[key])):
                yield str(item[key]), f"{where} {key} is not an RFC 3339 date"
        if not isinstance(item.get("url"), str):
            yield where, "has no url"
        elif why := site.broken(url, item["url"]):
            yield item["url"], f"{where} url {why}"


def check_json_feeds(site: Site) -> Result:
    """Every *.json that says it is a JSON Feed (its version), and every feed.json."""
    problems: list[Problem] = []
    feeds = items = 0
    for rel in (rel for rel in site.files if rel.endswith(".json")):
        try:
            data = json.loads((site.root / rel).read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem("jsonfeed", rel, "", f"not JSON: {exc}"))
            continue
        is_feed = isinstance(data, dict) and str(data.get("version", "")).startswith(
            "https://jsonfeed.org/version/")
        if not is_feed and not rel.endswith("feed.json"):
            continue
        if not isinstance(data, dict):
            problems.append(Problem("jsonfeed", rel, "", "is not a JSON object"))
            continue
        feeds += 1
        items += len(data["items"]) if isinstance(data.get("items"), list) else 0
        problems += [Problem("jsonfeed", rel, ref, message)
                     for ref, message in json_feed_problems(site, rel, data)]
    return Result("jsonfeed", f"{feeds} JSON Feeds, {items} items", problems)


def json_ld_problems(site: Site, rel: str, text: str) -> Iterator[Finding]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield "", f"JSON-LD is not JSON: {exc}"
        return
    for node in data if isinstance(data, list) else [data]:
        if not isinstance(node, dict):
            yield "", "JSON-LD holds something other than an object"
            continue
        if "schema.org" not in json.dumps(node.get("@context", "")):
            yield str(node.get("@context")), "JSON-LD has no schema.org @context"
        if not node.get("@type"):
            yield "", "JSON-LD has no @type"
        if isinstance(node.get("url"), str) and (why := site.broken(site.url_of(rel),
                                                                    node["url"])):
            yield node["url"], f"JSON-LD url {why}"


def check_json_ld(site: Site) -> Result:
    problems = [Problem("jsonld", rel, ref, message) for rel, page in site.pages.items()
                for text in page.json_ld for ref, message in json_ld_problems(site, rel, text)]
    blocks = sum(len(page.json_ld) for page in site.pages.values())
    with_ld = sum(1 for page in site.pages.values() if page.json_ld)
    return Result("jsonld", f"{blocks} blocks in {with_ld} pages", problems)


def check_alternates(site: Site) -> Result:
    """Every ``<link rel="alternate" type=... href=...>`` leads to a file of that kind."""
    problems: set[Problem] = set()
    count = 0
    for rel, page in site.pages.items():
        for kind, href in page.alternates:
            count += 1
            target = site.locate(urljoin(site.url_of(rel), href.strip()))
            suffix = ALTERNATE_SUFFIX.get(kind)
            if target is None:
                problems.add(Problem("alternates", rel, href,
                                     f"advertised as {kind or 'an alternate'} but no such file"))
            elif suffix and not target.endswith(suffix):
                problems.add(Problem("alternates", rel, href,
                                     f"advertised as {kind} but is {target}"))
    return Result("alternates", f"{count} advertised alternates", sorted(problems))


def run_format_checks(site: Site) -> list[Result]:
    return [check_bibtex(site), check_json_feeds(site), check_json_ld(site),
            check_alternates(site)]
