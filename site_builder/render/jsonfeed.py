"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): the third format of every feed.

In: what feeds.FeedWriter already chose and made for a FeedJob (its entries, their
links, abstracts, summaries and dates). Out: the feed's bytes. The items are the
job's entries, in the job's order, with the ids of the Atom and RSS entries
(``urn:uuid:<paper id>``), so a reader that switches format sees the same papers.

Every string is a JSON string (json.dumps escapes quotes, backslashes and controls);
titles and summaries have no invisible controls (feeds.FeedWriter strips them).
"""

from __future__ import annotations

import datetime as dt
import json

VERSION = "https://jsonfeed.org/version/1.1"


def rfc3339(when: dt.datetime) -> str:
    """``2024-03-05T00:00:00Z``: JSON Feed dates are RFC 3339; ours are UTC midnights."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_item(item_id: str, url: str, title: str, content_html: str, summary: str,
              when: dt.datetime, tags: list[str]) -> dict[str, object]:
    item: dict[str, object] = {"id": item_id, "url": url, "title": title,
                               "content_html": content_html, "summary": summary,
                               "date_published": rfc3339(when), "date_modified": rfc3339(when)}
    if tags:
        item["tags"] = tags
    return item


def json_feed(title: str, description: str, home_page_url: str, feed_url: str,
              language: str, author: str, items: list[dict[str, object]]) -> bytes:
    feed: dict[str, object] = {
        "version": VERSION, "title": title, "home_page_url": home_page_url,
        "feed_url": feed_url, "description": description, "language": language,
        "authors": [{"name": author}], "items": items,
    }
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
