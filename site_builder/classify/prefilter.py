"""Literal prefilters: run a regex only where plain substrings say it can match.

In: compiled ``re.Pattern[str]`` objects (case-insensitive or not, in parts). Out:
``PatternSet(patterns)``, which scans a text once for the literals of all of them
(``scan``) and then tells which patterns' ``search`` finds a match (``matching``),
with exactly the result of running every regex, but running few of them.

``prefilter(pattern)`` reads off the pattern's parse tree (``re._parser``, what
``re.compile`` itself uses), in the manner of RE2's prefilter, a few *needs*: sets of
literals with a number of times. A text the pattern matches contains that many
non-overlapping occurrences of the literals of each need; when one is missing the
regex cannot match and is not run. Each node of the tree is described by ``exact``,
every string it can match when those are few and known, or else by what its matches
start and end with and the needs of its parts. A prefilter is only ever a necessary
condition: a construct that is not understood contributes "no constraint", never a
guess. It also gives the literals every match starts with, when they are few: the
regex is then tried at their places only (``match``) instead of everywhere
(``search``); and for ``^(?!X)`` the needs of X, whose absence means a match.

Case: literals are ASCII. Those from case-insensitive parts are lowercase and looked
for in ``fold(text)``; those from case-sensitive parts (``(?-i:MoE)``) start with
VERBATIM and are looked for as they are in ``plain(text)``. ``fold`` maps the four
non-ASCII characters that ``re`` equates with an ASCII letter under IGNORECASE (Kelvin
sign, long s, dotless i, dotted capital I) to that letter; both forms write every
decimal digit (which ``\\d`` matches) as an ASCII one and keep the text's length; the
tests check all of this against every code point.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# The parser behind re.compile. It has no type stubs (and its public alias sre_parse
# is deprecated), so its tree is handled as untyped data, read only in this module.
# It is private: where it is missing, or its tree is not what this module reads (the
# start-up self-check below), every pattern gets "no constraint" and plain ``re`` runs.
try:
    _sre: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - a Python without it
    _sre = None

MAX_EXACT = 64
"""Most strings kept in one node's exact, prefix or suffix set; beyond it, less is known."""
MAX_CLASS = 10
"""Largest character class (``[- ]``, ``[KMBT]``, ``\\d``) spelled out as its characters."""
MAX_NEEDS = 2
"""Needs kept per node (the most selective ones): each costs a check per text."""
MIN_EXTRA = 4
"""Shortest literal a need other than the best may have: short ones are everywhere."""
MAX_STARTS = 64
"""Most literals a pattern's matches may begin with for the regex to be tried there."""
MIN_START = 4
"""Least weight (about length) of each start: short ones are found everywhere."""
MAX_TRIES = 8
"""Most places a regex is tried at; beyond, it searches from the first one."""

VERBATIM = "\x00"
"""Starts a literal to be found as it is (case-sensitive) in ``plain(text)``."""

# Non-ASCII characters that re's IGNORECASE matching equates with an ASCII letter but
# that str.lower() does not turn into that one letter ('İ'.lower() is two characters).
_FOLD_FIXES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_DIGIT = re.compile(r"\d")  # What \d matches in a str pattern: every decimal digit.


def plain(text: str) -> str:
    """The text as VERBATIM literals are looked for in it: digits made ASCII.

    In: any text. Out: the same length of text, each decimal digit ('٣', '３') as its
    ASCII digit, so that a literal spelled out from ``\\d`` finds it.
    """
    if text.isascii():
        return text
    return _DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)


def fold(text: str) -> str:
    """The text as lowercase literals are looked for in it: ``plain``, lowercased, fixed.

    In: any text. Out: a string in which every run of characters that a regex matches
    with ASCII literal characters (case-insensitively or not) reads as those
    characters lowercased.
    """
    if text.isascii():  # The common case: lower() alone is exact for ASCII.
        return text.lower()
    return plain(text).translate(_FOLD_FIXES).lower()


Need = tuple[frozenset[str], int]
"""(literals, times): ``times`` non-overlapping occurrences of some of the literals."""


