"""prefilter: a literal prefilter must never rule out a real match, on any text.

Three layers: the two text forms (``fold``, ``plain``) checked against every code point;
the needs, starts and splits derived for hand-picked patterns; and PatternSet.matching
compared with running every regex, for adversarial patterns and the repository's
config.yaml, over texts built from the patterns' own literals, real abstracts, mixed
case and Unicode look-alikes (dotted and dotless i, long s, Kelvin sign, sharp s,
ligatures, non-ASCII digits).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.classify.prefilter import (
    MAX_TRIES,
    VERBATIM,
    PatternSet,
    Prefilter,
    Selection,
    alternatives,
    fold,
    joined,
    plain,
    prefilter,
)
from site_builder.config import load_config
from site_builder.content import load_papers
from tests.conftest import REPO

# Every code point but the surrogates (which no str from a file can hold).
EVERY_CHAR = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
ASCII = [chr(c) for c in range(128)]


# --- the text forms -------------------------------------------------------------------

def test_fold_turns_every_case_insensitive_match_of_an_ascii_character_into_it() -> None:
    # What an IGNORECASE regex matches with an ASCII literal or class must read as that
    # character lowercased in fold(text): otherwise a needed literal would be missed.
    for char in ASCII:
        for form in (re.escape(char), f"[{re.escape(char)}]"):
            for found in set(re.findall(form, EVERY_CHAR, re.IGNORECASE)):
                assert fold(found) == char.lower(), (char, found)


def test_both_forms_keep_the_length_of_the_text() -> None:
    # Start places found in fold(text) or plain(text) are places in the text itself.
    assert len(fold(EVERY_CHAR)) == len(EVERY_CHAR)
    assert len(plain(EVERY_CHAR)) == len(EVERY_CHAR)
    assert fold("Straße İı ſ \u212a") == "straße ii s k"


def test_every_decimal_digit_becomes_an_ascii_one() -> None:
    digits = re.findall(r"\d", EVERY_CHAR)
    assert len(digits) > 600
    assert all(plain(d) in "0123456789" and fold(d) == plain(d) for d in digits)
    assert plain("٣B and ３B") == "3B and 3B"


# --- what is derived from a pattern ---------------------------------------------------

def needs(pattern: str, flags: int = re.IGNORECASE) -> Prefilter:
    return prefilter(re.compile(pattern, flags))


def test_exact_strings_are_spelled_out() -> None:
    found = needs(r"\bdata(set)? selection\b")
    assert found.needs == ((frozenset({"data selection", "dataset selection"}), 1),)
    assert found.starts == frozenset({"data selection", "dataset selection"})


def test_case_sensitive_parts_give_verbatim_literals() -> None:
    assert needs(r"(?-i:MoE)").needs == ((frozenset({VERBATIM + "MoE"}), 1),)
    assert needs(r"(?-i:\d+B)").needs == (
        (frozenset(VERBATIM + f"{d}B" for d in range(10)), 1),)
    # Mixed cases become lowercase: (?-i:Mo) then a case-insensitive e.
    assert needs(r"(?-i:Mo)e").needs == ((frozenset({"moe"}), 1),)


def test_repeats_and_second_mentions_count_times() -> None:
    assert needs(r"(\bfine-?tun\w*[\s\S]*){3}").needs == (
        (frozenset({"fine-tun", "finetun"}), 3),)
    assert needs(r"(code)[\s\S]{20,}\b(code)").needs == ((frozenset({"code"}), 2),)


def test_negative_lookahead_alone_surely_matches_without_its_literals() -> None:
    found = needs(r"^(?![\s\S]*\bscaling laws?\b)")
    assert found.needs == ()
    assert found.unless == ((frozenset({"scaling law"}), 1),)


def test_nothing_understood_means_no_prefilter() -> None:
    assert needs(r"\w+") == Prefilter()
    assert needs(r"x*") == Prefilter()
    # A backreference matches anything its group did: no literal from it.
    assert needs(r"(ab)\1").needs == ((frozenset({"ab"}), 1),)


def test_non_ascii_pattern_characters_are_never_literals() -> None:
    for pattern in (r"straße", r"\u212aelvin", r"ſtar", r"İstanbul", r"ﬁne"):
        found = needs(pattern)
        literals = {lit for lits, _ in found.needs for lit in lits} | found.starts
        assert all(lit.removeprefix(VERBATIM).isascii() for lit in literals), pattern


def split(pattern: str, flags: int = 0) -> list[str]:
    return [p.pattern for p in alternatives(re.compile(pattern, flags))]


def test_alternatives_split_only_top_level_bars() -> None:
    assert split(r"a|b(c|d)|[|]|\||e") == ["a", "b(c|d)", "[|]", r"\|", "e"]
    assert split(r"[]|]|[^]|]|x") == ["[]|]", "[^]|]", "x"]
    assert split(r"a|") == ["a", ""]
    assert split(r"(a|b)") == ["(a|b)"]


def test_alternatives_leave_alone_what_they_could_get_wrong() -> None:
    assert split(r"(a)|\1") == [r"(a)|\1"]            # group numbers would change
    assert split(r"(?P<x>a)|(?P=x)") == [r"(?P<x>a)|(?P=x)"]
    assert split(r"(?#a|b)c|d") == [r"(?#a|b)c|d"]    # a comment
    assert split("a # b|c\n|d", re.VERBOSE) == ["a # b|c\n|d"]


# --- PatternSet agrees with running every regex ----------------------------------------

ADVERSARIAL = [
    r"\bdata(set)? (selection|pruning)\b",
    r"(?-i:MoE)|mixture[- ]of[- ]experts",
    r"(?-i:\b[\w-]*\d+(\.\d+)?[KMBT]\d*[KMB]?\b)",
    r"(\bfine-?tun\w*[\s\S]*){3}",
    r"(?<![\w-])(?:code)[\s\S]{5,}\b(?:code)(?![\w-])",
    r"^(?![\s\S]*\bscaling laws?\b)",
    r"^(?!.*\bdata\b).*\bfine-?tun",
    r"\bwe (propose|present)\b|\bthe (\w+ ){1,3}dataset\b",
    r"stra(ß|ss)e|\bİstanbul\b|\bſtar\b|\u212aelvin",
    r"(?i:ABC)(?-i:Def)|(?-i:x(?i:yz))",
    r"(?>atomic|atom)ic|a++b|c*+d",
    r"(x)\1|y(?(1)a|b)",
    r"[|]|\||(a|b)c",
    r"\d\d-\d\d|[0-3]x",
    r"(?m)^data$|\Adata|data\Z",
    r"(?s).{0,3}data|[K]elvin|[s]tar|[i]nstruction",
    r"\bscal(e|es|ing) (with|up)\b|\b(as|how) .{0,40}\bscales?\b",
    r"x{2}y{0,2}z?|(?:ab){2,}|(?:ab){0,2}q",
    r"fi|ﬁ|ss|ß",
    r"a|",
    r"",
]
FRAGMENTS = [
    "data", "dataset", "selection", "pruning", "MoE", "moe", "mixture-of-experts", "7B",
    "1.3T", "٣B", "fine-tuning", "finetune", "code", "scaling law", "scaling laws",
    "we propose", "the big new dataset", "straße", "STRASSE", "İstanbul", "ſtar", "Kelvin",
    "\u212aelvin", "ABC", "Def", "DEF", "xYZ", "atomic", "aab", "cd", "xx", "y", "|", "12-34",
    "١٢-٣٤", "how it scales", "scale up", "abab", "q", "instruction", "ınstruction", "ﬁne",
    "Σ", "ς", "MATH", "LoRA", "GSM8K",
]
# Characters standing in for ASCII ones: those re equates under IGNORECASE, and others
# that merely look alike (which must not match).
LOOKALIKES = {"i": "ıİ", "I": "İı", "s": "ſ", "S": "ſ", "k": "\u212a", "K": "\u212a",
              "f": "ﬁ", "3": "٣３", "7": "７", "1": "١", "a": "а", "e": "е"}
CASES: list[Callable[[str], str]] = [str, str.lower, str.upper, str.title, str.swapcase]


@st.composite
def disguised(draw: st.DrawFn, words: st.SearchStrategy[str]) -> str:
    """A word in some case, with a few characters swapped for look-alikes."""
    word: str = draw(st.sampled_from(CASES))(draw(words))
    for index in draw(st.lists(st.integers(0, max(len(word) - 1, 0)), max_size=2)):
        if index < len(word) and word[index] in LOOKALIKES:
            swap = draw(st.sampled_from(LOOKALIKES[word[index]]))
            word = word[:index] + swap + word[index + 1:]
    return word


def texts(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    parts = st.lists(st.tuples(disguised(words), st.sampled_from([" ", "", "\n", "-", ", "])),
                     max_size=24)
    return parts.map(lambda ps: "".join(word + sep for word, sep in ps))


@cache
def selections(patterns: PatternSet) -> tuple[tuple[range, Selection], ...]:
    """Selections of every pattern, of every other one, and of none."""
    count = len(patterns.patterns)
    return tuple((part, patterns.selection(part))
                 for part in (range(count), range(1, count, 2), range(0)))


def agree(patterns: PatternSet, text: str) -> None:
    """PatternSet.matching, and each Selection's (faster), find what every regex does."""
    scan = patterns.scan(text)
    literals = {number for literal, number in patterns._number.items()
                if (literal[1:] in scan.plain if literal.startswith(VERBATIM)
                    else literal in scan.folded)}
    assert scan.found == literals, text  # what testing each literal with ``in`` finds
    expected = {i for i, p in enumerate(patterns.patterns) if p.search(text)}
    assert patterns.matching(scan, range(len(patterns.patterns))) == expected, text
    for part, selection in selections(patterns):
        assert selection.matching(scan) == expected & set(part), text


