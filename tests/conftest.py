"""Shared fixtures: a throwaway project folder with its own config, dumps and content."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

MINI_CONFIG = """\
site:
  title: Test Digest
  description: A digest for tests.
  base_url: https://example.github.io/repo/
  per_page: 3
  feed_items: 5
  home_items: 4
  search: false
dumps:
{dumps}
themes:
  - slug: data-selection
    title: Data selection
    description: Choosing training data.
    rules:
      - {{pattern: 'data selection', weight: 1}}
  - slug: long-context
    title: Long context
    description: Long sequences.
    rules:
      - {{pattern: 'long[- ]context', weight: 1}}
tags:
  code: ['code']
  llm: ['LLMs?', 'large language models?']
"""

HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n" \
         "byAK and the research community\n\nNov 26\n\n"


def dump_text(*entries: str) -> str:
    """A dump in the 000/001 format: header, then the given blank-line-separated entries."""
    return HEADER + "\n\n".join(textwrap.dedent(e).strip("\n") for e in entries) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """Make a project folder: make(dumps={name: text}, captured={name: 'YYYY-MM-DD'})."""

    def make(dumps: dict[str, str], captured: dict[str, str] | None = None,
             templates: bool = True) -> Path:
        root = tmp_path / "proj"
        (root / "content" / "dumps").mkdir(parents=True, exist_ok=True)
        for name, text in dumps.items():
            (root / "content" / "dumps" / name).write_text(text, encoding="utf-8")
        captured = captured or {}
        listing = "\n".join(
            f"  - file: {name}" + (f"\n    captured: {captured[name]}" if name in captured else "")
            for name in dumps)
        (root / "config.yaml").write_text(MINI_CONFIG.format(dumps=listing), encoding="utf-8")
        if templates:
            for folder in ("templates", "static"):
                if not (root / folder).exists():
                    shutil.copytree(REPO / folder, root / folder)
        return root

    return make
