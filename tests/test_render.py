"""Small pieces of rendering: the pagination window and the charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from site_builder.render.charts import bar_chart_svg, matrix_svg, timeline_svg
from site_builder.render.pages import page_window


def test_page_window_links_ends_and_neighbours_with_gaps() -> None:
    assert page_window(1, 1) == [1]
    assert page_window(2, 4) == [1, 2, 3, 4]
    assert page_window(5, 10) == [1, 0, 3, 4, 5, 6, 7, 0, 10]
    assert page_window(10, 10) == [1, 0, 8, 9, 10]
    # Linear, not quadratic: a 600-page listing links at most 9 pages from each page.
    assert max(len(page_window(n, 600)) for n in range(1, 601)) <= 9


def test_charts_are_well_formed_accessible_svg() -> None:
    for svg in (timeline_svg([("2023", 3), ("2024", 7)], "Scaling laws"),
                bar_chart_svg([("Data <selection>", 5), ("Long & short", 0)], "Papers"),
                matrix_svg(["A", "B"], [[2, 1], [1, 3]], "Together")):
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("role") == "img" and root.get("aria-label")
    label = ET.fromstring(bar_chart_svg([("Data <selection>", 5)], "Papers")).get("aria-label")
    assert label == "Papers: Data <selection>: 5"
