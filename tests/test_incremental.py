"""Incremental == clean, by construction (issue 13's acceptance tests).

Each case builds a small digest (five papers, search off), makes one change, rebuilds
incrementally into the same output folder, builds clean into another, and compares the
two folders file for file (the differing files are printed with a diff). The change
must change the site (else the case could not fail), except where a case says why not.

Changes covered: every kind of paper edit, a deleted, new or renamed paper, a new dump,
content pages; an edit of every template, static files; every config setting; an edit
of a module in each subpackage and the kernel (on a copy of the package tree: the engine
digest must change and no cache may be reused), with and without a change of behaviour;
a library upgrade (simulated); crashes at sampled os.replace calls of a build; damaged
build state; and a card that shows one more field, whose listing pages must follow an
edit of that field.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import site_builder.config
from site_builder.build.pipeline import build_site
from site_builder.build.result import BuildResult
from site_builder.config import load_config
from site_builder.incremental import engine
from site_builder.incremental.depindex import deps_path, index_path
from site_builder.ingest.merge import ingest
from site_builder.models import Paper
from site_builder.site import code_links
from tests.conftest import MINI_CONFIG, PAPER_A, PAPER_B, PAPER_C, REPO, dump_text
from tests.golden_site import files

PAPER_D = """\
Curating Data for Long-Context Models

Data selection for long-context training of large language models.

Example Lab
·
Jun 1, 2024 2"""
# Longer than a card's summary (300 characters): its tail is shown on its page only.
SURVEY = ("We survey the corpora used to pretrain language models, how they were gathered, "
          "cleaned and documented, and what their licences allow. ")
PAPER_E = f"""\
A Survey of Pretraining Corpora

{SURVEY * 3}Everything is listed at https://example.org/corpora.

  • 2 authors
