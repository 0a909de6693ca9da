"""site-builder check: a built site passes; each thing broken on purpose is named.

Every breakage is made in a copy of one small built site. Each test compares the
problems of the broken copy with those of the untouched build, so it sees exactly what
its own change caused, and it reads the printed report for the file and the link.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.check import Problem, Site, check_site, rfc822_problem, run_checks
from site_builder.cli import main
from tests.e2e.minisite import BASE_URL, build_project, write_project

PAPER = "papers/data-selection-by-importance/index.html"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("check-project"))


@pytest.fixture
def site(built: Path, tmp_path: Path) -> Path:
    """A copy of the built site to break."""
    return Path(shutil.copytree(built, tmp_path / "site"))


def problems(site_dir: Path) -> set[Problem]:
    return {p for result in run_checks(Site(site_dir, BASE_URL)) for p in result.problems}


def edit(path: Path, change: Callable[[str], str]) -> None:
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, f"the test's edit did not apply to {path}"
    path.write_text(after, encoding="utf-8")


def new_problems(site: Path, built: Path) -> list[Problem]:
    return sorted(problems(site) - problems(built))


def report(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = check_site(site, base_url=BASE_URL)
    return status, capsys.readouterr().out


def assert_named(out: str, file: str, ref: str) -> None:
    lines = [line for line in out.splitlines() if file in line and ref in line]
    assert lines, f"no report line names both {file!r} and {ref!r}:\n{out}"


def add_to_page(site: Path, rel: str, html: str) -> None:
    edit(site / rel, lambda text: text.replace("</main>", html + "</main>", 1))


def test_built_site_passes(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = report(built, capsys)
    assert status == 0, out
    assert re.search(r"^check feeds: ok \(\d+ feeds: \d+ Atom, \d+ RSS; \d+ entries\)$", out, re.M)
    for name in ("html", "links", "sitemap", "hosts"):
        assert f"check {name}: ok (" in out
    bibs = len(list(built.rglob("*.bib")))
    papers = len(list(built.glob("papers/*/index.html")))
    assert bibs > papers  # one per paper, one per theme
    assert re.search(rf"^check bibtex: ok \({bibs} files, \d+ entries\)$", out, re.M), out
    feeds = len(list(built.rglob("feed.json")))
    assert re.search(rf"^check jsonfeed: ok \({feeds} JSON Feeds, \d+ items\)$", out, re.M)
    assert f"check jsonld: ok ({papers} blocks in {papers} pages)" in out
    assert re.search(r"^check alternates: ok \(\d+ advertised alternates\)$", out, re.M)


BIB = "papers/data-selection-by-importance/data-selection-by-importance.bib"


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace("title = {", "title = {{", 1), "pybtex:"),
    (lambda t: t + "\n" + t, "pybtex:"),  # the same key twice
    (lambda t: re.sub(r"  title = \{.*\},\n", "", t), "entry has no title"),
])
def test_broken_bibtex_is_named(site: Path, built: Path, change: Callable[[str], str],
                                message: str, capsys: pytest.CaptureFixture[str]) -> None:
    edit(site / BIB, change)
    found = new_problems(site, built)
    assert [p.check for p in found] == ["bibtex"] and message in found[0].message, found
    status, out = report(site, capsys)
    assert status == 1 and "check bibtex: FAIL, 1 problems" in out
    assert_named(out, BIB, message)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace('"version": "https://jsonfeed.org/version/1.1"',
                         '"version": "https://jsonfeed.org/version/1"'), "version is not"),
    (lambda t: t.replace('"content_html"', '"content"', 1), "neither content_html"),
    (lambda t: t.replace('"date_published": "', '"date_published": "x', 1), "RFC 3339"),
    (lambda t: t.replace("papers/data-selection-by-importance/", "papers/gone/", 1),
     "does not resolve"),
    (lambda t: t.replace("repo/feed.json", "repo/atom.xml", 1), "feed_url does not lead"),
    (lambda t: t[:-3], "not JSON"),
])
def test_broken_json_feed_is_named(site: Path, built: Path, change: Callable[[str], str],
                                   message: str) -> None:
    edit(site / "feed.json", change)
    found = [p for p in new_problems(site, built) if p.check == "jsonfeed"]
    assert len(found) == 1 and message in found[0].message, found
    assert found[0].file == "feed.json"


def test_broken_json_ld_is_named(site: Path, built: Path) -> None:
    edit(site / PAPER, lambda t: t.replace('"@type":"ScholarlyArticle",', '"@type":,', 1))
    found = new_problems(site, built)
    assert [(p.check, p.file) for p in found] == [("jsonld", PAPER)]
    assert "not JSON" in found[0].message


def test_missing_alternate_is_named(site: Path, built: Path) -> None:
    (site / BIB).unlink()
    found = {p.check: p for p in new_problems(site, built)}
    assert "alternates" in found and found["alternates"].file == PAPER
    assert "application/x-bibtex" in found["alternates"].message


@pytest.mark.parametrize(("href", "why"), [
    ("/repo/papers/no-such-paper/", "does not resolve to a file of the site"),
    ("../no-such-paper/", "does not resolve to a file of the site (/repo/papers/no-such-paper/)"),
    ("/static/style.css", "is outside the base path /repo/"),
    ("https://example.github.io/other-repo/", "is outside the base path /repo/ (/other-repo/)"),
    ("/repo/#no-such-id", "has no target: no id 'no-such-id' on index.html"),
    ("#nowhere", f"has no target: no id 'nowhere' on {PAPER}"),
    ("javascript:alert(1)", "is a javascript: URL"),
])
def test_broken_link_is_named(site: Path, built: Path, capsys: pytest.CaptureFixture[str],
                              href: str, why: str) -> None:
    add_to_page(site, PAPER, f'<a href="{href}">x</a>')
    assert new_problems(site, built) == [Problem("links", PAPER, href, why)]
    status, out = report(site, capsys)
    assert status == 1
    assert_named(out, PAPER, href)


def test_working_links_of_every_kind_pass(site: Path, built: Path) -> None:
    add_to_page(site, PAPER, '<a href="../long-context-recipe/">a</a>'
                '<a href="../long-context-recipe">b</a> <a href="../../#main">c</a>'
                '<a href="https://example.github.io/repo/feed.xml">d</a>'
                '<img alt="" src="../../static/favicon.svg" srcset="/repo/static/favicon.svg 2x">'
                '<a href="mailto:x@example.org">e</a> <a href="https://arxiv.org/">f</a>'
                '<a id="here" href="#here">g</a> <a href="/repo">h</a>')
    assert new_problems(site, built) == []


def test_broken_image_and_stylesheet_url(site: Path, built: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    add_to_page(site, PAPER, '<img alt="" src="/repo/static/missing.png">')
    edit(site / "static/style.css", lambda css: css + "\nbody{background:url(img/gone.svg)}\n")
    assert new_problems(site, built) == [
        Problem("links", PAPER, "/repo/static/missing.png",
                "does not resolve to a file of the site"),
        Problem("links", "static/style.css", "img/gone.svg",
                "does not resolve to a file of the site (/repo/static/img/gone.svg)"),
    ]
    assert_named(report(site, capsys)[1], "static/style.css", "img/gone.svg")


def test_template_producing_a_broken_link(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in a template breaks a link on every page made from it: each one is named."""
    root = tmp_path / "proj"
    write_project(root)
    edit(root / "templates" / "paper.html",
         lambda text: text.replace("</article>", '<a href="../../paper/">typo</a></article>', 1))
    build_site(root / "config.yaml", root / "_site", base_url=BASE_URL, clean=True)
    found = [p for p in problems(root / "_site") if p.ref == "../../paper/"]
    assert sorted(p.file for p in found) == [
        f"papers/{slug}/index.html"
        for slug in ("data-selection-by-importance", "long-context-recipe", "plain-paper")]
    assert {p.message for p in found} == {
        "does not resolve to a file of the site (/repo/paper/)"}
    status, out = report(root / "_site", capsys)
    assert status == 1
    assert_named(out, "papers/data-selection-by-importance/index.html (and 2 more files)",
                 "../../paper/")


