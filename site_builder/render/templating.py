"""The Jinja environment, and rendering one page job with it.

In: the templates folder; PageJobs (a template and the view it sees). Out: OutputFile
(path, bytes) per job. One environment per build, with StrictUndefined and
autoescape, so a template typo fails the build and untrusted text is always escaped
(and stripped of invisible controls: finalize);
errors name the template and line.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from site_builder.errors import BuildError
from site_builder.models import OutputFile
from site_builder.render.bytecode import SealedBytecodeCache
from site_builder.render.markdown import strip_invisible


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is 3x slower
class PageJob:
    """One HTML page to render: the template and the complete view it sees.

    Either ``context`` is given, or ``make_context`` builds it when the page is rendered
    and ``key`` stands for it: a record of every input the view is a pure function of
    (besides config, templates and code, which the build's salt covers). Paper pages use
    the key, so an incremental build does not build 50,000 views to render one.
    """

    path: str
    template: str
    context: dict[str, Any] | None = None
    make_context: Callable[[], dict[str, Any]] | None = None
    key: str | None = None
    spec: tuple[Any, ...] | None = None
    """How to make this job again from the entries it names (incremental/depindex.py),
    for pages that show other papers."""
    reads: tuple[str, ...] = ()
    """The slugs of the papers whose cards the page shows."""

    def fingerprint_material(self) -> str:
        if self.key is not None:
            return f"{self.template}\0{self.key}"
        # The view is plain data (str, int, None, Markup, lists, dicts), so its repr is a
        # faithful, deterministic record of everything the template can show.
        return f"{self.template}\0{self.context!r}"

    def view(self) -> dict[str, Any]:
        if self.context is not None:
            return self.context
        assert self.make_context is not None
        return self.make_context()


def compile_templates(env: jinja2.Environment) -> None:
    """Compile every HTML template now (render workers then inherit them); a syntax
    error is a BuildError naming the template and line."""
    for name in env.list_templates(extensions=["html"]):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise BuildError(f"templates/{exc.name or name}", exc.lineno,
                             exc.message or str(exc)) from exc


def render_page(env: jinja2.Environment, job: PageJob) -> OutputFile:
    try:
        html = env.get_template(job.template).render(**job.view())
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(exc.filename or job.template, exc.lineno,
                         exc.message or str(exc)) from exc
    except jinja2.TemplateError as exc:
        raise BuildError(f"templates/{job.template}", _template_line(exc, job.template),
                         f"{type(exc).__name__}: {exc}") from exc
    return OutputFile(job.path, html.encode("utf-8"))


class ViewEnvironment(jinja2.Environment):
    """Jinja for views that are plain dicts: ``{{ paper.title }}`` looks the key up first.

    Jinja tries an attribute first and a key second, so on a dict every ``x.y`` cost a
    failed attribute lookup (an AttributeError): 120 of them per paper page, about
    half of its rendering time. For anything but a dict, and for a key a dict does not
    have (``.items()``), the lookup is Jinja's own.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one dict, not Jinja's ChainMap over the environment's:
        every name a macro resolves went through ChainMap.__contains__ (a tenth of the
        rendering time). So the environment's globals must be complete before the first
        template loads (Renderer sets them when it is made)."""
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def finalize(value: Any) -> Any:
    """What every ``{{ ... }}`` of every template writes, attribute or text: without
    invisible controls (markdown.strip_invisible). Views clean what they know to be
    untrusted; this is the guarantee for whatever reaches a template another way (a
    summary in ``<meta name="description">`` carried a U+202E from an abstract)."""
    if type(value) is str:  # most values: the check below without a call
        return value if value.isprintable() else strip_invisible(value)
    if isinstance(value, Markup):
        # Our own HTML (cards, chrome, Markdown, JSON-LD) is made from cleaned text, by
        # templates that pass through here: scanning those large pieces again was a
        # third of the rendering time of a 5,000-paper build.
        return value
    if isinstance(value, str):
        return strip_invisible(value)
    return value


def make_environment(templates: Path, cache_dir: Path | None = None) -> jinja2.Environment:
    """One environment per build. With ``cache_dir``, compiled templates are kept there,
    sealed (render/bytecode.py), so a rebuild does not compile them again."""
    return ViewEnvironment(
        loader=jinja2.FileSystemLoader(str(templates)),
        bytecode_cache=SealedBytecodeCache(cache_dir) if cache_dir is not None else None,
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # One environment per build: templates cannot change under it, so it need not
        # stat each template file every time a page asks for it.
        auto_reload=False,
    )


def _template_line(exc: Exception, template: str) -> int | None:
    """Line in the template where a runtime error (e.g. an undefined variable) happened."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(template) or "templates/" in name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
