"""classify: weighted theme rules from config, curated front matter, tag vocabulary.

Two layers: small configs written to a temp config.yaml pin the scoring semantics
(each rule once, fields, thresholds, exclusions, the max_themes cap, curated themes and
tags); the repository's config.yaml is checked against hand-written and real papers
(verbatim titles and abstracts from content/dumps/) whose themes a curator would sign.
A third layer keeps the classifier as it was before prefilters (every regex run on
every paper) and asks for identical results on every real paper in content/papers/
and on texts built near the rules' literals, in mixed case and Unicode look-alikes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.classify.prefilter import VERBATIM, alternatives, prefilter
from site_builder.classify.rules import Classification, _classifier, classify, classify_plainly
from site_builder.config import Config, Rule, load_config
from site_builder.content import load_papers
from site_builder.errors import ContentError
from site_builder.models import Paper
from tests.conftest import REPO

SITE = """\
site:
  title: T
  description: D
  base_url: https://example.org/
dumps: []
"""

# Three themes exercising every part of a rule: fields, weights, threshold, exclusion.
SMALL = SITE + """\
max_themes: {max_themes}
themes:
  - slug: alpha
    title: Alpha
    description: Title rule alone, or two abstract rules together.
    threshold: 2
    rules:
      - {{field: title, pattern: 'alpha', weight: 2}}
      - {{field: abstract, pattern: 'apple', weight: 1}}
      - {{field: abstract, pattern: 'banana', weight: 1}}
    exclude:
      - {{field: text, pattern: 'veto', weight: 10}}
  - slug: beta
    title: Beta
    description: Text rules (title or abstract).
    threshold: 1
    rules:
      - {{field: text, pattern: 'beta', weight: 1.5}}
      - {{pattern: 'gamma ray', weight: 1}}
  - slug: gamma
    title: Gamma
    description: Scores 1 per rule, threshold 1.
    threshold: 1
    rules:
      - {{field: abstract, pattern: 'gamma', weight: 1}}
tags:
  code: ['code', 'source code']
  Time Series: ['time[- ]series']
  math: ['math', 'mathematics']
"""


def small_config(tmp_path: Path, max_themes: int = 4, text: str | None = None) -> Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(text if text is not None else SMALL.format(max_themes=max_themes),
                    encoding="utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def real() -> Config:
    return load_config(REPO / "config.yaml")


def paper(title: str, abstract: str = "", *, slug: str = "p", themes: tuple[str, ...] = (),
          tags: tuple[str, ...] = ()) -> Paper:
    return Paper(id=slug, slug=slug, title=title, abstract=abstract, published=None,
                 authors=None, submitter=None, comments=None, sources=(),
                 themes=themes, tags=tags)


def real_paper(entry: tuple[str, str]) -> Paper:
    title, abstract = entry
    return paper(title, abstract)


def scores(result: Classification) -> dict[str, float]:
    return dict(result.theme_scores)


# --- scoring semantics (small configs) -------------------------------------------------

def test_title_rule_alone_reaches_threshold(tmp_path: Path) -> None:
    result = classify(paper("Alpha particles"), small_config(tmp_path))
    assert result.themes == ("alpha",)
    assert scores(result) == {"alpha": 2.0, "beta": 0.0, "gamma": 0.0}


def test_one_abstract_rule_is_not_enough_two_are(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    assert classify(paper("x", "an apple"), config).themes == ()
    assert classify(paper("x", "an apple and a banana"), config).themes == ("alpha",)


def test_each_rule_counts_once(tmp_path: Path) -> None:
    result = classify(paper("x", "apple apple apple apple"), small_config(tmp_path))
    assert scores(result)["alpha"] == 1.0
    assert result.themes == ()


def test_field_title_ignores_the_abstract_and_abstract_ignores_the_title(
        tmp_path: Path) -> None:
    config = small_config(tmp_path)
    assert scores(classify(paper("x", "alpha"), config))["alpha"] == 0.0
    assert scores(classify(paper("apple banana", ""), config))["alpha"] == 0.0


def test_field_text_reads_title_and_abstract(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    assert "beta" in classify(paper("Beta decay", ""), config).themes
    assert "beta" in classify(paper("x", "on beta decay"), config).themes
    # the default field is text too
    assert scores(classify(paper("Gamma ray bursts", ""), config))["beta"] == 1.0


def test_patterns_are_case_insensitive(tmp_path: Path) -> None:
    assert classify(paper("ALPHA"), small_config(tmp_path)).themes == ("alpha",)


def test_exclusion_vetoes(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    result = classify(paper("Alpha", "apple banana, but veto"), config)
    assert scores(result)["alpha"] == 2.0 + 1.0 + 1.0 - 10.0
    assert "alpha" not in result.themes
    # an exclusion in the title vetoes too (field text)
    assert "alpha" not in classify(paper("Alpha veto"), config).themes


def test_max_themes_keeps_highest_scores_in_config_order(tmp_path: Path) -> None:
    # alpha 2, beta 2.5 (beta + gamma ray), gamma 1: the cap of 2 drops gamma.
    p = paper("Alpha", "beta and gamma ray")
    assert scores(classify(p, small_config(tmp_path / "a", 4))) == {
        "alpha": 2.0, "beta": 2.5, "gamma": 1.0}
    assert classify(p, small_config(tmp_path / "a", 4)).themes == ("alpha", "beta", "gamma")
    assert classify(p, small_config(tmp_path / "b", 2)).themes == ("alpha", "beta")
    assert classify(p, small_config(tmp_path / "c", 1)).themes == ("beta",)
    assert classify(p, small_config(tmp_path / "d", 0)).themes == ()


def test_max_themes_ties_go_to_the_theme_listed_first(tmp_path: Path) -> None:
    # zeta is listed before eta (against alphabetical order); both score 1.
    text = SITE + """\