@dataclass(frozen=True)
class Prefilter:
    """What the literals of a text tell about one pattern's ``search`` on it."""

    needs: tuple[Need, ...] = ()
    """All hold whenever the pattern matches. Empty: nothing known, run the regex."""
    unless: tuple[Need, ...] = ()
    """For ``^(?!X)``: when one of these (X's needs) fails, the pattern surely matches."""
    starts: frozenset[str] = frozenset()
    """Every match begins with one of these (empty: not known): where to try it."""


# --- literals: lowercase ones and VERBATIM ones --------------------------------------

def _verbatim(literal: str) -> bool:
    return literal.startswith(VERBATIM)


def _lowered(literal: str) -> str:
    """A literal as a lowercase one: a VERBATIM one in the text implies this one."""
    return literal[1:].lower() if _verbatim(literal) else literal


def _concat(left: str, right: str) -> str:
    """The literal for ``left`` followed by ``right``; lowercase when cases mix."""
    if (left[:1] != VERBATIM and right[:1] != VERBATIM) or not left or not right:
        return left + right  # The common case first, without calls.
    if _verbatim(left) and _verbatim(right):
        return left + right[1:]
    # A caseless part (digits, spaces, punctuation) reads the same in both texts.
    if _verbatim(left) and right.lower() == right.upper():
        return left + right
    if _verbatim(right) and left.lower() == left.upper():
        return VERBATIM + left + right[1:]
    return _lowered(left) + _lowered(right)


def _begins(outer: str, inner: str) -> bool:
    """Whether an occurrence of literal ``outer`` is one of literal ``inner`` too."""
    if _verbatim(inner):
        return _verbatim(outer) and outer[1:].startswith(inner[1:])
    return _lowered(outer).startswith(inner)


def _contains(outer: str, inner: str) -> bool:
    """Whether an occurrence of literal ``outer`` implies one of literal ``inner``."""
    if inner[:1] != VERBATIM and outer[:1] != VERBATIM:  # The common case, made quick.
        return inner in outer
    if _verbatim(inner):
        return _verbatim(outer) and inner[1:] in outer[1:]
    return inner in _lowered(outer)


# --- from parse tree to needs ------------------------------------------------------

@dataclass(frozen=True)
class _Info:
    """What is known of the strings one node of the parse tree matches."""

    exact: frozenset[str] | None
    """Every string the node can match; None: unknown or too many."""
    prefix: frozenset[str]
    """Every match starts with one of these ({""}: nothing known)."""
    suffix: frozenset[str]
    """Every match ends with one of these."""
    needs: tuple[Need, ...]
    """When not exact: needs every match meets, within its own span."""


_NOTHING = frozenset({""})
_UNKNOWN = _Info(None, _NOTHING, _NOTHING, ())
_EMPTY = _Info(_NOTHING, _NOTHING, _NOTHING, ())


def _exact(strings: frozenset[str]) -> _Info:
    return _Info(strings, strings, strings, ())


def _needs(info: _Info) -> tuple[Need, ...]:
    """The node's needs, an exact node's strings being one (unless it can match "")."""
    if info.exact is not None:
        return ((info.exact, 1),) if "" not in info.exact else ()
    return info.needs


def _lowercase(strings: Iterable[str]) -> bool:
    """Whether no literal is VERBATIM: then plain ``in`` tells what implies what."""
    return VERBATIM not in "".join(strings)  # It is only ever a literal's first character.


def _minimal(strings: frozenset[str]) -> frozenset[str]:
    """Drop literals implying another one: if the longer one occurs, so does the other."""
    if _lowercase(strings):  # The common case, made quick.
        return frozenset(s for s in strings if not any(t in s and t != s for t in strings))
    return frozenset(s for s in strings
                     if not any(t != s and _contains(s, t) for t in strings))


def _starts(strings: frozenset[str]) -> frozenset[str]:
    """Drop literals beginning with another one: they add no place where one begins."""
    if _lowercase(strings):
        return frozenset(s for s in strings
                         if not any(s.startswith(t) and t != s for t in strings))
    return frozenset(s for s in strings if not any(t != s and _begins(s, t) for t in strings))


