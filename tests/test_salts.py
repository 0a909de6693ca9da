"""Salts per page template (incremental/salts.py): what a template uses, read off its
source, never less than Jinja's own reading; and which salts a template edit moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import jinja2.meta
import pytest

from site_builder.errors import BuildError
from site_builder.incremental import salts as S
from site_builder.render.pages import Renderer
from site_builder.render.templating import make_environment

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"


def jinja_reading(source: str) -> set[str] | None:
    """What Jinja's parser says ``source`` loads (None: a name it cannot know)."""
    found = set(jinja2.meta.find_referenced_templates(jinja2.Environment().parse(source)))
    return None if None in found else {name for name in found if name is not None}


@pytest.mark.parametrize("name", sorted(S.template_sources(TEMPLATES)))
def test_every_real_template_is_read_as_jinja_reads_it(name: str) -> None:
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert S.used_names(source) == jinja_reading(source)


CASES = {
    '{% extends "base.html" %}': {"base.html"},
    "{%- extends 'base.html' -%}": {"base.html"},
    '{%extends"base.html"%}': {"base.html"},
    '{% include "a.html" ignore missing with context %}': {"a.html"},
    '{% include "a.html" without context %}{% include "b.html" %}': {"a.html", "b.html"},
    '{% import "m.html" as m %}': {"m.html"},
    '{% from "m.html" import card, chips as c with context %}': {"m.html"},
    '{%+ include "a.html" +%}': {"a.html"},
    '{% include\n  "a.html"\n%}': {"a.html"},
    "{% include name %}": None,
    '{% include ["a.html", "b.html"] %}': None,
    '{% include "a.html" if wide else "b.html" %}': None,
    '{% extends layout ~ ".html" %}': None,
    '{% import "a" ~ "b.html" as m %}': None,
    '{% include "a.html" %}{% include other %}': None,
    "{% set x = 1 %}{{ x }}": set(),
}


@pytest.mark.parametrize("source", sorted(CASES))
def test_loading_tags(source: str) -> None:
    ours, jinjas = S.used_names(source), jinja_reading(source)
    assert ours == CASES[source]
    # Never less than Jinja's reading: "any" where it knows names (a literal list).
    assert ours is None or (jinjas is not None and ours >= jinjas)


def salts_of(folder: Path) -> S.Salts:
    return S.make_salts(("shown", 1), folder, Renderer.everywhere)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    return tmp_path / "templates"


def moved(before: S.Salts, after: S.Salts) -> set[str]:
    return {name for name in before.pages if before.pages[name] != after.pages[name]}


PAGES = sorted(name for name in S.template_sources(TEMPLATES) if "/" not in name)


