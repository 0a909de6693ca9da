"""Paper metadata read back by real consumers: Highwire/Dublin Core tags as Zotero reads
them (lxml, ``meta[name]/@content``), COinS spans as OpenURL key/value pairs.

The site is a small project with hostile titles (TeX specials, CJK, a bidi override).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.e2e.minisite import BASE_URL, PAPERS, build_project, paper_text

RLO = "\u202e"
HOSTILE = {
    "braces-paper": ("Unbalanced { brace and } LLMs at 100% \\LaTeX", "About code and LLMs.",
                     "2024-05-01"),
    "math-paper": ("Scaling $x^2$ & #1 a_b ~c ^d with BERT", "A long-context paper.",
                   "2023-12-31"),
    "cjk-paper": ("\u4e2d\u6587\u6807\u9898 " + RLO + "Reversed data selection",
                  RLO + "Abstract {with} % and \\ backslash, about data selection.", None),
}
TITLES = {slug: title for slug, (title, _, _) in {**PAPERS, **HOSTILE}.items()}
DATES = {slug: date for slug, (_, _, date) in {**PAPERS, **HOSTILE}.items()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extra = {slug: paper_text(f"00000000-0000-4000-8000-1000000000{i:02d}", title, abstract,
                              date)
             for i, (slug, (title, abstract, date)) in enumerate(sorted(HOSTILE.items()))}
    return build_project(tmp_path_factory.mktemp("metadata"), extra)


def clean(title: str) -> str:
    """The title as pages show it: no bidi control, whitespace collapsed."""
    return " ".join(title.replace(RLO, "").split())


def zotero_meta(page: Path) -> dict[str, list[str]]:
    """``meta[name]`` -> contents, as Zotero's Embedded Metadata translator collects them."""
    from lxml import html

    found: dict[str, list[str]] = {}
    for meta in html.parse(str(page)).getroot().xpath("//head/meta[@name]"):
        found.setdefault(meta.get("name"), []).append(meta.get("content"))
    return found


def test_citation_tags_on_every_paper_page(site: Path) -> None:
    for slug, title in TITLES.items():
        meta = zotero_meta(site / "papers" / slug / "index.html")
        assert meta["citation_title"] == [clean(title)], slug
        assert meta["DC.title"] == [clean(title)], slug
        assert not any(name.startswith("citation_author") for name in meta), slug
        date = DATES[slug]
        if date is None:  # undated: no date is claimed (not the dump's capture date)
            assert "citation_publication_date" not in meta and "DC.date" not in meta, slug
        else:
            assert meta["citation_publication_date"] == [date.replace("-", "/")], slug
            assert meta["citation_online_date"] == [date.replace("-", "/")], slug
            assert meta["DC.date"] == [date], slug
        assert len(meta["citation_abstract"]) == 1 and RLO not in meta["citation_abstract"][0]


def test_keywords_are_themes_and_tags(site: Path) -> None:
    meta = zotero_meta(site / "papers" / "data-selection-by-importance" / "index.html")
    keywords = meta["citation_keywords"][0].split("; ")
    assert "Data selection" in keywords and "llm" in keywords


def test_coins_spans_on_listings(site: Path) -> None:
    """Every listing page offers its papers as COinS; a paper page's related list does not."""
    from lxml import html

    listings = ["index.html", "themes/data-selection/index.html", "tags/llm/index.html",
                "archive/2024/index.html"]
    for rel in listings:
        root = html.parse(str(site / rel)).getroot()
        cards = root.xpath("//ol[contains(@class, 'paper-list')]/li")
        spans = root.xpath("//span[@class='Z3988']")
        assert cards and len(spans) == len(cards), rel
        for card, span in zip(cards, spans, strict=True):
            context = parse_qs(span.get("title"), strict_parsing=True)
            assert context["ctx_ver"] == ["Z39.88-2004"], rel
            link = card.xpath(".//a")[0].get("href")
            slug = link.rstrip("/").rsplit("/", 1)[1]
            assert context["rft.atitle"] == [clean(TITLES[slug])], rel
            assert context["rft_id"] == [f"{BASE_URL}papers/{slug}/"], rel
            assert context.get("rft.date") == ([DATES[slug]] if DATES[slug] else None), rel
            assert span.text is None and len(span) == 0  # nothing for a screen reader
    for slug in TITLES:
        root = html.parse(str(site / "papers" / slug / "index.html")).getroot()
        assert not root.xpath("//span[@class='Z3988']"), slug


# Commands pybtex's LaTeX reader leaves as they are: what each stands for (LaTeX's own
# definitions), to read a title back as text.
TEXT_COMMANDS = {"\\textasciicircum ": "^", "\\textbraceleft ": "{", "\\textbraceright ": "}",
                 "\\$": "$"}


