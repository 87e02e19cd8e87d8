"""The lexer: physical lines in, typed tokens out.

A Dockerfile is context-sensitive in three places that an LALR grammar cannot see:
``# escape=`` changes the continuation character for the rest of the file, heredoc
bodies (``RUN <<EOF``) are raw lines ended by a terminator named on the instruction line,
and whether an argument is a JSON array or shell text depends on whether the whole
argument string decodes as JSON.  This lexer reads lines exactly as BuildKit's
``Parse`` loop does, decides those three things, and emits one token per piece of text.
Every character of the input lands in exactly one token, so printing the tokens back
gives the input byte for byte.  The grammar (``grammar/dockerfile.lark``) then assembles
tokens into directives, comments, blank lines, instructions and heredocs (in one pass,
``loader.assemble``; Lark's LALR parser is the reference, ``lark_reference``).

``scan`` is the one reading: each line or instruction as offsets into the text, an
instruction with BuildKit's reading of its logical line (a ``Reading``).  ``tokenize``
turns it into the grammar's tokens; ``build.build_nodes`` makes nodes from it directly,
with no token or tree objects in between (``parse`` is the hot path of every run).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.syntax.reading import (
    GO_SPACE,
    HeredocMarker,
    Reading,
    ReadingError,
    can_contain_heredoc,
    heredoc_markers,
    read_line,
)
from dockfix.syntax.tokens import Token

_DIRECTIVE = lazy_re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z"
)
_CONTINUATION = {
    "\\": re.compile(r"(?<!\\)\\[ \t]*\Z"),
    "`": re.compile(r"(?<!`)`[ \t]*\Z"),
}
_VALID_DIRECTIVES = ("syntax", "escape")
#: A reading's atom kind -> the kind of the piece (and token) it becomes.
_ATOM_PIECE = {
    "keyword": "keyword",
    "subkeyword": "subkeyword",
    "flag": "flag",
    "flag_terminator": "flag_end",
    "json": "json",
    "shell": "shell",
    "word": "word",
    "text": "text",
    "ignored": "ignored",
    "pair": "pair",
    "legacy_key": "legacy_key",
    "legacy_value": "legacy_value",
    "health_type": "health_type",
}
#: A piece kind -> the grammar's terminal (``grammar/dockerfile.lark``).
TOKEN_TYPE = {
    "ws": "WS",
    "linebreak": "LINEBREAK",
    "eol": "EOL",
    "keyword": "KEYWORD",
    "subkeyword": "SUBKEYWORD",
    "flag": "FLAG",
    "flag_end": "FLAG_END",
    "json": "JSON",
    "shell": "SHELL",
    "word": "WORD",
    "text": "TEXT",
    "ignored": "IGNORED",
    "pair": "PAIR",
    "legacy_key": "LEGACY_KEY",
    "legacy_value": "LEGACY_VALUE",
    "health_type": "HEALTH_TYPE",
}
#: A whole-line item's kind -> its terminal.
_LINE_TOKEN = {"directive": "DIRECTIVE", "comment": "COMMENT", "blank": "BLANK"}


class ParseError(Exception):
    """The input is not a Dockerfile BuildKit accepts; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int = 1) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column


#: A piece of an instruction line: (piece kind, start, end) offsets into the text.
RawPiece = tuple[str, int, int]
#: A directive, comment or blank line: (kind, start, content end, end, line number); the
#: line end is ``text[content_end:end]``.
LineItem = tuple[str, int, int, int, int]


class LexedHeredoc:
    """A heredoc body as offsets: its lines' spans, the terminator line and its number."""

    __slots__ = ("end", "line", "lines", "terminator_end", "terminator_start")

    def __init__(self) -> None:
        self.lines: list[tuple[int, int]] = []
        self.terminator_start = self.terminator_end = self.end = self.line = 0


