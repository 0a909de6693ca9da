"""A cheap stamp of every build input, for the no-op fast path.

In: the Config and the output folder. Out: a digest of the size and mtime of every
file a build reads (config, content/papers, content/pages, content/dumps, templates,
static, the package's own code and the versions of the libraries that shape bytes) plus
the base URL. Equal stamps mean nothing can have changed, so a rebuild costs one stat
per input file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from site_builder.incremental.engine import digest, engine_stamp


def _walk(folder: Path, parts: list[str], top: dict[str, tuple[int, int]] | None = None,
          plain: bool = True) -> None:
    """Add every file's stat to ``parts``; ``top`` gets those directly in ``folder``.

    ``plain``: the folder is copied or read as content (static/, content/), where a
    symbolic link, FIFO or device is refused (safefs.py) before anything is built: so
    those are stat'ed without following (a dangling link is no crash) and refused here.
    Templates may be links (followed, so an edit of the target rebuilds); one that
    cannot be stat'ed is stamped as such and the build names it."""
    if not folder.is_dir():
        parts.append(f"{folder}:missing")
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        if plain:
            # os.walk lists a link to a folder among the folders and does not enter it.
            linked = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            if linked:
                from site_builder.safefs import refusal
                raise refusal(os.path.join(dirpath, linked[0]), stat.S_IFLNK)
        # The loop every build runs over every entry file (20,000 at the largest bench):
        # names and functions bound once, one line of the stamp a file.
        prefix = os.path.join(dirpath, "")
        into = top if top is not None and dirpath == str(folder) else None
        stat_of, regular, lines = os.lstat if plain else os.stat, stat.S_ISREG, []
        for name in sorted(filenames):
            if name[0] == "." or name.endswith((".pyc", ".tmp")):
                continue
            try:
                st = stat_of(prefix + name)
            except OSError as exc:
                lines.append(f"{prefix}{name}:{exc.errno}")
                continue
            if plain and not regular(st.st_mode):
                from site_builder.safefs import refusal
                raise refusal(prefix + name, st.st_mode)
            size, mtime = st.st_size, st.st_mtime_ns
            lines.append(f"{prefix}{name}:{size}:{mtime}")
            if into is not None:
                into[name] = (size, mtime)
        parts.append("\n".join(lines))


def input_stamp(config_path: Path, base_url: str | None, out: Path,
                paper_stats: dict[str, tuple[int, int]] | None = None,
                rest: list[str] | None = None) -> str:
    """Computed before config.yaml is even read (a no-op build reads nothing): the
    config file's stat stands for its contents, and ``base_url`` is the --base-url
    override, if any. ``paper_stats`` gets (size, mtime) of each content/papers file,
    so the build does not stat them a second time; ``rest`` gets the stamp of every
    input but the entry files (for quick.py)."""
    root = config_path.resolve().parent
    try:
        st = config_path.stat()
    except OSError:
        return ""  # no stamp: the build goes on and reports the missing config
    parts = [base_url or "", str(out.resolve()),
             f"{config_path}:{st.st_size}:{st.st_mtime_ns}"]
    # content/dumps: a dump config.yaml does not list is dated by its header (config.py).
    for folder in (root / "content" / "pages", root / "content" / "dumps", root / "templates",
                   root / "static"):
        _walk(folder, parts, plain=folder.name != "templates")
    parts += engine_stamp()
    if rest is not None:
        rest.append(digest(*parts))
    _walk(root / "content" / "papers", parts, paper_stats)
    return digest(*parts)
