"""The files GitHub Pages and crawlers expect, and the static assets.

In: the Site, its Urls, the list of pages built. Out: OutputFiles for sitemap.xml,
robots.txt, .nojekyll and everything under static/ (copied byte for byte).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from site_builder import urls as U
from site_builder.models import OutputFile
from site_builder.render.xmlescape import escape
from site_builder.safefs import read_regular, refusal
from site_builder.site import Site


def _page_path(output: str) -> str:
    return output[: -len("index.html")] if output.endswith("index.html") else output


def pages_files(site: Site, links: U.Urls, outputs: list[str]) -> list[OutputFile]:
    lastmod = {U.paper_path(e.slug): e.date.isoformat() for e in site.entries if e.date}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for output in sorted(outputs):
        if not output.endswith(".html") or output == "404.html":
            continue
        page = _page_path(output)
        loc = f"<loc>{escape(links.abs_url(page))}</loc>"
        mod = f"<lastmod>{lastmod[page]}</lastmod>" if page in lastmod else ""
        lines.append(f"  <url>{loc}{mod}</url>")
    lines += ["</urlset>", ""]
    robots = f"User-agent: *\nAllow: /\nSitemap: {links.abs_url('sitemap.xml')}\n"
    return [OutputFile("sitemap.xml", "\n".join(lines).encode()),
            OutputFile("robots.txt", robots.encode()),
            OutputFile(".nojekyll", b"")]


def static_files(static_dir: Path) -> list[OutputFile]:
    """Every file under static/ but dot files, byte for byte. A symbolic link (to a file
    or a folder), FIFO or device is a ContentError naming it: never followed out of the
    project (``static/x -> /etc/passwd``), never waited on (safefs.py)."""
    if not static_dir.is_dir():
        return []
    found: list[OutputFile] = []
    for dirpath, dirnames, filenames in os.walk(static_dir):
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                raise refusal(os.path.join(dirpath, name), stat.S_IFLNK)
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            found.append(OutputFile("static/" + path.relative_to(static_dir).as_posix(),
                                    read_regular(path)))
    return sorted(found, key=lambda f: f.path)
