"""Pure parser for the raw Hugging Face "Daily Papers" dumps in content/dumps/.

In: the bytes of one dump (``read_dump``/``decode_dump``) or its text (``parse_dump``),
its file name and its capture date (None when unknown).
Out: a ``models.ParseResult``: one ``RawEntry`` per entry in dump order, duplicates
kept, and ``Diagnostic`` warnings in line order. Every non-blank line ends up as header
boilerplate, as part of an entry (title, abstract, submitter, metadata) or named by a
warning; nothing is dropped silently.

One grammar covers every layout seen so far (000/001 with metadata, 002/004 without,
003 with no blank lines at all):

    dump  := header-line* entry*
    entry := TITLE [ABSTRACT] [WHO] ["·"] [DATE [COMMENTS]]
    WHO   := "• N authors" | a short line standing right before "·" (a submitter)

Blank lines carry no meaning (003 has none), so the parser walks the non-blank lines
and trusts their alternation: a line after a title is its abstract, a line after an
abstract or metadata starts the next entry. The shape of a line (long prose or short)
only breaks that rule to recover from a missing abstract, and is otherwise a warning.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from site_builder import models
from site_builder.errors import ContentError, Diagnostic, DumpError
from site_builder.safefs import read_regular
from site_builder.textclean import clean_text

# Page chrome copied along with the listing; it is never a paper, wherever it appears.
_BOILERPLATE = frozenset(
    {
        "new",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    }
)
# Phrases that a copy without line breaks glues onto the first title
# ("SubscribeGive your Text..."). "new" is left out: too many words start with it.
_GLUABLE = tuple(sorted(_BOILERPLATE - {"new"}, key=len, reverse=True))
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# ASCII digits only: int() would accept other scripts' digits, the listing never uses them,
# and bounded lengths keep int() away from huge digit strings.
_AUTHORS = re.compile(r"•\s*([0-9]{1,6})\s+authors?", re.IGNORECASE)
_DATE = re.compile(r"([A-Za-z]{3,9})\.?\s+([0-9]{1,2})(?:,\s*([0-9]{4}))?(?:\s+([0-9]{1,6}))?")
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]")
_DOT = "·"
# How far an entry has been read; metadata must come in this order.
_TITLE, _ABSTRACT, _WHO, _SEPARATOR, _DATED = range(5)


def decode_dump(data: bytes, file_name: str) -> str:
    """UTF-8 text of a dump, BOM removed and line ends made LF; DumpError if not text."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise DumpError(file_name, _line_at(data, exc.start), f"not UTF-8: byte 0x{bad}") from exc
    if "\0" in text:
        # A NUL never occurs in text; the file is binary (or UTF-16) and parsing it
        # would only produce garbage entries.
        where = _line_at(data, data.index(b"\0"))
        raise DumpError(file_name, where, "binary data (NUL byte), not a text dump")
    return _normalise(text)


def parse_dump(text: str, file_name: str, capture_date: dt.date | None) -> models.ParseResult:
    """Entries and warnings of one dump's text. Pure; never raises.

    Characters XML cannot hold (a form feed, U+FFFF...) are removed first, each line
    that had some named by a warning: they would crash the feeds or reach the HTML."""
    cleaned: list[Diagnostic] = []
    text = clean_text(_normalise(text), file_name, 1, cleaned)
    lines = [line.strip() for line in text.split("\n")]
    parser = _Parser(file_name, capture_date, lines)
    parser.warnings.extend(cleaned)
    return parser.run()


def read_dump(path: Path, capture_date: dt.date | None) -> models.ParseResult:
    """Read, decode and parse the dump at ``path``; any failure to read is a DumpError."""
    try:
        data = read_regular(path)  # not a link (to /etc/passwd), FIFO or device
    except ContentError as exc:
        # Line 1: nothing of the file could be read, so the problem starts there.
        reason = exc.diagnostic.message.removeprefix("cannot read: ")
        raise DumpError(path.name, 1, f"cannot read dump: {reason}") from exc
    return parse_dump(decode_dump(data, path.name), path.name, capture_date)


_MONTH_ONLY = re.compile(r"([A-Za-z]{3,9})\.?(?:,?\s+([0-9]{4}))?")


@dataclass(frozen=True)
class HeaderDate:
    """The capture date a dump's header line names, for a dump config.yaml does not list."""

    captured: dt.date
    line: int
    text: str