class LexedInstruction:
    """One instruction as the lexer read it: pieces as offsets, BuildKit's reading of
    the logical line, and where the logical line lies in the physical text."""

    __slots__ = ("end_line", "heredocs", "logical", "pieces", "reading", "segments", "start_line")

    def __init__(
        self,
        pieces: list[RawPiece],
        reading: Reading,
        logical: str,
        segments: tuple[tuple[int, int, int], ...],
        start_line: int,
    ) -> None:
        self.pieces = pieces
        self.heredocs: list[LexedHeredoc] = []
        self.reading = reading
        self.logical = logical
        #: (logical start, offset from the instruction's first character, length) per
        #: piece of physical text that makes up the logical line.
        self.segments = segments
        self.start_line = start_line
        self.end_line = start_line


Item = LineItem | LexedInstruction


#: A comment line or a blank line (Go's spaces only).
_SKIPPED_LINE = lazy_re.compile(f"[{re.escape(GO_SPACE)}]*(?:#|\\Z)")


#: BuildKit reads lines with a ``bufio.Scanner`` of this many bytes, newline included.
MAX_LINE_BYTES = 65536


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


class _Lines:
    """Physical lines split on ``\\n`` only (a lone ``\\r`` is not a line break here)."""

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos
        self.number = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def next(self) -> tuple[int, int, int]:
        """Advance one line; returns (start, content_end, end) with the EOL in between."""
        text = self.text
        start = self.pos
        newline = text.find("\n", start)
        if newline < 0:
            end = content_end = len(text)
        else:
            end = newline + 1
            content_end = newline
        if end - start > MAX_LINE_BYTES // 4 and _utf8_length(text[start:end]) > MAX_LINE_BYTES:
            # bufio.Scanner's buffer: BuildKit refuses longer lines.
            raise ParseError(
                f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES - 1}",
                self.number + 1,
            )
        # The line end is the newline and any carriage returns before it.
        while content_end > start and text[content_end - 1] == "\r":
            content_end -= 1
        self.pos = end
        self.number += 1
        return start, content_end, end


def tokenize(text: str) -> Iterator[Token]:
    """Every token of ``text`` in order (raises ``ParseError`` where BuildKit would).

    The grammar's view of ``scan``: what the tests check against Lark's parser.
    """
    if text.startswith("\ufeff"):
        yield Token("BOM", "\ufeff", 0)
    for item in scan(text):
        if isinstance(item, LexedInstruction):
            for kind, start, end in item.pieces:
                yield Token(TOKEN_TYPE[kind], text[start:end], start)
            for heredoc in item.heredocs:
                for start, end in heredoc.lines:
                    yield Token("HEREDOC_LINE", text[start:end], start)
                start, end = heredoc.terminator_start, heredoc.terminator_end
                yield Token("HEREDOC_END", text[start:end], start)
                yield Token("EOL", text[end : heredoc.end], end)
        else:
            kind, start, content_end, end, _ = item
            yield Token(_LINE_TOKEN[kind], text[start:content_end], start)
            yield Token("EOL", text[content_end:end], content_end)


def scan(text: str) -> Iterator[Item]:
    """The lines and instructions of ``text`` (after any BOM), as offsets into it.

    The one reading of the text: ``tokenize`` turns it into the grammar's tokens, and
    ``build.build_nodes`` into nodes without making tokens first (it is the hot path).
    """
    pos = 1 if text.startswith("\ufeff") else 0
    lines = _Lines(text, pos)
    escape = "\\"
    directives_done = False
    seen: set[str] = set()
    while not lines.at_end():
        start, content_end, end = lines.next()
        lead_end = start
        while lead_end < content_end and text[lead_end] in GO_SPACE:
            lead_end += 1
        if not directives_done:
            match = _DIRECTIVE.match(text, lead_end, content_end)
            name = match.group(1).lower() if match else ""
            if match is not None and name in _VALID_DIRECTIVES:
                if name in seen:
                    raise ParseError(f"only one {name} parser directive can be used", lines.number)
                seen.add(name)
                if name == "escape":
                    value = match.group(2)
                    if value not in ("\\", "`"):
                        raise ParseError(
                            f"invalid escape token '{value}' does not match ` or \\",
                            lines.number,
                            match.start(2) - start + 1,
                        )
                    escape = value
                yield ("directive", start, content_end, end, lines.number)
                continue
            directives_done = True
        if text.startswith("#", lead_end):
            yield ("comment", start, content_end, end, lines.number)
        elif lead_end == content_end:
            yield ("blank", start, content_end, end, lines.number)
        else:
            yield _lex_instruction(text, lines, escape, start, lead_end, content_end, end)


