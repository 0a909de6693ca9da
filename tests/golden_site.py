"""The golden site: a tiny project built and compared file by file with tests/golden/.

`make golden` (python -m tests.golden_site --regenerate) rebuilds the expected output
after an intended change; review its diff like any other code change.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from site_builder.build.pipeline import build_site

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "tests" / "fixtures" / "golden_project"
EXPECTED = REPO / "tests" / "golden" / "site"


def build_golden(out: Path) -> None:
    """Build the golden project with the repository's templates and static files."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(PROJECT, root)
        shutil.copytree(REPO / "templates", root / "templates")
        shutil.copytree(REPO / "static", root / "static")
        build_site(root / "config.yaml", out, clean=True)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def golden_files(folder: Path) -> dict[str, bytes]:
    """The built files the golden copy keeps: static/ is copied byte for byte from the
    repository, so keeping a second copy of it would only repeat the stylesheet."""
    return {name: data for name, data in files(folder).items()
            if not name.startswith("static/")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if args.regenerate:
        shutil.rmtree(EXPECTED, ignore_errors=True)
        build_golden(EXPECTED)
        shutil.rmtree(EXPECTED / "static")
        # The build record beside the output is the builder's state, not expected output.
        (EXPECTED.parent / f".{EXPECTED.name}.build-record.json").unlink(missing_ok=True)
        print(f"regenerated {len(files(EXPECTED))} files in {EXPECTED.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