·
Jan 3, 2024"""

A = "data-selection-for-language-models-via-importance-resampling.md"
B = "long-context-training-recipes.md"
C = "another-paper-about-scaling.md"
D = "curating-data-for-long-context-models.md"
E = "a-survey-of-pretraining-corpora.md"

Edit = Callable[[Path], object]


def make_digest(root: Path) -> Path:
    """Five papers from two dumps (one paper in both), per_page 2 (the llm tag has two
    pages), a featured paper, an About page; search off."""
    dumps = {"a.txt": dump_text(PAPER_A, PAPER_B, PAPER_C, PAPER_D),
             "b.txt": dump_text(PAPER_E, PAPER_C).replace("Nov 26", "Nov 3")}
    (root / "content/dumps").mkdir(parents=True)
    for name, text in dumps.items():
        (root / "content/dumps" / name).write_text(text, encoding="utf-8")
    listing = "  - file: a.txt\n    captured: 2025-11-26\n  - file: b.txt\n    captured: 2025-11-03"
    (root / "config.yaml").write_text(MINI_CONFIG.format(dumps=listing).replace(
        "per_page: 3", "per_page: 2"), encoding="utf-8")
    for folder in ("templates", "static"):
        shutil.copytree(REPO / folder, root / folder)
    ingest(load_config(root / "config.yaml"))
    edit(root / "content/papers" / A, "featured: false", "featured: true")
    (root / "content/pages").mkdir()
    (root / "content/pages/about.md").write_text(
        "---\ntitle: About\n---\n\nA digest *for tests*.\n", encoding="utf-8")
    return root


@pytest.fixture
def digest(tmp_path: Path) -> Path:
    """The digest in a project of its own (for cases that patch the builder)."""
    return make_digest(tmp_path / "proj")


class Bench:
    """One project for many cases, so they do not each pay for a new project (Jinja
    compiles every template afresh in one: half of a case's time). Each case starts
    from the same inputs, and the build that puts them back must give the site a clean
    build gave at the start: every case also checks that its predecessor's change,
    undone, leaves no trace."""

    def __init__(self, root: Path) -> None:
        self.root = make_digest(root)
        self.inputs = _snapshot(self.root)
        build(self.root)
        self.site = files(self.root / "_site")

    def check(self, change: Edit, changes_site: bool = True) -> None:
        root = self.root
        _restore(root, self.inputs)
        build(root)
        report = differences(files(root / "_site"), self.site)
        assert not report, ("after the last change was undone, files differ from the "
                            "first clean build:\n" + "\n".join(report))
        change(root)
        incremental = build(root)
        shutil.rmtree(root / "clean", ignore_errors=True)
        assert_same_site(root, incremental=incremental)
        if changes_site:
            assert files(root / "_site") != self.site, "the change did not change the site"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    return Bench(tmp_path_factory.mktemp("bench") / "proj")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def paper(name: str, old: str, new: str) -> Edit:
    return lambda root: edit(root / "content/papers" / name, old, new)


def config(old: str, new: str) -> Edit:
    return lambda root: edit(root / "config.yaml", old, new)


def build(root: Path, out: str = "_site", **kw: Any) -> BuildResult:
    return build_site(root / "config.yaml", root / out, **kw)


def differences(incremental: dict[str, bytes], clean: dict[str, bytes]) -> list[str]:
    """What differs, file by file, with the first lines of each file's diff."""
    report = []
    for name in sorted(incremental.keys() | clean.keys()):
        mine, theirs = incremental.get(name), clean.get(name)
        if mine == theirs:
            continue
        if mine is None or theirs is None:
            report.append(f"only in the {'clean' if mine is None else 'incremental'} "
                          f"build: {name}")
            continue
        report.append(f"differs: {name}")
        diff = difflib.unified_diff(theirs.decode("utf-8", "replace").splitlines(),
                                    mine.decode("utf-8", "replace").splitlines(),
                                    f"clean/{name}", f"incremental/{name}", n=0, lineterm="")
        report += [f"    {line}" for line in list(diff)[:12]]
    return report


def assert_same_site(root: Path, out: str = "_site", clean_out: str = "clean",
                     incremental: BuildResult | None = None, **kw: Any) -> BuildResult:
    """Build clean into ``clean_out`` and compare it with ``out`` file for file (and
    the warnings with those of the ``incremental`` build, if given)."""
    result = build(root, clean_out, clean=True, **kw)
    report = differences(files(root / out), files(root / clean_out))
    assert not report, (f"{sum(not r.startswith(' ') for r in report)} files differ "
                        "from a clean build:\n" + "\n".join(report))
    if incremental is not None:
        assert incremental.warnings == result.warnings
    return result


def check_edit(root: Path, change: Edit, changes_site: bool = True, **kw: Any) -> None:
    """Build, change, rebuild incrementally, compare with clean."""
    build(root, **kw)
    before = files(root / "_site")
    change(root)
    assert_same_site(root, incremental=build(root, **kw), **kw)
    if changes_site:
        assert files(root / "_site") != before, "the change did not change the site"


def _snapshot(root: Path) -> dict[str, bytes]:
    """The project's inputs (content, templates, static, config), to put back later."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for folder in INPUTS for p in (root / folder).rglob("*")
            if p.is_file()} | {"config.yaml": (root / "config.yaml").read_bytes()}


def _restore(root: Path, snapshot: dict[str, bytes]) -> None:
    for folder in INPUTS:
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.relative_to(root).as_posix() not in snapshot:
                path.unlink()
    for name, data in snapshot.items():
        if not (root / name).exists() or (root / name).read_bytes() != data:
            (root / name).write_bytes(data)


INPUTS = ("content", "templates", "static")


# -- content -------------------------------------------------------------------

def new_paper(root: Path) -> None:
    text = (root / "content/papers" / B).read_text(encoding="utf-8")
    text = text.replace("id: ", "id: 0-").replace("Long-Context Training Recipes",
                                                  "Brand New Long-Context Recipes")
    (root / "content/papers/brand-new-long-context-recipes.md").write_text(text)


def renamed_paper(root: Path) -> None:
    papers = root / "content/papers"
    (papers / B).rename(papers / "long-context-recipes.md")


def new_dump(root: Path) -> None:
    (root / "content/dumps/c.txt").write_text(dump_text(
        "Brand New Paper\n\nAbout code data and LLMs.\n\n  • 2 authors\n·\nNov 20",
        PAPER_B))  # B again: a second source for a known paper
    edit(root / "config.yaml", "  - file: a.txt", "  - file: c.txt\n    captured: 2025-11-26\n"
         "  - file: a.txt")
    ingest(load_config(root / "config.yaml"))


PAPER_EDITS: dict[str, Edit] = {
    "title": paper(B, "title: Long-Context Training Recipes", "title: Long-Context Recipes"),
    "abstract start": paper(B, "We extend the", "We greatly extend the"),
    "abstract beyond the summary": paper(E, "https://example.org/corpora",
                                         "https://example.org/corpora-v2"),
    "tags": paper(B, "tags: []", "tags: [curated]"),
    "tags removed by vocabulary": paper(B, "for code.", "for programs."),
    "themes": paper(C, "themes: []", "themes: [data-selection]"),
    "not_themes": paper(D, "themes: []", "themes: []\nnot_themes: [long-context]"),
    "hidden": paper(B, "hidden: false", "hidden: true"),
    "featured": paper(B, "featured: false", "featured: true"),
    "unfeatured": paper(A, "featured: true", "featured: false"),
    "note": paper(B, "note: ''", "note: Read *this* first."),
    "published": paper(B, "published: 2025-03-05", "published: 2020-02-02"),
    "published removed": paper(B, "published: 2025-03-05", "published: null"),
    "published, a year page goes": paper(A, "published: 2023-02-06", "published: 2024-02-06"),
    "comments": paper(B, "comments: null", "comments: 7"),
    "comments removed": paper(A, "comments: 4", "comments: null"),
    "submitter shown": paper(D, "submitter: Example Lab", "submitter: Another Lab"),
    "submitter beside authors": paper(B, "submitter: null", "submitter: Some Lab"),
    "authors": paper(B, "authors: 1", "authors: 4"),
    "authors added": paper(D, "authors: null", "authors: 5"),
    "source line": paper(B, "  line: 21", "  line: 22"),
    "source file": paper(B, "- file: a.txt", "- file: b.txt"),
    "id": paper(B, "id: 6", "id: 7"),
    "unknown key": paper(B, "note: ''", "note: ''\ncolour: red"),
    "deleted paper": lambda root: (root / "content/papers" / C).unlink(),
    "new paper": new_paper,
    "renamed paper": renamed_paper,
    "new dump": new_dump,
    "content page": lambda root: edit(root / "content/pages/about.md", "*for tests*",
                                      "*for tests*, edited"),
    "new content page": lambda root: (root / "content/pages/help.md").write_text(
        "---\ntitle: Help\n---\n\nHelp.\n"),
    "deleted content page": lambda root: (root / "content/pages/about.md").unlink(),
}


@pytest.mark.parametrize("change", sorted(PAPER_EDITS))
def test_a_content_edit(bench: Bench, change: str) -> None:
    # An unknown key changes no page, only the build's warnings (compared too).
    bench.check(PAPER_EDITS[change], changes_site=change != "unknown key")


def _garbage(path: Path) -> None:
    assert path.exists(), path
    path.write_bytes(b"\x80neither JSON nor a pickle")


def _stale_staging(root: Path) -> None:
    (root / "._site.staging").mkdir()
    (root / "._site.staging/index.html").write_text("half written")


def _record_cut_short(root: Path) -> None:
    """A record whose columns disagree (a hand edit, a bug): as good as no record."""
    path = root / "._site.build-record.json"
    data = json.loads(path.read_text())
    data["mtimes"] = data["mtimes"][:-1]
    path.write_text(json.dumps(data))


def _first_shard(root: Path) -> Path:
    return sorted((root / ".cache").glob("entries-papers-*.pickle"))[0]


# What a build left beside its output, lost or damaged (a full disk, a killed process,
# a user cleaning up), then a note edit: the quickest rebuild, the one that trusts most.
STATE_DAMAGE: dict[str, Edit] = {
    "cache deleted": lambda root: shutil.rmtree(root / ".cache"),
    "cache shard unreadable": lambda root: _garbage(_first_shard(root)),
    "record unreadable": lambda root: _garbage(root / "._site.build-record.json"),
    "record columns of different lengths": _record_cut_short,
    "index unreadable": lambda root: _garbage(index_path(root / "_site")),
    "an output deleted": lambda root: (root / "_site/themes/long-context/index.html").unlink(),
    "a stale staging folder": lambda root: _stale_staging(root),
}


@pytest.mark.parametrize("damage", sorted(STATE_DAMAGE))
def test_damaged_build_state(digest: Path, damage: str) -> None:
    build(digest)
    STATE_DAMAGE[damage](digest)
    PAPER_EDITS["note"](digest)
    assert_same_site(digest, incremental=build(digest))


def _edited_in_place(root: Path) -> None:
    """Same size, new bytes: only the mtime tells."""
    page = next((root / "_site/papers").glob("*/index.html"))
    data = page.read_bytes()
    page.write_bytes(data[:-2] + b"X\n")


HAND_EDITS: dict[str, Edit] = {
    "a paper page deleted": lambda root: next((root / "_site/papers").glob("*/index.html")
                                              ).unlink(),
    "a paper page edited in place": _edited_in_place,
    "a .bib file deleted": lambda root: next((root / "_site/papers").glob("*/*.bib")).unlink(),
}
THEN: dict[str, Edit] = {"nothing": lambda root: None, "a note edit": PAPER_EDITS["note"],
                         "a config edit": config("home_items: 4", "home_items: 1")}


@pytest.mark.parametrize("then", sorted(THEN))
@pytest.mark.parametrize("hand", sorted(HAND_EDITS))
def test_outputs_changed_by_hand_checked_by_a_forked_child(
        digest: Path, monkeypatch: pytest.MonkeyPatch, hand: str, then: str) -> None:
    """The outputs' stats made in a child forked as the build starts (forced here: the
    digest is far below the size that forks): an output deleted or edited by hand is
    made again, whichever build follows (a no-op, a scoped and a whole one)."""
    from site_builder.incremental import intact

    build(digest)
    monkeypatch.setattr(intact, "FORK_MIN_OUTPUTS", 0)
    monkeypatch.setattr(intact, "single_threaded", lambda: True)  # idle test threads
    forks: list[int] = []
    fork = intact.IntactCheck._fork
    monkeypatch.setattr(intact.IntactCheck, "_fork",
                        lambda self: forks.append(1) or fork(self))
    HAND_EDITS[hand](digest)
    THEN[then](digest)
    result = build(digest)
    assert forks and not result.noop
    assert_same_site(digest, incremental=result)


@pytest.mark.parametrize("damage", ["unreadable", "from another build"])
def test_damaged_dependencies(digest: Path, damage: str) -> None:
    """An edit that reaches other pages (an author count: every card showing the paper)
    reads which outputs show it; lost, damaged or another build's, it plans the Site."""
    build(digest)
    if damage == "unreadable":
        _garbage(deps_path(digest / "_site"))
    else:
        older = deps_path(digest / "_site").read_bytes()
        PAPER_EDITS["tags"](digest)
        build(digest)
        deps_path(digest / "_site").write_bytes(older)
    PAPER_EDITS["authors"](digest)
    result = build(digest)
    assert not result.quick
    assert_same_site(digest, incremental=result)