max_themes: 1
themes:
  - {slug: zeta, title: Z, description: Z, rules: ['shared']}
  - {slug: eta, title: E, description: E, rules: ['shared']}
"""
    config = small_config(tmp_path, text=text)
    result = classify(paper("shared"), config)
    assert scores(result) == {"zeta": 1.0, "eta": 1.0}
    assert result.themes == ("zeta",)


def test_theme_scores_cover_every_theme_in_config_order(tmp_path: Path) -> None:
    result = classify(paper("nothing here"), small_config(tmp_path))
    assert [slug for slug, _ in result.theme_scores] == ["alpha", "beta", "gamma"]
    assert result.themes == ()
    assert result.tags == ()


def test_curated_themes_win_over_rules(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    result = classify(paper("Alpha", "apple banana", themes=("gamma",)), config)
    assert result.themes == ("gamma",)
    assert scores(result)["alpha"] == 4.0  # still computed, for debugging


def test_curated_themes_come_out_in_config_order_and_ignore_the_cap(tmp_path: Path) -> None:
    config = small_config(tmp_path, max_themes=1)
    result = classify(paper("x", themes=("gamma", "alpha")), config)
    assert result.themes == ("alpha", "gamma")


def test_unknown_curated_theme_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as info:
        classify(paper("x", slug="my-paper", themes=("alpha", "delta")), small_config(tmp_path))
    assert info.value.file == "content/papers/my-paper.md"
    assert info.value.line is None
    assert "delta" in str(info.value)
    assert "alpha" in str(info.value)  # the hint lists the known themes


# --- tags (small config) ---------------------------------------------------------------

def test_tags_match_whole_words_only(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    assert classify(paper("An encoder-decoder for encoding", "decoders, barcode"),
                    config).tags == ()
    assert classify(paper("x", "mathematically, aftermath"), config).tags == ()
    assert classify(paper("x", "trained on source code"), config).tags == ("code",)


def test_tags_read_title_and_abstract_and_come_out_sorted(tmp_path: Path) -> None:
    result = classify(paper("Math for time-series", "and code"), small_config(tmp_path))
    assert result.tags == ("code", "math", "time-series")


def test_curated_tags_are_kept_slugified_and_merged(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    result = classify(paper("x", "code", tags=("Reinforcement Learning", "code", "math")),
                      config)
    assert result.tags == ("code", "math", "reinforcement-learning")


def test_curated_tag_without_letters_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as info:
        classify(paper("x", slug="q", tags=("???",)), small_config(tmp_path))
    assert info.value.file == "content/papers/q.md"


@pytest.fixture(scope="module")
def small_configs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Config]:
    return {cap: small_config(tmp_path_factory.mktemp(f"cap{cap}"), cap) for cap in range(4)}


_words = st.sampled_from(["alpha", "apple", "banana", "beta", "gamma", "ray", "veto",
                          "code", "math", "time series", "x", "Alpha", "encoder"])
_texts = st.lists(_words, max_size=12).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(title=_texts, abstract=_texts, cap=st.integers(min_value=0, max_value=3))
def test_invariants(small_configs: dict[int, Config], title: str, abstract: str,
                    cap: int) -> None:
    config = small_configs[cap]
    p = paper(title, abstract)
    result = classify(p, config)
    slugs = [t.slug for t in config.themes]
    assert result == classify(p, config)  # deterministic
    assert len(result.themes) <= cap
    assert list(result.themes) == [s for s in slugs if s in result.themes]
    assert list(result.tags) == sorted(set(result.tags))
    for slug, score in result.theme_scores:
        if slug in result.themes:
            assert score >= config.theme(slug).threshold
    # a theme left out while below the cap must have missed its threshold
    if len(result.themes) < cap:
        for slug, score in result.theme_scores:
            if slug not in result.themes:
                assert score < config.theme(slug).threshold


# --- the repository's config.yaml: hand-written papers ---------------------------------

CLINICAL_BERT = paper(
    "Publicly Available Clinical BERT Embeddings",
    "Contextual word embedding models such as ELMo and BERT have dramatically improved "
    "performance for many natural language processing tasks. However, these models have "
    "been minimally explored on specialty corpora, such as clinical text; moreover, in the "
    "clinical domain, no publicly-available pre-trained BERT models yet exist. In this work, "
    "we address this need by exploring and releasing BERT models for clinical text: one for "
    "generic clinical text and another for discharge summaries specifically. We demonstrate "
    "that using a domain-specific model yields performance improvements on three common "
    "clinical NLP tasks as compared to nonspecific embeddings.")

# Says "pre-trained", "fine-tuning" and "code is available" in passing, nothing more.
PASSING_MENTIONS = paper(
    "Induction Heads Form Abruptly in Small Attention-Only Transformers",
    "We study how induction heads emerge while training small attention-only transformers "
    "on next-token prediction. Unlike prior work that probes pre-trained models after "
    "fine-tuning, we track the circuit at every step and find that it forms abruptly, "
    "together with a drop in loss. An encoder-decoder variant and a mathematically "
    "motivated toy model behave the same way. Code is available at "
    "https://github.com/example/induction.")

# "We release our code and data" does not make a dataset paper.
RELEASES_CODE_AND_DATA = paper(
    "Calibrating Reward Models with Temperature Scaling",
    "Reward models trained on human preferences are often overconfident. We show that a "
    "single temperature, fitted on held-out comparisons, calibrates reward models across "
    "three preference benchmarks and improves best-of-n sampling. We release our code and "
    "data at https://github.com/example/calibration.")


def test_clinical_bert_is_domain_pretraining(real: Config) -> None:
    result = classify(CLINICAL_BERT, real)
    assert result.themes == ("domain-pretraining",)
    assert {"bert", "medical"} <= set(result.tags)


def test_passing_mentions_make_no_theme_and_no_tag(real: Config) -> None:
    result = classify(PASSING_MENTIONS, real)
    assert result.themes == ()
    assert result.tags == ()
    assert scores(result)["fine-tuning"] < real.theme("fine-tuning").threshold


def test_releasing_code_and_data_is_not_a_dataset_paper(real: Config) -> None:
    result = classify(RELEASES_CODE_AND_DATA, real)
    assert "datasets" not in result.themes
    assert "dataset-release" not in result.tags
    assert "code" not in result.tags


def test_a_title_alone_settles_a_theme(real: Config) -> None:
    assert classify(paper("Data Selection for Tiny Models"), real).themes == (
        "data-selection",)
    assert classify(paper("Extending the Context Window of Small Models"), real).themes == (
        "long-context",)


def test_real_config_tags_respect_word_boundaries(real: Config) -> None:
    p = paper("Encoder-Decoder Models for Summarization",
              "We train an encoder and a decoder that encode documents; the decoders are "
              "mathematically simple. Our code is available online.")
    assert not {"code", "math"} & set(classify(p, real).tags)


def test_curated_themes_win_in_the_real_config(real: Config) -> None:
    p = paper(*DSIR, themes=("datasets",))
    assert classify(p, real).themes == ("datasets",)


# --- the repository's config.yaml: real papers from content/dumps/ ---------------------

@pytest.mark.parametrize(("entry", "expected"), [
    pytest.param(lambda: DSIR, ("data-selection",), id="dsir"),
    pytest.param(lambda: POSITIONAL, ("long-context",), id="positional-encoding"),
    pytest.param(lambda: MIXING_LAWS, ("data-mixtures", "scaling-laws"), id="mixing-laws"),
    pytest.param(lambda: METACLIP, ("data-selection", "multimodal"), id="metaclip"),
    pytest.param(lambda: MIN_K, (), id="pretraining-data-detection"),
])
def test_real_papers_exact_themes(real: Config, entry: object, expected: tuple[str, ...]
                                  ) -> None:
    assert callable(entry)
    assert classify(real_paper(entry()), real).themes == expected


@pytest.mark.parametrize(("entry", "present", "absent"), [
    pytest.param(lambda: STABILITY_GAP, {"continual-pretraining"}, {"datasets"},
                 id="stability-gap"),
    pytest.param(lambda: PUBMEDBERT, {"domain-pretraining"}, {"datasets", "fine-tuning"},
                 id="pubmedbert"),
    pytest.param(lambda: WRAP, {"synthetic-data", "efficient-pretraining"}, {"data-selection"},
                 id="rephrasing-the-web"),
    pytest.param(lambda: PROLONG, {"long-context", "continual-pretraining"}, {"datasets"},
                 id="prolong"),
    pytest.param(lambda: LAION, {"datasets", "multimodal"}, {"fine-tuning"}, id="laion-5b"),
    pytest.param(lambda: CURSE, {"multilingual"}, {"datasets"}, id="multilinguality-curse"),
    pytest.param(lambda: DYLORA, {"fine-tuning"}, {"efficient-pretraining"}, id="dylora"),
    pytest.param(lambda: STACKING, {"efficient-pretraining"}, {"fine-tuning"},
                 id="model-growth"),
    pytest.param(lambda: DOWNSTREAM_LAWS, {"scaling-laws"}, {"data-selection"},
                 id="downstream-scaling-laws"),
    pytest.param(lambda: SNOWCODER, {"data-selection", "domain-pretraining"},
                 {"synthetic-data", "datasets"}, id="snowcoder"),
])
def test_real_papers_themes(real: Config, entry: object, present: set[str],
                            absent: set[str]) -> None:
    assert callable(entry)
    themes = set(classify(real_paper(entry()), real).themes)
    assert present <= themes
    assert not absent & themes


@pytest.mark.parametrize(("entry", "tags"), [
    pytest.param(lambda: SNOWCODER, {"code", "deduplication"}, id="snowcoder"),
    pytest.param(lambda: METACLIP, {"clip"}, id="metaclip"),
    pytest.param(lambda: PUBMEDBERT, {"bert", "medical"}, id="pubmedbert"),
    pytest.param(lambda: DYLORA, {"lora"}, id="dylora"),
    pytest.param(lambda: WRAP, {"rephrasing"}, id="rephrasing-the-web"),
    pytest.param(lambda: LAION, {"dataset-release", "clip"}, id="laion-5b"),
])
def test_real_papers_tags(real: Config, entry: object, tags: set[str]) -> None:
    assert callable(entry)
    assert tags <= set(classify(real_paper(entry()), real).tags)


def test_passing_domain_words_do_not_tag(real: Config) -> None:
    # STABILITY_GAP is medical (a main application) but names no code or math subject.
    result = classify(real_paper(STABILITY_GAP), real)
    assert "medical" in result.tags
    assert not {"code", "math", "legal"} & set(result.tags)
    # DSIR says "domain-specific (e.g., Codex)" once: not a code paper.
    assert "code" not in classify(real_paper(DSIR), real).tags


# --- prefilters change nothing: classify against every regex run, kept verbatim -------

def classify_reference(paper: Paper, config: Config) -> Classification:
    """classify as it was before prefilters (curated themes assumed known): every
    rule's and every tag's regex runs on the paper."""
    def text(field: str) -> str:
        return {"title": paper.title, "abstract": paper.abstract}.get(
            field, f"{paper.title}\n{paper.abstract}")

    def matched(rules: tuple[Rule, ...]) -> float:
        return sum(r.weight for r in rules if r.pattern.search(text(r.field)))

    scores = tuple((t.slug, matched(t.rules) - matched(t.exclude)) for t in config.themes)
    order = {slug: i for i, (slug, _) in enumerate(scores)}
    if paper.themes:
        themes = tuple(t.slug for t in config.themes if t.slug in paper.themes)
    else:
        passing = [(slug, score) for (slug, score), t in zip(scores, config.themes, strict=True)
                   if score >= t.threshold and slug not in paper.not_themes]
        kept = sorted(passing, key=lambda item: (-item[1], order[item[0]]))[:config.max_themes]
        themes = tuple(sorted((slug for slug, _ in kept), key=order.__getitem__))
    tags = {tag.slug for tag in config.tags
            if any(p.search(paper.title) or p.search(paper.abstract) for p in tag.patterns)}
    tags |= {re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") for name in paper.tags}
    return Classification(themes=themes, tags=tuple(sorted(tags)), theme_scores=scores)


def test_every_real_paper_classifies_as_with_every_regex(real: Config) -> None:
    papers = load_papers(REPO / "content" / "papers", [])
    assert len(papers) > 400
    # As pinned, and unpinned: the rules themselves, on every real text.
    for p in [*papers, *(replace(p, themes=(), not_themes=()) for p in papers)]:
        expected = classify_reference(p, real)
        assert classify(p, real) == expected, p.slug
        assert classify_plainly(p, real) == expected, p.slug


# Stand-ins for ASCII letters and digits: some re equates with them under IGNORECASE
# (dotted and dotless i, long s, Kelvin sign), some only look alike (Cyrillic a,
# ligatures, other digits); and characters whose lowercase is longer or context-bound.
_LOOKALIKES = {"i": "ıİ", "I": "İı", "s": "ſ", "S": "ſß", "k": "\u212a", "K": "\u212a",
               "f": "ﬁﬀ", "a": "а", "3": "٣３", "7": "７", "0": "०", "e": "Σς"}
_CASES: list[Callable[[str], str]] = [str, str.lower, str.upper, str.title, str.swapcase]


@functools.cache
def _fragments() -> list[str]:
    """Bits of real titles and abstracts (one to four words), and every literal the
    config's prefilters look for: texts near every decision a rule makes."""
    config = load_config(REPO / "config.yaml")
    patterns = [r.pattern for t in config.themes for r in (*t.rules, *t.exclude)]
    patterns += [p for t in config.tags for p in t.patterns]
    words = {lit.removeprefix(VERBATIM) for p in patterns for part in alternatives(p)
             for lits, _ in prefilter(part).needs for lit in lits}
    for paper in load_papers(REPO / "content" / "papers", [])[::5]:
        for text in (paper.title, paper.abstract):
            tokens = text.split()
            words.update(" ".join(tokens[i:i + 1 + i % 4]) for i in range(0, len(tokens), 3))
    return sorted(words)