def _lex_instruction(
    text: str, lines: _Lines, escape: str, start: int, lead_end: int, content_end: int, end: int
) -> LexedInstruction:
    """One instruction: its lines joined as BuildKit joins them, then tokenised."""
    start_line = lines.number
    continuation = _CONTINUATION[escape]
    match = continuation.search(text, lead_end, content_end)
    if match is None:
        # One physical line, as nearly every instruction is (the line has content).
        logical = text[lead_end:content_end]
        segments = [(0, lead_end, content_end - lead_end)]
        breaks: list[tuple[int, int]] = []
        eol_start, eol_end = content_end, end
    else:
        logical, segments, breaks, eol_start, eol_end = _join_lines(
            text, lines, continuation, lead_end, content_end, end
        )
    try:
        reading, has_heredocs = _reading_of(logical, escape)
    except ReadingError as error:
        raise ParseError(error.message, start_line) from None
    if breaks or len(segments) != 1:
        pieces = _pieces_for(text, reading, segments, breaks, start, eol_start)
    else:
        pieces = _line_pieces_for(reading, segments[0][1], start, eol_start)
    pieces.append(("eol", eol_start, eol_end))
    lexed = LexedInstruction(
        pieces,
        reading,
        logical,
        tuple([(lo, ph - start, n) for lo, ph, n in segments]),
        start_line,
    )
    if has_heredocs:
        for marker in reading.heredoc_markers:
            lexed.heredocs.append(_lex_heredoc(text, lines, marker, start_line))
    lexed.end_line = lines.number
    return lexed


def _join_lines(
    text: str,
    lines: _Lines,
    continuation: re.Pattern[str],
    piece_start: int,
    content_end: int,
    end: int,
) -> tuple[str, list[tuple[int, int, int]], list[tuple[int, int]], int, int]:
    """The logical line of an instruction that continues over several physical lines.

    Returns the logical text, its segments (logical start, physical start, length), the
    physical ``[start, end)`` of each line break, and the span of the final line end.
    """
    segments: list[tuple[int, int, int]] = []
    breaks: list[tuple[int, int]] = []
    parts: list[str] = []
    logical_len = 0
    while True:
        match = continuation.search(text, piece_start, content_end)
        piece_end = match.start() if match else content_end
        if piece_end > piece_start:
            segments.append((logical_len, piece_start, piece_end - piece_start))
            parts.append(text[piece_start:piece_end])
            logical_len += piece_end - piece_start
        if not match:
            return "".join(parts), segments, breaks, content_end, end
        # BuildKit skips comment and blank lines inside a continuation: they join the
        # line break, which ends where the next line with content starts.
        while True:
            if lines.at_end():
                breaks.append((piece_end, lines.pos))
                return "".join(parts), segments, breaks, lines.pos, lines.pos
            line_start, line_content_end, line_end = lines.next()
            if not _SKIPPED_LINE.match(text, line_start, line_content_end):
                break
        breaks.append((piece_end, line_start))
        piece_start, content_end, end = line_start, line_content_end, line_end


@functools.lru_cache(maxsize=4096)
def _reading_of(logical: str, escape: str) -> tuple[Reading, bool]:
    """BuildKit's reading of a logical line, and whether heredoc bodies follow it.

    Cached (a reading is never changed once made): the engine re-parses the whole file
    after every round of fixes, and all but the edited lines read as before.
    """
    reading = read_line(logical, escape)
    has_heredocs = can_contain_heredoc(reading) and "<<" in logical
    if has_heredocs:
        reading.heredoc_markers = heredoc_markers(logical)
    return reading, has_heredocs