@pytest.mark.parametrize(("change", "ref", "why"), [
    (lambda t: re.sub(r"<h1\b[^>]*>.*?</h1>", "", t, count=1, flags=re.S),
     "<h1>", "appears 0 times, expected exactly once"),
    (lambda t: t.replace("</main>", "<h1>Second</h1></main>", 1),
     "<h1>", "appears 2 times, expected exactly once"),
    (lambda t: re.sub(r"<title>.*?</title>", "<title> </title>", t, count=1, flags=re.S),
     "<title>", "is missing or empty"),
    (lambda t: re.sub(r'<html lang="[^"]*"', "<html", t, count=1),
     "<html>", "has no lang attribute"),
    (lambda t: t.replace("<!DOCTYPE html>", "", 1), "", "does not start with <!DOCTYPE html>"),
])
def test_broken_page_is_named(site: Path, built: Path, capsys: pytest.CaptureFixture[str],
                              change: Callable[[str], str], ref: str, why: str) -> None:
    edit(site / PAPER, change)
    assert new_problems(site, built) == [Problem("html", PAPER, ref, why)]
    status, out = report(site, capsys)
    assert status == 1 and PAPER in out and why in out


@pytest.mark.parametrize(("html", "error"), [
    ("<p>x</span></p>", "Unexpected end tag : span"),
    ('<i id="main"></i>', "ID main already defined"),
])
def test_malformed_html_is_named(site: Path, built: Path, html: str, error: str) -> None:
    add_to_page(site, PAPER, html)
    found = new_problems(site, built)
    assert [(p.check, p.file) for p in found] == [("html", PAPER)]
    assert re.fullmatch(r"invalid HTML, line \d+: " + error, found[0].message), found