def bib_text(value: str) -> str:
    """A BibTeX field as the text a bibliography prints (pybtex's LaTeX reader)."""
    from pybtex.richtext import Text

    text = Text.from_latex(value).render_as("text")
    for command, char in TEXT_COMMANDS.items():
        text = text.replace(command, char)
    return text


def parse_bib(path: Path) -> object:
    import pybtex.errors
    from pybtex.database import parse_string

    pybtex.errors.set_strict_mode(True)  # a warning (unbalanced braces...) is an error
    return parse_string(path.read_text("utf-8"), "bibtex")


def test_every_paper_bib_parses_and_reads_back(site: Path) -> None:
    bibs = sorted(site.glob("papers/*/*.bib"))
    assert len(bibs) == len(TITLES)
    for path in bibs:
        slug = path.parent.name
        data: object = parse_bib(path)
        entries = data.entries  # type: ignore[attr-defined]
        assert list(entries) == [slug], path  # the key is the slug: stable across builds
        fields = entries[slug].fields
        assert entries[slug].type == "misc" and not entries[slug].persons
        assert bib_text(fields["title"]) == clean(TITLES[slug]), path
        assert fields["url"] == f"{BASE_URL}papers/{slug}/"
        if DATES[slug]:
            assert fields["date"] == DATES[slug] and fields["year"] == DATES[slug][:4]
        else:
            assert "date" not in fields and "year" not in fields
        for word in bib_text(fields["title"]).split():  # capitals protected
            if any(c.isupper() for c in word):
                assert any(f"{{{w}" in fields["title"] for w in (word, "{}")), word


def test_cite_block_shows_the_bib_file(site: Path) -> None:
    from lxml import html

    for slug in TITLES:
        root = html.parse(str(site / "papers" / slug / "index.html")).getroot()
        bib = site / "papers" / slug / f"{slug}.bib"
        shown = root.xpath("string(//pre[@id='bibtex-entry'])")
        assert shown == bib.read_text("utf-8"), slug
        alternates = root.xpath("//head/link[@rel='alternate'][@type='application/x-bibtex']")
        assert [a.get("href") for a in alternates] == [f"/repo/papers/{slug}/{slug}.bib"]
        button = root.xpath("//button[@data-copy='bibtex-entry']")[0]
        assert button.get("hidden") is not None  # shown by cite.js only
        assert root.xpath("//script[@src='/repo/static/cite.js']")
    assert (site / "static" / "cite.js").is_file()


def test_theme_bib_holds_every_paper_of_the_theme(site: Path) -> None:
    from lxml import html

    for theme in ("data-selection", "long-context"):
        data: object = parse_bib(site / "themes" / theme / f"{theme}.bib")
        keys = set(data.entries)  # type: ignore[attr-defined]
        listed = set()
        for page in sorted((site / "themes" / theme).rglob("index.html")):
            root = html.parse(str(page)).getroot()
            listed |= {a.get("href").rstrip("/").rsplit("/", 1)[1]
                       for a in root.xpath("//ol[contains(@class,'paper-list')]//h2/a")}
            if page.parent.name == theme:
                links = root.xpath("//head/link[@type='application/x-bibtex']/@href")
                assert links == [f"/repo/themes/{theme}/{theme}.bib"]
        assert keys == listed and keys, theme


def json_ld_of(page: Path) -> list[dict[str, object]]:
    """The JSON-LD blocks of a page, as a crawler reads them: the script element's text."""
    import json

    from lxml import html

    root = html.parse(str(page)).getroot()
    return [json.loads(s.text) for s in root.xpath("//script[@type='application/ld+json']")]


def test_json_ld_scholarly_article(site: Path) -> None:
    """Expanded by a JSON-LD processor (pyld), with schema.org's vocabulary served from
    here: the tests use no network."""
    from pyld import jsonld

    def loader(url: str, options: object = None) -> dict[str, object]:
        assert url.rstrip("/") == "https://schema.org", url
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": {"@context": {"@vocab": "https://schema.org/"}}}

    schema = "https://schema.org/"
    for slug, title in TITLES.items():
        blocks = json_ld_of(site / "papers" / slug / "index.html")
        assert len(blocks) == 1, slug
        expanded = jsonld.expand(blocks[0], {"documentLoader": loader})
        assert len(expanded) == 1
        node = expanded[0]
        url = f"{BASE_URL}papers/{slug}/"
        assert node["@type"] == [schema + "ScholarlyArticle"] and node["@id"] == url
        assert node[schema + "name"] == [{"@value": clean(title)}]
        assert node[schema + "url"] == [{"@value": url}]
        assert node[schema + "abstract"][0]["@value"]
        published = node.get(schema + "datePublished")
        assert published == ([{"@value": DATES[slug]}] if DATES[slug] else None), slug
        part = node[schema + "isPartOf"][0]
        assert part["@type"] == [schema + "WebSite"]
        assert part[schema + "url"] == [{"@value": BASE_URL}]
    keywords = json_ld_of(site / "papers" / "data-selection-by-importance" / "index.html")[0]
    assert {"Data selection", "llm"} <= set(keywords["keywords"])  # type: ignore[arg-type]


