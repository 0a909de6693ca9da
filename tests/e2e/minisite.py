"""A small throwaway project (the repo's templates and static files, a few papers) to build.

Used by the check tests (break a built copy on purpose) and the hostile-content tests.
Papers are written straight into content/papers/ in the curator's format (README.md).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from tests.conftest import MINI_CONFIG, REPO, dump_text

BASE_URL = "https://example.github.io/repo/"
PAPERS = {
    "data-selection-by-importance": ("Data Selection by Importance Resampling for LLMs",
                                     "We select pretraining data for large language models.",
                                     "2024-03-05"),
    "long-context-recipe": ("A Long-Context Recipe", "We extend the long-context window "
                            "of LLMs to 128k tokens. Code: https://github.com/x/y.", "2024-02-01"),
    "plain-paper": ("A Plain Paper About Code", "Abstract of a paper about code.", None),
}


def paper_text(paper_id: str, title: str, abstract: str, published: str | None = None,
               note: str = "", submitter: str | None = None) -> str:
    when = dt.date.fromisoformat(published) if published else None
    front: dict[str, object] = {
        "id": paper_id, "title": title, "published": when, "authors": 2, "submitter": submitter,
        "comments": None, "sources": [], "themes": [], "tags": [], "note": note,
        "featured": False, "hidden": False}
    text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1_000_000)
    return f"---\n{text}---\n\n{abstract}\n"


def write_project(root: Path, extra: dict[str, str] | None = None) -> Path:
    """Make a project at root; extra maps file stems to paper texts. Returns config.yaml."""
    (root / "content" / "dumps").mkdir(parents=True, exist_ok=True)
    (root / "content" / "papers").mkdir(parents=True, exist_ok=True)
    (root / "content" / "dumps" / "a.txt").write_text(dump_text("Unused\n\nUnused."), "utf-8")
    config = root / "config.yaml"
    config.write_text(MINI_CONFIG.format(dumps="  - file: a.txt"), encoding="utf-8")
    for folder in ("templates", "static", "content/pages"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder, dirs_exist_ok=True)
    for number, (slug, (title, abstract, published)) in enumerate(sorted(PAPERS.items())):
        paper_id = f"00000000-0000-4000-8000-{number:012d}"
        (root / "content" / "papers" / f"{slug}.md").write_text(
            paper_text(paper_id, title, abstract, published), encoding="utf-8")
    for stem, text in (extra or {}).items():
        (root / "content" / "papers" / f"{stem}.md").write_text(text, encoding="utf-8")
    return config


def build_project(root: Path, extra: dict[str, str] | None = None) -> Path:
    """Write and build a project; returns the output folder."""
    from site_builder.build.pipeline import build_site

    config = write_project(root, extra)
    build_site(config, root / "_site", base_url=BASE_URL, clean=True)
    return root / "_site"
