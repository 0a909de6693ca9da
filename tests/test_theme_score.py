"""`site-builder themes`: cross-validated scores that never train on what they score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from site_builder.classify import evaluate
from site_builder.classify.model import Example, ThemeModel, examples, train
from site_builder.cli import main
from site_builder.config import Config, load_config
from site_builder.content import read_paper
from site_builder.models import Paper
from tests.conftest import REPO


def _real() -> tuple[Config, list[Paper]]:
    config = load_config(REPO / "config.yaml")
    return config, [read_paper(p) for p in sorted((REPO / "content/papers").glob("*.md"))]


def test_cross_validation_never_trains_on_the_fold_it_scores() -> None:
    config, papers = _real()
    calls: list[set[str]] = []

    def spy(found: Sequence[Example], themes: Sequence[str]) -> ThemeModel:
        calls.append({e.slug for e in found})
        return train(found[:40], themes)  # a small model: this test is about the data

    result = evaluate.cross_validate(papers, config, folds=3, trainer=spy)
    assert len(calls) == 3
    pinned = {e.slug for e in examples(papers, [t.slug for t in config.themes])}
    for fold, trained in enumerate(calls):
        scored = {s for s in pinned if evaluate.fold_of(s, 3) == fold}
        assert trained and not trained & scored
        assert trained | scored == pinned  # everything else did train
    assert set(result.results) == pinned and result.papers == len(pinned)


def test_a_leak_would_show_in_the_score() -> None:
    # Labels that have nothing to do with the text but a unique word per paper: a
    # model trained on the scored papers would recall them; one that is not, cannot.
    config, real = _real()
    papers = [replace(p, title=f"Item {i}", abstract=f"word{i} common text here",
                      themes=("data-selection",) if i % 2 else ("long-context",),
                      not_themes=()) for i, p in enumerate(real[:120])]
    honest = evaluate.cross_validate(papers, config, folds=4).micro

    def leaky(found: Sequence[Example], themes: Sequence[str]) -> ThemeModel:
        everyone = examples(papers, themes)
        return train(everyone, themes)

    leaked = evaluate.cross_validate(papers, config, folds=4, trainer=leaky).micro
    assert leaked.f1 > 0.95 and honest.f1 < 0.7


def test_themes_verb_prints_scores_and_explains(capsys: object) -> None:
    import pytest

    assert main(["--config", str(REPO / "config.yaml"), "themes", "--folds", "3"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "3-fold cross-validation" in out and "micro (all themes)" in out
    slug = "llemma-an-open-language-model-for-mathematics"
    if not (REPO / "content/papers" / f"{slug}.md").exists():
        slug = sorted((REPO / "content/papers").glob("*.md"))[0].stem
    assert main(["--config", str(REPO / "config.yaml"), "themes", "--explain", slug]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "pinned:" in out and "words:" in out
    del pytest


def test_holdout_dump_takes_a_path_and_names_the_dumps_it_knows(capsys: object) -> None:
    """`--holdout-dump FILE`: the file as a path into content/dumps works as its name
    does, and a dump no paper came from is an error naming those that exist."""
    dump = sorted((REPO / "content/dumps").glob("*.txt"))[-1]
    config = ["--config", str(REPO / "config.yaml"), "themes"]
    assert main([*config, "--holdout-dump", str(dump.relative_to(REPO))]) == 0
    by_path = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"held-out dump {dump.name}" in by_path
    assert main([*config, "--holdout-dump", dump.name]) == 0
    assert capsys.readouterr().out == by_path  # type: ignore[attr-defined]
    assert main([*config, "--holdout-dump", "no-such-dump.txt"]) != 0
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "no-such-dump.txt" in err and dump.name in err


def test_limit_positives_keeps_that_many_pins_a_theme_and_every_negative() -> None:
    config, papers = _real()
    themes = [t.slug for t in config.themes]
    found = examples(papers, themes)
    kept = evaluate.limit_positives(found, 3)
    for j in range(len(themes)):
        positives = sum(e.labels[j] > 0 for e in found)
        assert sum(e.labels[j] > 0 for e in kept) == min(3, positives)
        # the others say nothing of the theme; no negative is dropped or made
        assert [e.labels[j] < 0 for e in kept] == [e.labels[j] < 0 for e in found]
    assert [e.slug for e in kept] == [e.slug for e in found]
    assert evaluate.limit_positives(found, 3) == kept  # the same pins each time


def test_learning_curve_prints_a_line_per_number_of_pins() -> None:
    """`site-builder themes --learning-curve`: a line for 1, 3, 5, 10 and all pins a
    theme; with all of them it is the k-fold table's own micro score."""
    import re

    from site_builder.classify import report

    config, papers = _real()
    some = sorted(papers, key=lambda p: evaluate.fold_of(p.slug, 7))[:90]
    lines = report.report(config, some, folds=3, curve=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("learning curve"))
    rows = lines[start + 1:]
    assert [r.split(":")[0].strip() for r in rows] == ["1", "3", "5", "10", "all"]
    micro = next(line for line in lines if line.startswith("micro (all themes)")).split()
    assert re.findall(r"\d\.\d{3}", rows[-1])[:3] == micro[-3:]
    from site_builder.cli import build_parser

    for flag in ("--learning-curve", "--curve"):  # the short name stays for old scripts
        assert build_parser().parse_args(["themes", flag]).curve


def test_rule_values_score_each_rule_left_out_against_the_k_fold_run() -> None:
    """`themes --rules`: with every rule the counts are the k-fold run's; each rule
    and exclusion is left out once; leaving out a rule that matches none of the scored
    papers changes nothing, and some rule does change the score."""
    from site_builder.classify import report
    from site_builder.cli import build_parser

    config, papers = _real()
    some = sorted(papers, key=lambda p: evaluate.fold_of(p.slug, 7))[:90]
    every, values = evaluate.rule_values(some, config, folds=3)
    micro = evaluate.cross_validate(some, config, folds=3).micro
    assert (every.pins, every.tp, every.fp, every.fn) == (micro.pins, micro.tp, micro.fp,
                                                          micro.fn)
    assert len(values) == sum(len(t.rules) + len(t.exclude) for t in config.themes)
    assert all(v.without.pins == every.pins for v in values)
    texts = [replace(p, themes=(), not_themes=()) for p in some]
    for v in values:
        matches = any(v.rule.pattern.search(p.title if v.rule.field == "title" else
                                            p.abstract if v.rule.field == "abstract" else
                                            f"{p.title}\n{p.abstract}") for p in texts)
        if not matches:
            assert (v.without.tp, v.without.fp) == (every.tp, every.fp)
    assert any(v.without.f1 != every.f1 for v in values)
    lines = report.rule_report(config, some, folds=3)
    assert lines[-1].endswith("lower it") and len(lines) == len(values) + 3
    assert build_parser().parse_args(["themes", "--rules"]).rules
