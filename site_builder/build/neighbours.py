"""Exact top-k cosine neighbours among TF-IDF rows, without an exact score for every pair.

In: L2-normalised float32 TF-IDF rows (a numpy array, or a scipy CSR matrix with sorted
indices) and each word's document frequency. Out: for chosen rows, the ``take`` other
rows of highest score, highest first, ties by row index, none below MIN_SIMILARITY.

What "score" means, exactly: the float32 sum, word by word in column order, of the
float32 products of the two rows' weights, rounded to ROUND_DECIMALS. That is what
scipy's sparse product computed for every corpus large enough to be sparse; it is
defined without BLAS, so it does not change with the CPU's kernels or the blocking, and
a recomputation of a few rows (the incremental update) gives the same bits as a clean
run.

How, fast: every pair gets an *estimate* first, from fast products whose summation
order differs (BLAS for the commonest words, held dense; scipy's sparse product for the
rest). An estimate is within ESTIMATE_ERROR of the exact score (float32 rounding over
at most a few hundred shared words, each product at most 1). Per row, only the pairs
whose estimate reaches the row's take-th best estimate (or the floor) minus MARGIN can
be in the answer, since the exact take-th best is within ESTIMATE_ERROR of the
estimated one; those few candidates get their exact score and are ranked. The result is
the exact ranking, not an approximation, whatever the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatRows = npt.NDArray[np.float32]
    Indexes = npt.NDArray[np.int64]

MIN_SIMILARITY = 0.05
"""Rows scoring less than this are not related, however few neighbours a row has."""
ROUND_DECIMALS = 6
"""Scores are rounded so that order depends on the text, then the row index."""
ESTIMATE_ERROR = 2e-5
"""Bound on |estimate - exact score|: a float32 dot product of normalised rows over m
shared words errs by at most about m * 6e-8 (m is a few hundred at most)."""
MARGIN = 2 * ESTIMATE_ERROR + 10.0 ** -ROUND_DECIMALS
"""How far below the take-th best estimate a candidate may be: the two estimation
errors and the rounding step."""
DENSE_BYTES = 256 * 2**20
"""Most memory the dense columns of the commonest words may take."""
DENSE_WORD_COST = 0.0005
"""A dense column costs this many sparse multiply-adds per pair of rows (BLAS is that
much faster per operation than scipy's sparse product; measured)."""


def common_words(df: Any, rows: int) -> Any:
    """The columns held dense: the commonest words, as many as make the estimate cheapest.

    A word of document frequency d costs d*d multiply-adds in the sparse product and
    rows*rows*DENSE_WORD_COST when dense; words are moved to the dense side, commonest
    first, while that saves more than it costs (and DENSE_BYTES allow).
    """
    order = np.argsort(-df, kind="stable")
    sparse_cost = df[order].astype(np.float64) ** 2
    dense_cost = float(rows) * rows * DENSE_WORD_COST
    most = int(DENSE_BYTES // (4 * max(1, rows)))
    count = int(np.count_nonzero(sparse_cost[:most] > dense_cost))
    return np.sort(order[:count])


def distinct_rows(matrix: Any) -> tuple[Any, Any]:
    """(the index of each distinct row's first occurrence, each row's distinct number):
    rows with the same weights (papers that share a text) score alike against everything,
    so they are estimated and scored once."""
    seen: dict[bytes, int] = {}
    if isinstance(matrix, np.ndarray):
        keys = [row.tobytes() for row in matrix]
    else:
        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
        keys = [indices[a:b].tobytes() + b"/" + data[a:b].tobytes()
                for a, b in zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True)]
    kind = np.asarray([seen.setdefault(key, len(seen)) for key in keys], dtype=np.int64)
    first = np.full(len(seen), -1, dtype=np.int64)
    first[kind[::-1]] = np.arange(len(kind))[::-1]
    return first, kind


class Similarity:
    """Estimated and exact scores between the rows of one TF-IDF matrix."""

    def __init__(self, matrix: Any) -> None:
        self.rows = matrix.shape[0]
        self.first, self.kind = distinct_rows(matrix)
        self.matrix = matrix[self.first]  # one row per distinct text
        self.dense = isinstance(matrix, np.ndarray)
        if self.dense:
            return
        from scipy.sparse import csr_matrix

        unique = self.matrix
        df = np.bincount(unique.indices, minlength=unique.shape[1])
        common = common_words(df, unique.shape[0])
        is_common = np.zeros(unique.shape[1], dtype=bool)
        is_common[common] = True
        cols = unique.indices
        rare_cells = ~is_common[cols]
        row_of = np.repeat(np.arange(unique.shape[0]), np.diff(unique.indptr))
        self.common = np.zeros((unique.shape[0], len(common)), dtype=np.float32)
        position = np.zeros(unique.shape[1], dtype=np.int64)
        position[common] = np.arange(len(common))
        self.common[row_of[~rare_cells], position[cols[~rare_cells]]] = \
            unique.data[~rare_cells]
        self.rare = csr_matrix((unique.data[rare_cells],
                                (row_of[rare_cells], cols[rare_cells])),
                               shape=unique.shape, dtype=np.float32)
        self.rare_t = self.rare.T.tocsr()

    def estimate(self, rows: Indexes) -> FloatRows:
        """Scores of ``rows`` against every row (len(rows) x n), each within
        ESTIMATE_ERROR of the exact score."""
        kinds = self.kind[rows]
        if self.dense:
            scores = np.asarray(self.matrix[kinds] @ self.matrix.T, dtype=np.float32)
        else:
            scores = np.asarray(self.common[kinds] @ self.common.T, dtype=np.float32)
            if self.rare.nnz:
                product = self.rare[kinds] @ self.rare_t
                lines = np.repeat(np.arange(len(rows)), np.diff(product.indptr))
                scores[lines, product.indices] += product.data
        return scores[:, self.kind] if len(self.kind) > scores.shape[1] else scores

    def exact(self, left: Indexes, right: Indexes) -> FloatRows:
        """The exact, rounded score of each pair (left[i], right[i]): see the module
        docstring. Each distinct pair of texts is scored once."""
        pairs = self.kind[left] * len(self.kind) + self.kind[right]
        unique, back = np.unique(pairs, return_inverse=True)
        return self._exact(unique // len(self.kind), unique % len(self.kind))[back]

    def _exact(self, left: Indexes, right: Indexes) -> FloatRows:
        """Exact scores of pairs of distinct rows. Products are summed one word position
        at a time across all pairs, so each pair's sum runs in column order, in float32."""
        if self.dense:
            products = self.matrix[left] * self.matrix[right]
            # Sequential by definition (every partial sum is an output); the zeros of
            # words the two rows do not share add nothing, exactly.
            sums = np.add.accumulate(products, axis=1, dtype=np.float32)[:, -1] \
                if products.shape[1] else np.zeros(len(left), dtype=np.float32)
            return np.round(sums, ROUND_DECIMALS)
        shared = self.matrix[left].multiply(self.matrix[right]).tocsr()
        shared.sort_indices()
        lengths = np.diff(shared.indptr)
        order = np.argsort(-lengths, kind="stable")  # longest first: a prefix per position
        starts = shared.indptr[:-1][order]
        by_length = lengths[order]
        sums = np.zeros(len(left), dtype=np.float32)
        data = np.asarray(shared.data, dtype=np.float32)
        longest = int(by_length[0]) if len(by_length) else 0
        # How many pairs share more than p words, for each position p.
        reaching = len(order) - np.searchsorted(by_length[::-1], np.arange(longest),
                                                side="right")
        for position in range(longest):
            count = int(reaching[position])
            sums[:count] += data[starts[:count] + position]
        result = np.empty_like(sums)
        result[order] = sums
        return np.round(result, ROUND_DECIMALS)

    @property
    def distinct(self) -> int:
        """How many distinct rows (texts) there are."""
        return int(self.matrix.shape[0])

    def ranked(self, kinds: Indexes, take: int) -> tuple[Any, Any]:
        """For each of the distinct rows ``kinds``: the ``take`` rows of best exact score,
        best first, ties by row index, none below MIN_SIMILARITY (its own rows included).
        As two len(kinds) x take arrays, int64 padded with -1 and float32 padded with 0."""
        count = len(kinds)
        neighbours = np.full((count, take), -1, dtype=np.int64)
        scores = np.zeros((count, take), dtype=np.float32)
        if count == 0 or take == 0:
            return neighbours, scores
        estimates = self.estimate(self.first[kinds])
        take_all = min(take, self.rows)
        kth = np.partition(estimates, self.rows - take_all, axis=1)[:, self.rows - take_all]
        floor = np.maximum(kth, MIN_SIMILARITY) - MARGIN
        lines, cols = np.nonzero(estimates >= floor[:, None])
        del estimates
        exact = self.exact(self.first[kinds[lines]], cols)
        # The rounded float32 score, compared as a Python float (as it always was).
        keep = exact.astype(np.float64) >= MIN_SIMILARITY
        lines, cols, exact = lines[keep], cols[keep], exact[keep]
        order = np.lexsort((cols, -exact, lines))
        lines, cols, exact = lines[order], cols[order], exact[order]
        rank = np.arange(len(lines)) - np.searchsorted(lines, np.arange(count))[lines]
        best = rank < take
        neighbours[lines[best], rank[best]] = cols[best]
        scores[lines[best], rank[best]] = exact[best]
        return neighbours, scores

    def nearest(self, rows: Indexes, take: int) -> tuple[Any, Any]:
        """For each of ``rows``: up to ``take`` (neighbour, exact score), best first, ties
        by neighbour index, none below MIN_SIMILARITY, never the row itself. As two
        len(rows) x take arrays, int64 padded with -1 and float32 padded with 0.

        Rows of one text share one ranking: a row's answer is that ranking, one longer,
        without the row itself."""
        kinds, back = np.unique(self.kind[rows], return_inverse=True)
        near, score = self.ranked(kinds, take + 1)
        return without_self(near[back], score[back], rows, take)


def without_self(near: Any, score: Any, rows: Indexes, take: int) -> tuple[Any, Any]:
    """Each line of ``near`` (and ``score``) without its own row, cut to ``take``."""
    keep = (near != rows[:, None]) & (near >= 0)
    rank = np.cumsum(keep, axis=1) - 1
    keep &= rank < take
    neighbours = np.full((len(rows), take), -1, dtype=np.int64)
    scores = np.zeros((len(rows), take), dtype=np.float32)
    lines, places = np.nonzero(keep)
    neighbours[lines, rank[lines, places]] = near[lines, places]
    scores[lines, rank[lines, places]] = score[lines, places]
    return neighbours, scores
