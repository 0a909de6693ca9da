"""Related papers: TF-IDF cosine over the real digest, deterministic and cached."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from site_builder.build.related import related_map, related_text
from site_builder.build.related_update import update_related
from site_builder.build.tfidf import compute_related
from site_builder.classify.rules import classify
from site_builder.config import load_config
from site_builder.content import load_papers
from site_builder.site import Entry, Site, assemble, text_material
from site_builder.words import STOP_WORDS, TOKEN
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
    import site_builder.build.tfidf as related

    slugs, texts = real_texts()
    whole = compute_related(slugs, texts, 5)  # one block: 423 x 423 scores
    monkeypatch.setattr(related, "BLOCK_CELLS", 40 * len(slugs))  # 11 blocks of 40 rows
    assert compute_related(slugs, texts, 5) == whole


def test_tokenizing_across_workers_equals_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.tfidf as related

    _, texts = real_texts()
    one = related.tfidf_rows(texts)
    monkeypatch.setattr(related, "TOKENIZE_PARALLEL_MIN", 1)  # forks even for 423 texts
    forked = related.tfidf_rows(texts)
    assert np.array_equal(one, forked)


def test_dense_and_sparse_matrices_give_the_same_neighbours(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A small digest multiplies a dense matrix (no scipy import); a large one a sparse
    one: the same weights, so the same neighbours."""
    import site_builder.build.tfidf as related

    slugs, texts = real_texts()
    dense = related.tfidf_rows(texts)
    assert isinstance(dense, np.ndarray)
    whole = compute_related(slugs, texts, 5)
    monkeypatch.setattr(related, "DENSE_CELLS", 0)
    sparse = related.tfidf_rows(texts)
    assert not isinstance(sparse, np.ndarray)
    assert np.array_equal(sparse.toarray(), dense)
    assert compute_related(slugs, texts, 5) == whole


# --- Exact scores, estimates and the neighbour search (build/neighbours.py) ---


def brute_force(slugs: list[str], texts: list[str], k: int) -> dict[str, list[str]]:
    """Every pair scored by scipy's sparse product (the definition of a score), rounded,
    ranked by (-score, slug): what related papers computed before the search pruned."""
    import site_builder.build.tfidf as related

    matrix = related.tfidf_rows(texts)
    from scipy.sparse import csr_matrix

    sparse = csr_matrix(matrix)
    scores = np.round((sparse @ sparse.T.tocsr()).toarray(), 6)
    result = {}
    for i, slug in enumerate(slugs):
        order = sorted((j for j in range(len(slugs)) if j != i and scores[i, j] >= 0.05),
                       key=lambda j: (-scores[i, j], j))
        result[slug] = [slugs[j] for j in order[:k]]
    return result


def with_copies(slugs: list[str], texts: list[str]) -> tuple[list[str], list[str]]:
    """The texts plus three copies of every tenth one (ties at score 1, ranked by slug)."""
    extra = [(f"{slug}-copy{c}", text) for slug, text in zip(slugs, texts, strict=True)
             if slugs.index(slug) % 10 == 0 for c in range(3)]
    pairs = sorted([*zip(slugs, texts, strict=True), *extra])
    return [s for s, _ in pairs], [t for _, t in pairs]


