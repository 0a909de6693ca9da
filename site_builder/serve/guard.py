"""Which requests the preview server answers at all, and which may write.

In: the address the server listens on (host, port) and a request's Host and Origin
headers. Out: yes or no.

Why a Host check on every request: a page on ``evil.example`` whose DNS name is
re-pointed at 127.0.0.1 (DNS rebinding) is same-origin with the preview for the
browser, so it could read pages, open the livereload socket, and read the review
page's token. Its requests carry ``Host: evil.example``; only the names of the address
we listen on are answered. A loopback server also answers ``localhost`` (never
rebindable: it does not come from DNS); a server on every interface answers any IP
literal, which no rebinding attack can produce either. Writes additionally need an
``Origin`` equal to ``http://<that Host>`` and the per-run token (reviewpage.py).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "[::]")


def _split(host_header: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(f"//{host_header}")
        return (parts.hostname or ""), parts.port
    except ValueError:
        return None


def host_allowed(host_header: str | None, bind: str, port: int) -> bool:
    """Is ``Host: host_header`` the address the server listens on (``bind:port``)?"""
    if not host_header:
        return False
    split = _split(host_header)
    if split is None:
        return False
    name, asked = split
    if asked != port:
        return False
    bound = bind.strip("[]").lower()
    if name == bound:
        return True
    if is_wildcard(bind):
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return name in LOOPBACK_NAMES
    return is_loopback(bind) and is_loopback(name)


def origin_allowed(origin: str | None, host_header: str | None) -> bool:
    """A write's Origin must be this very server, as the browser reached it."""
    return bool(origin) and bool(host_header) and origin == f"http://{host_header}"
