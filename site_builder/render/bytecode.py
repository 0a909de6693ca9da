"""Jinja's compiled templates kept between builds, under the same seal as the caches.

In: a folder (``.cache/jinja``). Out: a ``jinja2.BytecodeCache`` whose files load only
when this machine sealed them (incremental/sealed.py); any other file is ignored and
the template is compiled again.

Why: compiling the templates cost every build that renders a page about 0.1 s (all of a
small rebuild), but Jinja's own FileSystemBytecodeCache unmarshals code from a folder
inside the project, which a planted file could abuse. Jinja keys each bucket by the
template's name and source checksum, and checks its own and Python's version, so a
sealed bucket is never stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from site_builder.incremental.sealed import seal, unseal


class SealedBytecodeCache(jinja2.BytecodeCache):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, bucket: Bucket) -> Path:
        name = hashlib.blake2b(bucket.key.encode(), digest_size=16).hexdigest()
        return self.folder / f"{name}.jinja"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = unseal(self._path(bucket).read_bytes())
        except OSError:
            return
        if data is not None:
            bucket.bytecode_from_string(data)  # checks Jinja's magic; else resets

    def dump_bytecode(self, bucket: Bucket) -> None:
        sealed = seal(bucket.bytecode_to_string())
        if sealed is None:
            return
        with contextlib.suppress(OSError):  # a cache only ever costs time
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".jinja-", dir=self.folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
            os.replace(tmp, self._path(bucket))
