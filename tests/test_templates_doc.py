"""templates/README.md, the template contract, checked against the views of a real build.

The golden project (with search on, so every page template renders) is built once with
render_page and Renderer.chrome wrapped to record what each template receives. The
README's tables must name exactly those variables, record keys, globals and macro
parameters, and its Markup claims must match the values: a view that gains or loses a
variable without its row in the README fails here.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import jinja2
import pytest
from jinja2.defaults import DEFAULT_NAMESPACE
from markupsafe import Markup

from site_builder.build import plan
from site_builder.build.pipeline import build_site
from site_builder.render import templating
from site_builder.render.pages import Renderer
from site_builder.render.templating import PageJob
from tests.golden_site import PROJECT, REPO

TEMPLATES = REPO / "templates"
README = TEMPLATES / "README.md"

Doc = dict[str, dict[str, list[list[str]]]]


def parse_readme(text: str) -> Doc:
    """{## section: {### heading name (unquoted): [table rows as cells]}}. Rows of the
    header and the |---| line are left out; a table before any ### is under ""."""
    doc: Doc = {}
    section = heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section, heading = line[3:].strip(), ""
            doc.setdefault(section, {}).setdefault(heading, [])
        elif line.startswith("### "):
            match = re.fullmatch(r"### `([^`]+)`", line.strip())
            assert match, f"README heading not of the form ### `name`: {line!r}"
            heading = match.group(1)
            doc.setdefault(section, {})[heading] = []
        elif line.startswith("|") and not re.match(r"\|\s*-", line):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cells and cells[0] not in ("Variable", "Name", "Key", "Macro"):
                doc[section][heading].append(cells)
    return doc


def names(rows: list[list[str]]) -> set[str]:
    out = set()
    for row in rows:
        match = re.fullmatch(r"`(\w+)`", row[0])
        assert match, f"first cell is not one `name`: {row}"
        out.add(match.group(1))
    return out


def types(rows: list[list[str]]) -> dict[str, str]:
    return {row[0].strip("`"): row[1] for row in rows}


class Recorded:
    def __init__(self) -> None:
        self.views: list[tuple[str, dict[str, Any]]] = []
        self.paths: dict[str, list[str]] = {}
        self.chrome: list[tuple[str, set[str]]] = []
        self.env: jinja2.Environment | None = None

    def of(self, template: str) -> list[dict[str, Any]]:
        return [view for name, view in self.views if name == template]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    root = tmp_path_factory.mktemp("tpl") / "project"
    shutil.copytree(PROJECT, root)
    shutil.copytree(TEMPLATES, root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    config = root / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "search: false" in text
    config.write_text(text.replace("search: false", "search: true"), encoding="utf-8")

    rec = Recorded()
    real_render, real_chrome = templating.render_page, Renderer.chrome

    def render_page(env: jinja2.Environment, job: PageJob) -> Any:
        rec.env = env
        rec.views.append((job.template, job.view()))
        rec.paths.setdefault(job.template, []).append(job.path)
        return real_render(env, job)

    def chrome(self: Renderer, template: str, **args: Any) -> Markup:
        rec.chrome.append((template, set(args)))
        return real_chrome(self, template, **args)

    with pytest.MonkeyPatch.context() as mp:
        # plan binds render_page by name when it is imported, so patch it there.
        mp.setattr(plan, "render_page", render_page)
        mp.setattr(Renderer, "chrome", chrome)
        build_site(config, root / "_site", clean=True, workers=1, index_search=False)
    assert rec.views and rec.env is not None
    return rec


@pytest.fixture(scope="module")
def doc() -> Doc:
    return parse_readme(README.read_text(encoding="utf-8"))


def test_every_template_file_has_its_section(doc: Doc) -> None:
    pages = {p.name for p in TEMPLATES.glob("*.html")}
    partials = {f"partials/{p.name}" for p in (TEMPLATES / "partials").glob("*.html")}
    assert set(doc["Pages"]) - {""} == pages
    assert set(doc["Partials"]) - {""} == partials


def test_each_page_template_gets_exactly_its_documented_variables(doc: Doc,
                                                                  recorded: Recorded) -> None:
    for template, rows in doc["Pages"].items():
        if template in ("", "base.html"):
            continue
        views = recorded.of(template)
        assert views, f"{template} was not rendered by the test build"
        for view in views:
            assert set(view) == names(rows), f"{template}: README vs view"
    for _, view in recorded.views:  # what the layout reads, every page passes
        assert names(doc["Pages"]["base.html"]) <= set(view)


def test_each_page_template_renders_the_documented_outputs(recorded: Recorded) -> None:
    text = README.read_text(encoding="utf-8")
    for template, paths in recorded.paths.items():
        section = text.split(f"### `{template}`\n", 1)[1].split("\n#", 1)[0]
        renders = section.split("Renders:", 1)[1].split("\n\n", 1)[0]
        patterns = [re.sub(r"[A-Z]+", "[^/]+", re.escape(p))
                    for p in re.findall(r"`([^`]+\.html)`", renders)]
        assert patterns, f"{template}: no Renders: paths"
        for path in paths:
            assert any(re.fullmatch(p, path) for p in patterns), f"{template} renders {path}"


def test_globals_are_documented(doc: Doc, recorded: Recorded) -> None:
    assert recorded.env is not None
    ours = set(recorded.env.globals) - set(DEFAULT_NAMESPACE)
    assert ours == names(doc["Globals"][""])
    keys = re.search(r"\{([^}]*)\}", types(doc["Globals"][""])["site_feed"])
    site_feed: dict[str, str] = recorded.env.globals["site_feed"]  # type: ignore[assignment]
    assert keys and set(site_feed) == set(keys.group(1).split(", "))


def test_macro_parameters_match(doc: Doc, recorded: Recorded) -> None:
    assert recorded.env is not None
    checked = 0
    for template, rows in doc["Partials"].items():
        if not template or "{% macro" not in (TEMPLATES / template).read_text("utf-8"):
            continue  # included or rendered through chrome(): checked below
        module = recorded.env.get_template(template).module
        macros = {n for n in dir(module) if isinstance(getattr(module, n), jinja2.runtime.Macro)}
        assert names(rows) == macros, template
        for row in rows:
            params = [p.strip().strip("`").split("=")[0] for p in row[1].split(",") if p.strip()]
            macro = getattr(module, row[0].strip("`"))
            assert params == list(macro.arguments), f"{template} {row[0]}"
            checked += 1
    assert checked >= 8


def test_chrome_partials_get_their_documented_arguments(doc: Doc,
                                                        recorded: Recorded) -> None:
    seen = {template for template, _ in recorded.chrome}
    assert seen == {"partials/site_header.html", "partials/site_footer.html"}
    for template, args in recorded.chrome:
        assert args == names(doc["Partials"][template]), template


def test_pagination_partial_reads_what_its_includers_pass(doc: Doc,
                                                          recorded: Recorded) -> None:
    wanted = names(doc["Partials"]["partials/pagination.html"])
    includers = [p.name for p in TEMPLATES.glob("*.html")
                 if "partials/pagination.html" in p.read_text(encoding="utf-8")]
    assert includers
    for template in includers:
        for view in recorded.of(template):
            assert wanted <= set(view), template


def records(rec: Recorded) -> dict[str, list[dict[str, Any]]]:
    """Every instance of each record the README describes, from the recorded views."""
    assert rec.env is not None
    views = [view for _, view in rec.views]
    papers = [v["paper"] for v in rec.of("paper.html")]
    cards = [c for v in views for k in ("latest", "featured", "papers") for c in v.get(k, [])]
    cards += [c for p in papers for c in p["related"]]
    paginations = [v["pagination"] for v in views if "pagination" in v]
    return {
        "site": [rec.env.globals["site"]],
        "nav": [rec.env.globals["nav"]],
        "page": [v["page"] for v in views],
        "feed_ref": [f for v in views for f in v["page"]["feeds"]],
        "alternate": [a for v in views for a in v["page"]["alternates"]],
        "card": cards,
        "paper": papers,
        "theme_chip": [t for c in cards + papers for t in c["themes"]],
        "tag_chip": [t for c in cards + papers for t in c["tags"]],
        "source": [s for p in papers for s in p["sources"]],
        "link": [link for p in papers for link in p["links"]],
        "meta": [m for p in papers for m in p["citation_meta"]],
        "bibtex": [p["bibtex"] for p in papers],
        "theme": [v["theme"] for v in rec.of("theme.html")]
        + [t for n in ("themes.html", "index.html") for v in rec.of(n) for t in v["themes"]],
        "tag": [v["tag"] for v in rec.of("tag.html")]
        + [t for v in rec.of("tags.html") for t in v["tags"]],
        "year": [v["year"] for v in rec.of("archive_year.html")]
        + [y for v in rec.of("archive.html") for y in v["years"]],
        "pagination": paginations,
        "page_link": [p for pg in paginations for p in pg["pages_list"]],
        "feed": [f for v in rec.of("feeds.html") for f in v["feeds"]],
        "chart": [c for v in rec.of("stats.html") for c in v["charts"]],
    }


def test_records_have_exactly_their_documented_keys(doc: Doc, recorded: Recorded) -> None:
    found = records(recorded)
    documented = {name: names(rows) for name, rows in doc["Records"].items() if name}
    assert set(documented) == set(found)
    assert "Every key of `card`" in README.read_text(encoding="utf-8")
    documented["paper"] |= documented["card"]  # a paper view is a card plus its rows
    for name, instances in found.items():
        assert instances, f"the test build has no {name} record"
        for instance in instances:
            assert set(instance) == documented[name], f"record {name}: README vs view"


def walk(doc: Doc, rec: Recorded) -> Iterator[tuple[str, str, Any]]:
    """(where, documented type, value) for every top-level variable and record key."""
    for template, rows in doc["Pages"].items():
        for view in rec.of(template):
            for var, typ in types(rows).items():
                yield f"{template} {var}", typ, view[var]
    found = records(rec)
    card = types(doc["Records"]["card"])
    for name, rows in doc["Records"].items():
        documented = types(rows) | (card if name == "paper" else {})
        for instance in found.get(name, []):
            for key, typ in documented.items():
                if not (name == "paper" and key == "tags"):
                    yield f"{name}.{key}", typ, instance[key]


def test_markup_is_exactly_where_the_readme_says(doc: Doc, recorded: Recorded) -> None:
    markup = 0
    for where, typ, value in walk(doc, recorded):
        if "Markup" in typ:
            assert isinstance(value, Markup) or (value == "" and '""' in typ), where
            markup += isinstance(value, Markup)
        elif isinstance(value, list):
            assert not any(isinstance(v, Markup) for v in value), where
        else:
            assert not isinstance(value, Markup), f"{where} is Markup: say so in the README"
    assert markup > 0
