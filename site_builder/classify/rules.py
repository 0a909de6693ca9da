"""Assign themes and tags to a paper from the ordered rule table in config.yaml.

In: one Paper and the Config (themes with weighted rules, exclusions and a threshold;
the tag vocabulary; ``max_themes``).
Out: a Classification: theme slugs in config order, tag slugs sorted, and every
theme's score (for debugging and tests). Pure and deterministic: no I/O, no state.

Scoring, theme by theme (markdown-it-py style: data, not scattered ifs):
score = sum of the weights of the theme's rules that match (each rule counts once)
minus the weights of its exclude rules that match. A theme is a candidate when
score >= threshold; the ``max_themes`` highest-scoring candidates are kept (ties go
to the theme listed first). A rule's ``field`` picks what it reads: ``title``,
``abstract``, or ``text`` (title + newline + abstract).

Curated front matter wins: when ``paper.themes`` is non-empty the result is exactly
those themes (an unknown slug is a ContentError). Tags are every vocabulary tag with
a pattern matching the title or abstract, plus the curator's own tags.

Speed: the ~150 regular expressions are not all run on every paper. A Classifier,
built once per Config (and cached by ``classify``), looks for the literal strings each
pattern needs in one pass over the title and one over the abstract, and runs only the
patterns that can match (site_builder/prefilter.py); the result is the same as running
them all, which ``theme_score`` still does. The literals found name those patterns
(prefilter.Selection, one per field); a theme none of whose patterns matched is not
summed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from site_builder.classify.guard import bounded, within_budget
from site_builder.config import Config, Rule, Theme, slugify
from site_builder.errors import ContentError
from site_builder.models import Classification, Paper

if TYPE_CHECKING:  # imported when a Classifier is built: rebuilds mostly classify nothing
    from site_builder.classify.prefilter import PatternSet, Selection


def tag_slug(name: str) -> str:
    """The slug of a curated tag name: the rule the vocabulary's tags get in config.py."""
    return slugify(name)


def _field_text(paper: Paper, field: str) -> str:
    if field == "title":
        return paper.title
    if field == "abstract":
        return paper.abstract
    return f"{paper.title}\n{paper.abstract}"


def _matched_weight(rules: Iterable[Rule], paper: Paper) -> float:
    return sum(r.weight for r in rules if r.pattern.search(_field_text(paper, r.field)))


def theme_score(theme: Theme, paper: Paper) -> float:
    """Weights of matching rules minus weights of matching exclusions."""
    return _matched_weight(theme.rules, paper) - _matched_weight(theme.exclude, paper)


def _known_themes(paper: Paper, config: Config, field: str, slugs: tuple[str, ...]
                  ) -> tuple[str, ...]:
    """``slugs`` in config order; a theme config.yaml does not define is an error."""
    if not slugs:  # most papers: nothing to check or to order
        return ()
    known = [t.slug for t in config.themes]
    unknown = sorted(set(slugs) - set(known))
    if unknown:
        raise ContentError(
            f"content/papers/{paper.slug}.md", None,
            f"unknown theme(s) {', '.join(unknown)} in front matter field '{field}' "
            f"(known themes: {', '.join(known)})")
    return tuple(slug for slug in known if slug in slugs)


def _curated_themes(paper: Paper, config: Config) -> tuple[str, ...]:
    return _known_themes(paper, config, "themes", paper.themes)


def ruled_themes(scores: tuple[tuple[str, float], ...], config: Config,
                 ruled_out: set[str]) -> tuple[str, ...]:
    """The themes these scores give: those at their threshold and not ruled out, the
    ``max_themes`` highest, in config order."""
    order = {slug: i for i, (slug, _) in enumerate(scores)}
    passing = [(slug, score) for (slug, score), theme in zip(scores, config.themes, strict=True)
               if score >= theme.threshold and slug not in ruled_out]
    # Highest score first; equal scores keep config order, so the cut is deterministic.
    kept = sorted(passing, key=lambda item: (-item[1], order[item[0]]))[:config.max_themes]
    return tuple(sorted((slug for slug, _ in kept), key=order.__getitem__))


def _tags(paper: Paper, ruled: set[str]) -> tuple[str, ...]:
    """The vocabulary tags whose patterns matched (``ruled``) plus the curator's own."""
    found = set(ruled)
    for name in paper.tags:
        slug = tag_slug(name)
        if not slug:  # Refuse rather than silently drop a tag the curator wrote.
            raise ContentError(f"content/papers/{paper.slug}.md", None,
                               f"tag {name!r} needs at least one ASCII letter or digit")
        found.add(slug)
    return tuple(sorted(found))


def _result(paper: Paper, config: Config, scores: tuple[tuple[str, float], ...],
            ruled_tags: set[str]) -> Classification:
    ruled_out = set(_known_themes(paper, config, "not_themes", paper.not_themes))
    themes = (_curated_themes(paper, config) if paper.themes
              else ruled_themes(scores, config, ruled_out))
    return Classification(themes=themes, tags=_tags(paper, ruled_tags), theme_scores=scores)


def classify_plainly(paper: Paper, config: Config) -> Classification:
    """classify() by running every rule's and tag's regex on the paper: no prefilters to
    build (0.1 s for the repository's config), so cheaper when only a few papers changed."""
    return within_budget(bounded(paper), config, partial(_plainly, config=config))


