"""What a card shows is its fingerprint: a field added to the card's record
(render/views.card_fields) re-renders every list that shows the paper."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.models import Paper
from site_builder.render import views
from tests.golden_site import files


@pytest.fixture
def digest(two_paper_project: Path) -> Path:
    root = two_paper_project
    card = root / "templates" / "partials" / "paper_card.html"
    card.write_text(card.read_text().replace(
        '<p class="card-meta">', '<p class="card-note">{{ card.note_line }}</p>\n'
                                 '  <p class="card-meta">'))
    return root


def test_a_field_added_to_cards_reaches_every_listing(digest: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    plain = views.card_fields

    def with_note(paper: Paper, summary: str) -> views.View:
        return {**plain(paper, summary), "note_line": paper.note}

    monkeypatch.setattr(views, "card_fields", with_note)
    out = digest / "_site"
    build_site(digest / "config.yaml", out)
    before = files(out)
    entry = digest / "content/papers/long-context-windows.md"
    entry.write_text(entry.read_text().replace("note: ''", "note: Read this one first"))
    build_site(digest / "config.yaml", out)
    after = files(out)
    changed = {name for name in after if after[name] != before.get(name)}
    # Its own page, and every listing that shows its card, with the note on it.
    assert {"index.html", "papers/long-context-windows/index.html"} <= changed
    assert any(name.startswith("archive/2") for name in changed)  # its year's page
    assert "Read this one first" in after["index.html"].decode()
    assert after == files(build_site(digest / "config.yaml", digest / "clean",
                                     clean=True).out)