# Forking costs about a second a case here; test_build.py runs a sequence of edits
# across workers too.
ACROSS_WORKERS: dict[str, Edit] = {"title": PAPER_EDITS["title"]}


@pytest.mark.parametrize("change", sorted(ACROSS_WORKERS))
def test_an_edit_built_across_workers(digest: Path, change: str) -> None:
    """Parsing, classifying, Markdown and rendering forked over two workers (forced:
    the digest is far below the size that forks on its own)."""
    check_edit(digest, ACROSS_WORKERS[change], workers=2)


# -- templates and static files -------------------------------------------------

TEMPLATES = sorted(p.relative_to(REPO / "templates").as_posix()
                   for p in (REPO / "templates").rglob("*.html"))


def mark_template(root: Path, name: str) -> None:
    """Insert a visible marker before the first closing tag: every template has one, and
    in a macro file it sits in the first macro."""
    path = root / "templates" / name
    text = path.read_text(encoding="utf-8")
    at = text.index("</")
    path.write_text(text[:at] + "<!--edited-->" + text[at:], encoding="utf-8")


# Each template on its own: a page's salt covers the templates it uses and no other
# (incremental/salts.py), so a dependency it missed shows only when that template
# alone is edited.
@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_edit(bench: Bench, name: str) -> None:
    # The bench digest has search off: it has no search page.
    bench.check(lambda root: mark_template(root, name), changes_site=name != "search.html")