@st.composite
def _near_rules(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 20))):
        word: str = draw(st.sampled_from(_CASES))(draw(st.sampled_from(_fragments())))
        for i in draw(st.lists(st.integers(0, max(len(word) - 1, 0)), max_size=2)):
            if word[i:i + 1] in _LOOKALIKES:
                word = word[:i] + draw(st.sampled_from(_LOOKALIKES[word[i]])) + word[i + 1:]
        parts.append(word + draw(st.sampled_from([" ", " ", "", "\n", "-", ". "])))
    return "".join(parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_near_rules(), abstract=_near_rules(),
       tags=st.lists(st.sampled_from(["code", "Time Series", "my tag"]), max_size=2))
def test_texts_near_every_rule_classify_as_with_every_regex(
        real: Config, title: str, abstract: str, tags: list[str]) -> None:
    p = paper(title, abstract, tags=tuple(tags))
    assert classify(p, real) == classify_reference(p, real)


@settings(max_examples=100, deadline=None)
@given(title=_texts, abstract=_texts, cap=st.integers(min_value=0, max_value=3))
def test_small_configs_classify_as_with_every_regex(
        small_configs: dict[int, Config], title: str, abstract: str, cap: int) -> None:
    p = paper(title, abstract)
    assert classify(p, small_configs[cap]) == classify_reference(p, small_configs[cap])


