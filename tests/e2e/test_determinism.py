"""The embedded digest, search index included, builds byte-identically every time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from tests.conftest import REPO
from tests.e2e.conftest import BASE_URL
from tests.golden_site import files

pytestmark = pytest.mark.e2e


def test_two_clean_builds_are_byte_identical(tmp_path: Path, site_dir: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("config.yaml", "content", "templates", "static"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, project / name)
    build_site(project / "config.yaml", project / "_site", base_url=BASE_URL, clean=True)
    again = files(project / "_site")
    first = files(site_dir)
    assert sorted(again) == sorted(first)
    assert any(name.startswith("pagefind/") for name in first)
    differing = [name for name in first if first[name] != again[name]]
    assert differing == []