def test_a_template_edit_renders_the_pages_using_it(digest: Path) -> None:
    """theme.html is the theme pages' template only: its edit renders them, not a
    paper page, a feed or a .bib file (each template edit rendered all of them)."""
    build(digest)
    mark_template(digest, "theme.html")
    result = build(digest)
    clean = assert_same_site(digest, incremental=result)
    themes = {rel for rel in files(digest / "_site") if rel.startswith("themes/")
              and rel.endswith(".html") and rel != "themes/index.html"}
    assert themes and result.stats.rendered == len(themes) < clean.stats.rendered


@pytest.mark.parametrize("edit", ["{# a comment #}", "<p>outside every block</p>"])
def test_a_template_edit_jinja_compiles_away_renders_nothing(digest: Path, edit: str) -> None:
    """A page's salt covers the code Jinja generates from its templates: a comment, or
    text after ``extends`` outside any block (Jinja drops it), leaves that code and
    every page as they were."""
    build(digest)
    page = digest / "templates/paper.html"
    page.write_text(page.read_text(encoding="utf-8") + edit + "\n", encoding="utf-8")
    result = build(digest)
    assert_same_site(digest, incremental=result)
    assert result.stats.rendered == 0


STATIC_EDITS: dict[str, Edit] = {
    "edited": lambda root: (root / "static/style.css").write_text("body { color: red }\n"),
    "added": lambda root: (root / "static/new.txt").write_text("new\n"),
    "deleted": lambda root: (root / "static/search.js").unlink(),
}


@pytest.mark.parametrize("change", sorted(STATIC_EDITS))
def test_a_static_file(bench: Bench, change: str) -> None:
    bench.check(STATIC_EDITS[change])


# -- config.yaml -----------------------------------------------------------------