def test_one_classifier_per_config_is_reused(real: Config, tmp_path: Path) -> None:
    # The prefilters are built on first use for a Config object and found again after.
    classify(paper("x"), real)
    hits = _classifier.cache_info().hits
    classify(paper("y"), real)
    assert _classifier.cache_info().hits == hits + 1
    other = small_config(tmp_path)
    assert classify(paper("Alpha"), other).themes == ("alpha",)


# --- verbatim titles and abstracts from content/dumps/ ---------------------------------

DSIR = (
    'Data Selection for Language Models via Importance Resampling',
    'Selecting a suitable training dataset is crucial for both general-domain (e.g., GPT-3) '
    'and domain-specific (e.g., Codex) language models (LMs). We formalize this data '
    'selection problem as selecting a subset of a large raw unlabeled dataset to match a '
    'desired target distribution, given some unlabeled target samples. Due to the large scale'
    ' and dimensionality of the raw text data, existing methods use simple heuristics to '
    'select data that are similar to a high-quality reference corpus (e.g., Wikipedia), or '
    'leverage experts to manually curate data. Instead, we extend the classic importance '
    'resampling approach used in low-dimensions for LM data selection. Crucially, we work in '
    'a reduced feature space to make importance weight estimation tractable over the space of'
    ' text. To determine an appropriate feature space, we first show that KL reduction, a '
    'data metric that measures the proximity between selected data and the target in a '
    'feature space, has high correlation with average accuracy on 8 downstream tasks (r=0.89)'
    ' when computed with simple n-gram features. From this observation, we present Data '
    'Selection with Importance Resampling (DSIR), an efficient and scalable algorithm that '
    'estimates importance weights in a reduced feature space (e.g., n-gram features in our '
    'instantiation) and selects data with importance resampling according to these weights. '
    'When training general-domain models (target is Wikipedia + books), DSIR improves over '
    'random selection and heuristic filtering baselines by 2--2.5% on the GLUE benchmark. '
    'When performing continued pretraining towards a specific domain, DSIR performs '
    'comparably to expert curated data across 8 target distributions.',
)

