"""Related papers: TF-IDF cosine over the real digest, deterministic and cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from site_builder.build.related import compute_related, related_map
from site_builder.classify.rules import classify
from site_builder.config import load_config
from site_builder.content import load_papers
from site_builder.site import Site, assemble
from tests.conftest import REPO


def real_site() -> Site:
    config = load_config(REPO / "config.yaml")
    return assemble(config, load_papers(config.papers_dir, []), lambda p: classify(p, config))


def real_texts() -> tuple[list[str], list[str]]:
    """The real digest's slugs (sorted) and their title + abstract texts."""
    by_slug = {e.slug: e for e in real_site().entries}
    slugs = sorted(by_slug)
    return slugs, [f"{by_slug[s].paper.title}\n{by_slug[s].paper.abstract}" for s in slugs]


def test_importance_resampling_neighbours_are_about_data_selection(tmp_path: Path) -> None:
    site = real_site()
    related = related_map(site.entries, tmp_path)
    by_slug = {e.slug: e for e in site.entries}
    slug = "data-selection-for-language-models-via-importance-resampling"
    neighbours = related[slug]
    assert len(neighbours) == 5 and slug not in neighbours
    about_selection = [s for s in neighbours if "data-selection" in by_slug[s].themes]
    assert len(about_selection) >= 2, [(s, by_slug[s].themes) for s in neighbours]


def test_deterministic_and_tie_broken_by_slug() -> None:
    slugs = ["a", "b", "c", "d", "e", "f"]
    texts = ["alpha beta", "alpha beta", "alpha beta", "gamma delta", "epsilon", "zeta eta"]
    first = compute_related(slugs, texts, 2)
    assert first == compute_related(slugs, texts, 2)
    assert first["a"] == ["b", "c"] and first["c"] == ["a", "b"]
    assert first["d"] == []  # nothing in common: no neighbour below the similarity floor


def test_result_is_cached_by_corpus(tmp_path: Path) -> None:
    site = real_site()
    first = related_map(site.entries[:50], tmp_path)
    cached = list(tmp_path.glob("related-*.json"))
    assert len(cached) == 1
    assert related_map(site.entries[:50], tmp_path) == first
    related_map(site.entries[:60], tmp_path)
    assert len(list(tmp_path.glob("related-*.json"))) == 1  # the old corpus was dropped


def test_blocks_across_workers_equal_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.related as related

    slugs, texts = real_texts()
    whole = compute_related(slugs, texts, 5)  # one block: 423 x 423 scores
    monkeypatch.setattr(related, "BLOCK_CELLS", 40 * len(slugs))  # 11 blocks of 40 rows
    assert compute_related(slugs, texts, 5) == whole


def test_tokenizing_across_workers_equals_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.related as related

    _, texts = real_texts()
    one = related.tfidf_rows(texts)
    monkeypatch.setattr(related, "TOKENIZE_PARALLEL_MIN", 1)  # forks even for 423 texts
    forked = related.tfidf_rows(texts)
    assert np.array_equal(one, forked)


def test_dense_and_sparse_matrices_give_the_same_neighbours(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A small digest multiplies a dense matrix (no scipy import); a large one a sparse
    one: the same weights, so the same neighbours."""
    import site_builder.build.related as related

    slugs, texts = real_texts()
    dense = related.tfidf_rows(texts)
    assert isinstance(dense, np.ndarray)
    whole = compute_related(slugs, texts, 5)
    monkeypatch.setattr(related, "DENSE_CELLS", 0)
    sparse = related.tfidf_rows(texts)
    assert not isinstance(sparse, np.ndarray)
    assert np.array_equal(sparse.toarray(), dense)
    assert compute_related(slugs, texts, 5) == whole
