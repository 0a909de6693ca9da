"""The built digest passes `site-builder check` and the W3C Nu HTML checker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from site_builder.check import check_site
from tests.conftest import REPO
from tests.e2e.conftest import BASE_URL

pytestmark = pytest.mark.e2e

VNU_JAR = REPO / ".cache/e2e/node_modules/vnu-jar/build/dist/vnu.jar"
INSTALL = "run `make e2e-deps` (it runs `npm install --prefix .cache/e2e --ignore-scripts " \
          "vnu-jar@26.9.27` and installs Java with apt-get when it can)"


def test_site_builder_check_passes(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # How long the check takes is for benchmarks, not a wall-clock assertion in a test.
    status = check_site(site_dir, base_url=BASE_URL)
    out = capsys.readouterr().out
    assert status == 0, out


def vnu_command() -> list[str]:
    jar = Path(os.environ.get("VNU_JAR") or VNU_JAR)
    java = shutil.which("java")
    missing = ([] if java else ["java (a Java runtime, e.g. apt-get install default-jre-headless)"]
               ) + ([] if jar.is_file() else [f"the W3C Nu HTML checker at {jar} (npm vnu-jar)"])
    if missing or java is None:
        pytest.fail(f"missing: {' and '.join(missing)}; {INSTALL}. VNU_JAR=/path/to/vnu.jar "
                    "picks another copy.", pytrace=False)
    return [java, "-Xss4m", "-jar", str(jar), "--errors-only", "--skip-non-html", "--format",
            "json", "--stdout", "--exit-zero-always"]


def test_nu_html_checker_reports_no_errors(site_dir: Path) -> None:
    command = vnu_command()
    done = subprocess.run([*command, str(site_dir)], capture_output=True, text=True,
                          timeout=300, check=False)
    try:
        messages = json.loads(done.stdout)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"vnu.jar gave no JSON report (exit {done.returncode}): "
                    f"{(done.stdout + done.stderr)[-2000:]}", pytrace=False)
    errors = [f"{unquote(m.get('url', '?')).removeprefix(f'file:{site_dir}/')}:"
              f"{m.get('lastLine', '?')}: {m.get('message', '')}"
              for m in messages if m.get("type") in ("error", "non-document-error")]
    assert not errors, f"{len(errors)} errors from the Nu HTML checker:\n" + "\n".join(errors[:40])