def _implies(strong: Need, weak: Need) -> bool:
    """Whether meeting ``strong`` means meeting ``weak``: at least as many times, and
    each of its literals implies one of weak's."""
    if strong[1] < weak[1]:
        return False
    if _lowercase(strong[0]) and _lowercase(weak[0]):
        return all(any(w in s for w in weak[0]) for s in strong[0])
    return all(any(_contains(s, w) for w in weak[0]) for s in strong[0])


def _weight(literal: str) -> int:
    """How rare a literal is likely to be: its length, a case-sensitive one a letter more
    (its marker counts for that)."""
    return len(literal)


def _score(need: Need) -> tuple[int, int]:
    """Rank needs, most selective first: rare literals, and each extra time ~ 3 letters;
    then fewer literals."""
    literals, times = need
    return (min(map(_weight, literals)) + 3 * (times - 1), -len(literals))


def _select(candidates: Iterable[Need]) -> tuple[Need, ...]:
    """The few most selective usable needs: no empty literal, none implied by another."""
    usable = {(lits, times) for lits, times in candidates
              if lits and "" not in lits and times >= 1}
    chosen: list[Need] = []
    for need in sorted(usable, key=lambda n: (_score(n), sorted(n[0])), reverse=True):
        if len(chosen) == MAX_NEEDS:
            break
        if chosen and min(map(_weight, need[0])) < MIN_EXTRA:
            continue  # A second need of common short strings costs more than it saves.
        if not any(_implies(c, need) for c in chosen):
            chosen.append(need)
    return tuple(chosen)


def _product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    """Every a followed by b, or None when that is more than MAX_EXACT strings."""
    if len(left) * len(right) > MAX_EXACT:
        return None
    return frozenset(_concat(a, b) for a in left for b in right)


def _cut(literal: str, size: int, start: bool) -> str:
    """The first (``start``) or last ``size`` characters of a literal, as a literal."""
    marker, text = (VERBATIM, literal[1:]) if _verbatim(literal) else ("", literal)
    text = text[:size] if start else text[len(text) - size:] if size < len(text) else text
    return marker + text if text else ""


def _fit(strings: frozenset[str], start: bool) -> frozenset[str]:
    """At most MAX_EXACT strings that every match begins (``start``) or ends with,
    shortening the given ones until they are few enough."""
    size = max(map(len, strings), default=0)
    while len(strings) > MAX_EXACT:
        size -= 1
        strings = frozenset(_cut(s, size, start) for s in strings)
    return strings


def _char(code: int, icase: bool) -> str | None:
    """A literal character as a literal; None for non-ASCII, NUL (VERBATIM) and newline
    (no literal spans the newline joining a title and an abstract: see ``joined``)."""
    char = chr(code)
    if not char.isascii() or char in "\x00\n":
        return None
    if char.lower() == char.upper():
        return char  # Caseless: the same in both forms of the text.
    return char.lower() if icase else VERBATIM + char


def _charset(items: Sequence[tuple[Any, Any]], icase: bool) -> _Info:
    """A character class: its characters when few, plain ASCII and not negated."""
    chars: set[str] = set()
    for op, av in items:
        if op is _sre.CATEGORY and av is _sre.CATEGORY_DIGIT:
            chars.update("0123456789")  # plain() and fold() write every digit so.
            continue
        if op is _sre.LITERAL:
            codes = [av]
        elif op is _sre.RANGE and av[1] - av[0] < MAX_CLASS:
            codes = list(range(av[0], av[1] + 1))
        else:  # NEGATE, other categories (\w, \s...), wide ranges.
            return _UNKNOWN
        for code in codes:
            char = _char(code, icase)
            if char is None:
                return _UNKNOWN
            chars.add(char)
    return _exact(frozenset(chars)) if len(chars) <= MAX_CLASS else _UNKNOWN


