"""build(): the pipeline, stage by stage, and nothing else.

content/papers/*.md -> Paper -> classify -> Site -> render + feeds -> OutputFiles
-> synced into the output folder.

Everything is rendered in memory first; only when every page and feed exists is
anything written, so a failed build leaves the previous site untouched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from site_builder import urls as U
from site_builder.config import load_config
from site_builder.content import load_papers
from site_builder.errors import BuildError, Diagnostic
from site_builder.feeds import FeedWriter
from site_builder.render import OutputFile, Renderer, load_pages, make_environment
from site_builder.site import Entry, Site, assemble
from site_builder.sitefiles import pages_files, static_files
from site_builder.sync import SyncStats, sync_output


@dataclass
class BuildResult:
    out: Path
    pages: int = 0
    files: int = 0
    stats: SyncStats = field(default_factory=SyncStats)
    seconds: float = 0.0
    warnings: list[Diagnostic] = field(default_factory=list)

    def summary(self) -> str:
        return (f"built {self.pages} pages, {self.files} files into {self.out}/ "
                f"({self.stats.written} written, {self.stats.unchanged} unchanged, "
                f"{self.stats.removed} removed) in {self.seconds:.2f}s")


def no_related(entry: Entry) -> list[Entry]:
    return []


def render_site(site: Site, root: Path, links: U.Urls) -> list[OutputFile]:
    env = make_environment(root / "templates")
    renderer = Renderer(site, links, env, no_related)
    outputs: list[OutputFile] = [renderer.home()]
    outputs += renderer.themes()
    outputs += renderer.tags()
    outputs += renderer.archive()
    outputs += renderer.papers()
    outputs += renderer.content_pages(load_pages(root / "content" / "pages"))
    outputs.append(renderer.feeds_page())
    outputs.append(renderer.not_found())
    outputs += FeedWriter(site, links).all()
    outputs += pages_files(site, links, [o.path for o in outputs])
    outputs += static_files(root / "static")
    return outputs


def build_site(config_path: Path, out: Path, base_url: str | None = None,
               clean: bool = False) -> BuildResult:
    started = time.perf_counter()
    config = load_config(config_path, base_url)
    result = BuildResult(out=out)
    papers = load_papers(config.papers_dir, result.warnings)
    site = assemble(config, papers)
    links = U.Urls(config.site.base_url)
    outputs = render_site(site, config.root, links)
    seen: set[str] = set()
    for output in outputs:
        if output.path in seen:
            raise BuildError(output.path, None, "two pages would be written to this path")
        seen.add(output.path)
    result.stats = sync_output(out, outputs, clean=clean)
    result.pages = sum(1 for o in outputs if o.path.endswith(".html"))
    result.files = len(outputs)
    result.seconds = time.perf_counter() - started
    return result
