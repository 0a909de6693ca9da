"""The build: golden output, rendered pages, determinism, incremental == clean, safety."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.config import load_config
from site_builder.errors import BuildError, ContentError
from site_builder.ingest.merge import ingest
from tests.conftest import PAPER_A, PAPER_B, PAPER_C, dump_text
from tests.golden_site import EXPECTED, build_golden, files, golden_files


def test_golden_site_matches_file_by_file(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_golden(out)
    built, expected = golden_files(out), files(EXPECTED)
    assert sorted(built) == sorted(expected), "run `make golden` after an intended change"
    for name in expected:
        assert built[name] == expected[name], f"{name} differs: run `make golden` if intended"


@pytest.fixture
def digest(project: Callable[..., Path]) -> Path:
    root = project({"a.txt": dump_text(PAPER_A, PAPER_B, PAPER_C)},
                   captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    return root


def build(root: Path, out: str = "_site", **kw: object) -> Path:
    build_site(root / "config.yaml", root / out, **kw)  # type: ignore[arg-type]
    return root / out


def test_paper_page_shows_everything(digest: Path) -> None:
    site = build(digest)
    html = (site / "papers/data-selection-for-language-models-via-importance-resampling/"
                   "index.html").read_text()
    assert "<h1" in html and "Data Selection for Language Models via Importance Resampling" in html
    assert "We study data selection for LLMs." in html
    assert 'href="/repo/themes/data-selection/"' in html
    assert 'href="/repo/tags/llm/"' in html
    assert "Feb 6, 2023" in html and "3 authors" in html and "4 comments" in html
    assert "https://arxiv.org/search/?query=Data+Selection" in html
    assert "https://huggingface.co/papers?q=" in html and "https://scholar.google.com/" in html
    assert '<a href="https://github.com/p-lambda/dsir">' in html  # linkified in the abstract
    assert "a.txt" in html  # the dump it came from
    assert '<link rel="canonical" href="https://example.github.io/repo/papers/' in html
    assert 'property="og:title"' in html


def test_every_page_kind_is_built(digest: Path) -> None:
    site = build(digest)
    for path in ["index.html", "404.html", ".nojekyll", "robots.txt", "sitemap.xml",
                 "themes/index.html", "themes/data-selection/index.html",
                 "themes/long-context/index.html", "tags/index.html", "tags/llm/index.html",
                 "archive/index.html", "archive/2025/index.html", "feeds/index.html",
                 "feed.xml", "atom.xml", "themes/long-context/atom.xml", "tags/code/feed.xml",
                 "feeds.opml", "discussed/index.html", "stats/index.html",
                 "static/style.css"]:
        assert (site / path).is_file(), path
    theme = (site / "themes/long-context/index.html").read_text()
    assert '<svg class="timeline" role="img"' in theme
    assert "Long-Context Training Recipes" in theme


def test_links_carry_the_base_path_and_404_works_from_any_depth(digest: Path) -> None:
    site = build(digest, base_url="https://user.github.io/other/")
    page = (site / "404.html").read_text()
    hrefs = re.findall(r'(?:href|src)="([^"]+)"', page)
    internal = [h for h in hrefs if not h.startswith(("http", "#"))]
    assert internal and all(h.startswith("/other/") for h in internal), internal
    robots = (site / "robots.txt").read_text()
    assert "Sitemap: https://user.github.io/other/sitemap.xml" in robots


def test_two_builds_are_byte_identical(digest: Path) -> None:
    one = files(build(digest, "one", clean=True))
    shutil.rmtree(digest / ".cache")
    two = files(build(digest, "two", clean=True))
    assert one == two


def test_building_across_workers_gives_the_same_site(digest: Path) -> None:
    """Parsing, classifying, Markdown, related papers and rendering forked across two
    workers (forced: the digest is below the size that forks on its own)."""
    one = files(build(digest, "serial", clean=True, workers=1))
    assert files(build(digest, "forked", clean=True, workers=2)) == one


def test_markdown_rendered_in_workers_stays_in_the_cache(digest: Path) -> None:
    from site_builder.content import load_papers
    from site_builder.incremental.cache import BuildCache
    from site_builder.incremental.cache import digest as hash_of

    build(digest, clean=True, workers=2)
    cache = BuildCache.load(digest / ".cache/entries.pickle")
    abstracts = {hash_of(p.abstract) for p in load_papers(digest / "content/papers", [])}
    assert abstracts and abstracts <= set(cache.html)


@pytest.mark.parametrize("workers", [None, 2])
def test_incremental_equals_clean_after_a_sequence_of_edits(digest: Path,
                                                            workers: int | None) -> None:
    papers = digest / "content/papers"
    edits: list[Callable[[], None]] = [
        lambda: _edit(papers / "long-context-training-recipes.md", "authors: 1", "authors: 2"),
        lambda: _edit(papers / "another-paper-about-scaling.md", "note: ''", "note: Now *noted*."),
        # Each field a card, a feed item or a related-paper card shows:
        lambda: _edit(papers / "another-paper-about-scaling.md",
                      "title: Another Paper About Scaling", "title: Another Paper, Retitled"),
        lambda: _edit(papers / "long-context-training-recipes.md", "comments: null",
                      "comments: 7"),
        lambda: _edit(papers / "another-paper-about-scaling.md", "published: null",
                      "published: 2021-01-02"),
        lambda: _edit(papers / "another-paper-about-scaling.md", "submitter: null",
                      "submitter: Someone"),
        lambda: _edit(papers / "data-selection-for-language-models-via-importance-resampling.md",
                      "We study data selection", "We study long-context data selection"),
        lambda: _edit(digest / "templates/paper.html", "Abstract</h2>", "Summary</h2>"),
        lambda: _edit(digest / "config.yaml", "title: Test Digest", "title: Renamed Digest"),
        # Every other setting a page or feed shows (the build no longer re-renders
        # everything on any config change, see incremental.salts.make_salts):
        lambda: _edit(digest / "config.yaml", "home_items: 4", "home_items: 1"),
        lambda: _edit(digest / "config.yaml", "per_page: 3", "per_page: 1"),
        lambda: _edit(digest / "config.yaml", "feed_items: 5", "feed_items: 2"),
        lambda: _edit(digest / "config.yaml", "description: A digest for tests.",
                      "description: A digest, renamed.\n  language: fr\n  author: Ada"),
        lambda: _edit(digest / "config.yaml", "title: Long context", "title: Long inputs"),
        lambda: _edit(digest / "config.yaml", "description: Long sequences.",
                      "description: Very long sequences."),
        lambda: _edit(digest / "config.yaml", "  llm: ['LLMs?'", "  LLM: ['LLMs?'"),
        lambda: _edit(digest / "config.yaml", "'long[- ]context', weight: 1",
                      "'long[- ]context', weight: 0.5"),
        lambda: _edit(digest / "config.yaml", "captured: 2025-11-26", "captured: 2025-11-20"),
        lambda: _new_dump(digest),
        lambda: (papers / "another-paper-about-scaling.md").unlink(),
        lambda: _edit(papers / "long-context-training-recipes.md", "hidden: false",
                      "hidden: true"),
    ]
    build(digest, workers=workers)
    for step, edit in enumerate(edits):
        edit()
        incremental = files(build(digest, workers=workers))
        clean = files(build(digest, f"clean{step}", clean=True, workers=workers))
        assert incremental == clean, f"edit {step} differs from a clean build"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def _new_dump(root: Path) -> None:
    (root / "content/dumps/b.txt").write_text(dump_text("Brand New Paper\n\nAbout code data."))
    _edit(root / "config.yaml", "  - file: a.txt", "  - file: a.txt\n  - file: b.txt")
    ingest(load_config(root / "config.yaml"))


def test_noop_rebuild_touches_nothing(digest: Path) -> None:
    site = build(digest)
    stamps = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    result = build_site(digest / "config.yaml", site)
    assert result.noop
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == stamps


def test_one_paper_edit_rewrites_only_what_shows_it(digest: Path) -> None:
    site = build(digest)
    _edit(digest / "content/papers/another-paper-about-scaling.md", "note: ''", "note: Hi.")
    result = build_site(digest / "config.yaml", site)
    # Only its page shows the note: no listing, related card or feed is even rendered.
    assert result.stats.rendered == 1 and result.stats.written == 1
    assert "Hi." in (site / "papers/another-paper-about-scaling/index.html").read_text()


def test_crash_mid_build_leaves_a_correct_next_build(digest: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.incremental.sync as sync

    build(digest)
    _edit(digest / "content/papers/long-context-training-recipes.md",
          "title: Long-Context Training Recipes", "title: Long-Context Recipes, Revised")
    real = sync.os.replace
    calls = {"n": 0}

    def crash(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("power cut")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(sync.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        build(digest)
    monkeypatch.setattr(sync.os, "replace", real)
    # Revert the edit: a record that survived the crash would now wrongly skip pages.
    _edit(digest / "content/papers/long-context-training-recipes.md",
          "title: Long-Context Recipes, Revised", "title: Long-Context Training Recipes")
    assert files(build(digest)) == files(build(digest, "clean", clean=True))


@pytest.mark.parametrize("workers", [1, 2])
def test_template_error_names_file_and_line_and_keeps_the_site(digest: Path,
                                                               workers: int) -> None:
    site = build(digest)
    before = files(site)
    path = digest / "templates/paper.html"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(8, "{{ no_such_variable }}\n")
    path.write_text("".join(lines))
    with pytest.raises(BuildError) as info:
        build(digest, workers=workers)
    assert info.value.file == "templates/paper.html" and info.value.line == 9
    assert "no_such_variable" in str(info.value)
    assert files(site) == before


@pytest.mark.parametrize("workers", [1, 2])
def test_malformed_front_matter_stops_the_build_and_keeps_the_site(digest: Path,
                                                                   workers: int) -> None:
    site = build(digest)
    before = files(site)
    path = digest / "content/papers/long-context-training-recipes.md"
    _edit(path, "comments: null", "comments: lots")
    with pytest.raises(ContentError) as info:
        build(digest, workers=workers)
    assert info.value.file == str(path) and info.value.line == 7
    assert "'comments'" in str(info.value)
    assert files(site) == before


def test_unknown_front_matter_key_is_a_warning(digest: Path) -> None:
    _edit(digest / "content/papers/long-context-training-recipes.md", "note: ''",
          "note: ''\ncolour: red")
    result = build_site(digest / "config.yaml", digest / "_site")
    assert any("unknown field 'colour'" in w for w in result.warnings)


def test_refuses_to_overwrite_a_foreign_folder(digest: Path) -> None:
    foreign = digest / "precious"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("do not delete")
    with pytest.raises(BuildError):
        build_site(digest / "config.yaml", foreign)
    assert (foreign / "thesis.tex").read_text() == "do not delete"


def test_hidden_papers_appear_nowhere(digest: Path) -> None:
    _edit(digest / "content/papers/long-context-training-recipes.md", "hidden: false",
          "hidden: true")
    site = build(digest)
    leaks = [p for p, data in files(site).items() if b"Long-Context Training Recipes" in data]
    assert leaks == []


@pytest.mark.parametrize("warm", [False, True])
def test_a_pattern_that_does_not_compile_stops_the_build_with_key_and_line(
        digest: Path, warm: bool) -> None:
    """Patterns compile when first used; the build still checks them whenever the rules
    changed (a warm cache must not let a new bad pattern through)."""
    from site_builder.errors import ConfigError

    if warm:
        build(digest)
    config = digest / "config.yaml"
    text = config.read_text()
    start = text.index("    rules:\n")
    config.write_text(text[:start] + "    rules:\n      - '(unclosed'\n" + text[start + 11:])
    line = text[:start].count("\n") + 2
    with pytest.raises(ConfigError) as info:
        build(digest)
    problem = info.value.problems[0]
    assert problem.line == line and "pattern '(unclosed' does not compile" in problem.message
    assert ".rules[0]" in problem.message


def test_a_noop_build_does_not_even_read_the_config(digest: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.build.scoped as scoped
    import site_builder.build.whole as whole

    build(digest)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("config.yaml was read")

    for stage in (scoped, whole):  # the builds that read it
        monkeypatch.setattr(stage, "load_config", refuse)
    assert build_site(digest / "config.yaml", digest / "_site").noop


def test_a_note_edit_does_not_reclassify(digest: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    import site_builder.classify.rules as classify_module

    build(digest)
    _edit(digest / "content/papers/another-paper-about-scaling.md", "note: ''", "note: Hi.")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a paper was classified")

    monkeypatch.setattr(classify_module, "classify", refuse)
    monkeypatch.setattr(classify_module, "classify_plainly", refuse)
    build(digest)
    assert "Hi." in (digest / "_site/papers/another-paper-about-scaling/index.html").read_text()


@pytest.mark.parametrize("workers", [1, 2])
def test_template_syntax_error_on_a_clean_build_names_file_and_line(digest: Path,
                                                                    workers: int) -> None:
    # With workers, the parse workers compile the templates first (build.py): a broken
    # one is still reported by this process, with its file and line.
    path = digest / "templates/partials/chips.html"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, "{% if %}\n")
    path.write_text("".join(lines))
    with pytest.raises(BuildError) as info:
        build(digest, workers=workers, clean=True)
    assert info.value.file.endswith("templates/partials/chips.html") and info.value.line == 3


def test_a_note_edit_rebuilds_only_its_page_the_quick_way(digest: Path) -> None:
    site = build(digest)
    papers = digest / "content/papers"
    _edit(papers / "data-selection-for-language-models-via-importance-resampling.md",
          "note: ''", "note: Read *this* first.")
    result = build_site(digest / "config.yaml", site)
    assert result.quick and result.stats.rendered == 1 and result.stats.written == 1
    assert files(site) == files(build(digest, "clean", clean=True))
    # A source line is shown on the paper's page only, too; and a second quick edit
    # starts from the index the first one wrote.
    _edit(papers / "long-context-training-recipes.md", "  line: ", "  line: 1")
    result = build_site(digest / "config.yaml", site)
    assert result.quick and result.stats.rendered == 1
    assert files(site) == files(build(digest, "clean2", clean=True))


EDITS_OTHER_PAGES_SHOW = {
    "title": ("title: Long-Context Training Recipes", "title: Long-Context Recipes"),
    "abstract": ("128k tokens", "256k tokens"),
    "tags": ("tags: []", "tags: [curated]"),
    "themes": ("themes: []", "themes: [data-selection]"),
    "featured": ("featured: false", "featured: true"),
    "hidden": ("hidden: false", "hidden: true"),
    "published": ("published: 2025-03-05", "published: 2020-02-02"),
    "comments": ("comments: null", "comments: 3"),
    "authors": ("authors: 1", "authors: 4"),
    "source file": ("- file: a.txt", "- file: b.txt"),
    "unknown key": ("note: ''", "note: ''\ncolour: red"),
}


SCOPED_EDITS = {"authors", "title", "abstract", "tags", "featured", "published", "comments",
                "source file"}
"""Edits the dependency index follows: all but a pin (the theme model learns from pins),
hiding (the paper leaves every related list) and a warning (the record keeps them all).
Those that move the paper (tags, featured, date, comments, dumps) plan every listing."""


@pytest.mark.parametrize("field", sorted(EDITS_OTHER_PAGES_SHOW))
def test_edits_other_pages_show_rebuild_what_a_clean_build_makes(digest: Path,
                                                                  field: str) -> None:
    site = build(digest)
    before = files(site)
    old, new = EDITS_OTHER_PAGES_SHOW[field]
    _edit(digest / "content/papers/long-context-training-recipes.md", old, new)
    result = build_site(digest / "config.yaml", site)
    after = files(site)
    assert after == files(build(digest, "clean", clean=True))
    # Planned over what the edit reaches (every listing when it moves the paper), or
    # over the whole Site.
    assert result.quick == (field in SCOPED_EDITS)
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert changed or field == "unknown key", "the edit changed nothing: it tests nothing"
    if field not in {"featured", "hidden", "unknown key"}:  # shown on the paper's page
        assert "papers/long-context-training-recipes/index.html" in changed
    if field in {"authors", "title", "abstract", "tags", "published"}:  # on its card
        assert "index.html" in changed and "themes/long-context/index.html" in changed


def test_an_index_left_by_another_build_is_not_trusted(digest: Path) -> None:
    from site_builder.incremental.depindex import index_path

    site = build(digest)
    stale = index_path(site).read_bytes()
    papers = digest / "content/papers"
    _edit(papers / "long-context-training-recipes.md", "title: Long-Context Training Recipes",
          "title: Long-Context Recipes")
    build(digest)
    index_path(site).write_bytes(stale)  # as if the last build had crashed before it
    _edit(papers / "another-paper-about-scaling.md", "note: ''", "note: Hi.")
    result = build_site(digest / "config.yaml", site)
    assert not result.quick
    assert files(site) == files(build(digest, "clean", clean=True))


def test_a_note_edit_right_after_ingest_is_quick_however_many_papers(
        project: Callable[..., Path]) -> None:
    # Right after ingest every entry file is too recent for its stat to be trusted:
    # the quick rebuild reads them all again and compares contents, parsing only the
    # edited one, rather than giving up on "more than SCOPE_MAX changed files".
    from site_builder.build.scoped import SCOPE_MAX

    count = SCOPE_MAX + 50
    papers = [f"Paper Number {n}\n\nAbout long-context data, part {n}.\n\n  • 2 authors\n·\n"
              f"Mar {1 + n % 28}, 2024" for n in range(count)]
    root = project({"a.txt": dump_text(*papers)}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    site = build(root)
    _edit(root / "content/papers/paper-number-7.md", "note: ''", "note: Seen.")
    result = build_site(root / "config.yaml", site)
    assert result.quick and result.stats.rendered == 1
    assert files(site) == files(build(root, "clean", clean=True))


def test_a_crash_in_a_quick_rebuild_leaves_a_correct_next_build(
        digest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import site_builder.incremental.depindex as depindex
    import site_builder.incremental.sync as sync

    site = build(digest)
    page = digest / "content/papers/another-paper-about-scaling.md"
    _edit(page, "note: ''", "note: First.")
    real = sync.os.replace
    calls = {"n": 0}

    def crash(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # moving the re-rendered page into place
            raise KeyboardInterrupt("power cut")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(sync.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        build_site(digest / "config.yaml", site)
    monkeypatch.setattr(sync.os, "replace", real)
    # The record goes before the first file moves: the next build cannot trust the
    # index that matched it, so it builds in full.
    assert not (digest / "._site.build-record.json").exists()
    assert depindex.index_path(site).exists()
    _edit(page, "note: First.", "note: Second.")
    assert files(build(digest)) == files(build(digest, "clean", clean=True))
    assert "Second." in (site / "papers/another-paper-about-scaling/index.html").read_text()


def metadata_outputs(site: Path) -> dict[str, bytes]:
    """The BibTeX files, JSON Feeds and paper pages (citation tags, JSON-LD, Cite block)."""
    return {rel: data for rel, data in files(site).items()
            if rel.endswith((".bib", ".json")) or rel.startswith("papers/")}


@pytest.mark.parametrize("field", ["title", "theme title", "published", "note"])
def test_metadata_outputs_follow_an_edit(digest: Path, field: str) -> None:
    """Each edit reaches the .bib files and JSON Feeds that show it (incremental ==
    clean, and the incremental build did change them); a note edit (the quick way)
    leaves them as they were, since none of them shows a note."""
    slug = "long-context-training-recipes"
    site = build(digest)
    before = metadata_outputs(site)
    paper = digest / "content/papers" / f"{slug}.md"
    old, new, path = {
        "title": ("title: Long-Context Training Recipes", "title: Long-Context {Recipes} 50%",
                  paper),
        "theme title": ("title: Long context", "title: Long inputs", digest / "config.yaml"),
        "published": ("published: 2025-03-05", "published: 2024-02-29", paper),
        "note": ("note: ''", "note: A note.", paper),
    }[field]
    _edit(path, old, new)
    result = build_site(digest / "config.yaml", site)
    after = metadata_outputs(site)
    assert after == metadata_outputs(build(digest, "clean", clean=True))
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    bib, feed = f"papers/{slug}/{slug}.bib", "themes/long-context/feed.json"
    if field == "note":
        assert result.quick and changed == {f"papers/{slug}/index.html"}
    else:
        assert {bib, "feed.json", feed, "themes/long-context/long-context.bib"} <= changed
        shown = {"title": "50\\%", "theme title": "Long inputs", "published": "2024-02-29"}
        assert shown[field] in after[bib].decode() and shown[field] not in before[bib].decode()


def test_an_author_count_edit_reaches_every_output_showing_the_card_and_no_other(
        project: Callable[..., Path]) -> None:
    """The dependency index, checked against the pages themselves: the scoped rebuild
    rewrites exactly the outputs whose bytes a clean build changes, among them the
    pages of the papers listing the edited one as related."""
    cousin = PAPER_B.replace("Long-Context Training Recipes", "Long-Context Window Tricks")
    digest = project({"a.txt": dump_text(PAPER_A, PAPER_B, PAPER_C, cousin)},
                     captured={"a.txt": "2025-11-26"})
    ingest(load_config(digest / "config.yaml"))
    slug = "long-context-training-recipes"
    site = build(digest)
    before = files(site)
    lists_it = {rel for rel, data in before.items() if rel.startswith("papers/")
                and rel.endswith("/index.html") and slug not in rel
                and f'href="/repo/papers/{slug}/"'.encode() in data}
    assert lists_it, "no paper lists the edited one as related: the case tests nothing"
    _edit(digest / f"content/papers/{slug}.md", "authors: 1", "authors: 4")
    result = build_site(digest / "config.yaml", site)
    after = files(site)
    clean = files(build(digest, "clean", clean=True))
    assert result.quick and after == clean
    changed = {rel for rel in after if after[rel] != before[rel]}
    assert lists_it <= changed
    assert {f"papers/{slug}/index.html", f"papers/{slug}/{slug}.bib"} <= changed
    # Nothing beyond what shows the count was rendered: its card, feed items, BibTeX.
    assert result.stats.written == len(changed)


def test_an_abstract_edit_that_changes_related_papers_is_scoped_and_exact(
        project: Callable[..., Path]) -> None:
    """The edited text re-ranks related papers (related_update.update_edited): the
    pages whose lists changed are re-planned, and their cards are read from then on."""
    cousin = PAPER_B.replace("Long-Context Training Recipes", "Long-Context Window Tricks")
    digest = project({"a.txt": dump_text(PAPER_A, PAPER_B, PAPER_C, cousin)},
                     captured={"a.txt": "2025-11-26"})
    ingest(load_config(digest / "config.yaml"))
    site = build(digest)

    def related() -> str:
        [cached] = (digest / ".cache").glob("related-*.json")
        return cached.read_text()

    before = related()
    # Words it now shares with the data-selection paper, and none the rules read.
    _edit(digest / "content/papers/another-paper-about-scaling.md",
          "Scaling things up, no theme here.",
          "Scaling things up by importance resampling.")
    result = build_site(digest / "config.yaml", site)
    assert related() != before, "no related list changed: the case tests nothing"
    assert result.quick and files(site) == files(build(digest, "clean", clean=True))
    # And the next edit reads the lists as they are now.
    _edit(digest / "content/papers/long-context-window-tricks.md", "authors: 1",
          "authors: 3")
    result = build_site(digest / "config.yaml", site)
    assert result.quick and files(site) == files(build(digest, "clean2", clean=True))


def test_abstract_edits_that_move_no_related_list_stay_scoped(
        project: Callable[..., Path]) -> None:
    """The related map is cached under a name made of every text: an edited text renames
    it even when no list moved, and the next scoped rebuild must find it (it used to
    keep the old name, whose file was gone, and plan the whole Site from then on)."""
    digest = project({"a.txt": dump_text(PAPER_A, PAPER_B, PAPER_C)},
                     captured={"a.txt": "2025-11-26"})
    ingest(load_config(digest / "config.yaml"))
    site = build(digest)

    def related() -> tuple[str, str]:
        [cached] = (digest / ".cache").glob("related-*.json")
        return cached.name, cached.read_text()

    before = related()
    paper = digest / "content/papers/another-paper-about-scaling.md"
    # A word no other paper has scales this paper's similarities alike: no order moves.
    _edit(paper, "Scaling things up, no theme here.", "Scaling things up, no theme here. Zyzzyva.")
    first = build_site(digest / "config.yaml", site)
    after = related()
    assert after[0] != before[0] and after[1] == before[1], "the case needs a renamed, same map"
    _edit(paper, "Zyzzyva.", "Zyzzyva again.")
    second = build_site(digest / "config.yaml", site)
    assert first.quick and second.quick
    assert files(site) == files(build(digest, "clean", clean=True))


def test_edits_that_move_a_paper_plan_every_listing_and_equal_a_clean_build(
        digest: Path) -> None:
    """A tag, a date or featured moves a paper: its listings, their pages and counts,
    the feeds, the sitemap. A scoped rebuild plans every listing again (never the other
    papers' pages), adds the pages that appear, removes those that go, and leaves a
    dependency index the next edit can trust."""
    from site_builder.incremental.depindex import index_path

    _edit(digest / "config.yaml", "per_page: 3", "per_page: 1")  # paginated listings
    site = build(digest)
    papers = digest / "content/papers"
    recipes, scaling = papers / "long-context-training-recipes.md", \
        papers / "another-paper-about-scaling.md"
    steps = [
        (recipes, "tags: []", "tags: [fresh-tag]"),          # a tag page appears
        (scaling, "tags: []", "tags: [fresh-tag]"),          # ... and gets a second page
        (recipes, "published: 2025-03-05", "published: 2019-01-01"),  # order and years
        (recipes, "featured: false", "featured: true"),
        (scaling, "authors: null", "authors: 7"),            # a card, after the moves
        (recipes, "tags: [fresh-tag]", "tags: []"),
        (scaling, "tags: [fresh-tag]", "tags: []"),          # the tag's pages go
    ]
    for number, (path, old, new) in enumerate(steps):
        before = files(site)
        _edit(path, old, new)
        result = build_site(digest / "config.yaml", site)
        after = files(site)
        assert result.quick, (old, new)
        assert after == files(build(digest, f"clean{number}", clean=True)), (old, new)
        unchanged = {rel for rel in after if after[rel] == before.get(rel)}
        assert "papers/data-selection-for-language-models-via-importance-resampling/" \
               "index.html" in unchanged or "tags" in old + new, (old, new)
        assert index_path(site).exists()
    assert not any(rel.startswith("tags/fresh-tag/") for rel in files(site))


def test_where_pins_fix_every_theme_pin_and_text_edits_are_scoped(digest: Path) -> None:
    """The theme model decides only unpinned papers' themes. Where every visible paper's
    themes are fixed by its pins (the embedded digest, curated), retraining changes no
    page: a pin or a pinned paper's abstract edit is scoped, and equal to a clean build.
    Once a paper is left to the model, a pin edit plans the whole Site again."""
    papers = digest / "content/papers"
    pins = {"long-context-training-recipes": "themes: [long-context]",
            "another-paper-about-scaling": "not_themes: [data-selection, long-context]",
            "data-selection-for-language-models-via-importance-resampling":
                "themes: [data-selection]"}
    config = (digest / "config.yaml").read_text()
    assert config.count("  - slug: ") == 2, "the not_themes pin must name every theme"
    for slug, pin in pins.items():
        _edit(papers / f"{slug}.md", "themes: []", pin if pin.startswith("themes") else
              f"themes: []\n{pin}")
    site = build(digest)
    recipes = papers / "long-context-training-recipes.md"
    steps = [(recipes, "128k tokens", "256k tokens"),                       # pinned text
             (recipes, "themes: [long-context]", "themes: [data-selection]"),  # a pin
             (recipes, "themes: [data-selection]", "themes: [long-context, data-selection]")]
    for number, (path, old, new) in enumerate(steps):
        _edit(path, old, new)
        result = build_site(digest / "config.yaml", site)
        assert result.quick, (old, new)
        assert files(site) == files(build(digest, f"clean{number}", clean=True)), (old, new)
    # Left to the model (no pin): the next pin edit may move any paper, so not scoped.
    _edit(recipes, "themes: [long-context, data-selection]", "themes: []")
    assert not build_site(digest / "config.yaml", site).quick
    assert files(site) == files(build(digest, "clean-open", clean=True))
    _edit(papers / "another-paper-about-scaling.md", "not_themes: [data-selection, long-context]",
          "not_themes: [data-selection]")
    assert not build_site(digest / "config.yaml", site).quick
    assert files(site) == files(build(digest, "clean-open2", clean=True))