def test_an_edit_moves_the_salts_of_the_pages_using_the_template(templates: Path) -> None:
    before = salts_of(templates)
    edited = templates / "theme.html"
    edited.write_text(edited.read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    after = salts_of(templates)
    assert moved(before, after) == {"theme.html", ""}
    assert after.base == before.base  # feeds and BibTeX use no template


@pytest.mark.parametrize("partial", ["base.html", *Renderer.everywhere,
                                     "partials/chips.html", "partials/icons.html"])
def test_what_every_page_uses_moves_every_page(templates: Path, partial: str) -> None:
    before = salts_of(templates)
    edited = templates / partial
    edited.write_text(edited.read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    assert set(PAGES) <= moved(before, salts_of(templates))


def test_a_template_naming_any_uses_every_template(templates: Path) -> None:
    page = templates / "tags.html"
    page.write_text(page.read_text(encoding="utf-8") + "{% include extra %}\n", encoding="utf-8")
    before = salts_of(templates)
    edited = templates / "theme.html"
    edited.write_text(edited.read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    assert moved(before, salts_of(templates)) == {"theme.html", "tags.html", ""}


def test_a_new_template_of_a_name_in_use_moves_its_users(templates: Path) -> None:
    page = templates / "stats.html"
    page.write_text(page.read_text(encoding="utf-8")
                    + '{% include "partials/extra.html" ignore missing %}\n', encoding="utf-8")
    before = salts_of(templates)
    (templates / "partials/extra.html").write_text("<p>extra</p>\n", encoding="utf-8")
    assert moved(before, salts_of(templates)) == {"stats.html", ""}


def test_the_shown_values_move_every_salt(templates: Path) -> None:
    one = S.make_salts(("shown", 1), templates, Renderer.everywhere)
    two = S.make_salts(("shown", 2), templates, Renderer.everywhere)
    assert one.base != two.base and not set(one.pages.values()) & set(two.pages.values())


# -- what renders: the code Jinja generates, not the bytes -----------------------

def forms_salts(folder: Path, memo: Path, env: jinja2.Environment | None = None) -> S.Salts:
    env = env if env is not None else make_environment(folder)
    return S.make_salts(("shown", 1), folder, Renderer.everywhere,
                        S.CompiledForms(env, memo))


@pytest.mark.parametrize("edit", [
    "{# a comment #}\n",                    # renders nothing
    "{% block nowhere %}{% endblock %}\n",  # a block no parent asks for... still code
])
def test_a_comment_moves_no_salt_but_code_does(templates: Path, tmp_path: Path,
                                              edit: str) -> None:
    memo = tmp_path / "forms.json"
    before = forms_salts(templates, memo)
    theme = templates / "theme.html"
    theme.write_text(theme.read_text(encoding="utf-8") + edit, encoding="utf-8")
    after = forms_salts(templates, memo)
    assert moved(before, after) == (set() if edit.startswith("{#") else {"theme.html", ""})


def test_a_visible_edit_inside_a_block_moves_the_salt(templates: Path, tmp_path: Path) -> None:
    memo = tmp_path / "forms.json"
    before = forms_salts(templates, memo)
    mark = templates / "theme.html"
    text = mark.read_text(encoding="utf-8")
    at = text.index("{% block content %}") + len("{% block content %}")
    mark.write_text(text[:at] + "<!-- edited -->" + text[at:], encoding="utf-8")
    assert moved(before, forms_salts(templates, memo)) == {"theme.html", ""}


def test_forms_are_generated_once_then_read_from_the_memo(templates: Path,
                                                          tmp_path: Path) -> None:
    memo = tmp_path / "forms.json"
    first = forms_salts(templates, memo)

    class NoCompiling(jinja2.Environment):
        def compile(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise AssertionError("generated again although the memo holds it")

    assert forms_salts(templates, memo, NoCompiling()) == first
    (templates / "theme.html").write_text("{{ changed }}\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="generated again"):
        forms_salts(templates, memo, NoCompiling())  # an edited template is not in it


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"version": 1, "forms": [1]}',
                                    b'{"version": 0, "forms": {}}'])
def test_a_damaged_memo_is_no_memo(templates: Path, tmp_path: Path, damage: bytes) -> None:
    memo = tmp_path / "forms.json"
    clean = forms_salts(templates, tmp_path / "other.json")
    memo.write_bytes(damage)
    assert forms_salts(templates, memo) == clean


@pytest.mark.parametrize("broken", ["partials/unused.html", "theme.html"])
def test_a_template_jinja_cannot_compile_is_an_error_naming_file_and_line(
        templates: Path, tmp_path: Path, broken: str) -> None:
    """Used by a page or by none: a syntax error stops the build with its place."""
    (templates / broken).write_text("<p>fine</p>\n{% if %}\n", encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        forms_salts(templates, tmp_path / "forms.json")
    assert str(raised.value).startswith(f"templates/{broken}:2:")


def test_a_planted_memo_cannot_make_an_edit_pass_for_the_old_template(
        templates: Path, tmp_path: Path) -> None:
    """An unsealed memo saying the edited theme.html generates the old code is not
    read: the edit still moves the salt of the pages using it."""
    import json

    from site_builder.incremental.engine import digest, engine_digest

    memo = tmp_path / "forms.json"
    theme = templates / "theme.html"
    old = theme.read_bytes()
    before = forms_salts(templates, memo)
    old_form = digest(make_environment(templates).compile(old.decode(), "theme.html", raw=True))
    at = old.index(b"{% block content %}") + len(b"{% block content %}")
    edited = old[:at] + b"<!-- edited -->" + old[at:]
    theme.write_bytes(edited)
    planted = {digest(engine_digest(), "theme.html", edited): old_form}
    memo.write_text(json.dumps({"version": S.FORMS_VERSION, "forms": planted}))
    assert moved(before, forms_salts(templates, memo)) == {"theme.html", ""}
