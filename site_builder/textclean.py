"""Characters XML 1.0 (and so feeds, and valid HTML) cannot carry, found and removed.

In: text (a dump, an entry file, a value from YAML) and the file it came from.
Out: the text without them, and a Diagnostic per line that had any, naming the line
and the characters (``U+000C``), so nothing is dropped silently.

What is removed: every C0 control but tab, LF and CR (NUL, form feed, ...), lone
surrogates and U+FFFE/U+FFFF: exactly what lxml (which feedgen writes with) refuses
with "All strings must be XML compatible", with no file or line.
"""

from __future__ import annotations

import re

from site_builder.errors import Diagnostic

# The complement of XML's Char production (#x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]), spelled as the few ranges it leaves out: the
# negated class compiled in 6 ms (its Unicode ranges), on every start of every build.
INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _names(found: list[str]) -> str:
    return ", ".join(f"U+{ord(c):04X}" for c in sorted(set(found)))


def clean_text(text: str, file: str, first_line: int = 1,
               warnings: list[Diagnostic] | None = None) -> str:
    """``text`` without XML-invalid characters; a warning per line that held some
    (``first_line`` is the file line of the text's first line)."""
    if not INVALID.search(text):  # the common case: one scan, no copy
        return text
    if warnings is not None:
        for number, line in enumerate(text.split("\n"), start=first_line):
            found = INVALID.findall(line)
            if found:
                warnings.append(Diagnostic(
                    file, number, f"removed {len(found)} character(s) not allowed in XML or "
                    f"HTML ({_names(found)})"))
    return INVALID.sub("", text)


def clean_value(value: str, file: str, line: int | None, what: str,
                warnings: list[Diagnostic] | None = None) -> str:
    """A single value (from YAML, where ``"\\f"`` escapes make any character) cleaned,
    with one warning naming ``what`` it is."""
    found = INVALID.findall(value)
    if not found:
        return value
    if warnings is not None:
        warnings.append(Diagnostic(file, line, f"{what}: removed {len(found)} character(s) "
                                   f"not allowed in XML or HTML ({_names(found)})"))
    return INVALID.sub("", value)
