"""YAML read with bounds: no alias bomb, no endless number, no huge value in a message.

In: YAML text (config.yaml, an entry's or a page's front matter) and a loader class.
Out: what ``yaml.load`` gives, or a ``yaml.YAMLError`` with a mark (line) when the
document would expand past ``MAX_EXPANDED`` nodes and characters through its aliases
(a 1 KB "billion laughs" of 9 levels of 9 aliases is 387 million nodes), or when an
integer has more digits than ``MAX_DIGITS`` (Python refuses to convert 4,300 digits
with a ValueError that carries no line). ``shown(value)`` is the bounded repr every
error message quotes a value with.

Why composed first: PyYAML builds the node graph with each anchored node once, so the
graph is as small as the text; walking it with a memo by node gives the size the
aliases expand to without expanding them. Only then is it constructed.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml

MAX_EXPANDED = 1_000_000
"""Most nodes plus scalar characters a document may expand to beyond its own length
(config.yaml is ~20,000 characters; its aliases, if any, repeat a few rule lists)."""
MAX_DIGITS = 30
"""Longest integer accepted: more is a typo or an attack, never a count."""

_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 60, 60, 5, 5, 3


def shown(value: object) -> str:
    """A repr of ``value`` for a message: at most ~60 characters per string and a few
    items per level, whatever its size (an expanded alias bomb, a 5,000-digit number)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 30:
        return "a number of more than 30 digits"
    return _REPR.repr(value)


class BoundedLoader(_BASE):  # type: ignore[valid-type,misc]
    """Safe loader whose integers are bounded; subclass it to add constructors."""


def _integer(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    digits = sum(c.isdigit() for c in str(node.value))
    if digits > MAX_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of {digits} digits is too long (at most {MAX_DIGITS})",
            node.start_mark)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", _integer)


def expanded_size(root: yaml.Node, memo: dict[int, int] | None = None) -> int:
    """Nodes plus scalar characters of ``root`` with every alias expanded, computed on
    the (shared) node graph in time linear in its size. A recursive alias (a node inside
    itself, which PyYAML allows) counts once where it recurs."""
    memo = {} if memo is None else memo
    open_: set[int] = set()
    # Iterative post-order walk: a deep document must not hit the recursion limit.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            memo[key] = 1 + len(str(node.value))
            continue
        children = ([n for pair in node.value for n in pair]
                    if isinstance(node, yaml.MappingNode) else list(node.value))
        if done:
            open_.discard(key)
            memo[key] = 1 + sum(memo.get(id(c), 1) for c in children)
        elif key not in memo and key not in open_:
            open_.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)]


def _checked_root(parser: yaml.SafeLoader, text: str) -> yaml.Node | None:
    root: yaml.Node | None = parser.get_single_node()
    if root is not None:
        memo: dict[int, int] = {}
        size = expanded_size(root, memo)
        if size > len(text) + MAX_EXPANDED:
            # Point at the top-level key whose value expands the most: the bomb's fuse.
            mark = root.start_mark
            if isinstance(root, yaml.MappingNode) and root.value:
                mark = max(root.value, key=lambda kv: memo.get(id(kv[1]), 0))[0].start_mark
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand this document to {size:,} nodes and characters "
                f"(at most {MAX_EXPANDED:,} more than its length): an alias bomb?", mark)
    return root


def compose(text: str, loader: type[yaml.SafeLoader] = BoundedLoader) -> yaml.Node | None:
    """The node graph of ``text`` (one document), refused when it expands too far."""
    parser = loader(text)
    try:
        return _checked_root(parser, text)
    finally:
        parser.dispose()


def load(text: str, loader: type[yaml.SafeLoader] = BoundedLoader) -> Any:
    """``yaml.load(text, loader)``, refused when its aliases expand too far."""
    parser = loader(text)
    try:
        root = _checked_root(parser, text)
        return None if root is None else parser.construct_document(root)
    finally:
        parser.dispose()
