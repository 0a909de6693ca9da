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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from site_builder.config import Config, Rule, Theme
from site_builder.errors import ContentError
from site_builder.models import Paper


@dataclass(frozen=True)
class Classification:
    """What classify found for one paper."""

    themes: tuple[str, ...]
    """Theme slugs, in config order."""
    tags: tuple[str, ...]
    """Tag slugs, sorted."""
    theme_scores: tuple[tuple[str, float], ...]
    """(slug, score) for every configured theme, in config order."""


def tag_slug(name: str) -> str:
    """The slug of a tag name: the same rule config.py's ``_tags`` applies to the vocabulary."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


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


def _curated_themes(paper: Paper, config: Config) -> tuple[str, ...]:
    known = [t.slug for t in config.themes]
    unknown = sorted(set(paper.themes) - set(known))
    if unknown:
        raise ContentError(
            f"content/papers/{paper.slug}.md", None,
            f"unknown theme(s) {', '.join(unknown)} in front matter "
            f"(known themes: {', '.join(known)})")
    return tuple(slug for slug in known if slug in paper.themes)


def _ruled_themes(scores: tuple[tuple[str, float], ...], config: Config) -> tuple[str, ...]:
    order = {slug: i for i, (slug, _) in enumerate(scores)}
    passing = [(slug, score) for (slug, score), theme in zip(scores, config.themes, strict=True)
               if score >= theme.threshold]
    # Highest score first; equal scores keep config order, so the cut is deterministic.
    kept = sorted(passing, key=lambda item: (-item[1], order[item[0]]))[:config.max_themes]
    return tuple(sorted((slug for slug, _ in kept), key=order.__getitem__))


def _tags(paper: Paper, config: Config) -> tuple[str, ...]:
    found = {tag.slug for tag in config.tags
             if any(p.search(paper.title) or p.search(paper.abstract) for p in tag.patterns)}
    for name in paper.tags:
        slug = tag_slug(name)
        if not slug:  # Refuse rather than silently drop a tag the curator wrote.
            raise ContentError(f"content/papers/{paper.slug}.md", None,
                               f"tag {name!r} needs at least one ASCII letter or digit")
        found.add(slug)
    return tuple(sorted(found))


def classify(paper: Paper, config: Config) -> Classification:
    """Themes, tags and theme scores of one paper under the config's rules."""
    scores = tuple((theme.slug, theme_score(theme, paper)) for theme in config.themes)
    themes = (_curated_themes(paper, config) if paper.themes
              else _ruled_themes(scores, config))
    return Classification(themes=themes, tags=_tags(paper, config), theme_scores=scores)