def _merge_disjoint(groups: list[tuple[Need, ...]]) -> list[Need]:
    """Needs of parts matching disjoint spans, plus sums where their literals overlap.

    ``A.*A`` needs A twice: the two A's lie in different spans, so their occurrences
    add up; the union of overlapping literal sets is taken (the times still add).
    """
    merged: list[tuple[frozenset[int], frozenset[str], int]] = []
    for index, needs in enumerate(groups):
        for literals, times in needs:
            if "" in literals:
                continue  # Met by any text: neither a need nor worth merging.
            grown = [(spans | {index}, lits | literals, count + times)
                     for spans, lits, count in merged
                     if index not in spans and not lits.isdisjoint(literals)]
            merged.append((frozenset({index}), literals, times))
            # Bounded: the sums grow with every part whose literals overlap.
            merged.extend(grown[:max(0, MAX_EXACT - len(merged))])
    return [(lits, count) for _, lits, count in merged]


def _parts(items: Sequence[tuple[Any, Any]], icase: bool) -> Iterator[_Info]:
    """The nodes of a sequence, with runs of literal characters joined into one string
    (the same result as taking them one by one, for a fraction of the work)."""
    text = ""
    for op, av in items:
        char = _char(av, icase) if op is _sre.LITERAL else None
        if char is not None:
            text = _concat(text, char)
            continue
        if text:
            yield _exact(frozenset({text}))
            text = ""
        yield _node(op, av, icase)
    if text:
        yield _exact(frozenset({text}))


def _sequence(items: Sequence[tuple[Any, Any]], icase: bool) -> _Info:
    """A concatenation: exact strings multiply across parts; the parts' needs combine."""
    run = _NOTHING           # Strings every match of the parts so far ends with.
    run_exact = True         # run is exactly the set of those matches.
    pure = _NOTHING          # Exact strings of the latest run of exact parts alone.
    head: frozenset[str] | None = None  # What every match starts with, once known.
    disjoint: list[tuple[Need, ...]] = []  # Needs of parts with disjoint spans.
    spanning: list[frozenset[str]] = []    # Strings across parts: one is in each match.
    parts = list(_parts(items, icase))
    if len(parts) == 1:
        return parts[0]
    for info in parts:
        if info.exact is not None:
            joined = _product(pure, info.exact)
            if joined is None:
                disjoint.append(((pure, 1),))
                joined = info.exact
            pure = joined
            joined = _product(run, info.exact)
            if joined is not None:
                run = joined
                continue
            spanning.append(run)  # Too many strings: close the run, start a new one.
            head = run if run_exact and head is None else head
            run, run_exact = info.exact, False
            continue
        disjoint.extend((((pure, 1),), info.needs))
        pure = _NOTHING
        joined = _product(run, info.prefix)  # What came before, then its start.
        spanning.append(run if joined is None else joined)
        if run_exact and head is None:
            head = spanning[-1]
        run, run_exact = info.suffix, False
    if run_exact:
        return _exact(run)
    disjoint.append(((pure, 1),))
    spanning.append(run)
    needs = _select([*_merge_disjoint(disjoint), *((s, 1) for s in spanning)])
    return _Info(None, head if head is not None else _NOTHING, run, needs)


def _branch(branches: Sequence[Sequence[tuple[Any, Any]]], icase: bool) -> _Info:
    """An alternation: every match is a match of one branch."""
    infos = [_sequence(b, icase) for b in branches]
    exacts = [i.exact for i in infos]
    if all(e is not None for e in exacts):
        union = frozenset[str]().union(*(e for e in exacts if e is not None))
        if len(union) <= MAX_EXACT:
            return _exact(union)
    prefix = _fit(frozenset[str]().union(*(i.prefix for i in infos)), start=True)
    suffix = _fit(frozenset[str]().union(*(i.suffix for i in infos)), start=False)
    alternatives = [_needs(i) for i in infos]
    if not all(alternatives):
        return _Info(None, prefix, suffix, ())  # A branch needs nothing: neither does this.
    # Each branch's best need, united; and any literal set that every branch needs.
    best = [needs[0] for needs in alternatives]
    candidates = [(frozenset[str]().union(*(lits for lits, _ in best)),
                   min(times for _, times in best)), (prefix, 1), (suffix, 1)]
    for literals, _ in alternatives[0]:
        times = [max((t for lits, t in needs if lits == literals), default=0)
                 for needs in alternatives]
        if all(times):
            candidates.append((literals, min(times)))
    return _Info(None, prefix, suffix, _select(candidates))


