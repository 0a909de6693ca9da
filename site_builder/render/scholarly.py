"""What reference managers and crawlers read of a paper: Highwire and Dublin Core meta
tags, the ContextObject of a COinS span, and the JSON-LD ScholarlyArticle.

In: an Entry, its absolute URL, theme titles and tag names, the digest's title and URL.
Out: plain data for the views (name/content pairs, strings); templates write them, so
Jinja escapes every value and strips invisible controls (templating.finalize).

Authors: the dumps carry only a count, never names, so no tag here names an author.
Zotero and Google Scholar take a page without ``citation_author``; an invented or
placeholder name ("6 authors") would end up in a reader's bibliography as a person.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from urllib.parse import quote, urlencode

from site_builder.render.markdown import strip_invisible
from site_builder.site import Entry

Meta = dict[str, str]


def paper_date(entry: Entry) -> dt.date | None:
    """The date a paper was published, for citation tags, BibTeX and JSON-LD.

    The listing's own date (``published``: the day Hugging Face Daily Papers dated the
    paper, its day online) and nothing else. ``entry.date`` falls back to the capture
    date of a dump, which is when the digest saw the listing, not when the paper came
    out: a reference manager would record a wrong date, so an undated paper gets none.
    """
    return entry.paper.published


def keywords(entry: Entry, theme_titles: dict[str, str], tag_names: dict[str, str]
             ) -> list[str]:
    """Theme titles, then tag names: what reference managers and crawlers index."""
    return ([theme_titles.get(s, s) for s in entry.themes]
            + [tag_names.get(s, s) for s in entry.tags])


# A paper's output makes its title plain five times and its abstract three (meta tags,
# COinS, JSON-LD, BibTeX): the last few answers are kept (a pure function of a str).
@functools.lru_cache(maxsize=64)
def plain(text: str) -> str:
    """One line of text, without invisible controls."""
    return " ".join(strip_invisible(text).split())


def citation_meta(entry: Entry, keywords: list[str]) -> list[Meta]:
    """Highwire Press tags (what Zotero's Embedded Metadata translator and Google Scholar
    read) and their Dublin Core counterparts, as ``{"name", "content"}`` pairs."""
    paper = entry.paper
    title = plain(paper.title)
    meta = [{"name": "citation_title", "content": title}]
    day = paper_date(entry)
    if day is not None:
        # Highwire wants YYYY/MM/DD. The listing's date is both the publication date
        # and the date online: Daily Papers lists a paper the day it appears.
        highwire = f"{day.year:04d}/{day.month:02d}/{day.day:02d}"
        meta += [{"name": "citation_publication_date", "content": highwire},
                 {"name": "citation_online_date", "content": highwire}]
    abstract = plain(paper.abstract)
    if abstract:  # Zotero fills the abstract from it; the page's description is cut short
        meta.append({"name": "citation_abstract", "content": abstract})
    if keywords:
        meta.append({"name": "citation_keywords", "content": "; ".join(plain(k) for k in keywords)})
    meta.append({"name": "DC.title", "content": title})
    if day is not None:
        meta.append({"name": "DC.date", "content": day.isoformat()})
    meta.append({"name": "DC.type", "content": "Text"})
    return meta


def coins(entry: Entry, url: str) -> str:
    """The ContextObject (OpenURL 1.0 KEV) of a COinS span: ``title`` of
    ``<span class="Z3988">``. Zotero offers to save every paper of a listing from them."""
    fields = [("rft.atitle", plain(entry.paper.title))]
    day = paper_date(entry)
    if day is not None:
        fields.append(("rft.date", day.isoformat()))
    fields.append(("rft_id", url))
    return _COINS_HEAD + "&" + urlencode(fields, quote_via=quote)


# The fields every ContextObject starts with, quoted once: urlencode quotes byte by byte.
_COINS_HEAD = urlencode([("ctx_ver", "Z39.88-2004"),
                         ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
                         ("rft.genre", "preprint")], quote_via=quote)


def json_ld(entry: Entry, url: str, keywords: list[str], site_title: str,
            site_url: str) -> str:
    """A schema.org ScholarlyArticle as the text of a ``<script type="application/ld+json">``.

    Safe inside the script element whatever the text holds: ``<``, ``>`` and ``&`` are
    written as JSON escapes (``\\u003c``...), so no ``</script>`` or ``<!--`` can close
    or change the element, and U+2028/U+2029 are escaped for older JavaScript parsers.
    """
    paper = entry.paper
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": url,
        "name": plain(paper.title),
        "headline": plain(paper.title)[:110],  # Google's limit for a headline
        "url": url,
        "identifier": f"urn:uuid:{paper.id}",
    }
    abstract = plain(paper.abstract)
    if abstract:
        data["abstract"] = abstract
    day = paper_date(entry)
    if day is not None:
        data["datePublished"] = day.isoformat()
    if keywords:
        data["keywords"] = [plain(k) for k in keywords]
    data["isPartOf"] = {"@type": "WebSite", "name": plain(site_title), "url": site_url}
    # Compact, not indented: with ``indent`` json.dumps takes its pure-Python encoder,
    # which was a fifth of making a paper page's view.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)  # only inside strings: JSON syntax has none
    return text
