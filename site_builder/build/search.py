"""Full-text search without a server: Pagefind indexes the built site.

In: the output folder after a build. Out: ``pagefind/`` inside it (the index and
Pagefind's UI bundle), made by the ``pagefind`` binary that PyPI's ``pagefind[bin]``
ships. Only paper pages are indexed (they carry ``data-pagefind-body``), so a search
lists each paper once, with its themes as filters. The index is rebuilt only when some
page changed; it is always written under the site's own folder, so it works under a
project subpath and offline.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder.errors import BuildError

if TYPE_CHECKING:
    from site_builder.build.result import BuildResult, Stopwatch
    from site_builder.config import Config

SEARCH_DIR = "pagefind"


def pagefind_command() -> list[str]:
    # The binary itself, not `python -m pagefind`: the wrapper doubles the run time.
    try:
        from pagefind_bin import get_executable
    except ImportError:
        found = shutil.which("pagefind")
        if found:
            return [found]
        raise BuildError("pagefind", None,
                         "the search indexer is missing: pip install 'pagefind[bin]' "
                         "(make site installs it), or set site.search: false") from None
    return [str(get_executable())]


def index_site(out: Path) -> None:
    staging = out / f".{SEARCH_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [*pagefind_command(), "--site", str(out), "--output-path", str(staging), "--silent"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError("pagefind", None, f"indexing failed: {done.stderr.strip()[-500:]}")
    # Swap the new index in whole, so the site never serves half an index.
    old = out / f".{SEARCH_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if (out / SEARCH_DIR).exists():
        (out / SEARCH_DIR).rename(old)
    staging.rename(out / SEARCH_DIR)
    shutil.rmtree(old, ignore_errors=True)


def refresh_search(config: Config, out: Path, html_changed: bool, index_search: bool,
                   result: BuildResult, clock: Stopwatch) -> None:
    """Index the site for search if pages changed (or there is no index yet); with
    index_search=False leave it to the caller (``result.search_pending``).

    With search off, an index a previous build made goes: the output record does not
    list it (the sync leaves it to this step), so nothing else would remove it."""
    if not config.site.search:
        for name in (SEARCH_DIR, f".{SEARCH_DIR}.new", f".{SEARCH_DIR}.old"):
            shutil.rmtree(out / name, ignore_errors=True)
        return
    if html_changed or not (out / SEARCH_DIR).is_dir():
        if index_search:
            index_site(out)
            result.indexed = True
            clock.lap("search")
        else:
            result.search_pending = True
