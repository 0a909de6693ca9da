"""Front matter in the layout ``dump_paper`` writes, read without PyYAML's constructor.

In: the text between an entry's ``---`` fences. Out: the same mapping ``yaml.load``
gives (str, int, bool, None, date, lists of scalars or of one-level mappings), or None
when the text is anything else; the caller then reads it with PyYAML, which also
reports every error. So this is only ever a faster way to the same result.

Why: with CSafeLoader the parsing is C but building the objects is Python, 0.05 of
the 0.07 ms an entry costs (30 nodes each): at 20,000 papers, a second of a clean
build. What is accepted is deliberately narrow: one ``key: value`` per line, values
written as ingest writes them (plain, '' or "" quoted without escapes, ``[]``) and
block lists under a key. A plain scalar's type is decided by PyYAML's own resolver
(``yes`` is a bool, ``012`` an octal int, ``1:30`` a sexagesimal one); only the types
read unambiguously here are built, any other falls back. Tests compare the two on
every real entry and on generated ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import yaml

# What PyYAML's reader accepts (anything else is its error to report), minus tabs
# (white space YAML strips in places) and what YAML 1.1 reads as line breaks (NEL, LS,
# PS) and the BOM.
# Spelled as the ranges left out of \x0a, \x20-\x7e, \xa0-\u2027, \u202a-\ud7ff,
# \ue000-\ufefe, \uff00-\ufffd and \U00010000-\U0010ffff: the negated class of those
# compiled in 6 ms, on every start of every build.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff"
                     "\ufffe\uffff]")
_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# First characters that make a plain scalar something else (or need a closer look).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# PyYAML's implicit typing of plain scalars (untyped in its stubs).
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = \
    yaml.resolver.Resolver().resolve
_TAG = "tag:yaml.org,2002:"
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}


class _Unsure(Exception):
    """Not in the narrow layout: PyYAML decides."""


def _scalar(text: str) -> Any:
    if not text or text != text.strip(" "):
        raise _Unsure
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unsure
        return inner.replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _Unsure
        return inner
    if text == "[]":
        return []
    if first in _INDICATORS or ": " in text or " #" in text or text.endswith(":"):
        raise _Unsure
    tag = _resolve(yaml.ScalarNode, text, (True, False))
    if tag == _TAG + "str":
        return text
    if tag == _TAG + "null" and text == "null":
        return None
    if tag == _TAG + "bool":
        return _BOOLS[text.lower()]
    if tag == _TAG + "int" and len(text) <= 18 and _DECIMAL.fullmatch(text):
        # Longer: PyYAML's bounded loader says it is too long, with its line.
        return int(text)
    if tag == _TAG + "timestamp" and (date := _DATE.fullmatch(text)):
        try:
            return dt.date(*map(int, date.groups()))
        except ValueError:  # 2024-02-30: PyYAML's error, with its line
            raise _Unsure from None
    raise _Unsure


def _pair(line: str) -> tuple[str, str]:
    """``key: value`` (value may be empty) with a plain lowercase key."""
    key, colon, value = line.partition(":")
    if not colon or not _KEY.fullmatch(key) or (value and not value.startswith(" ")):
        raise _Unsure
    return key, value[1:]


def _block_list(lines: list[str], start: int) -> tuple[list[Any], int]:
    """The ``- item`` lines from ``start``: scalars, or one-level mappings whose further
    keys are indented by two spaces. Returns the list and the next line's index."""
    items: list[Any] = []
    index = start
    while index < len(lines) and lines[index].startswith("- "):
        head = lines[index][2:]
        index += 1
        if head[:1] in ("'", '"') or (": " not in head and not head.endswith(":")):
            items.append(_scalar(head))
            continue
        key, value = _pair(head)
        mapping = {key: _scalar(value)}
        while index < len(lines) and lines[index].startswith("  "):
            key, value = _pair(lines[index][2:])
            if key in mapping:
                raise _Unsure
            mapping[key] = _scalar(value)
            index += 1
        items.append(mapping)
    return items, index


def quick_front_matter(front: str) -> dict[str, Any] | None:
    """What ``yaml.load(front)`` gives, when ``front`` is in the narrow layout; else None."""
    if not front or _UNSAFE.search(front):
        return None
    lines = front.split("\n")
    if lines[-1] == "":
        lines.pop()
    data: dict[str, Any] = {}
    index = 0
    try:
        while index < len(lines):
            key, value = _pair(lines[index])
            if key in data:
                raise _Unsure
            index += 1
            if value:
                data[key] = _scalar(value)
            elif index < len(lines) and lines[index].startswith("- "):
                data[key], index = _block_list(lines, index)
            else:
                data[key] = None
    except _Unsure:
        return None
    return data