@pytest.mark.parametrize(("value", "why"), [
    ("Mon, 05 Mar 2024 00:00:00 +0000", "says Mon but that day is a Tue"),
    ("2024-03-05T00:00:00Z", "is not an RFC 822 date"),
    ("Tue, 05 Mar 2024 00:00:00 UTC", "is not an RFC 822 date"),
    ("Fri, 30 Feb 2024 00:00:00 +0000", "is not a real date"),
])
def test_broken_rss_date_is_named(site: Path, built: Path, capsys: pytest.CaptureFixture[str],
                                  value: str, why: str) -> None:
    edit(site / "feed.xml", lambda t: re.sub(r"<pubDate>[^<]*</pubDate>",
                                             f"<pubDate>{value}</pubDate>", t, count=1))
    found = [p for p in new_problems(site, built) if p.ref == value]
    assert [(p.check, p.file) for p in found] == [("feeds", "feed.xml")]
    assert re.match(r"line \d+: <pubDate> " + why, found[0].message), found
    status, out = report(site, capsys)
    assert status == 1
    assert_named(out, "feed.xml", value)


def test_atom_feed_is_validated_against_rfc_4287(site: Path, built: Path) -> None:
    edit(site / "atom.xml", lambda t: re.sub(r"(<entry>.*?)<updated>[^<]*</updated>", r"\1", t,
                                             count=1, flags=re.S))
    found = new_problems(site, built)
    assert found and all(p.file == "atom.xml" for p in found)
    assert any(p.message.startswith("RELAX NG (RFC 4287)") for p in found), found


def test_feed_entry_link_and_feedparser_checks(site: Path, built: Path) -> None:
    edit(site / "atom.xml", lambda t: re.sub(
        r'(<entry>.*?<link href=")[^"]*"', r'\1https://example.github.io/repo/papers/gone/"',
        t, count=1, flags=re.S))
    edit(site / "themes/long-context/feed.xml", lambda t: t.replace("</channel>", "<oops>"))
    found = new_problems(site, built)
    assert Problem("feeds", "atom.xml", "https://example.github.io/repo/papers/gone/",
                   "entry 1 link does not resolve to a file of the site (/repo/papers/gone/)"
                   ) in found
    assert any(p.file == "themes/long-context/feed.xml" and "not well-formed XML" in p.message
               for p in found), found