def header_date(text: str, file_name: str, saved: dt.date) -> HeaderDate:
    """The capture date in the header of a dump's text: its month and day (``Nov 26``),
    the year written there, else the year of ``saved`` (the file's modification date),
    or the year before when that would put the capture after the file was saved.

    DumpError (file and line) when the header has no date, a date without a day
    (``Nov``, ``November 2025``) or an impossible one. Pure."""
    lines = [line.strip() for line in _normalise(text).split("\n")]
    for index, raw in enumerate(lines):
        number, line = index + 1, _unglue(raw) if raw else raw
        if not line or line in _BOILERPLATE:
            continue
        match = _DATE.fullmatch(line)
        month = _month(match[1]) if match else None
        if match and month is not None and not match[4]:
            year = int(match[3]) if match[3] else saved.year
            try:
                day = dt.date(year, month, int(match[2]))
                if not match[3] and day > saved:  # saved in January, listed in December
                    day = dt.date(year - 1, month, int(match[2]))
            except ValueError:
                raise DumpError(file_name, number, f"header date {_short(line)} is not a "
                                f"real date in {year}") from None
            return HeaderDate(day, number, line)
        only = _MONTH_ONLY.fullmatch(line)
        if only and _month(only[1]) is not None:
            raise DumpError(file_name, number, f"header date {_short(line)} has no day: "
                            "write it like 'Nov 26', or pin the date in config.yaml")
        raise DumpError(file_name, number, "no capture date (a line like 'Nov 26') before "
                        f"the first entry {_short(line, 40)}; pin the date in config.yaml")
    raise DumpError(file_name, 1, "no capture date: the dump holds no header date or entry")


def _normalise(text: str) -> str:
    # parse_dump normalises too, so text that never went through decode_dump (tests,
    # callers with their own I/O) gets the same line numbers.
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _line_at(data: bytes, offset: int) -> int:
    """1-based line of byte ``offset``, counting CRLF, LF and lone CR as line ends."""
    return _normalise(data[:offset].decode("latin-1")).count("\n") + 1


