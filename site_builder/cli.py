"""Command line: verbs only. Each verb parses its options and calls one stage.

Imports of heavy stages happen inside the verbs, so `site-builder parse` does not pay
for Jinja or feedgen (startup time counts for the preview server and the benchmark).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from site_builder.errors import ConfigError, SiteBuilderError, os_error


def _cmd_parse(args: argparse.Namespace) -> int:
    from site_builder.config import load_config
    from site_builder.ingest.dumps import read_dump

    captured = {}
    if Path(args.config).exists():
        try:
            captured = {d.file: d.captured for d in load_config(Path(args.config)).dumps}
        except ConfigError as exc:
            print(f"warning: capture dates unavailable, {exc}", file=sys.stderr)
    out: list[dict[str, object]] = []
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            result = read_dump(path, captured.get(path.name))
        except SiteBuilderError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        for warning in result.warnings:
            print(warning, file=sys.stderr)
        for entry in result.entries:
            out.append({
                "title": entry.title,
                "abstract": entry.abstract,
                "authors": entry.authors,
                "submitter": entry.submitter,
                "published": entry.published.isoformat() if entry.published else None,
                "comments": entry.comments,
                "source": {"file": entry.source.file, "line": entry.source.line},
            })
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for item in out:
            src = item["source"]
            assert isinstance(src, dict)
            print(f"{src['file']}:{src['line']}: {item['title']}")
    return status


def _cmd_ingest(args: argparse.Namespace) -> int:
    from site_builder.config import load_config
    from site_builder.ingest.merge import ingest

    report = ingest(load_config(Path(args.config)), dry_run=args.dry_run)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    for line in report.lines():
        print(line)
    return 1 if report.errors else 0


def _cmd_build(args: argparse.Namespace) -> int:
    from site_builder.build.pipeline import build_site

    result = build_site(Path(args.config), Path(args.out), base_url=args.base_url,
                        clean=args.clean)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(result.summary())
    if args.timings:
        print("timings: " + json.dumps(result.timings))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from site_builder.serve.server import serve

    status: int = serve(Path(args.config), Path(args.out), host=args.host, port=args.port,
                        open_browser=args.open)
    return status


def _cmd_check(args: argparse.Namespace) -> int:
    from site_builder.check import check_site

    status: int = check_site(Path(args.dir), base_url=args.base_url,
                             config_path=Path(args.config))
    return status


def _cmd_themes(args: argparse.Namespace) -> int:
    from site_builder.classify import report
    from site_builder.config import load_config
    from site_builder.content import load_papers
    from site_builder.errors import Diagnostic

    config = load_config(Path(args.config))
    warnings: list[Diagnostic] = []
    papers = load_papers(config.papers_dir, warnings)
    from site_builder.build.entries import check_pins

    check_pins(papers, config)
    if args.explain:
        lines = report.explain(config, papers, args.explain, config.root / ".cache")
    elif args.rules:
        lines = report.rule_report(config, papers, args.folds)
    else:
        # Papers name their dump by its file name: take content/dumps/X.txt as X.txt.
        dump = Path(args.holdout_dump).name if args.holdout_dump else None
        lines = report.report(config, papers, args.folds, dump, args.curve)
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="site-builder", description=__doc__.splitlines()[0]
                                     if __doc__ else None)
    parser.add_argument("--config", default="config.yaml", help="path of config.yaml")
    verbs = parser.add_subparsers(dest="verb", required=True)

    p = verbs.add_parser("parse", help="show what the parser reads from dump files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a JSON list of entries")
    p.set_defaults(func=_cmd_parse)

    p = verbs.add_parser("ingest", help="dumps -> content/papers/*.md (curator edits kept)")
    p.add_argument("--dry-run", action="store_true", help="report, write nothing")
    p.set_defaults(func=_cmd_ingest)

    p = verbs.add_parser("build", help="content -> static site")
    p.add_argument("--out", default="_site", help="output folder (default _site)")
    p.add_argument("--base-url", default=None, help="override site.base_url")
    p.add_argument("--clean", action="store_true", help="ignore the incremental cache")
    p.add_argument("--timings", action="store_true", help="print seconds per build stage")
    p.set_defaults(func=_cmd_build)

    p = verbs.add_parser("serve", help="build, serve on 127.0.0.1, rebuild and reload on change")
    p.add_argument("--out", default="_site", help="output folder (default _site)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--open", action="store_true", help="open a browser")
    p.set_defaults(func=_cmd_serve)

    p = verbs.add_parser("themes", help="score the automatic themes against the pins; "
                         "--explain a paper's themes")
    p.add_argument("--folds", type=int, default=5, help="k of the k-fold scoring (default 5)")
    p.add_argument("--holdout-dump", metavar="FILE", default=None,
                   help="score the papers of this dump (a file of content/dumps, by name "
                        "or path), trained on the other dumps'")
    p.add_argument("--learning-curve", "--curve", dest="curve", action="store_true",
                   help="add the k-fold score with 1, 3, 5, 10 and all pins per theme "
                        "(five runs: slower)")
    p.add_argument("--rules", action="store_true",
                   help="what each rule adds: the k-fold score without it")
    p.add_argument("--explain", metavar="SLUG", default=None,
                   help="the rules and words behind one paper's themes")
    p.set_defaults(func=_cmd_themes)
    p = verbs.add_parser("check", help="verify a built site (feeds, links, HTML, sitemap)")
    p.add_argument("dir", nargs="?", default="_site")
    p.add_argument("--base-url", default=None, help="base URL the site was built for")
    p.set_defaults(func=_cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # --config given after the verb is accepted too (argparse keeps the top-level default).
    try:
        status: int = args.func(args)
    except SiteBuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # Any the stages did not name already: still a message naming the file.
        print(f"error: {os_error(exc, '(no file named)')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status


def run() -> None:
    """The console script and ``python -m site_builder``: main(), then exit without
    tearing the interpreter down.

    Freeing every object of a build at exit took 0.08 s of a one-paper rebuild of
    5,000 papers. By then every file is closed and every worker joined; only the
    standard streams need flushing (mypy exits the same way). An unexpected exception
    still propagates and exits normally, with its traceback.

    For the same reason the cyclic collector stays off: build_site pauses it and turns
    it back on when done (the preview server and the tests need it), and the first
    collection after that walked the whole build for nothing (0.03 s).
    """
    if sys.argv[1:2] != ["serve"]:  # a long-running server needs its collector
        gc.disable()
    # One BLAS thread, set before numpy loads OpenBLAS: the stages that fan out do so
    # over forked processes, and the products done here are small. On a 2-core machine
    # with the other core busy, OpenBLAS's threads made a 3 x 7,349 by 7,349 x 423
    # product take 130 ms instead of 2.5 ms (most of an abstract edit's rebuild).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
