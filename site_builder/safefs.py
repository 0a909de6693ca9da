"""Reading input files without following them out of the project.

In: the path of an input file (an entry, a page, a static asset) or folder.
Out: its bytes, or a ContentError naming the file when it is not a plain file: a
symbolic link (``static/x -> /etc/passwd`` would be published; a dangling one named
nothing), a FIFO (reading it waits forever), a device (``/dev/zero`` never ends) or a
folder. Every OSError while reading becomes a ContentError naming the file too.

Why every symbolic link is refused, not only those leading out of the project: a link
inside it (``static/logo.svg -> ../content/logo.svg``) publishes a file the build's
change stamp does not watch, and GitHub Pages refuses symbolic links as well. A file
is opened with O_NOFOLLOW and O_NONBLOCK and checked with fstat, so a link or a FIFO
swapped in after the listing is refused as well, and never waited on.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from site_builder.errors import ContentError

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def kind(mode: int) -> str:
    """What a non-regular file is, for a message."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def refusal(path: Path | str, mode: int) -> ContentError:
    if not stat.S_ISLNK(mode):
        return ContentError(str(path), None, f"is {kind(mode)}, not a regular file: refused")
    target = ""
    with contextlib.suppress(OSError):
        target = f" (to {os.readlink(path)})"
    return ContentError(str(path), None, f"is a symbolic link{target}: refused, links are "
                        "never followed; put the file itself here")


def check_regular(path: Path | str) -> os.stat_result:
    """lstat of ``path`` when it is a regular file; else a ContentError naming it."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise ContentError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise refusal(path, st.st_mode)
    return st


def read_regular(path: Path | str) -> bytes:
    """The bytes of ``path``, a regular file (not a link, FIFO or device)."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if os.path.islink(path):
            raise refusal(path, stat.S_IFLNK) from exc
        raise ContentError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise refusal(path, st.st_mode)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise ContentError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
