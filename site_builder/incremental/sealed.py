"""Cache files that cannot run code: pickles sealed with an HMAC only this machine can make.

In: the bytes of a pickle (``seal``), or a cache file's bytes (``unseal``). Out: the
sealed bytes, or the pickle's bytes when the seal is ours, else None (the cache is
ignored: it can only cost time).

Why: unpickling runs code, and `.cache/` sits in the project, so a planted or
force-added cache file would run its payload on a plain build (in a Pages workflow
too). JSON would be safe as well but loads 5,000 papers' entries several times slower
than pickle, which every incremental build pays. So the pickle stays and is loaded
only under a seal keyed by a secret kept outside the project, in the user's cache
folder (created 0600 on first use); without a usable key nothing is cached.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

MAGIC = b"site-builder sealed v2\n"
TAG_BYTES = 32


def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "site-builder" / "cache-key"


_KEYS: dict[Path, bytes] = {}
"""Keys read by this process, by path: a whole build checks 129 files (3 ms of
reading the key again each time). A key deleted meanwhile only makes the next
process's caches miss."""


def _key() -> bytes | None:
    """This machine's key, made on first use; None if it cannot be read or made."""
    path = key_path()
    known = _KEYS.get(path)
    if known is not None:
        return known
    key = _read_or_make(path)
    if key is not None:
        _KEYS[path] = key
    return key


def _read_or_make(path: Path) -> bytes | None:
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        try:
            return path.read_bytes() or None
        except OSError:
            return None
    except OSError:
        return None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def _tag(key: bytes, data: bytes) -> bytes:
    # HMAC-SHA-256 in one OpenSSL call: hmac.new with a hashlib constructor (the v1
    # seal, BLAKE2b) took the pure-Python path at 2.5x the time, and every incremental
    # build seals and checks megabytes of cache.
    return hmac.digest(key, data, "sha256")[:TAG_BYTES]


def seal(data: bytes) -> bytes | None:
    """``data`` with this machine's seal; None when there is no key (do not cache)."""
    key = _key()
    return None if key is None else MAGIC + _tag(key, data) + data


def unseal(blob: bytes) -> bytes | None:
    """The sealed data, if this machine sealed it; else None."""
    key = _key()
    if key is None or not blob.startswith(MAGIC):
        return None
    tag, data = blob[len(MAGIC):len(MAGIC) + TAG_BYTES], blob[len(MAGIC) + TAG_BYTES:]
    return data if hmac.compare_digest(tag, _tag(key, data)) else None