CONFIG_EDITS: dict[str, Edit] = {
    "site.title": config("title: Test Digest", "title: Renamed Digest"),
    "site.description": config("description: A digest for tests.",
                               "description: A digest, renamed."),
    "site.base_url": config("base_url: https://example.github.io/repo/",
                            "base_url: https://other.example/digest/"),
    "site.language": config("  search: false", "  search: false\n  language: fr"),
    "site.author": config("  search: false", "  search: false\n  author: Ada"),
    "site.per_page": config("per_page: 2", "per_page: 1"),
    "site.feed_items": config("feed_items: 5", "feed_items: 2"),
    "site.home_items": config("home_items: 4", "home_items: 1"),
    "theme title": config("title: Long context", "title: Long inputs"),
    "theme description": config("description: Long sequences.",
                                "description: Very long sequences."),
    "theme threshold": config("'long[- ]context', weight: 1}",
                              "'long[- ]context', weight: 1}\n    threshold: 2"),
    "theme rule pattern": config("'data selection'", "'data (selection|curation)|scaling'"),
    "theme rule weight": config("'long[- ]context', weight: 1", "'long[- ]context', weight: 0.5"),
    "theme exclude rule": config("'long[- ]context', weight: 1}",
                                 "'long[- ]context', weight: 1}\n    exclude:\n"
                                 "      - {pattern: 'curating', weight: 5}"),
    "theme added": config("tags:", "  - slug: scaling\n    title: Scaling\n"
                          "    description: Bigger.\n    rules:\n      - 'scaling'\ntags:"),
    "theme removed": config("  - slug: long-context\n    title: Long context\n"
                            "    description: Long sequences.\n    rules:\n"
                            "      - {pattern: 'long[- ]context', weight: 1}\n", ""),
    "themes reordered": lambda root: _reorder_themes(root),
    "tag renamed": config("  llm: ['LLMs?'", "  LLM: ['LLMs?'"),
    "tag phrase": config("  code: ['code']", "  code: ['code', 'corpora']"),
    "tag added": config("  code: ['code']", "  code: ['code']\n  survey: ['survey']"),
    "tag removed": config("  code: ['code']\n", ""),
    "max_themes": lambda root: (root / "config.yaml").write_text(
        (root / "config.yaml").read_text() + "max_themes: 1\n"),
    "dump captured": config("captured: 2025-11-03", "captured: 2024-11-03"),
    "dump captured (dates a paper)": config("captured: 2025-11-26", "captured: 2024-11-26"),
    "dump capture removed": config("    captured: 2025-11-03\n", ""),
    "dump listed, not ingested": config("  - file: a.txt", "  - file: z.txt\n  - file: a.txt"),
    "dump unlisted": config("  - file: b.txt\n    captured: 2025-11-03\n", ""),
}


def _reorder_themes(root: Path) -> None:
    path = root / "config.yaml"
    text = path.read_text()
    head, rest = text.split("themes:\n", 1)
    themes, tags = rest.split("tags:\n", 1)
    first, second = themes.split("  - slug: long-context")
    path.write_text(f"{head}themes:\n  - slug: long-context{second}{first}tags:\n{tags}")


@pytest.mark.parametrize("setting", sorted(CONFIG_EDITS))
def test_a_config_setting(bench: Bench, setting: str) -> None:
    bench.check(CONFIG_EDITS[setting])