STABILITY_GAP = (
    'Efficient Continual Pre-training by Mitigating the Stability Gap',
    'Continual pre-training has increasingly become the predominant approach for adapting '
    'Large Language Models (LLMs) to new domains. This process involves updating the '
    'pre-trained LLM with a corpus from a new domain, resulting in a shift in the training '
    "distribution. To study the behavior of LLMs during this shift, we measured the model's "
    'performance throughout the continual pre-training process. we observed a temporary '
    'performance drop at the beginning, followed by a recovery phase, a phenomenon known as '
    'the "stability gap," previously noted in vision models classifying new classes. To '
    'address this issue and enhance LLM performance within a fixed compute budget, we propose'
    ' three effective strategies: (1) Continually pre-training the LLM on a subset with a '
    'proper size for multiple epochs, resulting in faster performance recovery than '
    'pre-training the LLM on a large corpus in a single epoch; (2) Pre-training the LLM only '
    'on high-quality sub-corpus, which rapidly boosts domain performance; and (3) Using a '
    'data mixture similar to the pre-training data to reduce distribution gap. We conduct '
    'various experiments on Llama-family models to validate the effectiveness of our '
    'strategies in both medical continual pre-training and instruction tuning. For example, '
    'our strategies improve the average medical task performance of the OpenLlama-3B model '
    'from 36.2% to 40.7% with only 40% of the original training budget and enhance the '
    'average general task performance without causing forgetting. Furthermore, we apply our '
    'strategies to the Llama-3-8B model. The resulting model, Llama-3-Physician, achieves the'
    ' best medical performance among current open-source models, and performs comparably to '
    'or even better than GPT-4 on several medical benchmarks. We release our models at '
    'https://huggingface.co/YiDuo1999/Llama-3-Physician-8B-Instruct.',
)

METACLIP = (
    'Demystifying CLIP Data',
    'Contrastive Language-Image Pre-training (CLIP) is an approach that has advanced research'
    ' and applications in computer vision, fueling modern recognition systems and generative '
    'models. We believe that the main ingredient to the success of CLIP is its data and not '
    'the model architecture or pre-training objective. However, CLIP only provides very '
    'limited information about its data and how it has been collected, leading to works that '
    "aim to reproduce CLIP's data by filtering with its model parameters. In this work, we "
    "intend to reveal CLIP's data curation approach and in our pursuit of making it open to "
    'the community introduce Metadata-Curated Language-Image Pre-training (MetaCLIP). '
    "MetaCLIP takes a raw data pool and metadata (derived from CLIP's concepts) and yields a "
    'balanced subset over the metadata distribution. Our experimental study rigorously '
    'isolates the model and training settings, concentrating solely on data. MetaCLIP applied'
    " to CommonCrawl with 400M image-text data pairs outperforms CLIP's data on multiple "
    'standard benchmarks. In zero-shot ImageNet classification, MetaCLIP achieves 70.8% '
    "accuracy, surpassing CLIP's 68.3% on ViT-B models. Scaling to 1B data, while maintaining"
    ' the same training budget, attains 72.4%. Our observations hold across various model '
    'sizes, exemplified by ViT-H achieving 80.5%, without any bells-and-whistles. Curation '
    'code and training data distribution on metadata is made available at '
    'https://github.com/facebookresearch/MetaCLIP.',
)

PUBMEDBERT = (
    'Domain-Specific Language Model Pretraining for Biomedical Natural Language Processing',
    'Pretraining large neural language models, such as BERT, has led to impressive gains on '
    'many natural language processing (NLP) tasks. However, most pretraining efforts focus on'
    ' general domain corpora, such as newswire and Web. A prevailing assumption is that even '
    'domain-specific pretraining can benefit by starting from general-domain language models.'
    ' In this paper, we challenge this assumption by showing that for domains with abundant '
    'unlabeled text, such as biomedicine, pretraining language models from scratch results in'
    ' substantial gains over continual pretraining of general-domain language models. To '
    'facilitate this investigation, we compile a comprehensive biomedical NLP benchmark from '
    'publicly-available datasets. Our experiments show that domain-specific pretraining '
    'serves as a solid foundation for a wide range of biomedical NLP tasks, leading to new '
    'state-of-the-art results across the board. Further, in conducting a thorough evaluation '
    'of modeling choices, both for pretraining and task-specific fine-tuning, we discover '
    'that some common practices are unnecessary with BERT models, such as using complex '
    'tagging schemes in named entity recognition (NER). To help accelerate research in '
    'biomedical NLP, we have released our state-of-the-art pretrained and task-specific '
    'models for the community, and created a leaderboard featuring our BLURB benchmark (short'
    ' for Biomedical Language Understanding & Reasoning Benchmark) at https://aka.ms/BLURB.',
)

