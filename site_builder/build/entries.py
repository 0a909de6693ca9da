"""The per-paper work of a build, done once per distinct input and across workers.

In: content/papers/*.md, the Config and the BuildCache. Out: the Papers, and in the
cache every paper's Classification and the HTML of every abstract and note.

Each result is cached under a hash of everything it depends on, so an incremental
build redoes only what changed. What is missing (everything, on a clean build) is
computed across forked workers: parsing files first, then classifying papers and
rendering distinct Markdown texts together. Distinct texts, because Markdown is the
costliest per-paper step (0.3 ms an abstract, more than classifying it) and a page
and several feeds show it. A file whose size and mtime did not change since it was
last read is not read again (the trust the no-op stamp places in stats).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder.build.parallel import fork_map
from site_builder.config import Config
from site_builder.content import check_unique_ids
from site_builder.errors import BuildError, ContentError, Diagnostic
from site_builder.incremental.cache import BuildCache, FileStat, ParsedFile, digest
from site_builder.models import Classification, Paper
from site_builder.render import views
from site_builder.safefs import read_regular
from site_builder.site import KnownPaper, plain_summary, text_material

if TYPE_CHECKING:
    from site_builder.classify.model import ThemeModel

PREFILTER_MIN_PAPERS = 50
"""Fewer papers to classify run every regex (classify_plainly) instead of building the
prefilters (0.07 s)."""


def load_entries(config: Config, cache: BuildCache, warnings: list[Diagnostic],
                 workers: int | None = None, stats: dict[str, tuple[int, int]] | None = None
                 ) -> tuple[list[Paper], dict[str, KnownPaper]]:
    """Every content/papers/*.md (sorted by name), parsed once per distinct file content;
    and by slug what is known of each paper. Its key is a digest of its file's name and
    bytes, which a Paper is a pure function of, so it stands for the Paper in every
    later key. ``stats``: the files' (size, mtime) if the caller has them already.
    """
    folder = config.papers_dir
    names = sorted(n for n in os.listdir(folder) if n.endswith(".md")) if folder.is_dir() else []
    keys: dict[str, str] = {}
    unread: list[tuple[str, FileStat | None]] = []  # files to read, and their stat
    for name in names:
        seen = cache.stats.get(name)
        stat: FileStat | None = None  # None: gone since the listing; reading it reports it
        if stats is not None and name in stats:
            stat = (*stats[name], "")
        else:
            with contextlib.suppress(OSError):
                st = os.stat(folder / name)
                stat = (st.st_size, st.st_mtime_ns, "")
        if seen is not None and stat is not None and seen[:2] == stat[:2] \
                and seen[2] in cache.papers:
            keys[name] = seen[2]
        else:
            unread.append((name, stat))

    def read_range(start: int, stop: int) -> list[tuple[str, ParsedFile | None]]:
        """Read, hash and (unless the cache has them) parse the unread files."""
        found = []
        for name, _ in unread[start:stop]:
            data = read_regular(folder / name)  # no link, FIFO or device (safefs.py)
            key = digest(name, data)
            parsed = None
            if key not in cache.papers:
                parsed = parse_file(data, folder / name)
            found.append((key, parsed))
        return found

    found = fork_map(read_range, len(unread), workers)
    for (name, stat), (key, parsed) in zip(unread, found, strict=True):
        keys[name] = key
        if stat is not None:
            cache.stats[name] = (stat[0], stat[1], key)
        if parsed is not None:
            cache.papers[key] = parsed
        cache.dirty = True
    papers, known = [], {}
    for name in names:
        parsed = cache.papers[keys[name]]
        papers.append(parsed.paper)
        known[parsed.paper.slug] = KnownPaper(keys[name], parsed.summary, parsed.card_material,
                                              parsed.text_material)
        warnings.extend(parsed.warnings)
    check_unique_ids(papers, folder)
    return papers, known


def parse_file(data: bytes, path: Path) -> ParsedFile:
    """Everything a build derives from one entry file alone."""
    from site_builder.content import paper_from_bytes

    problems: list[Diagnostic] = []
    paper = paper_from_bytes(data, path, problems)
    summary = plain_summary(paper.abstract)
    card, text, classed = digest(repr(views.card_fields(paper, summary))), text_material(paper), \
        class_material(paper)
    return ParsedFile(paper, tuple(problems), tuple(map(digest, markdown_texts(paper))),
                      classed, summary, card, text)


def rules_key(config: Config) -> str:
    # Only the rules matter: editing the site title must not reclassify every paper.
    return digest(repr((config.themes, config.tags, config.max_themes)))


def class_material(paper: Paper) -> str:
    """A digest of what a paper's classification depends on (the slug names it in
    errors): a curator's note or date edit does not reclassify it."""
    return digest(paper.slug, paper.title, paper.abstract, "\0".join(paper.tags),
                  "\0".join(paper.themes), "\0".join(paper.not_themes))


def class_key(rules: str, material: str) -> str:
    # Both are digests (fixed length): joined, they are a key as unique as their hash.
    return rules + material


def class_salt(config: Config, cache: BuildCache) -> str:
    """What every paper's classification depends on besides the paper: the rules and
    the theme model in use (``cache.model_key``, set by ``theme_model``)."""
    return digest(rules_key(config), cache.model_key)


def theme_model(config: Config, cache: BuildCache, known: dict[str, KnownPaper]
                ) -> ThemeModel | None:
    """The model learned from the pins of these papers (stored in .cache/ by the digest
    of its inputs; trained only when they changed), recorded in ``cache.model_key``."""
    from site_builder.classify.model import model_for

    papers = [cache.papers[k.key].paper for k in known.values()]
    check_pins(papers, config)
    model = model_for(papers, config, config.root / ".cache")
    if (key := model.key if model else "") != cache.model_key:
        cache.model_key, cache.dirty = key, True
    return model


def check_pins(papers: Sequence[Paper], config: Config) -> None:
    """An unknown theme in a visible paper's ``themes`` or ``not_themes`` is an error
    naming its file and line (before it could train or classify anything)."""
    known = {t.slug for t in config.themes}
    for paper in papers:
        for field, slugs in (("themes", paper.themes), ("not_themes", paper.not_themes)):
            unknown = sorted(set(slugs) - known) if not paper.hidden else []
            if unknown:
                from site_builder.content import list_item_line

                path = config.papers_dir / f"{paper.slug}.md"
                try:
                    line = list_item_line(path.read_text(encoding="utf-8"), field, unknown[0])
                except (OSError, UnicodeDecodeError):
                    line = None
                raise ContentError(
                    f"content/papers/{paper.slug}.md", line,
                    f"unknown theme(s) {', '.join(unknown)} in front matter field "
                    f"'{field}' (known themes: {', '.join(t.slug for t in config.themes)})")


def classify_all(papers: Sequence[Paper], config: Config, model: ThemeModel | None,
                 plainly: bool = False) -> list[Classification]:
    """Rules, then the model's confidences for the unpinned papers, all at once."""
    from site_builder.classify.rules import classify, classify_plainly

    ruled = [(classify_plainly if plainly else classify)(p, config) for p in papers]
    if model is None:
        return ruled
    from site_builder.classify.model import combine, paper_text

    open_ = [i for i, p in enumerate(papers) if not p.themes]
    probs = model.confidences([paper_text(papers[i]) for i in open_]).tolist() if open_ else []
    for i, row in zip(open_, probs, strict=True):
        ruled[i] = combine(ruled[i], papers[i], config, row)
    return ruled


def markdown_texts(paper: Paper) -> tuple[str, ...]:
    """The Markdown texts pages and feeds render for a paper (the feeds fall back to the
    title when there is no abstract)."""
    return tuple(dict.fromkeys(t for t in (paper.abstract, paper.note,
                                           paper.abstract or paper.title) if t.strip()))


def prepare(config: Config, cache: BuildCache, known: dict[str, KnownPaper],
            workers: int | None = None, model: ThemeModel | None = None
            ) -> tuple[set[str], set[str]]:
    """Classify the papers and render the Markdown texts that are not in the cache,
    across workers; return the cache keys of classifications and HTML in use.

    ``known`` is what load_entries returned: the papers are in the cache by key;
    ``model``: theme_model's (whose key is in the cache).
    """
    from site_builder.classify.guard import budget_scope
    from site_builder.classify.rules import classifier_for
    from site_builder.render.markdown import render_markdown

    rules = class_salt(config, cache)
    used_classes: set[str] = set()
    used_html: set[str] = set()
    to_classify: dict[str, Paper] = {}
    to_render: dict[str, str] = {}
    for paper_known in known.values():
        paper, _, text_keys, material, *_ = cache.papers[paper_known.key]
        if paper.hidden:  # never shown, never classified (a bad theme there is no error)
            continue
        used_classes.add(key := class_key(rules, material))
        if key not in cache.classes:
            to_classify[key] = paper
        used_html.update(text_keys)
        for text_key, text in zip(text_keys, markdown_texts(paper), strict=True):
            if text_key not in cache.html:
                to_render[text_key] = text
    tasks: list[Paper | str] = [*to_classify.values(), *to_render.values()]
    # Prefilters pay for their construction from a few dozen papers on; a curator's
    # edit reclassifies one.
    plainly = len(to_classify) < PREFILTER_MIN_PAPERS
    if not plainly:
        classifier_for(config)  # built once here, not once in every worker

    def run_range(start: int, stop: int) -> list[Classification | str]:
        # Tasks are papers first, then texts: a range's papers are classified together.
        papers = [task for task in tasks[start:stop] if isinstance(task, Paper)]
        with budget_scope():  # each paper's time budget, without a handler per paper
            ruled = classify_all(papers, config, model, plainly)
        return [*ruled,
                *(render_markdown(task) for task in tasks[start:stop] if isinstance(task, str))]

    results = fork_map(run_range, len(tasks), workers)
    for key, found in zip(to_classify, results[:len(to_classify)], strict=True):
        assert isinstance(found, Classification)
        cache.classes[key] = found
    for key, html in zip(to_render, results[len(to_classify):], strict=True):
        assert isinstance(html, str)
        cache.html[key] = html
    cache.dirty = cache.dirty or bool(tasks)
    return used_classes, used_html


def cached_classifier(config: Config, cache: BuildCache, known: dict[str, KnownPaper],
                      model: ThemeModel | None = None) -> Callable[[Paper], Classification]:
    """classify() through the cache (filled by ``prepare``). On a miss the model of
    ``cache.model_key`` is used: ``model``, or the one stored under that key."""
    rules = class_salt(config, cache)
    models: list[ThemeModel | None] = [model]

    def run(paper: Paper) -> Classification:
        key = class_key(rules, cache.papers[known[paper.slug].key].class_material)
        hit = cache.classes.get(key)
        if hit is None:
            if models[0] is None and cache.model_key:
                from site_builder.classify.model import load_model

                models[0] = load_model(config.root / ".cache", cache.model_key)
                if models[0] is None:
                    raise BuildError(".cache", None, "the theme model this build's cache "
                                     "names is missing: build again with --clean")
            hit = cache.classes[key] = classify_all([paper], config, models[0], True)[0]
            cache.dirty = True
        return hit
    return run


def cached_markdown(cache: BuildCache, used: set[str]) -> Callable[[str], str]:
    """render_markdown through the cache (filled by ``prepare``), adding keys to ``used``.
    Render workers call it too, and what they add is lost with them: ``prepare`` has
    already put every paper's texts in ``used``."""
    from site_builder.render.markdown import render_markdown

    def run(text: str) -> str:
        key = digest(text)
        used.add(key)
        hit = cache.html.get(key)
        if hit is None:
            hit = cache.html[key] = render_markdown(text)
            cache.dirty = True
        return hit
    return run
