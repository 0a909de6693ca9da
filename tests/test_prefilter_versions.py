"""The prefilter reads CPython's private ``re._parser``: on 3.11, 3.12 and 3.13 it must
either read it right (its self-check passes and every derived need holds wherever the
regex matches) or step aside (plain ``re``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from site_builder.classify import prefilter as pf
from site_builder.classify.rules import config_patterns
from site_builder.config import load_config
from site_builder.content import load_papers
from tests.conftest import REPO

PYENV = Path.home() / ".pyenv" / "versions"

# Run in a bare interpreter (standard library only): the prefilter module needs nothing
# else to derive needs. Prints the patterns whose needs fail on a text they match.
CHECK = """
import json, re, sys
from site_builder.classify import prefilter as pf
data = json.load(sys.stdin)
if not pf.parser_usable():
    print(json.dumps({"usable": False, "wrong": []})); sys.exit(0)
wrong = []
for source, flags in data["patterns"]:
    pattern = re.compile(source, flags)
    for part in pf.alternatives(pattern):
        test = pf.prefilter(part)
        for text in data["texts"]:
            if part.search(text):
                folded, plain = pf.fold(text), pf.plain(text)
                for lits, times in test.needs:
                    found = sum((plain.count(l[1:]) if l.startswith(pf.VERBATIM)
                                 else folded.count(l)) for l in lits)
                    if found < times:
                        wrong.append(source)
print(json.dumps({"usable": True, "wrong": sorted(set(wrong))}))
"""


def interpreters() -> list[tuple[str, str]]:
    found = [("running", sys.executable)]
    for minor in ("3.11", "3.12", "3.13"):
        candidates = sorted(PYENV.glob(f"{minor}*/bin/python")) if PYENV.is_dir() else []
        on_path = shutil.which(f"python{minor}")
        if candidates:
            found.append((minor, str(candidates[-1])))
        elif on_path:
            found.append((minor, on_path))
    return found


def test_every_supported_python_is_available_to_check() -> None:
    names = {name for name, _ in interpreters()}
    missing = {"3.11", "3.12", "3.13"} - names
    assert not missing, (f"cannot check the prefilter on Python {', '.join(sorted(missing))}: "
                         "install them (pyenv install 3.12 3.13) to run this check")


@pytest.mark.parametrize(("name", "python"), interpreters())
def test_the_prefilter_is_right_or_steps_aside(name: str, python: str) -> None:
    config = load_config(REPO / "config.yaml")
    papers = load_papers(config.papers_dir, [])
    texts = [f"{p.title}\n{p.abstract}" for p in papers[:150]]
    patterns = [(p.pattern, p.flags) for p in config_patterns(config)]
    done = subprocess.run([python, "-c", CHECK], input=json.dumps(
        {"patterns": patterns, "texts": texts}), capture_output=True, text=True,
        cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, check=False,
        timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["wrong"] == [], f"Python {name}: needs that do not hold"
    if name == "running":
        assert result["usable"]  # the development Python reads its own parser


def test_an_unusable_parser_means_plain_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    pf.parser_usable.cache_clear()
    pf.prefilter.cache_clear()
    monkeypatch.setattr(pf, "_sre", None)
    try:
        assert not pf.parser_usable()
        pattern = re.compile(r"data selection", re.IGNORECASE)
        assert pf.prefilter(pattern) == pf.Prefilter()
        patterns = pf.PatternSet([pattern])
        assert patterns.matching(patterns.scan("Data Selection at scale"), [0]) == {0}
        assert patterns.matching(patterns.scan("nothing here"), [0]) == set()
    finally:
        pf.parser_usable.cache_clear()
        pf.prefilter.cache_clear()
