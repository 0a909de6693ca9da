"""The prefilter reads CPython's private ``re._parser``: on 3.11, 3.12 and 3.13 it must
read it right (its self-check passes, and every need, start and unless derived holds on
real papers), and without it step aside to plain ``re`` with the same results. Each of
the three runs in its own interpreter (pyenv's, else pythonX.Y on the PATH); one that
is missing fails its test with what to install, rather than passing unchecked. A
parser the self-check refuses fails too: builds would be right but slow."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from site_builder.classify import prefilter as pf
from site_builder.classify.rules import config_patterns
from site_builder.config import load_config
from site_builder.content import load_papers
from tests.conftest import REPO

PYENV = Path.home() / ".pyenv" / "versions"

SUPPORTED = ("3.11", "3.12", "3.13")

# Run in a bare interpreter (standard library only): the prefilter module needs nothing
# else to derive needs. Prints whether the parser is usable and the patterns whose
# prefilter is wrong on a text: a need missing where the regex matches, a match that
# begins at none of the starts, or an unless that fails where the regex does not match.
# Then, with the parser taken away, that PatternSet runs plain re and agrees with it.
CHECK = """
import json, re, sys
from site_builder.classify import prefilter as pf
data = json.load(sys.stdin)
usable = pf.parser_usable()
wrong = []
patterns = [re.compile(source, flags) for source, flags in data["patterns"]]

def holds(need, folded, plain):
    lits, times = need
    return sum((plain.count(l[1:]) if l.startswith(pf.VERBATIM) else folded.count(l))
               for l in lits) >= times

for pattern in patterns:
    for part in pf.alternatives(pattern):
        test = pf.prefilter(part)
        for text in data["texts"]:
            folded, plain = pf.fold(text), pf.plain(text)
            matches = part.search(text) is not None
            if matches and not all(holds(need, folded, plain) for need in test.needs):
                wrong.append(("need", part.pattern))
            if matches and test.starts:
                places = {m.start() for lit in test.starts for m in re.finditer(
                    re.escape(lit.removeprefix(pf.VERBATIM)),
                    plain if lit.startswith(pf.VERBATIM) else folded)}
                if not any(part.match(text, place) for place in places):
                    wrong.append(("start", part.pattern))
            if test.unless and not matches \
                    and not all(holds(need, folded, plain) for need in test.unless):
                wrong.append(("unless", part.pattern))
pf._sre = None
pf.parser_usable.cache_clear()
pf.prefilter.cache_clear()
plainly = pf.PatternSet(patterns)  # no literals: needs no Aho-Corasick (pyahocorasick)
for text in data["texts"]:
    expected = {i for i, p in enumerate(patterns) if p.search(text)}
    if plainly.matching(plainly.scan(text), range(len(patterns))) != expected:
        wrong.append(("fallback", text[:60]))
print(json.dumps({"version": sys.version.split()[0], "usable": usable,
                  "checked": len(patterns), "wrong": sorted(set(map(tuple, wrong)))}))
"""


def interpreters() -> dict[str, str | None]:
    """The interpreter of each supported Python (pyenv's newest, else pythonX.Y on the
    PATH); None where there is none."""
    found: dict[str, str | None] = {}
    for minor in SUPPORTED:
        installed = [path for path in PYENV.glob(f"{minor}.*/bin/python")
                     if path.parent.parent.name.split(".")[:2] == minor.split(".")]
        newest = max(installed, default=None,
                     key=lambda path: [int(n) for n in path.parent.parent.name.split(".")
                                       if n.isdigit()])
        found[minor] = str(newest) if newest else shutil.which(f"python{minor}")
    return found


def run_check(python: str) -> dict[str, Any]:
    config = load_config(REPO / "config.yaml")
    papers = load_papers(config.papers_dir, [])
    texts = [f"{p.title}\n{p.abstract}" for p in papers[:150]]
    patterns = [(p.pattern, p.flags) for p in config_patterns(config)]
    done = subprocess.run([python, "-c", CHECK], input=json.dumps(
        {"patterns": patterns, "texts": texts}), capture_output=True, text=True,
        cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, check=False,
        timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("minor", SUPPORTED)
def test_the_prefilter_reads_the_parser_right_and_falls_back_to_plain_re(minor: str) -> None:
    """On each supported Python: the self-check passes (the fast path is in use) and what
    the parser gives holds on real papers; without the parser, plain re agrees."""
    python = interpreters()[minor]
    if python is None:
        pytest.fail(f"Python {minor} is missing, so the prefilter (which reads the private "
                    f"re._parser) is not checked on it: install it (pyenv install {minor}) "
                    f"or put python{minor} on the PATH")
    result = run_check(python)
    assert result["version"].startswith(f"{minor}."), (python, result["version"])
    assert result["wrong"] == [], f"Python {result['version']}: wrong prefilters"
    assert result["usable"], (
        f"Python {result['version']}: re._parser fails the prefilter's self-check, so every "
        "build runs every regex (right, but slower): teach prefilter.py the new tree")
    assert result["checked"] > 100


def test_the_running_python_reads_its_parser_right() -> None:
    result = run_check(sys.executable)
    assert result["wrong"] == [] and result["usable"]


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
