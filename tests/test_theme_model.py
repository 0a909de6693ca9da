"""The theme model learned from pins: training data, the build, caching, scoring."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.classify.model import model_for
from site_builder.config import load_config
from site_builder.content import read_paper, set_list_fields
from site_builder.errors import ContentError
from site_builder.ingest.merge import ingest
from tests.conftest import REPO, dump_text
from tests.golden_site import files

# Two subjects in words no rule of the test config knows, so only the model can tell them.
ZEPHYR = ["zephyr", "quillwort", "marram", "sedge", "bracken", "heather", "gorse", "tussock"]
QUOKKA = ["quokka", "wallaby", "numbat", "bilby", "dunnart", "potoroo", "bettong", "quoll"]
FILLER = ["method", "results", "study", "approach", "experiments", "analysis"]


def _text(words: list[str], i: int) -> str:
    picked = [words[(i + k) % len(words)] for k in range(5)]
    return (f"{words[0].title()} {words[1]} number {i}\n\nWe present a {picked[2]} "
            f"{FILLER[i % 6]} with {picked[3]} and {picked[4]} {picked[0]} {FILLER[(i + 2) % 6]}.")


@pytest.fixture
def corpus(project: Callable[..., Path]) -> Path:
    entries = [_text(ZEPHYR, i) for i in range(8)] + [_text(QUOKKA, i) for i in range(8)]
    root = project({"a.txt": dump_text(*entries)}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    return root


def _pin(root: Path, stem: str, themes: list[str], not_themes: Sequence[str] = ()) -> None:
    path = next((root / "content/papers").glob(f"{stem}.md"))
    path.write_text(set_list_fields(path.read_text(), str(path),
                                    {"themes": themes, "not_themes": list(not_themes)}))


def _themes(site: Path, stem: str) -> str:
    """The theme titles the paper's own page gives it (not its related papers')."""
    html = (site / "papers" / stem / "index.html").read_text()
    found = re.search(r'data-pagefind-meta="themes">([^<]*)<', html)
    return found.group(1) if found else ""


BOTH = ("data-selection", "long-context")


def _pin_quokkas(root: Path) -> None:
    for i in range(1, 8):
        _pin(root, f"quokka-wallaby-number-{i}", ["long-context"])


def test_pins_move_a_similar_unpinned_paper_and_incremental_equals_clean(corpus: Path) -> None:
    _pin_quokkas(corpus)
    for i in range(1, 8):  # zephyr papers: pinned to no theme at all
        _pin(corpus, f"zephyr-quillwort-number-{i}", [], BOTH)
    site = corpus / "_site"
    build_site(corpus / "config.yaml", site)
    held_out = "zephyr-quillwort-number-0"
    assert "Data selection" not in _themes(site, held_out)
    assert _themes(site, "quokka-wallaby-number-0") == "Long context"
    before = files(site)
    # The curator now says the zephyr papers are about data selection: retrained, the
    # model moves the held-out zephyr paper there too.
    for i in range(1, 8):
        _pin(corpus, f"zephyr-quillwort-number-{i}", ["data-selection"])
    result = build_site(corpus / "config.yaml", site)
    assert _themes(site, held_out) == "Data selection"
    after = files(site)
    assert after == files(build_site(corpus / "config.yaml", corpus / "clean",
                                     clean=True).out)
    # Only what shows changed themes was rendered: the quokka pages did not change.
    assert before[next(p for p in before if "quokka-wallaby-number-3/" in p)] == \
        after[next(p for p in after if "quokka-wallaby-number-3/" in p)]
    assert result.stats.rendered < len([p for p in after if p.endswith(".html")])


def test_not_themes_wins_over_rules_and_model(corpus: Path) -> None:
    _pin_quokkas(corpus)
    # Its text matches the long-context rule, and the model is sure of it too.
    _pin(corpus, "quokka-wallaby-number-0", [], ["long-context"])
    path = next((corpus / "content/papers").glob("quokka-wallaby-number-0.md"))
    path.write_text(path.read_text().replace("We present", "A long-context quokka. We present"))
    site = corpus / "_site"
    build_site(corpus / "config.yaml", site)
    assert _themes(site, "quokka-wallaby-number-0") == ""
    _pin(corpus, "quokka-wallaby-number-0", [], [])
    build_site(corpus / "config.yaml", site)
    assert _themes(site, "quokka-wallaby-number-0") == "Long context"


def test_unknown_theme_in_a_pin_names_file_and_line(corpus: Path) -> None:
    path = next((corpus / "content/papers").glob("zephyr-quillwort-number-2.md"))
    path.write_text(set_list_fields(path.read_text(), str(path),
                                    {"themes": ["long-context", "bogus"]}))
    line = path.read_text().split("\n").index("- bogus") + 1
    with pytest.raises(ContentError) as caught:
        build_site(corpus / "config.yaml", corpus / "_site")
    assert caught.value.file == f"content/papers/{path.name}" and caught.value.line == line
    assert "bogus" in str(caught.value)


def test_no_pins_builds_from_rules_alone(corpus: Path) -> None:
    site = corpus / "_site"
    build_site(corpus / "config.yaml", site)
    assert not list((corpus / ".cache").glob("theme-model-*"))
    # Rules alone: no paper of the corpus matches a rule of the test config.
    assert not [p for p in site.glob("papers/*/") if _themes(site, p.name)]


def test_two_builds_are_byte_identical_and_reuse_skips_scikit_learn(corpus: Path) -> None:
    _pin_quokkas(corpus)
    for i in range(1, 8):
        _pin(corpus, f"zephyr-quillwort-number-{i}", ["data-selection"])
    twin = corpus.parent / "twin"
    shutil.copytree(corpus, twin)
    first = files(build_site(corpus / "config.yaml", corpus / "_site").out)
    assert first == files(build_site(twin / "config.yaml", twin / "_site").out)
    # An unpinned paper's edit: every page is planned again, the model is only read.
    path = next((corpus / "content/papers").glob("zephyr-quillwort-number-0.md"))
    path.write_text(path.read_text().replace("We present", "We show"))
    code = ("import sys; from pathlib import Path; "
            "from site_builder.build.pipeline import build_site; "
            f"build_site(Path({str(corpus / 'config.yaml')!r}), Path({str(corpus / '_site')!r}));"
            "assert 'sklearn' not in sys.modules, 'scikit-learn imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    assert files(corpus / "_site") == files(build_site(corpus / "config.yaml", corpus / "clean",
                                                       clean=True).out)


def test_model_is_stored_without_pickles_and_applied_as_trained(corpus: Path) -> None:
    _pin_quokkas(corpus)
    _pin(corpus, "zephyr-quillwort-number-1", ["data-selection"])
    config = load_config(corpus / "config.yaml")
    papers = [read_paper(p) for p in sorted((corpus / "content/papers").glob("*.md"))]
    trained = model_for(papers, config, corpus / ".cache")
    loaded = model_for(papers, config, corpus / ".cache")
    assert trained is not None and loaded is not None and loaded.key == trained.key
    import numpy as np

    with np.load(next((corpus / ".cache").glob("theme-model-*.npz")), allow_pickle=False) as d:
        assert all(d[name].dtype != object for name in d.files)
    texts = [f"{p.title}\n{p.abstract}" for p in papers]
    assert (trained.confidences(texts) == loaded.confidences(texts)).all()


def test_a_word_in_the_title_weighs_more_than_in_the_abstract() -> None:
    from site_builder.classify.model import Example, train

    # Positives name the subject in the title or in the abstract; negatives never.
    found = [Example(f"pos-{i}", f"{ZEPHYR[i % 8]} {FILLER[i % 6]}\n"
                     f"{' '.join(FILLER)} {ZEPHYR[(i + 3) % 8]}", (1,)) for i in range(8)]
    found += [Example(f"neg-{i}", f"{QUOKKA[i % 8]} {FILLER[i % 6]}\n"
                      f"{' '.join(FILLER)} {QUOKKA[(i + 3) % 8]}", (-1,)) for i in range(8)]
    model = train(found, ["data-selection"])
    in_title, in_abstract = model.confidences([f"Marram {FILLER[0]}\n{' '.join(FILLER)}",
                                               f"Plain {FILLER[0]}\n{' '.join(FILLER)} marram"])
    assert in_title[0] > in_abstract[0] > model.confidences(["Plain\nmethod"])[0][0]


def test_partly_matched_rules_rank_a_suggestion_first() -> None:
    """Of two themes the model is equally unsure of, the one whose rules got half-way
    to their threshold is suggested first, with the higher score; rules that did not
    match at all leave the confidence as it is."""
    from site_builder.classify.model import RULE_NUDGE, SUGGEST, combine
    from site_builder.models import Classification, Paper

    config = load_config(REPO / "config.yaml")
    slugs = [t.slug for t in config.themes]
    half, other = slugs[-1], slugs[0]  # the later theme would lose a tie
    threshold = next(t.threshold for t in config.themes if t.slug == half)
    ruled = Classification(themes=(), tags=(), theme_scores=tuple(
        (s, threshold / 2 if s == half else 0.0) for s in slugs))
    paper = Paper(id="x", slug="p", title="A paper", abstract="About something.",
                  published=None, authors=None, submitter=None, comments=None, sources=())
    probs = [SUGGEST + 0.01 if s in (half, other) else 0.0 for s in slugs]
    found = combine(ruled, paper, config, probs)
    assert found.themes == ()
    assert found.suggestions == ((half, round(SUGGEST + 0.01 + RULE_NUDGE / 2, 4)),
                                 (other, SUGGEST + 0.01))