def _repeat(low: int, high: int, body: Sequence[tuple[Any, Any]], icase: bool) -> _Info:
    """x{low,high}: few exact repetitions are spelled out; low copies of x's needs else."""
    info = _sequence(body, icase)
    if info.exact is not None and high <= 2:  # x?, x{2}, x{0,2}...: the union of the powers.
        powers = [_NOTHING]
        for _ in range(high):
            power = _product(powers[-1], info.exact)
            if power is None:
                break
            powers.append(power)
        else:
            union = frozenset[str]().union(*powers[low:])
            if len(union) <= MAX_EXACT:
                return _exact(union)
    if low == 0:
        return _UNKNOWN
    # low matches of x one after the other: their spans are disjoint, the times add up.
    needs = _select((lits, times * low) for lits, times in _needs(info))
    return _Info(None, info.prefix, info.suffix, needs)


def _node(op: Any, av: Any, icase: bool) -> _Info:
    """What one parse-tree node (opcode, argument) matches; unknown opcodes: anything."""
    if op is _sre.LITERAL:
        char = _char(av, icase)
        return _UNKNOWN if char is None else _exact(frozenset({char}))
    if op is _sre.IN:
        return _charset(av, icase)
    if op is _sre.SUBPATTERN:  # (...), (?:...), (?-i:...): av is (group, on, off, body).
        _, add, remove, body = av
        return _sequence(body, (icase or bool(add & re.IGNORECASE))
                         and not remove & re.IGNORECASE)
    if op is _sre.ATOMIC_GROUP:
        return _sequence(av, icase)
    if op is _sre.BRANCH:
        return _branch(av[1], icase)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        return _repeat(av[0], av[1], av[2], icase)
    if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
        # Zero-width: the match spans nothing here (a lookaround's text lies outside
        # the match, so it is not used).
        return _EMPTY
    return _UNKNOWN  # ANY, NOT_LITERAL, CATEGORY, GROUPREF...: any character(s).


def _unless(tree: Sequence[tuple[Any, Any]], icase: bool) -> tuple[Need, ...]:
    """For a pattern that is only ``^`` / ``\\A`` and one negative lookahead ``(?!X)``:
    X's needs. At position 0 the anchors hold, so the pattern matches there unless X
    matches at 0; if X cannot match anywhere (a need of X fails), it surely matches."""
    anchors = (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING)
    lookaheads = [av[1] for op, av in tree if op is _sre.ASSERT_NOT and av[0] == 1]
    others = [op for op, av in tree
              if not (op is _sre.AT and av in anchors)
              and not (op is _sre.ASSERT_NOT and av[0] == 1)]
    if len(lookaheads) != 1 or others:
        return ()
    return _needs(_sequence(lookaheads[0], icase))


# (pattern, a text it matches, literals one of the needs must hold): a parse tree read
# wrongly fails one of these, and then no prefilter is trusted.
SELF_CHECK = (
    (r"data selection", "Data Selection works", {"data selection"}),
    (r"long[- ]context", "a long-context model", {"long"}),
    (r"(?:mixture|mixing) of (?:domains|data)", "the mixing of data", {"of d"}),
    (r"\bscal(?:ing|e) laws?\b", "Scaling Laws for LMs", {"scal"}),
)


@functools.cache
def parser_usable() -> bool:
    """Whether ``re._parser`` is there and reads as this module expects (run once)."""
    if _sre is None:
        return False
    try:
        for source, text, wanted in SELF_CHECK:
            pattern = re.compile(source, re.IGNORECASE)
            test = _derive(pattern)
            if not pattern.search(text) or not test.needs:
                return False
            if not any(any(w in lit for w in wanted for lit in lits) for lits, _ in test.needs):
                return False
            if not all(sum(fold(text).count(lit) for lit in lits) >= times
                       for lits, times in test.needs):
                return False
    except Exception:  # a changed tree: a shape this module does not know
        return False
    return True


