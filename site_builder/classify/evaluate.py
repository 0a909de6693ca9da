"""How well the automatic themes (rules ∪ model) agree with the curator's pins.

In: the papers (those fully pinned are the truth: ``themes``, or ``not_themes``
listing every theme), the Config. Out: a Score per theme and overall (micro), from
k-fold cross-validation or a held-out dump, a learning curve, and what each rule
adds (the k-fold score with that rule left out).

What is scored is what a new, unpinned paper would get: each scored paper is
stripped of its pins, classified by the rules and by a model trained on the other
folds only (``trainer`` sees nothing of the fold it scores; a test spies on it), and
compared with its pins. Folds come from a digest of the slug: deterministic, and the
same whatever order the papers are read in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from site_builder.classify.guard import bounded
from site_builder.classify.model import Example, ThemeModel, combine, examples, paper_text, train
from site_builder.classify.rules import classify_plainly, ruled_themes, theme_score
from site_builder.config import Config, Rule
from site_builder.models import Classification, Paper

Trainer = Callable[[Sequence[Example], Sequence[str]], ThemeModel]


@dataclass
class Counts:
    pins: int = 0
    rules: int = 0
    model: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    """Per theme and overall counts, plus how much of the pins suggestions reach."""

    themes: dict[str, Counts]
    papers: int = 0
    held: int = 0
    """Pinned themes among the automatic themes or the suggestions."""
    suggestions: int = 0
    results: dict[str, Classification] = field(default_factory=dict)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for c in self.themes.values():
            for name in ("pins", "rules", "model", "tp", "fp", "fn"):
                setattr(total, name, getattr(total, name) + getattr(c, name))
        return total


def fully_pinned(paper: Paper, config: Config) -> bool:
    """A paper whose every theme the curator decided (what can be scored against)."""
    return not paper.hidden and (bool(paper.themes) or
                                 {t.slug for t in config.themes} <= set(paper.not_themes))


def fold_of(slug: str, folds: int) -> int:
    return int.from_bytes(hashlib.blake2b(slug.encode(), digest_size=8).digest(), "big") % folds


def unseen(paper: Paper, config: Config, model: ThemeModel | None,
           ruled: Classification | None = None) -> Classification:
    """What the paper would get with no pin: rules (``ruled``, if known) ∪ the model."""
    bare = replace(paper, themes=(), not_themes=())
    ruled = ruled or classify_plainly(bare, config)
    if model is None:
        return ruled
    return combine(ruled, bare, config, model.confidences([paper_text(bare)])[0].tolist())


def score(scored: Sequence[Paper], config: Config, model: ThemeModel | None,
          into: Score) -> None:
    """Add the scored papers' results under ``model`` to ``into``."""
    for paper in scored:
        by_rules = classify_plainly(replace(paper, themes=(), not_themes=()), config)
        found = unseen(paper, config, model, by_rules)
        ruled = set(by_rules.themes)
        into.results[paper.slug] = found
        into.papers += 1
        into.suggestions += len(found.suggestions)
        offered = set(found.themes) | {s for s, _ in found.suggestions}
        into.held += len(offered & set(paper.themes))
        for slug, counts in into.themes.items():
            pinned, auto = slug in paper.themes, slug in found.themes
            counts.pins += pinned
            counts.rules += slug in ruled
            counts.model += auto and slug not in ruled
            counts.tp += pinned and auto
            counts.fp += auto and not pinned
            counts.fn += pinned and not auto


def _empty(config: Config) -> Score:
    return Score({t.slug: Counts() for t in config.themes})


def _model(train_papers: Sequence[Paper], config: Config, trainer: Trainer,
           per_theme: int | None) -> ThemeModel | None:
    themes = [t.slug for t in config.themes]
    found = examples(train_papers, themes)
    if per_theme is not None:
        found = limit_positives(found, per_theme)
    return trainer(found, themes) if found else None