WRAP = (
    'Rephrasing the Web: A Recipe for Compute and Data-Efficient Language Modeling',
    'Large language models are trained on massive scrapes of the web, which are often '
    'unstructured, noisy, and poorly phrased. Current scaling laws show that learning from '
    'such data requires an abundance of both compute and data, which grows with the size of '
    'the model being trained. This is infeasible both because of the large compute costs and '
    'duration associated with pre-training, and the impending scarcity of high-quality data '
    'on the web. In this work, we propose Web Rephrase Augmented Pre-training (WRAP) that '
    'uses an off-the-shelf instruction-tuned model prompted to paraphrase documents on the '
    'web in specific styles such as "like Wikipedia" or in "question-answer format" to '
    'jointly pre-train LLMs on real and synthetic rephrases. First, we show that using WRAP '
    'on the C4 dataset, which is naturally noisy, speeds up pre-training by sim3x. At the '
    'same pre-training compute budget, it improves perplexity by more than 10% on average '
    'across different subsets of the Pile, and improves zero-shot question answer accuracy '
    'across 13 tasks by more than 2%. Second, we investigate the impact of the re-phrasing '
    'style on the performance of the model, offering insights into how the composition of the'
    ' training data can impact the performance of LLMs in OOD settings. Our gains are '
    'attributed to the fact that re-phrased synthetic data has higher utility than just real '
    'data because it (i) incorporates style diversity that closely reflects downstream '
    "evaluation style, and (ii) has higher 'quality' than web-scraped data.",
)

MIXING_LAWS = (
    'Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling Performance',
    'Pretraining data of large language models composes multiple domains (e.g., web texts, '
    'academic papers, codes), whose mixture proportions crucially impact the competence of '
    'outcome models. While existing endeavors rely on heuristics or qualitative strategies to'
    ' tune the proportions, we discover the quantitative predictability of model performance '
    'regarding the mixture proportions in function forms, which we refer to as the data '
    'mixing laws. Fitting such functions on sample mixtures unveils model performance on '
    'unseen mixtures before actual runs, thus guiding the selection of an ideal data mixture.'
    ' Furthermore, we propose nested use of the scaling laws of training steps, model sizes, '
    'and our data mixing law to enable predicting the performance of large models trained on '
    'massive data under various mixtures with only small-scale training. Moreover, '
    'experimental results verify that our method effectively optimizes the training mixture '
    'of a 1B model trained for 100B tokens in RedPajama, reaching a performance comparable to'
    ' the one trained for 48% more steps on the default mixture. Extending the application of'
    ' data mixing laws to continual training accurately predicts the critical mixture '
    'proportion that avoids catastrophic forgetting and outlooks the potential for dynamic '
    'data schedules',
)

PROLONG = (
    'How to Train Long-Context Language Models (Effectively)',
    'We study continued training and supervised fine-tuning (SFT) of a language model (LM) to'
    ' make effective use of long-context information. We first establish a reliable '
    'evaluation protocol to guide model development -- Instead of perplexity or simple '
    'needle-in-a-haystack (NIAH) tests, we use a broad set of long-context tasks, and we '
    'evaluate models after SFT with instruction data as this better reveals long-context '
    'abilities. Supported by our robust evaluations, we run thorough experiments to decide '
    'the data mix for continued pre-training, the instruction tuning dataset, and many other '
    'design choices. We find that (1) code repositories and books are excellent sources of '
    'long data, but it is crucial to combine them with high-quality short data; (2) training '
    'with a sequence length beyond the evaluation length boosts long-context performance; (3)'
    ' for SFT, using only short instruction datasets yields strong performance on '
    'long-context tasks. Our final model, ProLong-8B, which is initialized from Llama-3 and '
    'trained on 40B tokens, demonstrates state-of-the-art long-context performance among '
    'similarly sized models at a length of 128K. ProLong outperforms Llama-3.18B-Instruct on '
    'the majority of long-context tasks despite having seen only 5% as many tokens during '
    'long-context training. Additionally, ProLong can effectively process up to 512K tokens, '
    'one of the longest context windows of publicly available LMs.',
)

LAION = (
    'LAION-5B: An open large-scale dataset for training next generation image-text models',
    'Groundbreaking language-vision architectures like CLIP and DALL-E proved the utility of '
    'training on large amounts of noisy image-text data, without relying on expensive '
    'accurate labels used in standard vision unimodal supervised learning. The resulting '
    'models showed capabilities of strong text-guided image generation and transfer to '
    'downstream tasks, while performing remarkably at zero-shot classification with '
    'noteworthy out-of-distribution robustness. Since then, large-scale language-vision '
    'models like ALIGN, BASIC, GLIDE, Flamingo and Imagen made further improvements. Studying'
    ' the training and capabilities of such models requires datasets containing billions of '
    'image-text pairs. Until now, no datasets of this size have been made openly available '
    'for the broader research community. To address this problem and democratize research on '
    'large-scale multi-modal models, we present LAION-5B - a dataset consisting of 5.85 '
    'billion CLIP-filtered image-text pairs, of which 2.32B contain English language. We show'
    ' successful replication and fine-tuning of foundational models like CLIP, GLIDE and '
    'Stable Diffusion using the dataset, and discuss further experiments enabled with an '
    'openly available dataset of this scale. Additionally we provide several nearest neighbor'
    ' indices, an improved web-interface for dataset exploration and subset generation, and '
    'detection scores for watermark, NSFW, and toxic content detection. Announcement page '
    'https://laion.ai/laion-5b-a-new-era-of-open-large-scale-multi-modal-datasets/',
)