def _plainly(paper: Paper, config: Config) -> Classification:
    scores = tuple((theme.slug, theme_score(theme, paper)) for theme in config.themes)
    tags = {tag.slug for tag in config.tags
            if any(p.search(paper.title) or p.search(paper.abstract) for p in tag.patterns)}
    return _result(paper, config, scores, tags)


_FIELDS = ("title", "abstract", "text")


def config_patterns(config: Config) -> list[re.Pattern[str]]:
    """Every distinct pattern of the rules and tags, in config order."""
    found: dict[re.Pattern[str], None] = {}
    for theme in config.themes:
        for rule in (*theme.rules, *theme.exclude):
            found.setdefault(rule.pattern)
    for tag in config.tags:
        for pattern in tag.patterns:
            found.setdefault(pattern)
    return list(found)


class Classifier:
    """classify() for one Config, with the prefilters of all its patterns built once.

    In: the Config (building takes ~0.1 s for the repository's config.yaml). Out
    (``classify``): exactly what running every rule's and tag's regex gives, but a
    regex runs only when the paper has the literals it needs.
    """

    def __init__(self, config: Config) -> None:
        from site_builder.classify.prefilter import PatternSet

        self.config = config
        # Each distinct pattern once (equal patterns search alike), by number.
        number = {pattern: index for index, pattern in enumerate(config_patterns(config))}
        self._patterns: PatternSet = PatternSet(number)

        def rules(rules: tuple[Rule, ...]) -> tuple[tuple[float, int, int], ...]:
            """Each rule as (weight, field's position in _FIELDS, pattern number)."""
            return tuple((r.weight, _FIELDS.index(r.field), number[r.pattern]) for r in rules)

        self._rules = tuple((rules(theme.rules), rules(theme.exclude))
                            for theme in config.themes)
        self._tags = tuple((tag.slug, tuple(number[p] for p in tag.patterns))
                           for tag in config.tags)
        # The patterns searched in each field; tags read the title and the abstract.
        used: list[set[int]] = [set(), set(), set()]
        for theme_rules in self._rules:
            for _, field, index in (*theme_rules[0], *theme_rules[1]):
                used[field].add(index)
        for _, indexes in self._tags:
            used[0].update(indexes)
            used[1].update(indexes)
        self._used = tuple(frozenset(u) for u in used)
        self._selections: tuple[Selection, ...] = tuple(map(self._patterns.selection, used))
        # By field, by pattern: the themes whose rules or exclusions read it there; and
        # by pattern, the tags it gives (from the title or the abstract).
        self._themes_of: tuple[dict[int, set[int]], ...] = ({}, {}, {})
        for place, theme_rules in enumerate(self._rules):
            for _, field, index in (*theme_rules[0], *theme_rules[1]):
                self._themes_of[field].setdefault(index, set()).add(place)
        self._tags_of: dict[int, list[str]] = {}
        for slug, indexes in self._tags:
            for index in dict.fromkeys(indexes):
                self._tags_of.setdefault(index, []).append(slug)

    def classify(self, paper: Paper) -> Classification:
        """Themes, tags and theme scores of one paper under the config's rules: what
        ``_plainly`` gives (classify_plainly, the reference), found faster."""
        patterns = self._patterns
        title, abstract = patterns.scan(paper.title), patterns.scan(paper.abstract)
        in_title, in_abstract, in_text = self._selections
        # Which patterns match each field, all at once: searches have no side effects, so
        # running them in another order (or a tag's title and abstract both) changes nothing.
        matched = (in_title.matching(title), in_abstract.matching(abstract),
                   in_text.matching(patterns.joined(title, abstract)) if in_text else set())

        def weight(rules: tuple[tuple[float, int, int], ...]) -> float:
            # The same weights summed in the same order as _matched_weight: equal floats.
            return sum([w for w, field, pattern in rules if pattern in matched[field]])

        # A theme none of whose patterns matched scores sum(()) - sum(()), the int 0.
        touched: set[int] = set()
        for field, themes_of in zip(matched, self._themes_of, strict=True):
            for index in field:
                touched.update(themes_of.get(index, ()))
        scores = tuple((theme.slug, weight(rules) - weight(exclude) if number in touched
                        else 0)
                       for number, (theme, (rules, exclude))
                       in enumerate(zip(self.config.themes, self._rules, strict=True)))
        tags: set[str] = set()
        for index in matched[0] | matched[1]:
            tags.update(self._tags_of.get(index, ()))
        return _result(paper, self.config, scores, tags)


@dataclass(frozen=True, eq=False)
class _Same:
    """A Config as a cache key by identity: hashing the dataclass walks every rule (~60 us).

    The key holds the Config, so its id cannot be reused while the entry is cached.
    """

    config: Config

    def __hash__(self) -> int:
        return id(self.config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.config is self.config


@functools.lru_cache(maxsize=8)
def _classifier(key: _Same) -> Classifier:
    return Classifier(key.config)


def classifier_for(config: Config) -> Classifier:
    """The Classifier of ``config``, built on first use and then reused."""
    return _classifier(_Same(config))


def classify(paper: Paper, config: Config) -> Classification:
    """Themes, tags and theme scores of one paper under the config's rules.

    The Classifier (prefilters) for ``config`` is built on first use and reused. The
    paper's text is bounded and its rules run under a time budget (guard.py).
    """
    return within_budget(bounded(paper), config, classifier_for(config).classify)