def _short(text: str, limit: int = 60) -> str:
    """The line as a warning quotes it: whole when short, else its start."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _is_prose(text: str) -> bool:
    # Real abstracts run 669+ characters and real titles at most ~175; a short
    # hand-written abstract still reads as several sentences ending in a full stop.
    return len(text) >= 250 or (text.endswith(".") and _SENTENCE_BREAK.search(text) is not None)


def _month(word: str) -> int | None:
    """1-12 for a month name or its abbreviation ('Mar', 'Sept', 'March'), else None."""
    folded = word.casefold()
    for number, name in enumerate(_MONTHS, start=1):
        if len(folded) >= 3 and name.startswith(folded):
            return number
    return None


def _unglue(text: str) -> str:
    """``text`` without the header phrases glued onto its start ('SubscribeGive your...')."""
    peeled = True
    while peeled:
        peeled = False
        for phrase in _GLUABLE:
            rest = text[len(phrase) :]
            # Glued text starts right after the phrase and not in lowercase, which tells
            # 'SubscribeGive...' from a title that merely begins 'Subscribers...'.
            if text.startswith(phrase) and rest[:1].strip() and not rest[0].islower():
                text, peeled = rest, True
                break
    return text


@dataclass
class _Draft:
    """The entry being read; it becomes a RawEntry when the next one starts."""

    title: str
    line: int
    last: int  # last line read into this entry, where warnings about its end point
    stage: int = _TITLE
    abstract: str | None = None
    authors: int | None = None
    submitter: str | None = None
    published: dt.date | None = None
    comments: int | None = None
    has_meta: bool = False


class _Parser:
    """One pass over one dump's lines (already stripped; "" is a blank line)."""

    def __init__(self, file_name: str, capture: dt.date | None, lines: list[str]) -> None:
        self.file, self.capture, self.lines = file_name, capture, lines
        self.entries: list[models.RawEntry] = []
        self.warnings: list[Diagnostic] = []
        self.draft: _Draft | None = None
        self.header_date_seen = False

    def run(self) -> models.ParseResult:
        for index, text in enumerate(self.lines):
            if text:
                self._line(index, text)
        self._finish(at_eof=True)
        if not self.entries:
            self._warn(None, "no entries found: the dump is empty or holds only its header")
        warnings = sorted(self.warnings, key=lambda w: w.line or 0)  # stable: keeps order
        return models.ParseResult(self.file, tuple(self.entries), tuple(warnings))

    def _warn(self, line: int | None, message: str) -> None:
        self.warnings.append(Diagnostic(self.file, line, message))

    def _neighbour(self, index: int, step: int) -> str:
        """The nearest non-blank line before (step -1) or after (step 1) ``index``."""
        index += step
        while 0 <= index < len(self.lines):
            if self.lines[index]:
                return self.lines[index]
            index += step
        return ""

    def _line(self, index: int, text: str) -> None:
        number = index + 1
        if text in _BOILERPLATE:
            if self.draft is not None:
                self._warn(number, f"header line {_short(text)} among the entries; skipped")
            return
        if self.draft is None:
            text = _unglue(text)
            if text in _BOILERPLATE:
                return  # the header line was only phrases glued together
        if match := _AUTHORS.fullmatch(text):
            self._authors(number, text, int(match[1]))
        elif text == _DOT:
            self._separator(number, text)
        elif (match := _DATE.fullmatch(text)) and (
            # An unknown month counts as a (bad) date only where a date must stand;
            # elsewhere 'Phi 3' is just a short title.
            _month(match[1]) is not None or self._neighbour(index, -1) == _DOT
        ):
            self._date(number, text, match)
        else:
            self._text(index, number, text)

    def _stray(self, number: int, text: str) -> None:
        where = "before any entry" if self.draft is None else "out of order in its entry"
        self._warn(number, f"cannot place metadata line {_short(text)} ({where}); skipped")

    def _authors(self, number: int, text: str, count: int) -> None:
        draft = self.draft
        if draft is None or draft.stage >= _WHO:
            self._stray(number, text)
        else:
            draft.authors, draft.stage, draft.has_meta, draft.last = count, _WHO, True, number

    def _separator(self, number: int, text: str) -> None:
        draft = self.draft
        if draft is None or draft.stage >= _SEPARATOR:
            self._stray(number, text)
        else:
            draft.stage, draft.has_meta, draft.last = _SEPARATOR, True, number

    def _date(self, number: int, text: str, match: re.Match[str]) -> None:
        draft = self.draft
        if draft is None and not self.header_date_seen:
            self.header_date_seen = True  # the capture date of the listing page
            self._check_capture(number, text, match)
        elif draft is None or draft.stage >= _DATED:
            self._stray(number, text)
        else:
            draft.stage, draft.has_meta, draft.last = _DATED, True, number
            draft.comments = int(match[4]) if match[4] else None
            draft.published = self._read_date(number, text, match)

    def _read_date(self, number: int, text: str, match: re.Match[str]) -> dt.date | None:
        """The date a metadata date line names, or None with a warning saying why not."""
        month, capture, quoted = _month(match[1]), self.capture, _short(text)
        if month is None:
            self._warn(number, f"date line {quoted} has an unknown month")
            return None
        # A yearless date is in the capture year: the listing shows years only for others.
        year = int(match[3]) if match[3] else capture.year if capture else None
        if year is None:
            self._warn(number, f"date line {quoted} has no year, and no capture date gives one")
            return None
        try:
            # dt.date refuses 'Feb 30' outright, where lenient parsers roll into March.
            published = dt.date(year, month, int(match[2]))
        except ValueError:
            self._warn(number, f"date line {quoted} is not a real date")
            return None
        if not match[3] and capture is not None and published > capture:
            message = f"falls after the capture date {capture.isoformat()}; check the year"
            self._warn(number, f"date line {quoted} {message}")
        return published

    def _check_capture(self, number: int, text: str, match: re.Match[str]) -> None:
        if self.capture is None:
            return
        capture = self.capture
        same_day = _month(match[1]) == capture.month and int(match[2]) == capture.day
        if not same_day or (match[3] and int(match[3]) != capture.year) or match[4]:
            message = f"does not match the capture date {capture.isoformat()}"
            self._warn(number, f"header date {_short(text)} {message}")

    def _text(self, index: int, number: int, text: str) -> None:
        draft, following, short = self.draft, self._neighbour(index, 1), not _is_prose(text)
        if draft is not None and draft.stage <= _ABSTRACT and short and following == _DOT:
            # A short line right before "·" stands where "• N authors" would: a submitter.
            draft.submitter, draft.stage, draft.has_meta, draft.last = text, _WHO, True, number
        elif draft is not None and draft.stage == _TITLE and not (short and _is_prose(following)):
            # After a title comes its abstract, unless this line is short and the next one
            # is prose: then this is the next title and the entry before has no abstract.
            draft.abstract, draft.stage, draft.last = text, _ABSTRACT, number
        else:
            self._finish(at_eof=False)
            if not short:
                self._warn(
                    number,
                    f"title {_short(text)} reads like an abstract: "
                    "is an abstract split over two lines, or a title missing?",
                )
            self.draft = _Draft(title=text, line=number, last=number)

    def _finish(self, at_eof: bool) -> None:
        """Turn the draft into an entry, warning about what it lacks."""
        draft = self.draft
        if draft is None:
            return
        cut = "the dump ends mid-entry: " if at_eof else ""
        name = _short(draft.title, 40)
        if draft.abstract is None:
            self._warn(draft.line, f"{cut}entry {name} has no abstract")
        if draft.has_meta and draft.authors is None and draft.submitter is None:
            self._warn(draft.last, f"metadata of {name} has no author count or submitter")
        if draft.has_meta and draft.stage < _DATED:
            self._warn(draft.last, f"{cut}metadata of {name} has no date")
        source = models.SourceRef(self.file, draft.line)
        self.entries.append(
            models.RawEntry(
                title=draft.title,
                abstract=draft.abstract or "",
                authors=draft.authors,
                submitter=draft.submitter,
                published=draft.published,
                comments=draft.comments,
                source=source,
            )
        )
