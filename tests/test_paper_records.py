"""A whole build takes a paper's dependency record from the last index when the paper's
entry key is the same and the engine is too (build/plan.paper_records), and makes it
again otherwise."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from site_builder.build.plan import paper_record, paper_records
from site_builder.incremental.depindex import (
    DepIndex,
    PaperRecord,
    read_index,
    write_index,
)
from site_builder.models import Classification, Paper
from site_builder.site import Entry, make_entry


def entry(slug: str, themes: tuple[str, ...] = ("long-context",), title: str = "A title"
          ) -> Entry:
    paper = Paper(id=f"id-{slug}", slug=slug, title=title, abstract="An abstract.",
                  published=dt.date(2024, 3, 5), authors=3, submitter=None, comments=None,
                  sources=())
    return make_entry(paper, lambda _: Classification(themes, (), ()), {})


def test_a_record_is_kept_for_the_same_entry_and_engine_only() -> None:
    same, retitled, moved = entry("same"), entry("retitled"), entry("moved")
    previous = DepIndex(engine="engine-1")
    previous.papers = {e.slug: paper_record(e) for e in (same, retitled, moved)}
    now = [same, entry("retitled", title="Another title"),
           entry("moved", themes=("data-selection",)), entry("new")]

    records = paper_records(now, previous, "engine-1")
    assert records["same"] is previous.papers["same"]  # taken, not made again
    for e in now:  # and every record is what making it gives
        assert records[e.slug] == paper_record(e)
    assert records["retitled"].card != previous.papers["retitled"].card  # type: ignore[union-attr]
    assert records["moved"].place != previous.papers["moved"].place  # type: ignore[union-attr]

    # Another engine (code or libraries) may make other records from the same key.
    planted = dataclasses.replace(previous)
    planted.papers = {**previous.papers,
                      "same": previous.papers["same"]._replace(card="made by other code")}  # type: ignore[union-attr]
    assert paper_records(now, planted, "engine-2")["same"] == paper_record(same)
    assert paper_records(now, planted, "engine-1")["same"].card == "made by other code"


def test_the_index_keeps_its_records_and_files_through_the_file(tmp_path: Path) -> None:
    """The index is pickled as columns and joined strings (depindex.DepIndex
    __getstate__): what is read back equals what was written."""
    out = tmp_path / "_site"
    index = DepIndex(stamp="s", engine="e", related="related-x.json", deps_id="s")
    index.papers = {e.slug: paper_record(e) for e in (entry("one"), entry("two"))}
    index.papers["hidden"] = None
    index.files = {"one.md": (10, 20, "k1"), "two.md": (30, 0, "k2")}
    index.paper_salts = ("page", "base")
    write_index(out, index, None)
    back = read_index(out, "s")
    assert back == index and all(isinstance(r, PaperRecord) for r in
                                 (back.papers["one"], back.papers["two"]))
    assert read_index(out, "another stamp") is None


def test_an_index_read_back_with_a_record_of_the_wrong_shape_is_no_index(
        tmp_path: Path) -> None:
    """A field holding the separator would read back as one field too many: the
    index is refused (a whole build), never misread."""
    out = tmp_path / "_site"
    index = DepIndex(stamp="s")
    index.papers = {"one": PaperRecord(*"abcdef")}
    write_index(out, index, None)
    assert read_index(out, "s") == index
    index.papers = {"one": PaperRecord("a\x1fb", *"bcdef")}
    write_index(out, index, None)
    assert read_index(out, "s") is None