def limit_positives(found: Sequence[Example], per_theme: int) -> list[Example]:
    """Keep ``per_theme`` positives of each theme (the first by slug digest); the
    others say nothing of that theme (their negatives stay)."""
    order = sorted(range(len(found)), key=lambda i: hashlib.blake2b(
        found[i].slug.encode(), digest_size=8).digest())
    kept: list[list[int]] = [list(e.labels) for e in found]
    for j in range(len(found[0].labels) if found else 0):
        seen = 0
        for i in order:
            if kept[i][j] > 0:
                seen += 1
                if seen > per_theme:
                    kept[i][j] = 0
    return [replace(e, labels=tuple(k)) for e, k in zip(found, kept, strict=True)]


def cross_validate(papers: Sequence[Paper], config: Config, folds: int = 5,
                   trainer: Trainer = train, per_theme: int | None = None) -> Score:
    """k-fold: each fold's fully pinned papers scored by a model of the other folds'
    pins (every pinned paper outside the fold trains, partial pins too)."""
    result = _empty(config)
    for fold in range(folds):
        rest = [p for p in papers if fold_of(p.slug, folds) != fold]
        scored = [p for p in papers if fold_of(p.slug, folds) == fold and fully_pinned(p, config)]
        score(scored, config, _model(rest, config, trainer, per_theme), result)
    return result


def holdout(papers: Sequence[Paper], config: Config, dump: str,
            trainer: Trainer = train) -> Score:
    """Score the pinned papers seen in ``dump`` with a model of the papers never seen
    in it (a week the model has not read)."""
    inside = [p for p in papers if any(s.file == dump for s in p.sources)]
    outside = [p for p in papers if all(s.file != dump for s in p.sources)]
    result = _empty(config)
    score([p for p in inside if fully_pinned(p, config)], config,
          _model(outside, config, trainer, None), result)
    return result


@dataclass(frozen=True)
class RuleValue:
    """The k-fold micro counts of the automatic themes with one rule left out."""

    theme: str
    exclude: bool
    index: int
    """The rule's place in its theme's ``rules`` (or ``exclude``) list."""
    rule: Rule
    without: Counts


def rule_values(papers: Sequence[Paper], config: Config, folds: int = 5,
                trainer: Trainer = train) -> tuple[Counts, list[RuleValue]]:
    """What each rule adds: the k-fold micro counts of rules ∪ model with every rule,
    and with each rule (or exclusion) left out in turn, in config order. The models
    are those of ``cross_validate`` (they do not read the rules), trained once."""
    scored: list[tuple[Paper, Paper, list[float] | None]] = []  # pinned, as rules read it
    for fold in range(folds):
        rest = [p for p in papers if fold_of(p.slug, folds) != fold]
        model = _model(rest, config, trainer, None)
        for paper in papers:
            if fold_of(paper.slug, folds) == fold and fully_pinned(paper, config):
                bare = replace(paper, themes=(), not_themes=())
                probs = model.confidences([paper_text(bare)])[0].tolist() if model else None
                scored.append((paper, bounded(bare), probs))
    # Under the time budget (guard.py): what then runs is fewer of the same searches.
    base = [classify_plainly(read, config).theme_scores for _, read, _ in scored]

    def micro(scores: Sequence[tuple[tuple[str, float], ...]]) -> Counts:
        total = Counts()
        for (paper, read, probs), row in zip(scored, scores, strict=True):
            found = Classification(ruled_themes(row, config, set()), (), row)
            if probs is not None:
                found = combine(found, read, config, probs)
            pinned, auto = set(paper.themes), set(found.themes)
            total.pins += len(pinned)
            total.tp += len(pinned & auto)
            total.fp += len(auto - pinned)
            total.fn += len(pinned - auto)
        return total

    values = []
    for j, theme in enumerate(config.themes):
        for exclude, rules in ((False, theme.rules), (True, theme.exclude)):
            for k, rule in enumerate(rules):
                kept = rules[:k] + rules[k + 1:]
                less = replace(theme, exclude=kept) if exclude else replace(theme, rules=kept)
                scores = [(*row[:j], (theme.slug, theme_score(less, read)), *row[j + 1:])
                          for row, (_, read, _) in zip(base, scored, strict=True)]
                values.append(RuleValue(theme.slug, exclude, k, rule, micro(scores)))
    return micro(base), values
