"""A whole build takes a paper's dependency record from the last index when the paper's
entry key is the same and the engine is too (build/plan.paper_records), and makes it
again otherwise."""

from __future__ import annotations

import dataclasses
import datetime as dt

from site_builder.build.plan import paper_record, paper_records
from site_builder.incremental.depindex import DepIndex
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