def _lex_heredoc(text: str, lines: _Lines, marker: HeredocMarker, start_line: int) -> LexedHeredoc:
    """Body lines up to the terminator; BuildKit compares after trimming the EOL."""
    heredoc = LexedHeredoc()
    while not lines.at_end():
        line_start, line_content_end, line_end = lines.next()
        candidate = text[line_start:line_content_end]
        if marker.chomp:
            candidate = candidate.lstrip("\t")
        if candidate == marker.name:
            heredoc.terminator_start = line_start
            heredoc.terminator_end = line_content_end
            heredoc.end = line_end
            heredoc.line = lines.number
            return heredoc
        heredoc.lines.append((line_start, line_end))
    raise ParseError("unterminated heredoc", start_line)


def _line_pieces_for(
    reading: Reading, physical_start: int, start: int, stop: int
) -> list[RawPiece]:
    """``_pieces_for`` for a logical line that is one piece of one physical line (the
    common case): logical offsets map by one shift, and all trivia is ``ws``."""
    pieces: list[RawPiece] = []
    cursor = start
    for atom in reading.atoms:
        atom_start, atom_end = atom.start, atom.end
        if atom_start == atom_end:
            if atom.kind == "keyword":
                pieces.append(("keyword", cursor, cursor))
            continue
        begin = physical_start + atom_start
        if begin > cursor:
            pieces.append(("ws", cursor, begin))
        cursor = physical_start + atom_end
        pieces.append((_ATOM_PIECE[atom.kind], begin, cursor))
    if stop > cursor:
        pieces.append(("ws", cursor, stop))
    return pieces


def _pieces_for(
    text: str,
    reading: Reading,
    segments: list[tuple[int, int, int]],
    breaks: list[tuple[int, int]],
    start: int,
    stop: int,
) -> list[RawPiece]:
    """Map the reading's atoms (logical spans) back to physical pieces.

    Text between atoms is trivia: ``ws`` for spaces on a line, ``linebreak`` for an
    escape character, the end of line and any comment or empty lines BuildKit skips
    inside a continuation.  An atom that spans a continuation keeps it inside its piece.
    """
    pieces: list[RawPiece] = []
    seg_index = 0

    def physical(index: int) -> int:
        nonlocal seg_index
        while seg_index + 1 < len(segments) and segments[seg_index + 1][0] <= index:
            seg_index += 1
        logical_start, physical_start, _ = segments[seg_index]
        return physical_start + index - logical_start

    break_index = 0

    def trivia(begin: int, finish: int) -> None:
        nonlocal break_index
        cursor = begin
        while cursor < finish:
            while break_index < len(breaks) and breaks[break_index][1] <= cursor:
                break_index += 1
            if break_index < len(breaks) and breaks[break_index][0] <= cursor:
                brk_end = min(breaks[break_index][1], finish)
                pieces.append(("linebreak", cursor, brk_end))
                cursor = brk_end
                continue
            next_break = breaks[break_index][0] if break_index < len(breaks) else finish
            run_end = min(next_break, finish)
            pieces.append(("ws", cursor, run_end))
            cursor = run_end

    cursor = start
    for atom in reading.atoms:
        if atom.start == atom.end:
            if atom.kind == "keyword":
                # An all-blank logical line (a lone continuation character) still makes
                # BuildKit add an instruction with an empty keyword.
                pieces.append(("keyword", cursor, cursor))
            continue
        begin = physical(atom.start)
        finish = physical(atom.end - 1) + 1
        trivia(cursor, begin)
        pieces.append((_ATOM_PIECE[atom.kind], begin, finish))
        cursor = finish
    trivia(cursor, stop)
    return pieces