@cache
def adversarial() -> PatternSet:
    compiled = [re.compile(p, flags) for p in ADVERSARIAL for flags in (0, re.IGNORECASE)]
    return PatternSet(compiled)


@settings(max_examples=400, deadline=None)
@given(text=texts(st.sampled_from(FRAGMENTS)))
def test_adversarial_patterns_agree_with_the_regexes(text: str) -> None:
    agree(adversarial(), text)


def test_many_places_to_try_fall_back_to_one_search() -> None:
    patterns = PatternSet([re.compile(r"\bdata selection\b", re.IGNORECASE)])
    late = "data x " * (MAX_TRIES + 3) + "DATA selection"
    assert patterns.matching(patterns.scan(late), [0]) == {0}
    assert patterns.matching(patterns.scan("data x " * (MAX_TRIES + 3)), [0]) == set()


def test_a_joined_scan_is_the_scan_of_the_joined_text() -> None:
    patterns = adversarial()
    title, abstract = "Fine-tuning MoE", "we propose\nthe big dataset"
    both = joined(patterns.scan(title), patterns.scan(abstract))
    assert both == patterns.scan(f"{title}\n{abstract}")


# --- the repository's config.yaml ------------------------------------------------------

@cache
def real_patterns() -> PatternSet:
    config = load_config(REPO / "config.yaml")
    found = [r.pattern for t in config.themes for r in (*t.rules, *t.exclude)]
    found += [p for t in config.tags for p in t.patterns]
    return PatternSet(dict.fromkeys(found))


