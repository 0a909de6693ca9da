"""A linear model per theme, learned from the curator's pins, applied with numpy alone.

In: the pinned papers (front-matter ``themes``, or ``not_themes``) and the Config's
theme slugs. Out: a ThemeModel that gives every paper a confidence per theme, and
``combine``, which adds the confident ones to what the rules found.

Labels, theme by theme: a paper pinned to the theme is a positive; a pinned paper
not in it, or one whose ``not_themes`` names it, is a negative. Unpinned papers are
not negatives (the rules' guesses are not the curator's word). Features are TF-IDF
of title and abstract, tokenised and weighted as related papers are (related.py:
its TOKEN and STOP_WORDS, sublinear tf, smooth idf, L2 rows), over the training
texts' words; and beside them, at TITLE_WEIGHT, the TF-IDF of the title alone (its
own words, idf over the training titles, its own L2 norm): what a paper is about
is said in its title, and an abstract's many words drown it otherwise. Each theme
is a scikit-learn LogisticRegression with balanced class weights, so its
probability is the confidence (arxiv-sanity's recipe, with probabilities instead
of SVM margins).

Why numpy to apply: importing scikit-learn costs 0.6 s. Training happens only when the
pins, the pinned texts or the libraries change; the coefficients are then stored in
an .npz (arrays only, read with allow_pickle=False: loading cannot run code) under
the digest of those inputs, and every later build just reads them.

Measured with `site-builder themes` (k-fold on the 423 seed papers, and each of the
five dumps held out) and not kept, because none was better on both (micro-F1, k-fold
/ worst dump; today 0.789 / 0.745): C 1, 3, 30, 100 (0.786-0.788 / 0.745-0.749);
word bigrams (0.776 / 0.739), bigrams in titles only (0.786 / 0.744); arxiv-sanity's
LinearSVC on bigrams, C 0.1-1 (0.772-0.775 / 0.737-0.741); NB-weighted features
(0.779-0.790 / 0.731-0.743); stemming (0.788 / 0.745); min_df 2-3 (0.778-0.782);
TITLE_WEIGHT 0.3, 0.7, 1 (0.791, 0.779, 0.756; worse dumps); the rules' scores or
hits as features (0.764-0.793 / 0.738-0.764, ASSIGN picked by nested CV: 0.790-0.797
/ 0.723-0.748); the theme descriptions as extra positives (0.787-0.790 / 0.745);
averaging with a bigram model or with 5-20 nearest pinned neighbours (<= 0.784);
capping themes a paper at 2 or 3, or the model's additions at 1 or 2 (no better).
The model is the limit: alone its best micro-F1 is 0.65 (rules alone: 0.754).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from site_builder.incremental.engine import engine_digest
from site_builder.words import STOP_WORDS, TOKEN

if TYPE_CHECKING:
    from site_builder.config import Config
    from site_builder.models import Classification, Paper

MODEL_VERSION = "theme-model-v2"
C = 10.0
"""Inverse regularisation of each theme's regression (chosen by `site-builder themes`;
1, 3, 30 and 100 were no better, see above)."""
TITLE_WEIGHT = 0.5
"""Length of a paper's title-words vector beside its L2-normed text vector (chosen by
`site-builder themes`: higher precision in the k-fold run and on every held-out dump)."""
TITLE = "t:"
"""The prefix of a title word's column (TOKEN's words never hold a colon)."""
ASSIGN = 0.5
"""A theme the model gives at least this confidence is assigned. One global bar,
chosen by nested cross-validation: inside each of the ten training sets (five folds,
five held-out dumps) a 4-fold run picked the bar that maximised its micro-F1, and it
picked 0.5-0.6 each time. Lower bars buy recall at a higher price in precision (0.4:
P 0.817 R 0.747 F1 0.780 k-fold); bars picked per theme the same way scored lower
(k-fold 0.785, dumps 0.730-0.798 against 0.745-0.820): twelve bars from a few dozen
pins each are noise."""
SUGGEST = 0.155
"""Below ASSIGN and a suggestion score (see RULE_NUDGE) of at least this: a suggestion
for the curator (set by `site-builder themes` so that suggestions reach the most pins
at no more than 2.5 a paper in the k-fold run; the held-out dumps then stay near 2.5)."""
MAX_SUGGESTIONS = 3
RULE_NUDGE = 0.2
"""A suggestion is ranked by the model's confidence plus RULE_NUDGE times how far the
theme's rules got towards their threshold (score / threshold, clipped to 0..1): a
theme whose rules half matched is the likelier one the curator wants. Measured with
`site-builder themes`: nudges of 0.05, 0.1, 0.2 and 0.3 each raised the pins held by
themes + suggestions in the k-fold run and on all five held-out dumps (0.2: 0.915 ->
0.921 k-fold); used to assign as well, it lowered F1 on two dumps, so it only ranks."""
RULE_CONFIDENCE = 0.95
"""The confidence of a theme the rules assign: their precision on the pins, measured
by `site-builder themes` (0.95 on the 423 seed papers)."""
_FILE = re.compile(r"theme-model-[0-9a-f]{32}\.npz")


@dataclass(frozen=True)
class Example:
    """One pinned paper as training data: +1 / -1 per theme, 0 where it says nothing."""

    slug: str
    text: str
    labels: tuple[int, ...]


def paper_text(paper: Paper) -> str:
    return f"{paper.title}\n{paper.abstract}"


def title_of(text: str) -> str:
    """The title of a paper_text (titles are one line)."""
    return text.partition("\n")[0]


def words(text: str) -> list[str]:
    """The words of a text, as related papers read them."""
    return [w for w in TOKEN.findall(text.lower()) if w not in STOP_WORDS]


def is_pinned(paper: Paper) -> bool:
    return bool(paper.themes or paper.not_themes) and not paper.hidden


def examples(papers: Sequence[Paper], themes: Sequence[str]) -> list[Example]:
    """The training examples of the pinned, visible papers, by slug."""
    found = []
    for paper in sorted((p for p in papers if is_pinned(p)), key=lambda p: p.slug):
        labels = tuple(1 if t in paper.themes else
                       -1 if paper.themes or t in paper.not_themes else 0 for t in themes)
        found.append(Example(paper.slug, paper_text(paper), labels))
    return found


def training_key(found: Sequence[Example], themes: Sequence[str]) -> str:
    """A digest of everything a model is a function of: the examples, the themes, the
    settings, our code and the libraries (engine.py; scikit-learn is one of them). So a
    stored model is reused, clean builds included, only when retraining would give it."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((MODEL_VERSION, C, TITLE_WEIGHT, tuple(themes), engine_digest())).encode())
    for e in found:
        h.update(f"\0{e.slug}\0{e.text}\0{e.labels}".encode())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class ThemeModel:
    """Coefficients per theme over a vocabulary; ``key`` is its training_key."""

    key: str
    themes: tuple[str, ...]
    vocabulary: tuple[str, ...]
    idf: Any  # float64 (words,)
    coef: Any  # float64 (words, themes)
    intercept: Any  # float64 (themes,); -inf for a theme with no positive or negative

    @cached_property
    def index(self) -> dict[str, int]:
        """Column of each word (built once: 10,000 words take a few ms)."""
        return {w: i for i, w in enumerate(self.vocabulary)}

    @cached_property
    def title_columns(self) -> Any:
        """For each column, the column of the same word in a title (-1: none)."""
        import numpy as np

        index = self.index
        return np.asarray([index.get(TITLE + w, -1) for w in self.vocabulary], dtype=np.int64)

    def rows(self, texts: Sequence[str]) -> tuple[Any, Any, Any]:
        """The texts' feature cells as (row, column, weight) arrays: the TF-IDF of the
        whole text (L2-normalised), then that of its title (its ``t:`` columns,
        L2-normalised and scaled by TITLE_WEIGHT). Each part is sorted by row and
        column; no cell is in both.

        Vectorised: one dict lookup a word (in C, through map), the counting in numpy.
        Each text is read once, title and abstract apart (no word spans the newline, so
        their words are the text's): its first words are its title's, whose columns
        follow from the text's by ``title_columns``. Stop words need no filtering: the
        vocabulary was made without them."""
        import numpy as np

        parts = [text.lower().partition("\n") for text in texts]
        heads = [TOKEN.findall(head) for head, _, _ in parts]
        tails = [TOKEN.findall(tail) for _, _, tail in parts]
        flat = chain.from_iterable(chain.from_iterable(zip(heads, tails, strict=True)))
        ids = np.fromiter(map(self.index.get, flat, repeat(-1)), dtype=np.int64)
        in_head = np.asarray([len(h) for h in heads], dtype=np.int64)
        lengths = in_head + np.asarray([len(t) for t in tails], dtype=np.int64)
        row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        # A word's place in its text, against the number of its text's title words.
        place = np.arange(len(ids), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths,
                                                                 lengths)
        known = ids >= 0
        titled = known & (place < np.repeat(in_head, lengths))
        title_ids = self.title_columns[ids[titled]]
        r, c, w = self._tfidf(row_of[known], ids[known], len(texts))
        tr, tc, tw = self._tfidf(row_of[titled][title_ids >= 0], title_ids[title_ids >= 0],
                                 len(texts))
        return np.concatenate([r, tr]), np.concatenate([c, tc]), \
            np.concatenate([w, TITLE_WEIGHT * tw])

    def _tfidf(self, row_of: Any, ids: Any, texts: int) -> tuple[Any, Any, Any]:
        """The L2-normalised TF-IDF cells of words given as (text, column) pairs."""
        import numpy as np

        width = max(1, len(self.vocabulary))
        cells, counts = np.unique(row_of * width + ids, return_counts=True)
        r, c = cells // width, cells % width
        weights = (1.0 + np.log(counts)) * self.idf[c]
        norms = np.sqrt(np.bincount(r, weights=weights * weights, minlength=texts))
        norms[norms == 0] = 1.0
        return r, c, weights / norms[r]

    def confidences(self, texts: Sequence[str]) -> Any:
        """(texts, themes) probabilities, rounded to 4 places so that the order of a
        float sum cannot move a theme across a threshold between machines."""
        import numpy as np

        r, c, w = self.rows(texts)
        # Theme by theme: gathering all themes' coefficients at once made a temporary of
        # words x themes floats (110 MB at 5,000 papers), slower than 12 bincounts.
        scores = np.stack([np.bincount(r, weights=w * column[c], minlength=len(texts))
                           for column in self.coef.T], axis=1) if len(self.themes) else \
            np.zeros((len(texts), 0))
        with np.errstate(over="ignore"):
            probs = 1.0 / (1.0 + np.exp(-(scores + self.intercept)))
        return np.round(probs, 4)

    def save(self, folder: Path) -> Path:
        """Write the model as model files are named, removing older ones."""
        import numpy as np

        folder.mkdir(parents=True, exist_ok=True)
        path = model_path(folder, self.key)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, themes=np.asarray(self.themes, dtype=str),
                 vocabulary=np.asarray(self.vocabulary, dtype=str),
                 idf=self.idf, coef=self.coef, intercept=self.intercept)
        tmp.replace(path)
        for old in folder.glob("theme-model-*.npz"):
            if old != path and _FILE.fullmatch(old.name):
                old.unlink()
        return path


