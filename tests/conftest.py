"""Shared fixtures: a throwaway project folder with its own config, dumps and content."""

from __future__ import annotations

import os

# Builds in the tests run numpy as the console script does (cli.run): one BLAS thread,
# set before anything loads numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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


# Three entries of the 000/001 format (a dated one with code, one with an author count
# and a date without year, an undated one), shared by the build tests.
PAPER_A = """\
Data Selection for Language Models via Importance Resampling

We study data selection for LLMs. Code at https://github.com/p-lambda/dsir.

  • 3 authors
·
Feb 6, 2023 4"""
PAPER_B = """\
Long-Context Training Recipes

We extend the long-context window of LLMs to 128k tokens for code.

  • 1 author
·
Mar 5"""
PAPER_C = """\
Another Paper About Scaling

Scaling things up, no theme here."""


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


TWO_ENTRIES = ["Data selection for pretraining\nWe study data selection for LLMs.\n"
               "  • 3 authors\n·\nFeb 6, 2023",
               "Long-context windows\nWe extend the long-context window to 128k tokens.\n"
               "  • 1 author\n·\nMar 5"]


@pytest.fixture
def two_paper_project(project: Callable[..., Path]) -> Path:
    """A project of TWO_ENTRIES, ingested (search off, as in MINI_CONFIG)."""
    from site_builder.config import load_config
    from site_builder.ingest.merge import ingest

    root = project({"a.txt": dump_text(*TWO_ENTRIES)}, captured={"a.txt": "2025-11-26"})
    ingest(load_config(root / "config.yaml"))
    return root
