"""Error and warning types. Every problem names its source file and, where known, its line.

In: a file name, an optional 1-based line and a message.
Out: exceptions (SiteBuilderError and subclasses) and Diagnostic warnings that print
as ``FILE:LINE: message``, the format editors and CI logs understand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A warning (or one of several errors) tied to a place in a source file."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class SiteBuilderError(Exception):
    """Base of every error the tool reports to the user (exit status 1, no traceback)."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.diagnostic = Diagnostic(file, line, message)
        super().__init__(str(self.diagnostic))

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable, so an error raised in a parallel render worker reaches the parent.
        return (type(self), (self.diagnostic.file, self.diagnostic.line,
                             self.diagnostic.message))

    @property
    def file(self) -> str:
        return self.diagnostic.file

    @property
    def line(self) -> int | None:
        return self.diagnostic.line


class DumpError(SiteBuilderError):
    """A dump cannot be read at all (not UTF-8, binary, missing)."""


class ContentError(SiteBuilderError):
    """A content file (paper entry, page) is malformed."""


class ConfigError(SiteBuilderError):
    """config.yaml is invalid. Carries every problem found, not only the first."""

    def __init__(self, file: str, problems: list[Diagnostic]) -> None:
        self.problems = problems
        super().__init__(file, None, f"{len(problems)} problem(s)")
        self.args = ("\n".join(str(p) for p in problems),)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class BuildError(SiteBuilderError):
    """Rendering or writing the site failed (template error, duplicate output path)."""


class RuleError(SiteBuilderError):
    """A theme's or tag's pattern of config.yaml cannot run on a paper (it hangs)."""


def os_error(exc: OSError, fallback: object,
             kind: type[SiteBuilderError] = BuildError) -> SiteBuilderError:
    """An OSError as an error naming its file (``fallback`` when it names none)."""
    where = exc.filename if exc.filename is not None else fallback
    other = f" -> {exc.filename2}" if exc.filename2 is not None else ""
    return kind(str(where), None, f"{exc.strerror or exc}{other}")
