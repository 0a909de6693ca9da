"""urls.paper_output, the unchecked form of output_path(paper_path(slug)) a whole build
asks for tens of thousands of times: equal for every slug an entry file may have."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from site_builder import urls as U
from site_builder.content import SLUG_NAME

REPO = Path(__file__).resolve().parents[1]


def test_every_real_paper_output_is_the_checked_one() -> None:
    slugs = [path.stem for path in (REPO / "content/papers").glob("*.md")]
    assert len(slugs) > 400
    for slug in slugs:
        assert U.paper_output(slug) == U.output_path(U.paper_path(slug))


@given(st.from_regex(SLUG_NAME, fullmatch=True).filter(lambda s: not s.endswith(".")))
def test_any_slug_an_entry_file_may_have(slug: str) -> None:
    assert U.paper_output(slug) == U.output_path(U.paper_path(slug))


@given(st.text())
def test_a_path_is_quoted_as_quote_does(path: str) -> None:
    """The regex that lets a path through unquoted never disagrees with quote."""
    U._quote_path.cache_clear()
    assert U._quote_path(path) == quote(path.lstrip("/"), safe="/#?=&.-_~")


@given(st.from_regex(r"/?[A-Za-z0-9/#?=&._~ %-]*", fullmatch=True))
def test_a_path_of_url_characters_is_quoted_as_quote_does(path: str) -> None:
    assert U._quote_path(path) == quote(path.lstrip("/"), safe="/#?=&.-_~")