def test_a_whole_build_keeps_the_paper_outputs_a_setting_does_not_reach(
        digest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """home_items reaches the home page only: the whole build it takes fingerprints
    the papers' pages and .bib files from the last build's (plan.kept_paper_outputs)
    instead of making their jobs; a paper page deleted by hand is made again."""
    from site_builder.render.bibtex import BibJob
    from site_builder.render.pages import Renderer

    build(digest)
    made: list[str] = []  # paper pages made (slugs), .bib files fingerprinted (paths)
    paper, material = Renderer.paper, BibJob.fingerprint_material
    monkeypatch.setattr(Renderer, "paper", lambda self, e: made.append(e.slug) or paper(self, e))
    monkeypatch.setattr(BibJob, "fingerprint_material",
                        lambda self: made.append(self.path) or material(self))
    CONFIG_EDITS["site.home_items"](digest)
    page = next((digest / "_site/papers").glob("*/index.html"))
    page.unlink()
    result = build(digest)
    papers = [m for m in made if "/" not in m]
    bibs = [m for m in made if m.endswith(".bib")]
    assert_same_site(digest, incremental=result)
    assert papers == [page.parent.name]  # the deleted page, no other
    assert bibs and all(b.startswith("themes/") for b in bibs)  # the themes' only
    assert result.stats.rendered == 2  # the home page and the deleted paper page


def test_every_site_setting_is_covered() -> None:
    """A new key of ``site:`` needs its case above (search has its own test)."""
    covered = {k.removeprefix("site.") for k in CONFIG_EDITS if k.startswith("site.")}
    keys = {f.name for f in dataclasses.fields(site_builder.config.SiteSettings)}
    assert keys - covered == {"search"}


def test_base_url_given_on_the_command_line(digest: Path) -> None:
    build(digest)
    before = files(digest / "_site")
    other = "https://user.github.io/other/"
    build(digest, base_url=other)
    assert files(digest / "_site") != before
    assert_same_site(digest, base_url=other)
    build(digest)  # and back: the override is part of what the build was made from
    assert_same_site(digest, clean_out="clean2")


@pytest.mark.parametrize("start", [False, True])
def test_search_toggled(digest: Path, start: bool) -> None:
    """site.search turned on (Pagefind indexes the site) or off (its index goes)."""
    edit(digest / "config.yaml", "search: false", f"search: {str(start).lower()}")
    check_edit(digest, config(f"search: {str(start).lower()}",
                              f"search: {str(not start).lower()}"))


# -- our own code ------------------------------------------------------------------

@pytest.fixture(scope="session")
def pristine_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("engine") / "site_builder"
    shutil.copytree(engine.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def package_copy(pristine_package: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of site_builder/ that the engine digest reads instead of the real one, so
    a test can edit "our code" without touching the package it runs. Copied once; what
    a test edits is put back after it."""
    saved = {p: p.read_bytes() for p in pristine_package.rglob("*") if p.is_file()}
    monkeypatch.setattr(engine, "PACKAGE_ROOT", pristine_package)
    yield pristine_package
    for path, data in saved.items():
        if path.read_bytes() != data:
            path.write_bytes(data)


class Calls:
    """Counts the calls of the functions that fill each cache."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import site_builder.build.entries as entries
        import site_builder.build.related_update as related
        import site_builder.classify.rules as rules
        import site_builder.render.markdown as markdown

        self.counts: dict[str, int] = {}
        for module, name in [(entries, "parse_file"), (rules, "classify"),
                             (rules, "classify_plainly"), (markdown, "render_markdown"),
                             (related, "compute_state")]:
            monkeypatch.setattr(module, name, self.counting(name, getattr(module, name)))

    def counting(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] = self.counts.get(name, 0) + 1
            return function(*args, **kwargs)
        return run

    def reset(self) -> None:
        self.counts.clear()


def _retitle_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.render.views import Views

    card = Views.card
    monkeypatch.setattr(Views, "card", lambda self, entry: {
        **card(self, entry), "title": card(self, entry)["title"].upper()})


def _tag_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.classify.rules as rules

    for name in ("classify", "classify_plainly"):
        real = getattr(rules, name)
        monkeypatch.setattr(rules, name, lambda paper, config, real=real: dataclasses.replace(
            real(paper, config), tags=tuple(sorted({*real(paper, config).tags, "v2"}))))


def _reverse_related(monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.build.related_update import State

    real = State.related
    monkeypatch.setattr(State, "related", lambda state: {
        s: list(reversed(near)) for s, near in real(state).items()})


def _suffix_titles(monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.content as content

    real = content.paper_from_bytes
    monkeypatch.setattr(content, "paper_from_bytes", lambda data, path, warnings=None:
                        dataclasses.replace(p := real(data, path, warnings),
                                            title=p.title + " (v2)"))


# A module of every subpackage and of the kernel, and for some of them a change of what
# they do: the change is monkeypatched, the digest follows the edited copy.
MODULE_EDITS: dict[str, tuple[str, Callable[[pytest.MonkeyPatch], None] | None]] = {
    "kernel": ("site.py", None),
    "kernel, behaviour": ("content.py", _suffix_titles),
    "ingest": ("ingest/dumps.py", None),
    "classify": ("classify/rules.py", None),
    "classify, behaviour": ("classify/rules.py", _tag_everything),
    "build": ("build/pipeline.py", None),
    "build, behaviour": ("build/related.py", _reverse_related),
    "render": ("render/feeds.py", None),
    "render, behaviour": ("render/views.py", _retitle_cards),
    "incremental": ("incremental/sync.py", None),
    "incremental engine": ("incremental/engine.py", None),
    "serve": ("serve/watch.py", None),
}


@pytest.mark.parametrize("case", sorted(MODULE_EDITS))
def test_a_module_edit(digest: Path, package_copy: Path, monkeypatch: pytest.MonkeyPatch,
                       case: str) -> None:
    module, behaviour = MODULE_EDITS[case]
    build(digest)
    before, old_engine = files(digest / "_site"), engine.engine_digest()
    with (package_copy / module).open("a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert engine.engine_digest() != old_engine
    if behaviour:
        behaviour(monkeypatch)
    calls = Calls(monkeypatch)
    result = build(digest)
    # Nothing built under the old code is reused: every file parsed, every paper
    # classified, every Markdown text rendered, related papers computed, every page
    # and feed rendered.
    used = dict(calls.counts)
    calls.reset()
    clean = assert_same_site(digest)
    assert result.stats.rendered == clean.stats.rendered
    assert used == calls.counts, "the incremental build reused a cache the clean one filled"
    assert used["parse_file"] == len(list((digest / "content/papers").iterdir()))
    assert used["compute_state"] == 1  # the related papers, computed afresh
    if behaviour:
        assert files(digest / "_site") != before, "the behaviour patch changed nothing"


def test_the_engine_digest_reads_every_module() -> None:
    found = {p.relative_to(engine.PACKAGE_ROOT).as_posix() for p in engine._engine_files()}
    modules = {p.relative_to(engine.PACKAGE_ROOT).as_posix()
               for p in engine.PACKAGE_ROOT.rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= found
    assert {m.split("/")[0] for m in modules if "/" in m} >= {
        "ingest", "classify", "build", "render", "incremental", "serve"}


# -- libraries ----------------------------------------------------------------------

def test_a_library_upgrade(digest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """markdown-it-py "upgraded": a new version number and a renderer that renders
    differently (what `pip install -U` does). Once this said "up to date" and left 450
    files different from a clean build."""
    import site_builder.render.markdown as markdown

    build(digest)
    before = files(digest / "_site")
    versions = engine.library_versions()
    assert any(v.startswith("markdown-it-py==") for v in versions)
    upgraded = tuple("markdown-it-py==99.0" if v.startswith("markdown-it-py==") else v
                     for v in versions)
    monkeypatch.setattr(engine, "library_versions", lambda: upgraded)
    real = markdown.render_markdown
    monkeypatch.setattr(markdown, "render_markdown",
                        lambda text: real(text).replace("<p>", '<p class="md99">'))
    result = build(digest)
    assert not result.noop
    after = files(digest / "_site")
    assert after != before and any(b'class="md99"' in data for data in after.values())
    assert_same_site(digest)


def test_library_versions_are_those_installed() -> None:
    """The dist-info scan stands in for importlib.metadata (40 ms to import): same answers."""
    import importlib.metadata

    for found in engine.library_versions()[1:]:
        name, version = found.split("==")
        try:
            expected = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            expected = "absent"
        assert version == expected, name
    assert "markdown-it-py==absent" not in engine.library_versions()


# -- crashes -----------------------------------------------------------------------

CRASH_EDITS: dict[str, Edit] = {
    "a title (listings, feeds)": PAPER_EDITS["title"],
    "a note (its page only)": PAPER_EDITS["note"],
    "a template": lambda root: mark_template(root, "base.html"),
    "a deleted paper": PAPER_EDITS["deleted paper"],
}


def _crash_points(total: int) -> list[int]:
    """The first replaces (template bytecode, the first pages moved), the last ones
    (the record, the index, the caches) and one between."""
    return sorted({n for n in (1, total // 2, total - 2, total - 1, total) if n >= 1})


@pytest.mark.parametrize("change", sorted(CRASH_EDITS))
def test_a_crash_mid_build(digest: Path, monkeypatch: pytest.MonkeyPatch,
                           change: str) -> None:
    """The build dies (a power cut) at its n-th os.replace: while moving pages into
    place, writing the record, the index or the caches. The next build equals a clean
    one, though the edit was undone in between (a record that survived the crash would
    wrongly skip pages)."""
    build(digest)
    snapshot = _snapshot(digest)
    real = os.replace
    calls = [0]
    crash_at = [0]

    def crash(src: Any, dst: Any) -> None:
        calls[0] += 1
        if calls[0] == crash_at[0]:
            raise KeyboardInterrupt("power cut")
        real(src, dst)

    def attempt(at: int) -> bool:
        """Edit, build until the at-th replace, undo the edit; True if it crashed."""
        CRASH_EDITS[change](digest)
        calls[0], crash_at[0] = 0, at
        with monkeypatch.context() as patch:
            patch.setattr(os, "replace", crash)
            try:
                build(digest)
            except KeyboardInterrupt:
                return True
            finally:
                _restore(digest, snapshot)
        return False

    assert not attempt(0)  # counts the replaces of one such build
    total = calls[0]
    assert total >= 3, "the build replaced too few files to test this"
    build(digest)
    crashed = []
    for at in _crash_points(total):
        crashed.append(attempt(at))
        build(digest)
        assert_same_site(digest, clean_out=f"clean-{at}")
    assert sum(crashed) >= len(crashed) - 1, crashed  # one build may replace one fewer


# -- what a card shows ----------------------------------------------------------------

def _cards_show(monkeypatch: pytest.MonkeyPatch, package_copy: Path, root: Path,
                field: str) -> None:
    """Cards show one more field of their paper: views.card_fields (the one place that
    says what a card shows of its paper) gains it, a code change, so the engine copy
    is edited too; and the card macro displays it."""
    from site_builder.render import views

    fields = views.card_fields
    monkeypatch.setattr(views, "card_fields", lambda paper, summary: {
        **fields(paper, summary), "extra": CARD_FIELDS[field][0](paper)})
    with (package_copy / "render/views.py").open("a", encoding="utf-8") as handle:
        handle.write(f"\n# cards show {field}\n")
    edit(root / "templates/partials/paper_card.html", '  <p class="card-meta">',
         '  <p class="card-extra">{{ card.extra }}</p>\n  <p class="card-meta">')


# Before the card's fields came from one function (views.card_fields), a hand-kept
# mirror (site.card_material) missed all but the first three of these.
CARD_FIELDS: dict[str, tuple[Callable[[Paper], object], Edit]] = {
    "authors (as a number)": (lambda p: p.authors, paper(D, "authors: null", "authors: 3")),
    "submitter (beside an author count)": (lambda p: p.submitter,
                                           paper(A, "submitter: null", "submitter: Lab")),
    "curator's tags": (lambda p: ",".join(p.tags), paper(A, "tags: []", "tags: [curated]")),
    "note": (lambda p: p.note, paper(A, "note: ''", "note: Worth a read.")),
    "featured": (lambda p: p.featured, paper(D, "featured: false", "featured: true")),
    "sources": (lambda p: len(p.sources), paper(
        A, "  line: 13\n", "  line: 13\n- file: b.txt\n  line: 3\n")),
    "code links (abstract beyond the summary)": (
        lambda p: ",".join(code_links(p.abstract)),
        paper(E, "https://example.org/corpora", "https://example.org/corpora-v2")),
    "published (not the capture date)": (
        lambda p: p.published is not None,
        paper(C, "published: null", "published: 2025-11-26")),
    "id": (lambda p: p.id, paper(A, "id: b", "id: c")),
}


@pytest.mark.parametrize("field", sorted(CARD_FIELDS))
def test_a_card_shows_one_more_field(digest: Path, package_copy: Path,
                                     monkeypatch: pytest.MonkeyPatch, field: str) -> None:
    _cards_show(monkeypatch, package_copy, digest, field)
    build(digest)
    before = files(digest / "_site")
    CARD_FIELDS[field][1](digest)
    build(digest)
    after = files(digest / "_site")
    clean = assert_same_site(digest)
    # The listing pages that list the paper changed (the clean build says which).
    listings = [name for name, data in files(digest / "clean").items()
                if name.endswith(".html") and not name.startswith("papers/")
                and b'class="card-extra"' in data and before.get(name) != data]
    assert listings, "no listing page shows the edited field"
    assert all(after[name] != before[name] for name in listings if name in before)
    assert clean.stats.rendered > 0


def test_one_build_takes_the_engine_stamp_once_for_its_digest(
        digest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The input stamp, every cache and the salt ask for the engine's stamp and digest;
    within one build the package is walked once (its digest, for a stamp seen before,
    is remembered), and the next build walks it again (code may change between two)."""
    build(digest)
    walks: list[int] = []
    real = engine._engine_files
    monkeypatch.setattr(engine, "_engine_files", lambda: walks.append(1) or real())
    edit(digest / "content/papers" / B, "note: ''", "note: Edited.")
    build(digest, clean=True)
    assert len(walks) == 1
    build(digest, clean=True)
    assert len(walks) == 2
    assert_same_site(digest)


# -- what a rebuild loads --------------------------------------------------------------

NUMPY_PROBE = ("import sys\nfrom pathlib import Path\n"
               "from site_builder.build.pipeline import build_site\n"
               "result = build_site(Path('config.yaml'), Path('_site'))\n"
               "print(result.noop, 'numpy' in sys.modules, 'sklearn' in sys.modules)\n")


def rebuild_loads(root: Path) -> str:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", NUMPY_PROBE], cwd=root, env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_numpy_enters_a_rebuild_only_where_related_papers_are_computed(digest: Path) -> None:
    """numpy is imported at one point (related papers computed or updated): a note edit
    and a settings edit reuse the related papers and never load it; a title edit does."""
    build(digest)
    edit(digest / "content/papers" / B, "note: ''", "note: Edited.")
    assert rebuild_loads(digest) == "False False False"
    edit(digest / "config.yaml", "home_items: 4", "home_items: 3")
    assert rebuild_loads(digest) == "False False False"
    edit(digest / "content/papers" / B, "title: Long-Context Training Recipes",
         "title: Long-Context Recipes")
    assert rebuild_loads(digest) == "False True False"
    assert_same_site(digest)


def test_chrome_renders_only_the_templates_every_page_salt_covers(digest: Path) -> None:
    """A partial rendered through chrome() is in no page's salt unless Renderer lists
    it: such a call fails the build, naming the partial, instead of leaving pages stale
    after the partial's next edit."""
    from site_builder.errors import BuildError

    edit(digest / "templates/base.html", "chrome('partials/site_footer.html')",
         "chrome('partials/icons.html')")
    with pytest.raises(BuildError, match=r"templates/partials/icons\.html.*\{% include %\}"):
        build(digest)
