"""The review page: what it lists, what each action writes, and who may write."""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from site_builder.config import load_config
from site_builder.content import read_paper, set_fields
from site_builder.errors import ContentError
from site_builder.ingest.merge import ingest
from site_builder.models import Classification
from site_builder.serve import review as review_module
from site_builder.serve.review import ReviewError, changes, review_items
from site_builder.serve.server import PreviewServer
from tests.conftest import dump_text

SELECTED = "Data Selection At Scale\n\nWe study data selection for LLMs."
PLAIN = "A Paper With No Theme\n\nNothing the rules know."
OLD = "An Older Paper Without Theme\n\nAlso nothing."
NEW_SLUG = "a-paper-with-no-theme"


def wait_until(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    path: Path = project({"a.txt": dump_text(OLD)}, captured={"a.txt": "2025-11-03"})
    ingest(load_config(path / "config.yaml"))
    (path / "content/dumps/b.txt").write_text(dump_text(SELECTED, PLAIN), encoding="utf-8")
    cfg = path / "config.yaml"
    cfg.write_text(cfg.read_text().replace("dumps:\n", "dumps:\n  - file: b.txt\n"
                                           "    captured: 2025-11-26\n"))
    ingest(load_config(cfg))
    return path


@pytest.fixture
def logs() -> list[str]:
    return []


@pytest.fixture
def server(root: Path, logs: list[str]) -> Iterator[PreviewServer]:
    preview = PreviewServer(root / "config.yaml", root / "_site", port=0, quiet=0.1, poll=0.02,
                            log=logs.append, idle=0.5)
    preview.start()
    try:
        assert preview.error is None, preview.error
        yield preview
    finally:
        preview.stop()


def request(server: PreviewServer, method: str, path: str, body: object = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
        data = json.dumps(body).encode() if body is not None else b""
        if method == "POST":
            sent.setdefault("Content-Type", "application/json")
            sent["Content-Length"] = str(len(data))
        for name, value in sent.items():
            if value:
                conn.putheader(name, value)
        conn.endheaders(data if method == "POST" else None)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def page(server: PreviewServer) -> tuple[str, str, dict[str, str]]:
    """The review page, its token, and each paper's digest by slug."""
    status, _, text = request(server, "GET", "/repo/_review/")
    assert status == 200, text
    token = re.search(r'name="review-token" content="([^"]+)"', text)
    assert token is not None
    digests = dict(re.findall(r'data-slug="([^"]+)" data-digest="([0-9a-f]+)"', text))
    return text, token[1], digests


def write(server: PreviewServer, token: str, body: dict[str, object], verb: str = "action",
          **headers: str) -> tuple[int, dict[str, object]]:
    sent = {"Origin": f"http://127.0.0.1:{server.port}", "X-Review-Token": token, **headers}
    status, headers, text = request(server, "POST", f"/repo/_review/{verb}", body, sent)
    if not headers.get("Content-Type", "").startswith("application/json"):
        return status, {"message": text}  # tornado's own 403 page (the Host check)
    return status, json.loads(text)


def snapshot(root: Path) -> dict[str, bytes]:
    files = [*sorted((root / "content").rglob("*")), root / "config.yaml"]
    return {str(p): p.read_bytes() for p in files if p.is_file()}


def test_the_page_lists_the_latest_arrivals_first_then_papers_without_theme(
        root: Path, server: PreviewServer) -> None:
    text, token, digests = page(server)
    assert list(digests) == ["data-selection-at-scale", NEW_SLUG, "an-older-paper-without-theme"]
    assert "We study data selection for LLMs." in text and "Nov 26, 2025" in text
    assert "<code>b.txt:" in text and len(token) >= 40
    assert text.count(token) == 1  # in its meta tag only
    _, headers, _ = request(server, "GET", "/repo/_review/")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    status, _, script = request(server, "GET", "/repo/_review/review.js")
    assert status == 200 and "X-Review-Token" in script and token not in script
    assert not list((root / "_site").rglob("*_review*"))  # never part of the built site
    assert request(server, "GET", "/elsewhere/_review/")[0] == 404


def test_adding_a_theme_pins_it_changes_only_those_lines_and_undo_restores(
        root: Path, server: PreviewServer, logs: list[str]) -> None:
    entry = root / "content/papers" / f"{NEW_SLUG}.md"
    before = entry.read_bytes()
    _, token, digests = page(server)
    status, answer = write(server, token, {"slug": NEW_SLUG, "digest": digests[NEW_SLUG],
                                           "action": "add-theme", "value": "long-context"})
    assert status == 200, answer
    after = entry.read_bytes()
    assert read_paper(entry).themes == ("long-context",)
    old_lines, new_lines = before.decode().split("\n"), after.decode().split("\n")
    assert "themes: []" in old_lines
    at = old_lines.index("themes: []")
    assert new_lines[:at] == old_lines[:at] and new_lines[at + 2:] == old_lines[at + 1:]
    assert new_lines[at:at + 2] == ["themes:", "- long-context"]
    assert any(line.startswith(f"review: content/papers/{NEW_SLUG}.md: add-theme")
               for line in logs)
    wait_until(lambda: "Long context" in request(server, "GET",
                                                 f"/repo/papers/{NEW_SLUG}/")[2])
    status, answer = write(server, token, {}, verb="undo")
    assert status == 200, answer
    assert entry.read_bytes() == before
    assert write(server, token, {}, verb="undo")[0] == 409  # one level: nothing left


@pytest.mark.parametrize("headers", [
    {"X-Review-Token": ""}, {"X-Review-Token": "wrong"}, {"Origin": "http://evil.example"},
    {"Origin": ""}, {"Content-Type": "text/plain"}])
def test_a_write_without_token_origin_or_json_is_403_and_changes_nothing(
        root: Path, server: PreviewServer, headers: dict[str, str]) -> None:
    _, token, digests = page(server)
    before = snapshot(root)
    status, _ = write(server, token, {"slug": NEW_SLUG, "digest": digests[NEW_SLUG],
                                      "action": "hidden", "value": True}, **headers)
    assert status == 403
    assert snapshot(root) == before


def test_a_foreign_host_neither_reads_the_token_nor_writes(root: Path,
                                                          server: PreviewServer) -> None:
    _, token, digests = page(server)
    before = snapshot(root)
    evil = {"Host": f"evil.example:{server.port}"}
    status, _, text = request(server, "GET", "/repo/_review/", headers=evil)
    assert status == 403 and token not in text  # a rebound page cannot read the token
    status, _ = write(server, token, {"slug": NEW_SLUG, "digest": digests[NEW_SLUG],
                                      "action": "hidden", "value": True},
                      Host=f"evil.example:{server.port}", Origin="http://evil.example")
    assert status == 403
    assert snapshot(root) == before


@pytest.mark.parametrize("slug", ["../../config", "../config", "/etc/passwd", "escape",
                                  "../dumps/a"])
def test_a_request_naming_a_path_outside_content_papers_changes_nothing(
        root: Path, server: PreviewServer, slug: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_bytes((root / "content/papers" / f"{NEW_SLUG}.md").read_bytes())
    (root / "content/papers/escape.md").symlink_to(outside)
    _, token, _ = page(server)
    before = snapshot(root) | {str(outside): outside.read_bytes()}
    digest = review_module.digest_of(outside.read_bytes())
    status, answer = write(server, token, {"slug": slug, "digest": digest,
                                           "action": "note", "value": "pwned"})
    assert status == 409 and "no such entry file" in str(answer["message"])
    assert snapshot(root) | {str(outside): outside.read_bytes()} == before


def test_a_file_changed_since_the_page_showed_it_is_refused_by_name(
        root: Path, server: PreviewServer) -> None:
    entry = root / "content/papers" / f"{NEW_SLUG}.md"
    _, token, digests = page(server)
    entry.write_text(entry.read_text().replace("note: ''", "note: From the editor."))
    edited = entry.read_bytes()
    status, answer = write(server, token, {"slug": NEW_SLUG, "digest": digests[NEW_SLUG],
                                           "action": "featured", "value": True})
    assert status == 409 and f"content/papers/{NEW_SLUG}.md" in str(answer["message"])
    assert entry.read_bytes() == edited


def test_theme_actions_follow_pins_and_rulings(root: Path) -> None:
    config = load_config(root / "config.yaml")
    paper = read_paper(root / "content/papers/data-selection-at-scale.md")
    shown = ("data-selection",)
    assert changes(paper, shown, config, "add-theme", "long-context") == {
        "themes": ["data-selection", "long-context"]}
    assert changes(paper, shown, config, "remove-theme", "data-selection") == {
        "not_themes": ["data-selection"]}
    with pytest.raises(ReviewError, match="no theme"):
        changes(paper, shown, config, "add-theme", "astrology")
    with pytest.raises(ReviewError, match="vocabulary"):
        changes(paper, shown, config, "remove-tag", "llm")
    assert changes(paper, shown, config, "add-tag", "Mine") == {"tags": ["Mine"]}
    with pytest.raises(ReviewError):
        changes(paper, shown, config, "hidden", "yes")


def test_uncertain_papers_come_lowest_confidence_first(root: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (root / ".cache/last-ingest.json").unlink()
    confidence = {"data-selection-at-scale": 0.9, NEW_SLUG: 0.2}

    def one(paper):  # type: ignore[no-untyped-def]
        c = confidence.get(paper.slug)
        themes = ("data-selection",) if c is not None else ()
        return Classification(themes, (), (), tuple((t, c) for t in themes),
                              (("long-context", 0.4),))

    def fake(papers, config, model):  # type: ignore[no-untyped-def]
        return [one(p) for p in papers]
    monkeypatch.setattr(review_module, "classify_all", fake)
    items = review_items(load_config(root / "config.yaml"))
    assert [(i.paper.slug, i.why) for i in items] == [
        ("an-older-paper-without-theme", "no theme"), (NEW_SLUG, "uncertain"),
        ("data-selection-at-scale", "uncertain")]


def test_set_fields_keeps_every_other_byte() -> None:
    text = ("\ufeff---\r\nid: x\r\ntitle: 'A: b'\r\nthemes: []\r\n# a comment\r\n"
            "tags:\r\n- a\r\nnote: \"two\r\n  lines\"\r\nfeatured: false\r\nextra: 1\r\n"
            "---\r\n\r\nBody \\ text\r\n")
    out = set_fields(text, "x.md", {"themes": ["a", "b"], "hidden": True, "not_themes": ["c"]})
    pinned = "themes:\r\n- a\r\n- b\r\nnot_themes:\r\n- c\r\n"
    assert out == text.replace("themes: []\r\n", pinned).replace(
        "featured: false\r\n", "featured: false\r\nhidden: true\r\n")
    aliased = "---\nid: x\nthemes: &t [a]\ntags: *t\n---\n"  # tags shares the themes' value
    with pytest.raises(ContentError):
        set_fields(aliased, "x.md", {"themes": ["b"]})
