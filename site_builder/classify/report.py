"""`site-builder themes`: the score of the automatic themes, and why a paper has its own.

In: the Config and the papers of content/papers/. Out: lines of text: a table per
theme (pins; what rules and model assign to the scored papers; cross-validated
precision, recall, F1), the micro figures, how many pins suggestions reach; or, for
``--explain``, the rules that matched a paper and the words that weighed most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from site_builder.classify import evaluate as E
from site_builder.classify.model import ASSIGN, SUGGEST, ThemeModel, model_for, paper_text, words
from site_builder.config import Config
from site_builder.errors import ContentError
from site_builder.models import Paper

CURVE = (1, 3, 5, 10)


def table(score: E.Score, title: str) -> list[str]:
    lines = [title, f"{'theme':<22} {'pins':>5} {'rules':>5} {'model':>5} "
                    f"{'prec':>6} {'recall':>6} {'F1':>6}"]
    for slug, c in [*score.themes.items(), ("micro (all themes)", score.micro)]:
        lines.append(f"{slug:<22} {c.pins:>5} {c.rules:>5} {c.model:>5} "
                     f"{c.precision:>6.3f} {c.recall:>6.3f} {c.f1:>6.3f}")
    pins = score.micro.pins
    lines.append(f"papers scored: {score.papers}; automatic themes + suggestions hold "
                 f"{score.held / pins if pins else 0:.3f} of the pins, with "
                 f"{score.suggestions / score.papers if score.papers else 0:.2f} "
                 "suggestions a paper")
    return lines


def report(config: Config, papers: Sequence[Paper], folds: int = 5,
           holdout_dump: str | None = None, curve: bool = False) -> list[str]:
    lines = [f"rules assign a theme to a paper; the model adds a theme at confidence >= "
             f"{ASSIGN} and suggests from {SUGGEST}. 'rules'/'model': themes each gave the "
             "scored papers."]
    if holdout_dump is not None:
        dumps = sorted({s.file for p in papers for s in p.sources})
        if holdout_dump not in dumps:
            raise ContentError(holdout_dump, None, "no paper was read from this dump; "
                               "the papers come from " + ", ".join(dumps))
        return lines + table(E.holdout(papers, config, holdout_dump),
                             f"held-out dump {holdout_dump} (trained on the other dumps)")
    lines += table(E.cross_validate(papers, config, folds), f"{folds}-fold cross-validation")
    if curve:
        lines.append("learning curve (micro over all themes, k-fold): positive pins per "
                     "theme -> precision / recall / F1; held by themes + suggestions")
        for n in (*CURVE, None):
            run = E.cross_validate(papers, config, folds, per_theme=n)
            m = run.micro
            lines.append(f"  {'all' if n is None else n:>4}: {m.precision:.3f} / "
                         f"{m.recall:.3f} / {m.f1:.3f}; {run.held / max(1, m.pins):.3f} "
                         f"with {run.suggestions / max(1, run.papers):.2f} suggestions")
    return lines


def rule_report(config: Config, papers: Sequence[Paper], folds: int = 5) -> list[str]:
    """What each rule adds: the k-fold micro-F1 of rules ∪ model without it, and the
    change from the F1 with every rule (negative: the rule helps)."""
    every, values = E.rule_values(papers, config, folds)
    lines = [f"what each rule adds: {folds}-fold micro P / R / F1 of rules + model with every "
             f"rule {every.precision:.3f} / {every.recall:.3f} / {every.f1:.3f}; "
             "then without each rule, and the change in F1",
             f"{'theme':<22} {'rule':<10} {'prec':>6} {'recall':>6} {'F1':>6} {'dF1':>7}  pattern"]
    for v in values:
        name = f"{'exclude' if v.exclude else 'rule'} {v.index + 1}"
        c = v.without
        lines.append(f"{v.theme:<22} {name:<10} {c.precision:>6.3f} {c.recall:>6.3f} "
                     f"{c.f1:>6.3f} {c.f1 - every.f1:>+7.4f}  {v.rule.field} "
                     f"{v.rule.weight:g}: {v.rule.source[:60]}")
    helps = sum(v.without.f1 < every.f1 for v in values)
    idle = sum(v.without.f1 == every.f1 for v in values)
    lines.append(f"{helps} of {len(values)} rules and exclusions add F1 (it drops without "
                 f"them); {idle} change nothing; {len(values) - helps - idle} lower it")
    return lines


def top_words(model: ThemeModel, text: str, theme: int, count: int = 6
              ) -> list[tuple[str, float]]:
    """The words of ``text`` that pushed theme ``theme``'s confidence most (tf-idf
    weight times coefficient), strongest first."""
    _, c, w = model.rows([text])
    contributions = w * model.coef[c, theme]
    order = sorted(range(len(c)), key=lambda i: (-contributions[i], int(c[i])))
    return [(model.vocabulary[int(c[i])], float(contributions[i]))
            for i in order[:count] if contributions[i] > 0]


def explain(config: Config, papers: Sequence[Paper], slug: str, cache_dir: Path) -> list[str]:
    """Why ``slug`` has its themes: its pins, the rules that matched, the model's
    confidences and the words behind them."""
    from site_builder.classify.rules import classify_plainly

    paper = next((p for p in papers if p.slug == slug), None)
    if paper is None:
        raise ContentError(f"content/papers/{slug}.md", None, "no such paper")
    model = model_for(papers, config, cache_dir)
    lines = [f"{paper.title}",
             f"pinned: {', '.join(paper.themes) or '-'}; ruled out: "
             f"{', '.join(paper.not_themes) or '-'}"]
    bare = replace(paper, themes=(), not_themes=())
    text = paper_text(bare)
    if paper.themes:  # what it would get without its pin
        found, label = E.unseen(paper, config, model), "unpinned, it would get"
    else:
        from site_builder.classify.model import combine

        found, label = classify_plainly(paper, config), "automatic"
        if model is not None:
            found = combine(found, paper, config, model.confidences([text])[0].tolist())
    for theme in config.themes:
        matched = [r for r in theme.rules if r.pattern.search(_field(bare, r.field))]
        vetoes = [r for r in theme.exclude if r.pattern.search(_field(bare, r.field))]
        score = sum(r.weight for r in matched) - sum(r.weight for r in vetoes)
        j = [t.slug for t in config.themes].index(theme.slug)
        conf = float(model.confidences([text])[0][j]) if model else 0.0
        if not (matched or vetoes or conf >= SUGGEST or theme.slug in paper.themes):
            continue
        lines.append(f"{theme.slug}: rules {score:g} (threshold {theme.threshold:g}), "
                     f"model {conf:.3f}")
        for r in matched:
            lines.append(f"  rule +{r.weight:g} {r.field}: {r.pattern.pattern[:90]}")
        for r in vetoes:
            lines.append(f"  exclude -{r.weight:g} {r.field}: {r.pattern.pattern[:90]}")
        if model:
            weighed = ", ".join(f"{w} {v:+.2f}" for w, v in top_words(model, text, j))
            lines.append(f"  words: {weighed or '-'}")
    lines.append(f"{label}: " + (", ".join(f"{s} ({c:.2f})" for s, c in found.confidences)
                                 or ", ".join(found.themes) or "-"))
    lines.append("suggested: " + (", ".join(f"{s} ({c:.2f})" for s, c in found.suggestions)
                                  or "-"))
    lines.append(f"({len(words(text))} words read)")
    return lines


def _field(paper: Paper, field: str) -> str:
    return paper.title if field == "title" else paper.abstract if field == "abstract" \
        else paper_text(paper)
