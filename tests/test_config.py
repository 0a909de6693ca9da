"""config.yaml validation: every error with its dotted key; unknown keys rejected."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.config import load_config
from site_builder.errors import ConfigError
from tests.conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_is_valid() -> None:
    config = load_config(REPO / "config.yaml")
    assert [t.slug for t in config.themes] == [
        "data-selection", "data-mixtures", "synthetic-data", "domain-pretraining",
        "continual-pretraining", "long-context", "scaling-laws", "multimodal",
        "efficient-pretraining", "datasets", "multilingual", "fine-tuning"]
    assert len(config.dumps) == 5
    assert config.site.base_url.endswith("/")


BAD = """\
site:
  title: T
  description: D
  base_url: not a url
  colour: blue
  per_page: 0
dumps:
  - file: ../escape.txt
    captured: someday
themes:
  - slug: Bad Slug
    title: X
    description: Y
    rules:
      - {pattern: '(unclosed', weight: 1}
      - {pattern: 'ok', field: body}
  - slug: fine
    title: Fine
    rules: []
extra: 1
"""


def test_every_error_is_listed_with_its_dotted_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, BAD))
    text = str(info.value)
    for expected in [
        "config.yaml:4: site.base_url: 'not a url' is not an absolute http(s) URL",
        "config.yaml:5: site.colour: unknown key",
        "config.yaml:6: site.per_page: expected an integer >= 1",
        "config.yaml:8: dumps[0].file: a file name inside content/dumps/",
        "config.yaml:9: dumps[0].captured: 'someday' is not a date",
        "config.yaml:11: themes[0].slug: 'Bad Slug' is not a lowercase-hyphenated slug",
        "themes[0].rules[0].pattern: theme 'Bad Slug': pattern '(unclosed' does not compile",
        "themes[0].rules[1].field: theme 'Bad Slug': expected one of title, abstract, text",
        "themes[1].description: is required",
        "config.yaml:20: extra: unknown key",
    ]:
        assert expected in text, (expected, text)
    assert len(info.value.problems) == 10


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "site:\n  title: [x\n  description: y\n"))
    assert info.value.problems[0].line is not None
    assert "not valid YAML" in str(info.value)


def test_base_url_override_is_validated_and_normalised(tmp_path: Path) -> None:
    config = load_config(REPO / "config.yaml", base_url="https://u.github.io/other")
    assert config.site.base_url == "https://u.github.io/other/"
    with pytest.raises(ConfigError):
        load_config(REPO / "config.yaml", base_url="/relative/")


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20))
def test_any_yaml_value_gives_config_or_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                     data: object) -> None:
    import yaml

    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with contextlib.suppress(ConfigError):
        load_config(path)
