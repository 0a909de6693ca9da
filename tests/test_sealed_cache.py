"""Cache files cannot run code: a planted pickle is ignored (incremental/sealed.py)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.build.pipeline import build_site
from site_builder.config import load_config
from site_builder.incremental import sealed
from site_builder.ingest.merge import ingest
from tests.conftest import dump_text


class Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, proof: str) -> None:
        self.proof = proof

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (self.proof,))


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


def test_a_planted_cache_pickle_does_not_run(project: Callable[..., Path],
                                             tmp_path: Path) -> None:
    root = project({"a.txt": dump_text("A paper\nIts abstract.")})
    ingest(load_config(root / "config.yaml"))
    proof = tmp_path / "payload-ran"
    cache = root / ".cache"
    cache.mkdir(exist_ok=True)  # ingest may have made it (last-ingest.json)
    planted = pickle.dumps({"version": 13, "engine": "x", "classes": Payload(str(proof))})
    (cache / "entries.pickle").write_bytes(planted)  # what old builds unpickled blindly
    (cache / "entries-papers-0.pickle").write_bytes(  # a seal forged without the key
        sealed.MAGIC + b"\0" * sealed.TAG_BYTES + planted)
    build_site(root / "config.yaml", root / "_site")
    assert not proof.exists()
    assert (root / "_site" / "index.html").is_file()


def test_a_seal_made_with_another_key_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    blob = sealed.seal(b"data")
    assert blob is not None and sealed.unseal(blob) == b"data"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-machine"))
    assert sealed.unseal(blob) is None
    assert sealed.unseal(b"data") is None
    assert oct(sealed.key_path().stat().st_mode & 0o777) == "0o600"


def test_the_cache_still_spares_work_with_a_key(project: Callable[..., Path]) -> None:
    root = project({"a.txt": dump_text("A paper\nIts abstract.")})
    ingest(load_config(root / "config.yaml"))
    build_site(root / "config.yaml", root / "_site")
    blob = (root / ".cache" / "entries.pickle").read_bytes()
    assert blob.startswith(sealed.MAGIC)
    assert sealed.unseal(blob) is not None


def test_compiled_templates_are_reused_only_under_our_seal(tmp_path: Path) -> None:
    from site_builder.render.templating import make_environment

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.html").write_text("<p>{{ x }}</p>\n")
    cache = tmp_path / "jinja"
    assert make_environment(templates, cache).get_template("a.html").render(x=1) == "<p>1</p>\n"
    stored = list(cache.glob("*.jinja"))
    assert len(stored) == 1 and stored[0].read_bytes().startswith(sealed.MAGIC)

    compiled: list[str] = []

    env = make_environment(templates, cache)
    real = env.compile

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append("yes")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    env.compile = counting  # type: ignore[method-assign]
    env.get_template("a.html")
    assert compiled == []  # loaded from the sealed cache
    # A bucket written by anyone else (unsealed marshalled code) is compiled afresh.
    stored[0].write_bytes(stored[0].read_bytes()[len(sealed.MAGIC) + sealed.TAG_BYTES:])
    env = make_environment(templates, cache)
    env.compile = counting  # type: ignore[method-assign]
    assert env.get_template("a.html").render(x=2) == "<p>2</p>\n"
    assert compiled == ["yes"]