CURSE = (
    'When Is Multilinguality a Curse? Language Modeling for 250 High- and Low-Resource Languages',
    'Multilingual language models are widely used to extend NLP systems to low-resource '
    'languages. However, concrete evidence for the effects of multilinguality on language '
    'modeling performance in individual languages remains scarce. Here, we pre-train over '
    '10,000 monolingual and multilingual language models for over 250 languages, including '
    'multiple language families that are under-studied in NLP. We assess how language '
    'modeling performance in each language varies as a function of (1) monolingual dataset '
    'size, (2) added multilingual dataset size, (3) linguistic similarity of the added '
    'languages, and (4) model size (up to 45M parameters). We find that in moderation, adding'
    ' multilingual data improves low-resource language modeling performance, similar to '
    'increasing low-resource dataset sizes by up to 33%. Improvements depend on the syntactic'
    ' similarity of the added multilingual data, with marginal additional effects of '
    'vocabulary overlap. However, high-resource languages consistently perform worse in '
    'multilingual pre-training scenarios. As dataset sizes increase, adding multilingual data'
    ' begins to hurt performance for both low-resource and high-resource languages, likely '
    'due to limited model capacity (the "curse of multilinguality"). These results suggest '
    'that massively multilingual pre-training may not be optimal for any languages involved, '
    'but that more targeted models can significantly improve performance.',
)

DYLORA = (
    ('DyLoRA: Parameter Efficient Tuning of Pre-trained Models using Dynamic '
     'Search-Free Low-Rank Adaptation'),
    'With the ever-growing size of pretrained models (PMs), fine-tuning them has become more '
    'expensive and resource-hungry. As a remedy, low-rank adapters (LoRA) keep the main '
    'pretrained weights of the model frozen and just introduce some learnable truncated SVD '
    'modules (so-called LoRA blocks) to the model. While LoRA blocks are parameter-efficient,'
    ' they suffer from two major problems: first, the size of these blocks is fixed and '
    'cannot be modified after training (for example, if we need to change the rank of LoRA '
    'blocks, then we need to re-train them from scratch); second, optimizing their rank '
    'requires an exhaustive search and effort. In this work, we introduce a dynamic low-rank '
    'adaptation (DyLoRA) technique to address these two problems together. Our DyLoRA method '
    'trains LoRA blocks for a range of ranks instead of a single rank by sorting the '
    'representation learned by the adapter module at different ranks during training. We '
    'evaluate our solution on different natural language understanding (GLUE benchmark) and '
    'language generation tasks (E2E, DART and WebNLG) using different pretrained models such '
    'as RoBERTa and GPT with different sizes. Our results show that we can train dynamic '
    'search-free models with DyLoRA at least 4 to 7 times (depending to the task) faster than'
    ' LoRA without significantly compromising performance. Moreover, our models can perform '
    'consistently well on a much larger range of ranks compared to LoRA.',
)

STACKING = (
    'Stacking Your Transformers: A Closer Look at Model Growth for Efficient LLM Pre-Training',
    'LLMs are computationally expensive to pre-train due to their large scale. Model growth '
    'emerges as a promising approach by leveraging smaller models to accelerate the training '
    'of larger ones. However, the viability of these model growth methods in efficient LLM '
    'pre-training remains underexplored. This work identifies three critical '
    'textit{O}bstacles: (O1) lack of comprehensive evaluation, (O2) untested viability for '
    'scaling, and (O3) lack of empirical guidelines. To tackle O1, we summarize existing '
    'approaches into four atomic growth operators and systematically evaluate them in a '
    'standardized LLM pre-training setting. Our findings reveal that a depthwise stacking '
    'operator, called G_{stack}, exhibits remarkable acceleration in training, leading to '
    'decreased loss and improved overall performance on eight standard NLP benchmarks '
    'compared to strong baselines. Motivated by these promising results, we conduct extensive'
    ' experiments to delve deeper into G_{stack} to address O2 and O3. For O2 (untested '
    'scalability), our study shows that G_{stack} is scalable and consistently performs well,'
    ' with experiments up to 7B LLMs after growth and pre-training LLMs with 750B tokens. For'
    ' example, compared to a conventionally trained 7B model using 300B tokens, our G_{stack}'
    ' model converges to the same loss with 194B tokens, resulting in a 54.6\\% speedup. We '
    'further address O3 (lack of empirical guidelines) by formalizing guidelines to determine'
    ' growth timing and growth factor for G_{stack}, making it practical in general LLM '
    'pre-training. We also provide in-depth discussions and comprehensive ablation studies of'
    ' G_{stack}. Our code and pre-trained model are available at '
    'https://llm-stacking.github.io/{https://llm-stacking.github.io/}.',
)

DOWNSTREAM_LAWS = (
    'Scaling Laws for Downstream Task Performance of Large Language Models',
    'Scaling laws provide important insights that can guide the design of large language '
    'models (LLMs). Existing work has primarily focused on studying scaling laws for '
    'pretraining (upstream) loss. However, in transfer learning settings, in which LLMs are '
    'pretrained on an unsupervised dataset and then finetuned on a downstream task, we often '
    'also care about the downstream performance. In this work, we study the scaling behavior '
    'in a transfer learning setting, where LLMs are finetuned for machine translation tasks. '
    'Specifically, we investigate how the choice of the pretraining data and its size affect '
    'downstream performance (translation quality) as judged by two metrics: downstream '
    'cross-entropy and BLEU score. Our experiments indicate that the size of the finetuning '
    'dataset and the distribution alignment between the pretraining and downstream data '
    'significantly influence the scaling behavior. With sufficient alignment, both downstream'
    ' cross-entropy and BLEU score improve monotonically with more pretraining data. In such '
    'cases, we show that it is possible to predict the downstream BLEU score with good '
    'accuracy using a log-law. However, there are also cases where moderate misalignment '
    'causes the BLEU score to fluctuate or get worse with more pretraining, whereas '
    'downstream cross-entropy monotonically improves. By analyzing these observations, we '
    'provide new practical insights for choosing appropriate pretraining data.',
)