@functools.lru_cache(maxsize=4096)
def prefilter(pattern: re.Pattern[str]) -> Prefilter:
    """What a compiled str pattern needs; "no constraint" (run the regex) whenever the
    private parser is unusable or fails on this pattern."""
    if not parser_usable():
        return Prefilter()
    try:
        return _derive(pattern)
    except Exception:  # never a guess: a pattern not understood is simply run
        return Prefilter()


def _derive(pattern: re.Pattern[str]) -> Prefilter:
    """What a compiled str pattern needs (parsed again, with its own flags).

    Out: a Prefilter whose needs every text the pattern matches meets (none when none
    can be derived: then the pattern has to be run on every text), and the literals
    its matches begin with, when few are known. Cached: a config reloaded with the same
    rules (``serve``) builds its PatternSet from the same patterns again.
    """
    parsed = _sre.parse(pattern.pattern, pattern.flags)
    tree, icase = list(parsed), bool(parsed.state.flags & re.IGNORECASE)
    info = _sequence(tree, icase)
    needs = _needs(info)
    unless = () if needs else _unless(tree, icase)
    heads = info.exact if info.exact is not None else info.prefix
    starts = _starts(heads)
    if "" in starts or len(starts) > MAX_STARTS or min(map(_weight, starts)) < MIN_START:
        starts = frozenset()  # Unknown, or too many places to try (and to look for).
    # Only now, on the few needs kept: a smaller set of literals to look for and count.
    return Prefilter(tuple((_minimal(lits), times) for lits, times in needs),
                     tuple((_minimal(lits), times) for lits, times in unless), starts)


# --- searching many patterns in the same texts ----------------------------------------

class _Literals:
    """Literals and their numbers, found in a text in one pass of an Aho-Corasick
    automaton (pyahocorasick, in C): every occurrence of every literal, overlapping and
    nested ones included. A trie regex in Python's ``re`` did the same in half of a
    paper's classification time."""

    def __init__(self, numbers: dict[str, int]) -> None:
        self._automaton: Any = None
        if numbers:
            import ahocorasick

            self._automaton = ahocorasick.Automaton()
            for literal, number in numbers.items():  # Literal (without VERBATIM) -> number.
                self._automaton.add_word(literal, number)
            self._automaton.make_automaton()

    def scan(self, text: str) -> set[int]:
        """The numbers of the literals that are substrings of ``text``."""
        if self._automaton is None:
            return set()
        return {number for _, number in self._automaton.iter(text)}


@dataclass(frozen=True)
class Scan:
    """A text as a PatternSet reads it: as is, in its two literal forms, and the
    numbers of the literals found in them."""

    text: str
    folded: str
    plain: str
    found: frozenset[int]


def joined(first: Scan, second: Scan) -> Scan:
    """The Scan of ``first + "\\n" + second``: no literal contains a newline, so it has
    exactly the literals of the two parts."""
    return Scan(f"{first.text}\n{second.text}", f"{first.folded}\n{second.folded}",
                f"{first.plain}\n{second.plain}", first.found | second.found)


@dataclass(frozen=True)
class _Literal:
    """A literal as a PatternSet looks for it."""

    text: str
    """As looked for (without VERBATIM)."""
    verbatim: bool
    """Looked for in Scan.plain, else in Scan.folded."""
    number: int

    def source(self, scan: Scan) -> str:
        return scan.plain if self.verbatim else scan.folded


@dataclass(frozen=True)
class _Need:
    """A need, its literals as a PatternSet looks for them."""

    numbers: frozenset[int]
    """The numbers of its literals: at least one must be found."""
    literals: tuple[_Literal, ...]
    times: int

    def holds(self, scan: Scan) -> bool:
        found = scan.found
        if found.isdisjoint(self.numbers):
            return False
        # str.count is the most non-overlapping occurrences of one literal; the sum
        # over the literals is at least the number of disjoint places holding one.
        total = 0
        for literal in self.literals:
            if literal.number in found:
                total += literal.source(scan).count(literal.text)
                if total >= self.times:
                    return True
        return False