def test_two_feed_entries_with_one_id_are_named(site: Path, built: Path) -> None:
    ids = re.findall(r"<entry>.*?<id>([^<]*)</id>", (site / "atom.xml").read_text(), re.S)
    assert len(ids) >= 2
    edit(site / "atom.xml", lambda t: t.replace(f"<id>{ids[1]}</id>", f"<id>{ids[0]}</id>"))
    assert Problem("feeds", "atom.xml", ids[0], "entries 1 and 2 have the same id") \
        in new_problems(site, built)


def test_sitemap_entries_must_resolve_under_the_base_url(site: Path, built: Path) -> None:
    urls = ["https://example.github.io/repo/papers/gone/", "https://example.github.io/elsewhere/"]
    edit(site / "sitemap.xml", lambda t: t.replace(
        "</urlset>", "".join(f"<url><loc>{u}</loc></url>" for u in urls) + "</urlset>"))
    assert new_problems(site, built) == [
        Problem("sitemap", "sitemap.xml", urls[1], f"is not under the base URL {BASE_URL}"),
        Problem("sitemap", "sitemap.xml", urls[0], "does not resolve to a file"),
    ]


@pytest.mark.parametrize("leak", ["http://127.0.0.1:8000/papers/", "http://localhost:4000/",
                                  "//0.0.0.0/x"])
def test_local_addresses_are_named(site: Path, built: Path, leak: str) -> None:
    add_to_page(site, PAPER, f"<p>see {leak}</p>")
    edit(site / "feed.xml", lambda t: t.replace("</channel>", f"<!-- {leak} --></channel>"))
    found = {(p.check, p.file) for p in new_problems(site, built)}
    assert found == {("hosts", PAPER), ("hosts", "feed.xml")}


@pytest.mark.parametrize(("value", "expected"), [
    ("Tue, 05 Mar 2024 00:00:00 +0000", None),
    ("05 Mar 2024 00:00 GMT", None),
    ("Wed, 05 Mar 2024 00:00:00 +0000", "says Wed but that day is a Tue"),
    ("5 March 2024", "is not an RFC 822 date (like 'Wed, 01 May 2024 00:00:00 +0000')"),
])
def test_rfc822(value: str, expected: str | None) -> None:
    assert rfc822_problem(value) == expected


def test_base_url_from_config_else_sitemap(built: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = built.parent / "config.yaml"
    expected = check_site(built, base_url=BASE_URL)
    capsys.readouterr()
    assert check_site(built, config_path=config) == expected
    assert f"served at {BASE_URL} (site.base_url in {config})" in capsys.readouterr().out
    assert check_site(built, config_path=tmp_path / "absent.yaml") == expected
    out = capsys.readouterr().out
    assert f"served at {BASE_URL} (guessed from sitemap.xml)" in out and "note:" not in out


def test_wrong_base_url_is_pointed_out(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_site(built, base_url="https://example.github.io/other/") == 1
    assert f"note: sitemap.xml says the site was built for {BASE_URL}" in capsys.readouterr().out


def test_cli_verb(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = check_site(built, base_url=BASE_URL)
    direct = capsys.readouterr().out
    config = str(built.parent / "config.yaml")
    assert main(["--config", config, "check", str(built)]) == expected
    via_cli = capsys.readouterr().out
    assert via_cli.splitlines()[1:-1] == direct.splitlines()[1:-1]  # all but header and timing


def test_not_a_site_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_site(tmp_path, base_url=BASE_URL) == 2
    assert "no built site" in capsys.readouterr().err


@pytest.mark.parametrize("package", ["feedparser", "lxml"])
def test_missing_package_exits_2(built: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], package: str) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # makes `import <package>` fail
    assert check_site(built, base_url=BASE_URL) == 2
    assert f"needs the Python package {package!r}" in capsys.readouterr().err