@cache
def real_words() -> list[str]:
    """Fragments for texts: every prefilter literal, and one to four words of abstracts."""
    literals = {lit.removeprefix(VERBATIM) for p in real_patterns().patterns
                for part in alternatives(p)
                for lits, _ in (*prefilter(part).needs, *prefilter(part).unless)
                for lit in lits}
    words: set[str] = set(literals)
    for paper in load_papers(REPO / "content" / "papers", [])[::7]:
        tokens = paper.abstract.split()
        words.update(" ".join(tokens[i:i + 1 + i % 4]) for i in range(0, len(tokens), 5))
    return sorted(words)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_config_patterns_agree_with_the_regexes(data: st.DataObject) -> None:
    agree(real_patterns(), data.draw(texts(st.sampled_from(real_words()))))


@pytest.mark.parametrize("field", ["title", "abstract"])
def test_config_patterns_agree_on_every_real_paper(field: str) -> None:
    patterns = real_patterns()
    for paper in load_papers(REPO / "content" / "papers", []):
        agree(patterns, getattr(paper, field))


def test_no_config_pattern_is_left_unfiltered() -> None:
    # Every pattern of config.yaml has a need (or, for ^(?!...), an unless): none is run
    # on every paper. A new rule that breaks this is slower, not wrong: say so here.
    for pattern in real_patterns().patterns:
        for part in alternatives(pattern):
            found = prefilter(part)
            assert found.needs or found.unless, part.pattern