@dataclass(frozen=True)
class _Check:
    """One pattern and its Prefilter, in numbers of the PatternSet's literals."""

    pattern: re.Pattern[str]
    needs: tuple[frozenset[int], ...]
    """Of each need, the numbers of its literals: one of each must be found."""
    counted: tuple[_Need, ...]
    """The needs asking for two or more occurrences."""
    unless: tuple[_Need, ...]
    starts: tuple[_Literal, ...]

    def search(self, scan: Scan) -> bool:
        """``pattern.search(scan.text)`` is not None, running the regex only if need be."""
        found = scan.found
        for literals in self.needs:  # Most regexes are ruled out here.
            if found.isdisjoint(literals):
                return False
        for need in self.counted:
            if not need.holds(scan):
                return False
        if self.unless and not all(need.holds(scan) for need in self.unless):
            return True
        if not self.starts:
            return self.pattern.search(scan.text) is not None
        # Every match begins where one of the starts occurs (the literal forms have the
        # text's length): try the regex there only, rather than at every position.
        starts = [literal for literal in self.starts if literal.number in found]
        places: list[int] = []
        for literal in starts:
            source, text = literal.source(scan), literal.text
            place = source.find(text)
            while place >= 0 and len(places) <= MAX_TRIES:
                places.append(place)
                place = source.find(text, place + 1)
        if len(places) > MAX_TRIES:  # Too many: one search from the first is cheaper.
            first = min(literal.source(scan).find(literal.text) for literal in starts)
            return self.pattern.search(scan.text, first) is not None
        match = self.pattern.match
        return any(match(scan.text, place) for place in places)


def _top_level_bars(source: str) -> list[int]:
    """Where ``|`` separates top-level alternatives: outside groups, classes, escapes."""
    bars: list[int] = []
    depth, index = 0, 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 1  # The escaped character is not syntax.
        elif char == "[":  # A class ends at the first "]" after "[", "[^", "[]" or "[^]".
            index += 1 + (source[index + 1:index + 2] == "^")
            index += source[index:index + 1] == "]"
            while index < len(source) and source[index] != "]":
                index += 1 + (source[index] == "\\")
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            bars.append(index)
        index += 1
    return bars


# Backreferences (\1, (?P=name)) and conditionals ((?(1)...)) name groups by number or
# name: split apart, a part could refer to another group or to none. Over-cautious on
# purpose (an escaped backslash before a digit also counts).
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def alternatives(pattern: re.Pattern[str]) -> tuple[re.Pattern[str], ...]:
    """The top-level alternatives of ``A|B|C`` as patterns, else the pattern alone.

    ``pattern.search(text)`` finds a match exactly when one of them does, and each
    gets its own prefilter: a common word in one no longer makes all of them run.
    Not split, to be safe: verbose patterns and comments (whose ``|`` and parentheses
    are not syntax), backreferences (group numbers change), and any part that does
    not compile on its own.
    """
    source = pattern.pattern
    if pattern.flags & re.VERBOSE or "(?#" in source:
        return (pattern,)
    bars = _top_level_bars(source)
    if not bars or _GROUP_REFERENCE.search(source):
        return (pattern,)
    ends = [-1, *bars, len(source)]
    try:
        parts = tuple(re.compile(source[a + 1:b], pattern.flags)
                      for a, b in itertools.pairwise(ends))
    except re.error:
        return (pattern,)
    # Each "(" belongs to one part: the parts' groups add up to the pattern's.
    return parts if sum(p.groups for p in parts) == pattern.groups else (pattern,)


