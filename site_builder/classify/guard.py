"""Guards around classification: bounded text, and a time budget per paper.

In: a Paper (and, for the budget, the Config and the classifying function).
Out: ``bounded(paper)``, the paper as the rules read it: each title and abstract cut to
MAX_TITLE / MAX_ABSTRACT characters and every run of word characters to MAX_WORD;
``within_budget(...)``, the classification, or a RuleError naming the theme (or tag),
the rule's config.yaml line and the paper when the paper took more than
PAPER_SECONDS, as a catastrophic pattern (``^(\\w+\\s?)+$``, ``(.*a){20}``) does.

Why bound the text: rules such as ``[\\w-]*(BERT|GPT)\\w*`` try every start inside a
word and scan it to its end, quadratic in the word's length (a 2,000-character title
word took 0.06 s, 8,000 about 1 s, 100,000 hung). No real word is near MAX_WORD (the
longest in the repository's 423 entries is 59) nor any abstract near MAX_ABSTRACT.

Why a time budget and not RE2: RE2 has no backtracking, but also no lookaround; 52 of
the 152 patterns of config.yaml use ``(?!``, ``(?<!`` or ``(?=`` (measured with
google-re2 1.1), so it could not run them. Python's regex engine checks for signals
as it runs, so a SIGALRM timer interrupts a hung search. Timers are per process and
only the main thread receives signals: the budget holds in the CLI and in the forked
workers; a build run from another thread (the preview's) runs without one.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import TypeVar

from site_builder.config import Config, key_line
from site_builder.errors import RuleError
from site_builder.models import Paper

MAX_TITLE = 2_000
MAX_ABSTRACT = 50_000
MAX_WORD = 100
PAPER_SECONDS = 2.0
"""Most seconds all rules may take on one paper (a real one takes under a millisecond)."""

Result = TypeVar("Result")
_ALARM, _REAL = signal.SIGALRM, signal.ITIMER_REAL
_LONG_WORD = re.compile(rf"[\w-]{{{MAX_WORD}}}[\w-]+")


def _bound(text: str, limit: int) -> str:
    if len(text) > limit:
        text = text[:limit]
    if _may_hold_long_word(text):
        text = _cut_long_words(text)
    return text


def _cut_long_words(text: str) -> str:
    """Every run of more than MAX_WORD word characters or hyphens cut to MAX_WORD."""
    return _LONG_WORD.sub(lambda m: m.group()[:MAX_WORD], text)


def _may_hold_long_word(text: str) -> bool:
    """False only when ``text`` surely has no run of more than MAX_WORD word characters
    or hyphens, so that _cut_long_words would return it unchanged.

    Such a run holds no whitespace (no character is both: tested on every code point),
    so it lies inside one of ``text.split()``'s pieces. Splitting is one pass in C; the
    regex tries a 100-character match at every position (60 us an abstract, a sixth
    of classifying it, and never a change on a real paper)."""
    return len(text) > MAX_WORD and max(map(len, text.split()), default=0) > MAX_WORD


def bounded(paper: Paper) -> Paper:
    """``paper`` with its title and abstract as the rules read them (the same object
    when nothing is cut, which is every real paper)."""
    title, abstract = _bound(paper.title, MAX_TITLE), _bound(paper.abstract, MAX_ABSTRACT)
    if title is paper.title and abstract is paper.abstract:
        return paper
    return replace(paper, title=title, abstract=abstract)


class _OverBudget(BaseException):
    """Raised by the timer inside a regex search. A BaseException, so no ``except
    Exception`` between here and the search swallows it."""


def _expire(signum: int, frame: FrameType | None) -> None:
    raise _OverBudget


@contextmanager
def budget_scope() -> Iterator[None]:
    """Keep the timer's signal handler installed for a block that classifies many papers:
    installing one costs ~20 us, as much as classifying a paper. Without it each
    paper installs and restores the handler itself."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGALRM) is _expire:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expire)
    try:
        yield
    finally:
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _timer(seconds: float) -> Iterator[None]:
    """Raise _OverBudget in this block after ``seconds``; a no-op off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with budget_scope():
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _slow_pattern(paper: Paper, config: Config, seconds: float) -> tuple[str, str, str]:
    """(dotted key, owner, pattern) of the first rule or tag pattern that runs over
    ``seconds`` on ``paper`` alone; the first rule when none does again."""
    places: list[tuple[str, str, re.Pattern[str], tuple[str, ...]]] = []
    for t, theme in enumerate(config.themes):
        for group in ("rules", "exclude"):
            for r, rule in enumerate(getattr(theme, group)):
                by_field: dict[str, tuple[str, ...]] = {
                    "title": (paper.title,), "abstract": (paper.abstract,)}
                texts = by_field.get(rule.field, (f"{paper.title}\n{paper.abstract}",))
                places.append((f"themes[{t}].{group}[{r}]", f"theme '{theme.slug}'",
                               rule.pattern, texts))
    for tag in config.tags:
        for p, pattern in enumerate(tag.patterns):
            places.append((f"tags.{tag.name}[{p}]", f"tag '{tag.name}'", pattern,
                           (paper.title, paper.abstract)))
    for key, owner, pattern, texts in places:
        try:
            with _timer(seconds):
                for text in texts:
                    pattern.search(text)
        except _OverBudget:
            return key, owner, pattern.pattern
    return "themes", "the rules", ""


def within_budget(paper: Paper, config: Config, run: Callable[[Paper], Result],
                  seconds: float | None = None) -> Result:
    """``run(paper)``, or a RuleError when it takes over ``seconds`` (PAPER_SECONDS).

    Written out rather than with _timer: this runs once per paper, and two context
    managers cost a tenth of classifying one."""
    limit = PAPER_SECONDS if seconds is None else seconds
    if threading.current_thread() is not threading.main_thread():
        return run(paper)
    install = signal.getsignal(_ALARM) is not _expire
    previous = signal.signal(_ALARM, _expire) if install else None
    try:
        signal.setitimer(_REAL, limit)
        return run(paper)
    except _OverBudget:
        pass
    finally:
        signal.setitimer(_REAL, 0)
        if install:
            signal.signal(_ALARM, previous)
    key, owner, pattern = _slow_pattern(paper, config, limit)
    shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
    raise RuleError(str(config.path), key_line(config.path, key),
                    f"{key}: {owner}: pattern {shown!r} ran over {limit:g} s on "
                    f"content/papers/{paper.slug}.md (catastrophic backtracking, such as "
                    "a repeated group inside a repetition?): rewrite the pattern")