def model_path(folder: Path, key: str) -> Path:
    return folder / f"theme-model-{key}.npz"


def load_model(folder: Path, key: str) -> ThemeModel | None:
    """The stored model trained under ``key``, or None (missing or unreadable)."""
    import numpy as np

    try:
        with np.load(model_path(folder, key), allow_pickle=False) as data:
            return ThemeModel(key, tuple(data["themes"].tolist()),
                              tuple(data["vocabulary"].tolist()), data["idf"],
                              data["coef"], data["intercept"])
    except (OSError, ValueError, KeyError):
        return None


def learnable(found: Sequence[Example], theme: int) -> bool:
    labels = {e.labels[theme] for e in found}
    return 1 in labels and -1 in labels


def train(found: Sequence[Example], themes: Sequence[str], key: str = "") -> ThemeModel:
    """Fit one regression per theme on ``found`` (imports scikit-learn)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    # Each example is two documents, its text and its title (prefixed words): the
    # idf of a word counts the texts that have it, of a title word the titles.
    docs = [set(words(e.text)) for e in found] + \
        [{TITLE + w for w in words(title_of(e.text))} for e in found]
    vocabulary = tuple(sorted(set().union(*docs)))
    df: dict[str, int] = {}
    for doc in docs:
        for word in doc:
            df[word] = df.get(word, 0) + 1
    idf = np.asarray([math.log((1 + len(found)) / (1 + df[w])) + 1.0 for w in vocabulary])
    coef = np.zeros((len(vocabulary), len(themes)))
    intercept = np.full(len(themes), -np.inf)
    model = ThemeModel(key, tuple(themes), vocabulary, idf, coef, intercept)
    r, c, w = model.rows([e.text for e in found])
    matrix = csr_matrix((w, (r, c)), shape=(len(found), max(1, len(vocabulary))))
    for j in range(len(themes)):
        if not learnable(found, j):  # nothing to learn from: never assigned
            continue
        labelled = [i for i, e in enumerate(found) if e.labels[j]]
        y = [found[i].labels[j] > 0 for i in labelled]
        fit = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
        fit.fit(matrix[labelled], y)
        coef[:, j] = fit.coef_[0][:len(vocabulary)]
        intercept[j] = fit.intercept_[0]
    return model


def model_for(papers: Sequence[Paper], config: Config, folder: Path | None,
              reuse: bool = True) -> ThemeModel | None:
    """The model of these papers' pins: read from ``folder`` when it was trained on the
    same inputs, else trained (and stored). None when nothing is pinned."""
    themes = [t.slug for t in config.themes]
    found = examples(papers, themes)
    if not any(learnable(found, j) for j in range(len(themes))):
        return None  # rules alone: no theme has both a positive and a negative pin
    key = training_key(found, themes)
    model = load_model(folder, key) if folder is not None and reuse else None
    if model is None or model.themes != tuple(themes):
        model = train(found, themes, key)
        if folder is not None:
            model.save(folder)
    return model


def combine(ruled: Classification, paper: Paper, config: Config,
            probs: Sequence[float]) -> Classification:
    """The rules' themes plus the model's confident ones, minus ``not_themes``, at most
    ``max_themes`` (rules first, then by confidence); the next best are suggestions,
    ranked and shown by their suggestion score (confidence, nudged by RULE_NUDGE).
    A pinned paper keeps exactly its pin."""
    from dataclasses import replace

    if paper.themes:
        return ruled
    slugs = [t.slug for t in config.themes]
    out = set(paper.not_themes)
    ruled_set = set(ruled.themes)
    conf = {s: max(p, RULE_CONFIDENCE) if s in ruled_set else p
            for s, p in zip(slugs, probs, strict=True)}
    wanted = [s for s in slugs if s not in out and (s in ruled_set or conf[s] >= ASSIGN)]
    # Rule themes first (already capped by rules.py), then the model's, most confident.
    wanted.sort(key=lambda s: (s not in ruled_set, -conf[s], slugs.index(s)))
    kept = set(wanted[:config.max_themes])
    themes = tuple(s for s in slugs if s in kept)
    rest = []  # (suggestion score, config position, slug)
    for i, ((slug, score), theme) in enumerate(zip(ruled.theme_scores, config.themes,
                                                   strict=True)):
        if slug in kept or slug in out:
            continue
        nudged = conf[slug]
        if score > 0 and theme.threshold > 0:  # the rules got part of the way
            nudged = round(nudged + RULE_NUDGE * min(1.0, score / theme.threshold), 4)
        if nudged >= SUGGEST:
            rest.append((-nudged, i, slug))
    return replace(ruled, themes=themes,
                   confidences=tuple((s, round(conf[s], 4)) for s in themes),
                   suggestions=tuple((s, -v) for v, _, s in sorted(rest)[:MAX_SUGGESTIONS]))