MIN_K = (
    'Detecting Pretraining Data from Large Language Models',
    'Although large language models (LLMs) are widely deployed, the data used to train them '
    'is rarely disclosed. Given the incredible scale of this data, up to trillions of tokens,'
    ' it is all but certain that it includes potentially problematic text such as copyrighted'
    ' materials, personally identifiable information, and test data for widely reported '
    'reference benchmarks. However, we currently have no way to know which data of these '
    'types is included or in what proportions. In this paper, we study the pretraining data '
    'detection problem: given a piece of text and black-box access to an LLM without knowing '
    'the pretraining data, can we determine if the model was trained on the provided text? To'
    ' facilitate this study, we introduce a dynamic benchmark WIKIMIA that uses data created '
    'before and after model training to support gold truth detection. We also introduce a new'
    ' detection method Min-K% Prob based on a simple hypothesis: an unseen example is likely '
    'to contain a few outlier words with low probabilities under the LLM, while a seen '
    'example is less likely to have words with such low probabilities. Min-K% Prob can be '
    'applied without any knowledge about the pretraining corpus or any additional training, '
    'departing from previous detection methods that require training a reference model on '
    'data that is similar to the pretraining data. Moreover, our experiments demonstrate that'
    ' Min-K% Prob achieves a 7.4% improvement on WIKIMIA over these previous methods. We '
    'apply Min-K% Prob to two real-world scenarios, copyrighted book detection, and '
    'contaminated downstream example detection, and find it a consistently effective '
    'solution.',
)

POSITIONAL = (
    'The Impact of Positional Encoding on Length Generalization in Transformers',
    'Length generalization, the ability to generalize from small training context sizes to '
    'larger ones, is a critical challenge in the development of Transformer-based language '
    'models. Positional encoding (PE) has been identified as a major factor influencing '
    'length generalization, but the exact impact of different PE schemes on extrapolation in '
    'downstream tasks remains unclear. In this paper, we conduct a systematic empirical study'
    ' comparing the length generalization performance of decoder-only Transformers with five '
    "different position encoding approaches including Absolute Position Embedding (APE), T5's"
    ' Relative PE, ALiBi, and Rotary, in addition to Transformers without positional encoding'
    ' (NoPE). Our evaluation encompasses a battery of reasoning and mathematical tasks. Our '
    'findings reveal that the most commonly used positional encoding methods, such as ALiBi, '
    'Rotary, and APE, are not well suited for length generalization in downstream tasks. More'
    ' importantly, NoPE outperforms other explicit positional encoding methods while '
    'requiring no additional computation. We theoretically demonstrate that NoPE can '
    'represent both absolute and relative PEs, but when trained with SGD, it mostly resembles'
    " T5's relative PE attention patterns. Finally, we find that scratchpad is not always "
    "helpful to solve length generalization and its format highly impacts the model's "
    'performance. Overall, our work suggests that explicit position embeddings are not '
    'essential for decoder-only Transformers to generalize well to longer sequences.',
)

SNOWCODER = (
    'Arctic-SnowCoder: Demystifying High-Quality Data in Code Pretraining',
    'Recent studies have been increasingly demonstrating that high-quality data is crucial '
    'for effective pretraining of language models. However, the precise definition of '
    '"high-quality" remains underexplored. Focusing on the code domain, we introduce '
    'Arctic-SnowCoder-1.3B, a data-efficient base code model pretrained on 555B tokens '
    'through three phases of progressively refined data: (1) general pretraining with 500B '
    'standard-quality code tokens, preprocessed through basic filtering, deduplication, and '
    'decontamination, (2) continued pretraining with 50B high-quality tokens, selected from '
    'phase one by a BERT-style quality annotator trained to distinguish good code from random'
    ' data, using positive examples drawn from high-quality code files, along with '
    'instruction data from Magicoder and StarCoder2-Instruct, and (3) enhanced pretraining '
    'with 5B synthetic data created by Llama-3.1-70B using phase two data as seeds, adapting '
    'the Magicoder approach for pretraining. Despite being trained on a limited dataset, '
    'Arctic-SnowCoder achieves state-of-the-art performance on BigCodeBench, a coding '
    'benchmark focusing on practical and challenging programming tasks, compared to similarly'
    ' sized models trained on no more than 1T tokens, outperforming Phi-1.5-1.3B by 36%. '
    'Across all evaluated benchmarks, Arctic-SnowCoder-1.3B beats StarCoderBase-3B pretrained'
    ' on 1T tokens. Additionally, it matches the performance of leading small base code '
    'models trained on trillions of tokens. For example, Arctic-SnowCoder-1.3B surpasses '
    'StarCoder2-3B, pretrained on over 3.3T tokens, on HumanEval+, a benchmark that evaluates'
    ' function-level code generation, and remains competitive on BigCodeBench. Our evaluation'
    ' presents a comprehensive analysis justifying various design choices for '
    'Arctic-SnowCoder. Most importantly, we find that the key to high-quality data is its '
    'alignment with the distribution of downstream applications.',
)


def test_not_themes_win_over_the_rules_and_unknown_ones_are_named(real: Config) -> None:
    config = real
    paper = Paper(id="x", slug="p", title="Data selection for long-context training",
                  abstract="", published=None, authors=None, submitter=None, comments=None,
                  sources=())
    assert classify_plainly(paper, config).themes == ("data-selection", "long-context")
    ruled_out = replace(paper, not_themes=("long-context",))
    assert classify_plainly(ruled_out, config).themes == ("data-selection",)
    pinned = replace(paper, themes=("long-context",), not_themes=("long-context",))
    assert classify_plainly(pinned, config).themes == ("long-context",)  # a pin wins
    with pytest.raises(ContentError, match=r"no-such-theme.*not_themes"):
        classify_plainly(replace(paper, not_themes=("no-such-theme",)), config)
