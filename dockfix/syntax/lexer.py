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

The instruction keyword token carries BuildKit's reading of the logical line (a
``Reading``) so that the tree builder needs no second pass over the text.
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
_ATOM_TOKEN = {
    "keyword": "KEYWORD",
    "subkeyword": "SUBKEYWORD",
    "flag": "FLAG",
    "flag_terminator": "FLAG_END",
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


class ParseError(Exception):
    """The input is not a Dockerfile BuildKit accepts; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int = 1) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column


class KeywordToken(Token):
    """The keyword of an instruction, carrying BuildKit's reading of its logical line."""

    reading: Reading
    logical: str
    #: (logical start, offset from the instruction's first character, length) per piece
    #: of physical text that makes up the logical line.
    segments: tuple[tuple[int, int, int], ...]
    start_line: int
    end_line: int


def _is_blank(text: str) -> bool:
    return not text.strip(GO_SPACE)


def _is_comment(text: str) -> bool:
    return text.lstrip(GO_SPACE).startswith("#")


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
        end = len(text) if newline < 0 else newline + 1
        if end - start > MAX_LINE_BYTES // 4 and _utf8_length(text[start:end]) > MAX_LINE_BYTES:
            # bufio.Scanner's buffer: BuildKit refuses longer lines.
            raise ParseError(
                f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES - 1}",
                self.number + 1,
            )
        content_end = end
        while content_end > start and text[content_end - 1] in "\r\n":
            content_end -= 1
        self.pos = end
        self.number += 1
        return start, content_end, end


def tokenize(text: str) -> Iterator[Token]:
    """Every token of ``text`` in order (raises ``ParseError`` where BuildKit would)."""
    pos = 0
    if text.startswith("\ufeff"):
        yield Token("BOM", "\ufeff", 0)
        pos = 1
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
                yield Token("DIRECTIVE", text[start:content_end], start)
                yield Token("EOL", text[content_end:end], content_end)
                continue
            directives_done = True
        if text.startswith("#", lead_end):
            yield Token("COMMENT", text[start:content_end], start)
            yield Token("EOL", text[content_end:end], content_end)
            continue
        if lead_end == content_end:
            yield Token("BLANK", text[start:content_end], start)
            yield Token("EOL", text[content_end:end], content_end)
            continue
        yield from _lex_instruction(text, lines, escape, start, lead_end, content_end, end)


def _lex_instruction(
    text: str, lines: _Lines, escape: str, start: int, lead_end: int, content_end: int, end: int
) -> list[Token]:
    """One instruction: its lines joined as BuildKit joins them, then tokenised."""
    continuation = _CONTINUATION[escape]
    start_line = lines.number
    segments: list[tuple[int, int, int]] = []  # (logical start, physical start, length)
    breaks: list[tuple[int, int]] = []  # physical [start, end) of each line break
    parts: list[str] = []
    logical_len = 0
    piece_start = lead_end
    eol_start, eol_end = content_end, end
    while True:
        match = continuation.search(text, piece_start, content_end)
        piece_end = match.start() if match else content_end
        if piece_end > piece_start:
            segments.append((logical_len, piece_start, piece_end - piece_start))
            parts.append(text[piece_start:piece_end])
            logical_len += piece_end - piece_start
        if not match:
            eol_start, eol_end = content_end, end
            break
        break_start = piece_end
        found_content = False
        while not lines.at_end():
            saved_pos, saved_number = lines.pos, lines.number
            line_start, line_content_end, _ = lines.next()
            line = text[line_start:line_content_end]
            if _is_comment(line) or _is_blank(line):
                continue
            lines.pos, lines.number = saved_pos, saved_number
            found_content = True
            break
        if not found_content:
            breaks.append((break_start, lines.pos))
            eol_start = eol_end = lines.pos
            break
        breaks.append((break_start, lines.pos))
        piece_start, content_end, end = lines.next()
    logical = "".join(parts)
    try:
        reading, has_heredocs = _reading_of(logical, escape)
    except ReadingError as error:
        raise ParseError(error.message, start_line) from None
    tokens, keyword = _tokens_for(text, reading, segments, breaks, start, lead_end, eol_start)
    tokens.append(Token("EOL", text[eol_start:eol_end], eol_start))
    if has_heredocs:
        for marker in reading.heredoc_markers:
            _lex_heredoc(text, lines, marker, tokens, start_line)
    keyword.reading = reading
    keyword.logical = logical
    keyword.segments = tuple((lo, ph - start, n) for lo, ph, n in segments)
    keyword.start_line = start_line
    keyword.end_line = lines.number
    return tokens


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


def _lex_heredoc(
    text: str, lines: _Lines, marker: HeredocMarker, tokens: list[Token], start_line: int
) -> None:
    """Body lines up to the terminator; BuildKit compares after trimming the EOL."""
    while not lines.at_end():
        line_start, line_content_end, line_end = lines.next()
        candidate = text[line_start:line_content_end]
        if marker.chomp:
            candidate = candidate.lstrip("\t")
        if candidate == marker.name:
            tokens.append(Token("HEREDOC_END", text[line_start:line_content_end], line_start))
            tokens.append(Token("EOL", text[line_content_end:line_end], line_content_end))
            return
        tokens.append(Token("HEREDOC_LINE", text[line_start:line_end], line_start))
    raise ParseError("unterminated heredoc", start_line)


def _tokens_for(
    text: str,
    reading: Reading,
    segments: list[tuple[int, int, int]],
    breaks: list[tuple[int, int]],
    start: int,
    lead_end: int,
    stop: int,
) -> tuple[list[Token], KeywordToken]:
    """Map the reading's atoms (logical spans) back to physical tokens.

    Text between atoms is trivia: ``WS`` for spaces on a line, ``LINEBREAK`` for an
    escape character, the end of line and any comment or empty lines BuildKit skips
    inside a continuation.  An atom that spans a continuation keeps it inside its token.
    """
    tokens: list[Token] = []
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
                tokens.append(Token("LINEBREAK", text[cursor:brk_end], cursor))
                cursor = brk_end
                continue
            next_break = breaks[break_index][0] if break_index < len(breaks) else finish
            run_end = min(next_break, finish)
            tokens.append(Token("WS", text[cursor:run_end], cursor))
            cursor = run_end

    cursor = start
    keyword: KeywordToken | None = None
    for atom in reading.atoms:
        if atom.start == atom.end:
            if atom.kind == "keyword":
                # An all-blank logical line (a lone continuation character) still makes
                # BuildKit add an instruction with an empty keyword.
                keyword = KeywordToken("KEYWORD", "", cursor)
                tokens.append(keyword)
            continue
        begin = physical(atom.start)
        finish = physical(atom.end - 1) + 1
        trivia(cursor, begin)
        token_type = _ATOM_TOKEN[atom.kind]
        if atom.kind == "keyword":
            keyword = KeywordToken(token_type, text[begin:finish], begin)
            tokens.append(keyword)
        else:
            tokens.append(Token(token_type, text[begin:finish], begin))
        cursor = finish
    trivia(cursor, stop)
    assert keyword is not None
    return tokens, keyword