@pytest.mark.parametrize("sparse", [False, True])
def test_exact_scores_are_scipy_products_and_estimates_are_within_bound(
        sparse: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.tfidf as related
    from site_builder.build.neighbours import ESTIMATE_ERROR, Similarity

    if sparse:
        monkeypatch.setattr(related, "DENSE_CELLS", 0)
    _, texts = with_copies(*real_texts())
    matrix = related.tfidf_rows(texts)
    from scipy.sparse import csr_matrix

    as_csr = csr_matrix(matrix)
    products = (as_csr @ as_csr.T.tocsr()).toarray()
    similarity = Similarity(matrix)
    rows = np.arange(0, len(texts), 3)
    left, right = np.repeat(rows, len(texts)), np.tile(np.arange(len(texts)), len(rows))
    exact = similarity.exact(left, right)
    assert np.array_equal(exact, np.round(products[left, right], 6))
    estimates = similarity.estimate(rows)
    assert np.abs(estimates - products[rows]).max() <= ESTIMATE_ERROR


@pytest.mark.parametrize("sparse", [False, True])
def test_neighbours_equal_every_pair_scored(sparse: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.neighbours as neighbours
    import site_builder.build.tfidf as related

    if sparse:
        monkeypatch.setattr(related, "DENSE_CELLS", 0)
        # Many words dense and many sparse, so both halves of the estimate count.
        monkeypatch.setattr(neighbours, "DENSE_WORD_COST", 0.01)
    slugs, texts = with_copies(*real_texts())
    expected = brute_force(slugs, texts, 5)
    assert compute_related(slugs, texts, 5) == expected
    copies = [s for s in slugs if s.endswith("-copy0")]
    # A text's copies score 1 against it and each other: ranked by slug.
    assert copies and all(expected[s][:3] == [s[:-6], s[:-1] + "1", s[:-1] + "2"]
                          for s in copies)


# --- Incremental update (build/related_update.py) ---


def edited(entry: Entry, title: str | None = None, abstract: str | None = None) -> Entry:
    paper = dataclasses.replace(entry.paper, title=entry.paper.title if title is None else title,
                                abstract=entry.paper.abstract if abstract is None else abstract)
    return dataclasses.replace(entry, paper=paper, text_material=text_material(paper))


def assert_update_is_clean(tmp_path: Path, before: list[Entry], after: list[Entry],
                           hint: set[str]) -> set[str]:
    """update_related from ``before``'s state gives ``after``'s clean map, state and the
    slugs whose list changed; returns those slugs."""
    from site_builder.build.related_update import load_state

    old = related_map(before, tmp_path / "incremental", reuse=False)
    result, changed = update_related(tmp_path / "incremental", after, hint)
    clean = related_map(after, tmp_path / "clean", reuse=False)
    assert result == clean
    assert changed == {s for s in clean if old.get(s) != clean[s]}
    updated, fresh = load_state(tmp_path / "incremental", 5), load_state(tmp_path / "clean", 5)
    assert updated is not None and fresh is not None
    assert updated.counted.words == fresh.counted.words
    for name in ("rows", "cols", "counts"):
        assert np.array_equal(getattr(updated.counted, name), getattr(fresh.counted, name))
    assert np.array_equal(updated.neighbours, fresh.neighbours)
    assert np.array_equal(updated.scores, fresh.scores)
    assert related_map(after, tmp_path / "incremental") == clean  # the map was cached
    return changed


@pytest.fixture(params=[False, True], ids=["dense", "sparse"])
def corpus(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[Entry]:
    """The real digest's entries, plus copies (ties), as a dense or a sparse matrix."""
    import site_builder.build.tfidf as related

    if request.param:
        monkeypatch.setattr(related, "DENSE_CELLS", 0)
    entries = list(real_site().entries)
    copies = [dataclasses.replace(e, paper=dataclasses.replace(e.paper, slug=e.slug + "-copy"),
                                  slug=e.slug + "-copy") for e in entries[::40]]
    return entries + [edited(c) for c in copies]


@pytest.fixture
def no_full_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit of a few rows must not rank every paper again."""
    import site_builder.build.related_update as related_update

    original = related_update.nearest_rows
    calls = {"update": False}
    original_update = related_update.update_related

    def guarded(*args: object, **kwargs: object) -> object:
        assert not calls["update"], "an edit ranked every paper again"
        return original(*args, **kwargs)  # type: ignore[arg-type]

    def update(*args: object, **kwargs: object) -> object:
        calls["update"] = True
        try:
            return original_update(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            calls["update"] = False

    monkeypatch.setattr(related_update, "nearest_rows", guarded)
    monkeypatch.setattr(related_update, "update_related", update)
    monkeypatch.setitem(globals(), "update_related", update)


def test_abstract_edit_updates_like_a_clean_run(tmp_path: Path, corpus: list[Entry],
                                                no_full_ranking: None) -> None:
    target = corpus[7]
    # One word replaced by one that the abstract already holds: no idf moves.
    words = target.paper.abstract.split()
    word = next(w for w in words if w.isalpha() and len(w) > 6 and words.count(w) > 1)
    after = list(corpus)
    after[7] = edited(target, abstract=target.paper.abstract.replace(word, "the", 1) + " " + word)
    assert_update_is_clean(tmp_path, corpus, after, {target.slug})


def words_of(text: str) -> set[str]:
    return {w for w in TOKEN.findall(text.lower()) if w not in STOP_WORDS}


def document_frequencies(entries: list[Entry]) -> dict[str, int]:
    df: dict[str, int] = {}
    for entry in entries:
        for word in words_of(related_text(entry)):
            df[word] = df.get(word, 0) + 1
    return df


def test_title_edit_updates_like_a_clean_run(tmp_path: Path, corpus: list[Entry],
                                             no_full_ranking: None) -> None:
    target = corpus[3]
    # A word of its abstract added to the title: its weight grows, no idf moves.
    word = max(words_of(target.paper.abstract) - words_of(target.paper.title))
    after = list(corpus)
    after[3] = edited(target, title=f"{target.paper.title} {word}")
    assert_update_is_clean(tmp_path, corpus, after, {target.slug})


def test_edit_that_moves_document_frequencies(tmp_path: Path, corpus: list[Entry],
                                              no_full_ranking: None) -> None:
    """A new word, a word two other papers have, and a word the paper alone had: their
    idf changes, so other papers' rows do (found by the text digests: no hint)."""
    df = document_frequencies(corpus)
    target = corpus[20]
    own = words_of(related_text(target))
    rare = min(w for w, n in df.items() if n == 2 and w not in own)
    alone = min(w for w in own if df[w] == 1 and w in target.paper.abstract)
    after = list(corpus)
    after[20] = edited(target, abstract=target.paper.abstract.replace(alone, "quokkas")
                       + f" {rare}")
    assert_update_is_clean(tmp_path, corpus, after, set())


def test_edit_of_a_common_word_updates_like_a_clean_run(tmp_path: Path,
                                                        corpus: list[Entry]) -> None:
    """A word a fifth of the papers use, added: a fifth of the rows move (the update
    may then rank everything again: the result must still be the clean one)."""
    df = document_frequencies(corpus)
    target = corpus[30]
    own = words_of(related_text(target))
    common = min((w for w in df if w not in own),
                 key=lambda w: (abs(df[w] - len(corpus) // 5), w))
    after = list(corpus)
    after[30] = edited(target, abstract=f"{target.paper.abstract} {common} quokkas")
    assert_update_is_clean(tmp_path, corpus, after, {target.slug})


def test_several_edits_and_an_unchanged_corpus(tmp_path: Path, corpus: list[Entry]) -> None:
    """Whole abstracts swapped (common words move: maybe everything is ranked again)."""
    after = list(corpus)
    for i in (1, 50, 51, 300):
        after[i] = edited(corpus[i], abstract=corpus[(i * 7) % len(corpus)].paper.abstract)
    assert_update_is_clean(tmp_path, corpus, after, {corpus[1].slug})
    result, changed = update_related(tmp_path / "incremental", after, set())
    assert changed == set() and result == related_map(after, tmp_path / "clean")


def test_paper_added_updates_like_a_clean_run(tmp_path: Path, corpus: list[Entry]) -> None:
    extra = edited(dataclasses.replace(corpus[5], slug="zz-new-paper",
                                       paper=dataclasses.replace(corpus[5].paper,
                                                                 slug="zz-new-paper")),
                   title="A new paper on data selection")
    changed = assert_update_is_clean(tmp_path, corpus, [*corpus, extra], set())
    assert "zz-new-paper" in changed


def test_paper_removed_updates_like_a_clean_run(tmp_path: Path, corpus: list[Entry]) -> None:
    assert_update_is_clean(tmp_path, corpus, corpus[:100] + corpus[101:], set())


def test_update_without_state_or_from_another_engine_computes(tmp_path: Path,
                                                               corpus: list[Entry]) -> None:
    import site_builder.build.related_update as related_update

    result, changed = update_related(tmp_path, corpus, set())
    assert result == related_map(corpus, tmp_path / "clean", reuse=False)
    assert changed == set(result)
    with np.load(tmp_path / related_update.STATE_FILE, allow_pickle=False) as saved:
        arrays = dict(saved)
    arrays["key"] = np.asarray("made by other code")
    np.savez(tmp_path / related_update.STATE_FILE, **arrays)
    assert related_update.load_state(tmp_path, 5) is None
    (tmp_path / related_update.STATE_FILE).write_bytes(b"not an npz")
    assert related_update.load_state(tmp_path, 5) is None