class PatternSet:
    """Many patterns searched in the same texts, each regex run only where it can match.

    In: the patterns. Out: ``scan``, a text with the literals of all the prefilters
    found in it, and ``matching``, which patterns' ``search`` finds a match in it.
    Testing each literal with ``in`` would read the text once per literal (a
    millisecond for a thousand literals and an abstract); an Aho-Corasick automaton
    reads each form of it once.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self.patterns = tuple(patterns)
        parts = [alternatives(p) for p in self.patterns]
        tests = {part: prefilter(part) for alts in parts for part in alts}
        literals = sorted({lit for t in tests.values() for lits, _ in (*t.needs, *t.unless)
                           for lit in lits} | {lit for t in tests.values() for lit in t.starts})
        self._number = {lit: i for i, lit in enumerate(literals)}
        self._folded = _Literals({k: n for k, n in self._number.items() if not _verbatim(k)})
        self._plain = _Literals({k[1:]: n for k, n in self._number.items() if _verbatim(k)})
        # Of each pattern, each alternative's check with its first need (empty: none).
        self._checks = tuple(tuple((c.needs[0] if c.needs else frozenset[int](), c)
                                   for c in (self._check(a, tests[a]) for a in alts))
                             for alts in parts)

    def _literal(self, literal: str) -> _Literal:
        return _Literal(literal.removeprefix(VERBATIM), _verbatim(literal),
                        self._number[literal])

    def _check(self, pattern: re.Pattern[str], test: Prefilter) -> _Check:
        def numbered(needs: tuple[Need, ...]) -> tuple[_Need, ...]:
            return tuple(_Need(frozenset(self._number[lit] for lit in lits),
                               tuple(self._literal(lit) for lit in sorted(lits)), times)
                         for lits, times in needs)
        needs = numbered(test.needs)
        return _Check(pattern, tuple(n.numbers for n in needs),
                      tuple(n for n in needs if n.times > 1), numbered(test.unless),
                      tuple(self._literal(lit) for lit in sorted(test.starts)))

    joined = staticmethod(joined)

    def scan(self, text: str) -> Scan:
        """The text, its two literal forms (``fold``, ``plain``) and its literals."""
        folded, as_is = fold(text), plain(text)
        found = self._folded.scan(folded)
        found |= self._plain.scan(as_is)
        return Scan(text, folded, as_is, frozenset(found))

    def search(self, index: int, scan: Scan) -> bool:
        """Whether ``self.patterns[index].search(scan.text)`` finds a match."""
        return bool(self.matching(scan, (index,)))

    def matching(self, scan: Scan, indexes: Iterable[int]) -> set[int]:
        """Those of the patterns (by index) whose ``search(scan.text)`` finds a match.

        The reference for Selection.matching, which gives the same set faster."""
        literals, found = scan.found, set()
        for index in indexes:
            for first, check in self._checks[index]:
                # The first need rules most regexes out: tested here, without a call.
                if (not first or not literals.isdisjoint(first)) and check.search(scan):
                    found.add(index)
                    break
        return found

    def selection(self, indexes: Iterable[int]) -> Selection:
        """``matching(scan, indexes)`` for many scans, made ready once."""
        return Selection(self, indexes)


class Selection:
    """Some patterns of a PatternSet, each of their checks filed under the literals of its
    first need: a text's literals name the few checks that can pass.

    ``matching(scan)`` is ``PatternSet.matching(scan, indexes)``: a check runs when one
    of its first need's literals is in the text (or it has no need), as in that method,
    and whether the regexes run in another order, or a pattern's other alternatives
    after one matched, changes nothing (searches have no side effects). What it saves
    is that method's loop over every check of every pattern: 264 a paper with the
    repository's rules, of which 15 pass their first need."""

    def __init__(self, patterns: PatternSet, indexes: Iterable[int]) -> None:
        self._checks = tuple((index, check) for index in sorted(set(indexes))
                             for _, check in patterns._checks[index])
        self._always = frozenset(n for n, (_, check) in enumerate(self._checks)
                                 if not check.needs)
        filed: dict[int, list[int]] = {}
        for n, (_, check) in enumerate(self._checks):
            for literal in sorted(check.needs[0] if check.needs else ()):
                filed.setdefault(literal, []).append(n)
        self._filed = {literal: tuple(ns) for literal, ns in filed.items()}
        self._literals = frozenset(self._filed)

    def __bool__(self) -> bool:
        """Whether it holds any pattern."""
        return bool(self._checks)

    def matching(self, scan: Scan) -> set[int]:
        """Those of the patterns whose ``search(scan.text)`` finds a match."""
        tried = set(self._always)
        filed = self._filed
        for literal in scan.found & self._literals:
            tried.update(filed[literal])
        found: set[int] = set()
        checks = self._checks
        for n in sorted(tried):  # in PatternSet.matching's order (not that it matters)
            index, check = checks[n]
            if index not in found and check.search(scan):
                found.add(index)
        return found
