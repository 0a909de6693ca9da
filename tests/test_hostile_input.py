"""Hostile input (issue 14): links, FIFOs, alias bombs, hung rules, odd characters and
names. Each becomes a FILE:LINE message (no traceback, no hang, nothing published from
outside the project), or is cleaned with a warning naming the file and line."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_builder.build.pipeline import build_site
from site_builder.cli import main
from site_builder.errors import ConfigError, ContentError, RuleError
from tests.e2e.minisite import BASE_URL, paper_text, write_project

BOMB = "\n".join(["a0: &a0 'lol'"] + [
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)])
# Slow for the catastrophic patterns below: a word of 24 a's, then no match; or 19 a's
# (one short of twenty) after many words.
ABSTRACT = "b " * 1000 + "a" * 24 + "!#"
NINETEEN = "b " * 1000 + "a" * 19


def cli(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["--config", str(config), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err


def build(config: Path) -> None:
    build_site(config, config.parent / "_site", base_url=BASE_URL, clean=True)


# --- 3: links, FIFOs and devices are refused, never followed ---------------------------

@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "/nonexistent"])
def test_static_symlink_is_refused_not_published(tmp_path: Path, target: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    (tmp_path / "static" / "x.txt").symlink_to(target)
    status, err = cli(config, "build", capsys=capsys)
    assert status == 1 and "static/x.txt" in err and "symbolic link" in err
    assert not (tmp_path / "_site" / "static" / "x.txt").exists()


def test_static_symlinked_folder_is_refused(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    (tmp_path / "static" / "etc").symlink_to("/etc")
    with pytest.raises(ContentError, match=r"static/etc.*symbolic link"):
        build(config)


@pytest.mark.parametrize("kind", ["dangling", "dev-zero", "fifo", "folder"])
def test_entry_that_is_no_plain_file_is_refused(tmp_path: Path, kind: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    entry = tmp_path / "content" / "papers" / "odd.md"
    if kind == "dangling":
        entry.symlink_to(tmp_path / "gone.md")
    elif kind == "dev-zero":
        entry.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(entry)  # reading it would wait forever
    else:
        entry.mkdir()
    status, err = cli(config, "build", capsys=capsys)
    assert status == 1 and "content/papers/odd.md" in err


def test_fifo_swapped_in_after_the_stamp_is_not_waited_on(tmp_path: Path) -> None:
    from site_builder.safefs import read_regular

    os.mkfifo(tmp_path / "p.md")
    with pytest.raises(ContentError, match="FIFO"):
        read_regular(tmp_path / "p.md")  # O_NONBLOCK: returns at once


def test_content_page_symlink_is_refused(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    (tmp_path / "content" / "pages" / "secret.md").symlink_to("/etc/hostname")
    with pytest.raises(ContentError, match=r"pages/secret\.md.*symbolic link"):
        build(config)


# --- 4, 5: rules that hang, text that makes them slow ----------------------------------

# (.*a){20} cannot hang the prefiltered path: it needs twenty a's, and with them it
# matches at once; the prefilters rule it out here (the result is the same).
@pytest.mark.parametrize(("pattern", "plainly"), [
    (r"^(\w+\s?)+$", True), (r"^(\w+\s?)+$", False), (r"(.*a){20}", True),
    (r"(\w|\w)+#", True), (r"(\w|\w)+#", False)])
def test_catastrophic_rule_is_an_error_naming_theme_line_and_paper(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str, plainly: bool) -> None:
    abstract = NINETEEN if "{20}" in pattern else ABSTRACT
    from site_builder.classify import guard
    from site_builder.classify.rules import classify, classify_plainly
    from site_builder.config import load_config
    from site_builder.content import read_paper

    monkeypatch.setattr(guard, "PAPER_SECONDS", 0.3)
    config_path = write_project(tmp_path, {"slow": paper_text(
        "00000000-0000-4000-8000-0000000000aa", "Slow", abstract)})
    text = config_path.read_text()
    config_path.write_text(text.replace("long[- ]context', weight: 1}",
                                        f"long[- ]context', weight: 1}}\n      - '{pattern}'"))
    line = next(n for n, t in enumerate(config_path.read_text().splitlines(), 1)
                if pattern in t)
    config = load_config(config_path)
    paper = read_paper(tmp_path / "content" / "papers" / "slow.md")
    started = time.perf_counter()
    with pytest.raises(RuleError) as info:
        (classify_plainly if plainly else classify)(paper, config)
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert info.value.line == line and "theme 'long-context'" in message
    assert "content/papers/slow.md" in message and "themes[1].rules[1]" in message


def test_a_build_with_a_hung_rule_fails_with_the_rule(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.classify import guard

    monkeypatch.setattr(guard, "PAPER_SECONDS", 0.3)
    config = write_project(tmp_path, {"slow": paper_text(
        "00000000-0000-4000-8000-0000000000aa", "Slow", ABSTRACT)})
    config.write_text(config.read_text().replace("'data selection'", r"'^(\w+\s?)+$'"))
    with pytest.raises(RuleError, match=r"data-selection.*content/papers/[a-z-]+\.md"):
        build(config)


@pytest.mark.parametrize("length", [8_000, 100_000])
def test_long_title_word_classifies_in_linear_time(length: int) -> None:
    from site_builder.classify.rules import classify, classify_plainly
    from site_builder.config import load_config
    from site_builder.models import Paper
    from tests.conftest import REPO

    config = load_config(REPO / "config.yaml")
    paper = Paper(id="x", slug="x", title="BERT" + "a" * length + " on long-context data",
                  abstract="We study long-context pretraining.", published=None, authors=None,
                  submitter=None, comments=None, sources=())
    classify(paper, config)  # builds the prefilters (not timed)
    started = time.perf_counter()
    fast, plain = classify(paper, config), classify_plainly(paper, config)
    assert time.perf_counter() - started < 0.5  # 8,000 took ~1 s per paper, 100,000 hung
    assert fast == plain


def test_bounded_text_leaves_real_papers_alone() -> None:
    from site_builder.classify.guard import MAX_WORD, bounded
    from site_builder.content import load_papers
    from tests.conftest import REPO

    papers = load_papers(REPO / "content" / "papers", [])
    assert papers and all(bounded(p) is p for p in papers)
    long = papers[0].__class__(**{**papers[0].__dict__, "title": "x" * 500 + " y"})
    assert bounded(long).title == "x" * MAX_WORD + " y"



def test_no_character_is_both_whitespace_and_part_of_a_word() -> None:
    """What lets bounded() look for long words with str.split: every character the
    word pattern reads (``[\\w-]``) is one split keeps inside a piece."""
    import re
    import sys

    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    word = "".join(re.findall(r"[\w-]", every))
    assert len(word) > 100_000
    assert word.split() == [word]


RUNS = st.lists(st.tuples(st.sampled_from("a-_\u00e9\u0660 \n\u3000\u2028!."),
                          st.integers(1, 130)), max_size=6)


@given(RUNS)
def test_bounding_skips_the_regex_only_where_it_changes_nothing(
        runs: list[tuple[str, int]]) -> None:
    from site_builder.classify import guard

    text = "".join(char * count for char, count in runs)
    assert guard._bound(text, 10_000) == guard._cut_long_words(text)
    if not guard._may_hold_long_word(text):
        assert guard._cut_long_words(text) == text
    longest = max(map(len, text.split()), default=0)
    assert guard._may_hold_long_word(text) == (longest > guard.MAX_WORD)

# --- 6: alias bombs ---------------------------------------------------------------------

@pytest.mark.parametrize("field", ["title", "note", "tags", "published", "sources"])
def test_alias_bomb_in_front_matter_is_refused_quickly(tmp_path: Path, field: str) -> None:
    from site_builder.content import load_paper

    text = f"---\nid: x\n{BOMB}\ntitle: T\n{field}: *a9\n---\n\nBody\n".replace(
        "title: T\ntitle", "title")
    started = time.perf_counter()
    with pytest.raises(ContentError) as info:
        load_paper(text, tmp_path / "bomb.md")
    assert time.perf_counter() - started < 2  # was 35-48 s, then MemoryError
    assert "alias" in str(info.value) and len(str(info.value)) < 400
    assert info.value.line is not None and info.value.line > 1


def test_alias_bomb_in_config_is_refused_quickly(tmp_path: Path) -> None:
    from site_builder.config import load_config

    config = write_project(tmp_path)
    config.write_text(BOMB + "\n" + config.read_text().replace(
        "title: Test Digest", "title: *a9"))
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert time.perf_counter() - started < 2
    assert "alias" in str(info.value) and len(str(info.value)) < 400


def test_values_in_messages_are_shortened(tmp_path: Path) -> None:
    from site_builder.content import load_paper

    huge = "[" + ", ".join(["'word'"] * 50_000) + "]"
    with pytest.raises(ContentError) as info:
        load_paper(f"---\nid: x\ntitle: {huge}\n---\n", tmp_path / "p.md")
    assert "expected text" in str(info.value) and len(str(info.value)) < 300


def test_modest_aliases_still_work(tmp_path: Path) -> None:
    from site_builder.content import load_paper

    paper = load_paper("---\nid: x\ntitle: &t T\nnote: *t\ntags: &l [a, b]\n---\n",
                       tmp_path / "p.md")
    assert paper.note == "T" and paper.tags == ("a", "b")


def test_number_of_5000_digits_is_a_message(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    entry = tmp_path / "content" / "papers" / "plain-paper.md"
    entry.write_text(entry.read_text().replace("comments: null", "comments: " + "9" * 5000))
    status, err = cli(config, "build", capsys=capsys)
    assert status == 1 and "plain-paper.md:" in err and "digits" in err and len(err) < 400


# --- 14: ids, names, numbers, languages --------------------------------------------------

def test_two_entries_with_one_id_are_an_error_naming_both(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    papers = tmp_path / "content" / "papers"
    (papers / "copy.md").write_text((papers / "plain-paper.md").read_text())
    with pytest.raises(ContentError) as info:
        build(config)
    assert "copy.md" in str(info.value) and "plain-paper.md" in str(info.value)


@pytest.mark.parametrize("name", ["a#b.md", "a?b.md", "..md", "...md", "a b.md", "%41.md"])
def test_entry_names_that_are_no_address_are_refused(tmp_path: Path, name: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path, {})
    (tmp_path / "content" / "papers" / name).write_text(paper_text(
        "00000000-0000-4000-8000-0000000000cc", "Odd name", "Abstract."))
    status, err = cli(config, "build", capsys=capsys)
    assert status == 1 and name in err


@pytest.mark.parametrize(("old", "new", "key"), [
    ("{pattern: 'data selection', weight: 1}", "{pattern: 'data selection', weight: .nan}",
     "themes[0].rules[0].weight"),
    ("description: Long sequences.", "description: Long sequences.\n    threshold: .inf",
     "themes[1].threshold"),
    ("search: false", "search: false\n  language: 'en\"><script>alert(1)</script>'",
     "site.language"),
    ("search: false", "search: false\n  language: 'en_US'", "site.language"),
])
def test_bad_numbers_and_languages_are_rejected_with_the_key(tmp_path: Path, old: str,
                                                             new: str, key: str) -> None:
    from site_builder.config import load_config

    config = write_project(tmp_path)
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert any(p.message.startswith(key) and p.line for p in info.value.problems)


@pytest.mark.parametrize("language", ["en", "en-GB", "zh-Hant", "sr-Latn-RS", "de"])
def test_language_tags_are_accepted(tmp_path: Path, language: str) -> None:
    from site_builder.config import load_config

    config = write_project(tmp_path)
    config.write_text(config.read_text().replace(
        "search: false", f"search: false\n  language: {language}"))
    assert load_config(config).site.language == language


def test_a_hung_rule_in_the_preview_is_an_error_page_and_the_preview_recovers(
        tmp_path: Path) -> None:
    """`serve` rebuilds in its main thread, where the rule budget applies: a hung rule
    used to hang every request and survive restoring config.yaml."""
    import os
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.conftest import REPO

    config = write_project(tmp_path, {"slow": paper_text(
        "00000000-0000-4000-8000-0000000000aa", "Slow", ABSTRACT)})
    good = config.read_text()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "site_builder", "serve", "--port", "0"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def page_until(wanted: Callable[[str], bool], seconds: float) -> str:
        deadline = time.monotonic() + seconds
        text = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    text = answer.read().decode()
            except urllib.error.HTTPError as error:  # the build error page is a 500
                text = error.read().decode()
            if wanted(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"the preview did not get there: {text[:300]}")

    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("serving http://127.0.0.1:"):
                url = line.split()[1]
                break
        assert url
        config.write_text(good.replace("'data selection'", r"'^(\w+\s?)+$'"))
        shown = page_until(lambda text: "catastrophic" in text, 60)
        assert "ran over" in shown and "rewrite the pattern" in shown, shown[-600:]
        config.write_text(good)
        page_until(lambda text: "catastrophic" not in text, 60)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=20)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err
