"""XML escaping for the files we write by hand (sitemap.xml, feeds.opml).

The same results as ``xml.sax.saxutils.escape`` and ``quoteattr`` (tested), without
importing that module: it imports urllib.request, and with it ssl, sockets and
http.client, 11 ms of every rebuild.
"""

from __future__ import annotations


def escape(value: str) -> str:
    """Text content: &, < and > as entities."""
    return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(value: str) -> str:
    """An attribute value with its quotes: double quotes unless the value holds some
    and no single ones; line breaks and tabs as character references."""
    value = escape(value).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"{}"'.format(value.replace('"', "&quot;"))
