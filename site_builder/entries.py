"""The per-paper work of a build, done once per distinct input and across workers.

In: content/papers/*.md, the Config and the BuildCache. Out: the Papers, and in the
cache every paper's Classification and the HTML of every abstract and note.

Each result is cached under a hash of everything it depends on, so an incremental
build redoes only what changed. What is missing (everything, on a clean build) is
computed across forked workers: parsing files first, then classifying papers and
rendering distinct Markdown texts together. Distinct texts, because Markdown is the
costliest per-paper step (0.7 ms an abstract) and a page and several feeds show it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from site_builder.cache import BuildCache, digest
from site_builder.classify import Classification
from site_builder.config import Config
from site_builder.errors import Diagnostic
from site_builder.models import Paper
from site_builder.parallel import fork_map


def load_entries(config: Config, cache: BuildCache, warnings: list[Diagnostic],
                 workers: int | None = None) -> tuple[list[Paper], set[str]]:
    """Every content/papers/*.md (sorted by name), parsed once per distinct file content;
    and the cache keys used."""
    from site_builder.content import paper_from_bytes

    folder = config.papers_dir
    names = sorted(n for n in os.listdir(folder) if n.endswith(".md")) if folder.is_dir() else []
    keys: list[str] = []
    missing: list[tuple[str, str, bytes]] = []  # (key, name, bytes) of files to parse
    for name in names:
        data = (folder / name).read_bytes()
        keys.append(key := digest(name, data))
        if key not in cache.papers:
            missing.append((key, name, data))

    def parse_range(start: int, stop: int) -> list[tuple[Paper, tuple[Diagnostic, ...]]]:
        parsed = []
        for _, name, data in missing[start:stop]:
            found: list[Diagnostic] = []
            parsed.append((paper_from_bytes(data, folder / name, found), tuple(found)))
        return parsed

    for (key, _, _), hit in zip(missing, fork_map(parse_range, len(missing), workers),
                                strict=True):
        cache.papers[key] = hit
        cache.dirty = True
    papers = []
    for key in keys:
        paper, found = cache.papers[key]
        papers.append(paper)
        warnings.extend(found)
    return papers, set(keys)


def rules_key(config: Config) -> str:
    # Only the rules matter: editing the site title must not reclassify every paper.
    return digest(repr((config.themes, config.tags, config.max_themes)))


def class_key(rules: str, paper: Paper) -> str:
    return digest(rules, paper.slug, paper.title, paper.abstract, "\0".join(paper.tags),
                  "\0".join(paper.themes))


def markdown_texts(paper: Paper) -> tuple[str, ...]:
    """The Markdown texts pages and feeds render for a paper (the feeds fall back to the
    title when there is no abstract)."""
    return tuple(t for t in (paper.abstract, paper.note, paper.abstract or paper.title)
                 if t.strip())


def prepare(config: Config, cache: BuildCache, papers: list[Paper],
            workers: int | None = None) -> tuple[set[str], set[str]]:
    """Classify the papers and render the Markdown texts that are not in the cache,
    across workers; return the cache keys of classifications and HTML in use."""
    from site_builder.classify import classifier_for, classify
    from site_builder.markdown import render_markdown

    rules = rules_key(config)
    used_classes: set[str] = set()
    to_classify: dict[str, Paper] = {}
    for paper in papers:
        if paper.hidden:  # never classified (a bad theme there is not an error)
            continue
        used_classes.add(key := class_key(rules, paper))
        if key not in cache.classes:
            to_classify[key] = paper
    used_html: set[str] = set()
    to_render: dict[str, str] = {}
    for paper in papers:
        if not paper.hidden:
            for text in markdown_texts(paper):
                used_html.add(key := digest(text))
                if key not in cache.html:
                    to_render[key] = text
    tasks: list[Paper | str] = [*to_classify.values(), *to_render.values()]
    if to_classify:
        classifier_for(config)  # built once here, not once in every worker

    def run_range(start: int, stop: int) -> list[Classification | str]:
        return [classify(task, config) if isinstance(task, Paper) else render_markdown(task)
                for task in tasks[start:stop]]

    results = fork_map(run_range, len(tasks), workers)
    for key, found in zip(to_classify, results[:len(to_classify)], strict=True):
        assert isinstance(found, Classification)
        cache.classes[key] = found
    for key, html in zip(to_render, results[len(to_classify):], strict=True):
        assert isinstance(html, str)
        cache.html[key] = html
    cache.dirty = cache.dirty or bool(tasks)
    return used_classes, used_html


def cached_classifier(config: Config, cache: BuildCache) -> Callable[[Paper], Classification]:
    """classify() through the cache (filled by ``prepare``)."""
    from site_builder.classify import classify

    rules = rules_key(config)

    def run(paper: Paper) -> Classification:
        key = class_key(rules, paper)
        hit = cache.classes.get(key)
        if hit is None:
            hit = cache.classes[key] = classify(paper, config)
            cache.dirty = True
        return hit
    return run


def cached_markdown(cache: BuildCache) -> Callable[[str], str]:
    """render_markdown through the cache (filled by ``prepare``). Render workers call
    it too, so it keeps no bookkeeping: ``prepare`` says which keys are in use."""
    from site_builder.markdown import render_markdown

    def run(text: str) -> str:
        key = digest(text)
        hit = cache.html.get(key)
        if hit is None:
            hit = cache.html[key] = render_markdown(text)
            cache.dirty = True
        return hit
    return run