def test_json_ld_cannot_close_its_script(tmp_path: Path) -> None:
    """A title holding </script> and <!-- stays inside the JSON, and reads back equal."""
    title = "Closing </script><script>alert(1)</script> <!-- and & too"
    site = build_project(tmp_path, {"closer": paper_text(
        "00000000-0000-4000-8000-2000000000aa", title, "Abstract </SCRIPT > end.", "2024-01-02")})
    text = (site / "papers" / "closer" / "index.html").read_text("utf-8")
    start = text.index('<script type="application/ld+json">')
    block = text[start:text.index("</script>", start)]
    assert "<" not in block[1:] and "alert" in block
    (data,) = json_ld_of(site / "papers" / "closer" / "index.html")
    assert data["name"] == title and data["abstract"] == "Abstract </SCRIPT > end."


SCHEMA = Path(__file__).parent / "fixtures" / "jsonfeed" / "jsonfeed-1.1.schema.json"


def json_feeds(site: Path) -> list[Path]:
    return sorted(site.rglob("feed.json"))


def test_json_feeds_are_valid_json_feed_1_1(site: Path) -> None:
    """Against the JSON Feed 1.1 schema (a fixture written from the spec), and read by a
    JSON Feed reader (jsonfeed-util; feedparser 6.0, the latest release, reads none)."""
    import json

    import jsonfeed
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text("utf-8")))
    feeds = json_feeds(site)
    # The site, each theme and each tag: as many as the Atom feeds.
    assert len(feeds) == len(list(site.rglob("atom.xml"))) >= 4
    for path in feeds:
        data = json.loads(path.read_text("utf-8"))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, f"{path}: {errors}"
        feed = jsonfeed.Feed.parse(data)
        assert feed.version == "https://jsonfeed.org/version/1.1"
        section = path.relative_to(site).parent.as_posix()
        prefix = "" if section == "." else section + "/"
        assert feed.feed_url == f"{BASE_URL}{prefix}feed.json"
        assert feed.home_page_url == f"{BASE_URL}{prefix}"
        assert feed.items and all(item.content_html for item in feed.items)


def test_schema_refuses_what_the_spec_refuses() -> None:
    """The fixture itself can fail: a feed without items, an item without content."""
    import json

    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text("utf-8")))
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "t",
            "items": [{"id": "1", "content_text": "x"}]}
    assert validator.is_valid(good)
    for bad in ({**good, "items": None}, {**good, "version": "https://jsonfeed.org/version/1"},
                {**good, "items": [{"id": "1"}]}, {**good, "items": [{"content_text": "x"}]},
                {**good, "items": [{"id": 1, "content_text": "x"}]},
                {**good, "items": [{"id": "1", "content_text": "x", "date_published": "May 5"}]},
                {**good, "authors": [{}]}, {**good, "titel": "t"}):
        assert not validator.is_valid(bad), bad


def test_json_feed_items_are_the_atom_entries(site: Path) -> None:
    """Same ids (urn:uuid:<paper id>), same order, same links and titles, same dates."""
    import json

    import feedparser

    for path in json_feeds(site):
        items = json.loads(path.read_text("utf-8"))["items"]
        atom = feedparser.parse((path.parent / "atom.xml").read_bytes())
        rss = feedparser.parse((path.parent / "feed.xml").read_bytes())
        assert not atom.bozo and not rss.bozo
        assert [i["id"] for i in items] == [e.id for e in atom.entries] == \
            [e.id for e in rss.entries], path
        assert all(i["id"].startswith("urn:uuid:") for i in items)
        assert [i["url"] for i in items] == [e.link for e in atom.entries]
        assert [i["title"] for i in items] == [e.title for e in atom.entries]
        assert [i["date_published"][:10] for i in items] == \
            [e.published[:10] for e in atom.entries]


def test_json_feeds_are_advertised_and_listed(site: Path) -> None:
    from lxml import html

    feeds_page = html.parse(str(site / "feeds" / "index.html")).getroot()
    listed = set(feeds_page.xpath("//table[@class='feed-table']//a/@href"))
    for path in json_feeds(site):
        rel = path.relative_to(site).as_posix()
        assert f"/repo/{rel}" in listed, rel
        page = path.parent / "index.html"
        root = html.parse(str(page)).getroot()
        alternates = root.xpath("//head/link[@rel='alternate'][@type='application/feed+json']"
                                "/@href")
        assert f"/repo/{rel}" in alternates, page
