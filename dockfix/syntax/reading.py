"""BuildKit's reading of one logical instruction line, re-implemented with positions.

BuildKit (v0.12.5, ``frontend/dockerfile/parser``) first joins physical lines into one
logical line, then splits it: the keyword, the ``--flags`` (``extractBuilderFlags``) and
the arguments, whose shape depends on the instruction (JSON array or shell text,
whitespace-separated words, quote-aware ``key=value`` words, ...).  We repeat those
algorithms here because the concrete syntax tree must agree with BuildKit on what every
piece of text *means*, and we need each piece's span to map it back to the source bytes.

Everything here works on the logical line (a ``str``) and returns spans into it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Go's ``unicode.IsSpace``: the characters BuildKit trims and splits on.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_SET = frozenset(GO_SPACE)
#: ``unicode.IsSpace(rune(byte))``: what byte-wise Go loops treat as a space.
_BYTE_SPACE_SET = frozenset("\t\n\v\f\r \x85\xa0")
#: BuildKit's ``reWhitespace``.
RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
RE_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")


class ReadingError(Exception):
    """BuildKit rejects the instruction; ``offset`` is into the logical line."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Atom:
    """A meaningful piece of the logical line: ``kind`` and its ``[start, end)`` span."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class HeredocMarker:
    """A ``<<NAME`` word that makes BuildKit read a heredoc body after the line."""

    name: str
    chomp: bool
    expand: bool
    file_descriptor: int


@dataclass(slots=True)
class Reading:
    """What BuildKit makes of one logical line (the fields of the ``Command`` record)."""

    cmd: str
    sub_cmd: str | None
    json: bool
    flags: tuple[str, ...]
    value: tuple[str, ...]
    atoms: list[Atom]
    heredoc_markers: tuple[HeredocMarker, ...] = ()
    #: ONBUILD: the wrapped instruction's flags (``flags`` stays empty, as in BuildKit).
    inner_flags: tuple[str, ...] = ()


def go_trim_space(text: str) -> str:
    """``strings.TrimSpace``."""
    return text.strip(GO_SPACE)


def _lstrip_index(text: str, start: int, end: int) -> int:
    while start < end and text[start] in _GO_SPACE_SET:
        start += 1
    return start


def _rstrip_index(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _GO_SPACE_SET:
        end -= 1
    return end


def read_line(line: str, escape: str) -> Reading:
    """Split a logical line as BuildKit's ``newNodeFromLine`` does."""
    return _read(line, 0, len(line), escape, nested=False)


def _read(line: str, start: int, end: int, escape: str, *, nested: bool) -> Reading:
    start = _lstrip_index(line, start, end)
    end = _rstrip_index(line, start, end)
    match = RE_WHITESPACE.search(line, start, end)
    key_end = match.start() if match else end
    keyword = line[start:key_end]
    atoms = [Atom("subkeyword" if nested else "keyword", start, key_end)]
    flags: list[str] = []
    args_start = args_end = end
    if match:
        args_start, flags = _extract_flags(line, match.end(), end, atoms)
        args_start = _lstrip_index(line, args_start, end)
    kind = keyword.lower()
    reading = Reading(keyword, None, False, tuple(flags), (), atoms)
    args = line[args_start:args_end]
    parser = _DISPATCH.get(kind, _parse_ignore)
    parser(reading, line, args_start, args_end, args, escape)
    return reading


def _extract_flags(line: str, pos: int, end: int, atoms: list[Atom]) -> tuple[int, list[str]]:
    """``extractBuilderFlags``: leading ``--name[=value]`` words; returns where args start.

    Quotes are removed and ``\\`` escapes the next character (always backslash, whatever
    the escape directive says).  Go walks bytes here, so a multi-byte character is never
    a space; walking characters differs only for flags holding U+0085 or U+00A0.
    """
    words: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word: list[str] = []
    word_start = pos
    quote = ""
    blank_ok = False
    while pos <= end:
        ch = line[pos] if pos < end else ""
        if phase == in_spaces:
            if pos == end:
                break
            if ch in _BYTE_SPACE_SET:
                pos += 1
                continue
            if ch != "-" or pos + 1 == end or line[pos + 1] != "-":
                return pos, words
            phase = in_word
            word_start = pos
        if pos == end:
            text = "".join(word)
            if text == "--":
                atoms.append(Atom("flag_terminator", word_start, end))
            elif blank_ok or text:
                words.append(text)
                atoms.append(Atom("flag", word_start, end))
            break
        if phase == in_word:
            if ch in _BYTE_SPACE_SET:
                phase = in_spaces
                text = "".join(word)
                if text == "--":
                    atoms.append(Atom("flag_terminator", word_start, pos))
                    return pos, words
                if blank_ok or text:
                    words.append(text)
                    atoms.append(Atom("flag", word_start, pos))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == end:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        # in_quote
        if ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == "\\":
            if pos + 1 == end:
                phase = in_word
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return end, words


def _parse_words(text: str, base: int, escape: str) -> list[tuple[str, int, int]]:
    """``parseWords``: quote-aware words, quotes kept; returns (value, start, end)."""
    words: list[tuple[str, int, int]] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word: list[str] = []
    word_start = 0
    quote = ""
    blank_ok = False
    pos = 0
    n = len(text)
    while pos <= n:
        ch = text[pos] if pos < n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if ch in _GO_SPACE_SET:
                pos += 1
                continue
            phase = in_word
            word_start = pos
        if pos == n:
            if blank_ok or word:
                words.append(("".join(word), base + word_start, base + n))
            break
        if phase == in_word:
            if ch in _GO_SPACE_SET:
                phase = in_spaces
                if blank_ok or word:
                    words.append(("".join(word), base + word_start, base + pos))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = text[pos]
            word.append(ch)
            pos += 1
            continue
        if ch == quote:
            phase = in_word
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = text[pos]
        word.append(ch)
        pos += 1
    return words


def _raise_constant(name: str) -> None:
    raise ValueError(name)


_JSON = json.JSONDecoder(parse_constant=_raise_constant)


def _parse_json(args: str) -> list[str] | None:
    """``parseJSON``: a string array, ``None`` when not JSON; raises for non-strings."""
    text = args.lstrip(GO_SPACE)
    if not text.startswith("["):
        return None
    try:
        value, _ = _JSON.raw_decode(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise ReadingError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _parse_maybe_json(reading: Reading, start: int, end: int, args: str) -> None:
    if not args:
        return
    array = _parse_json(args)
    if array is not None:
        reading.json = True
        reading.value += tuple(array)
        reading.atoms.append(Atom("json", start, end))
        return
    reading.value += (args,)
    reading.atoms.append(Atom("shell", start, end))


def _parse_maybe_json_list(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    array = _parse_json(args)
    if array is not None:
        reading.json = True
        reading.value = tuple(array)
        reading.atoms.append(Atom("json", start, end))
        return
    _parse_whitespace_words(reading, line, start, end, args, escape)


def _parse_whitespace_words(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    if not args:
        return
    values = []
    pos = start
    for match in RE_WHITESPACE.finditer(line, start, end):
        values.append(line[pos : match.start()])
        reading.atoms.append(Atom("word", pos, match.start()))
        pos = match.end()
    values.append(line[pos:end])
    if pos < end:
        reading.atoms.append(Atom("word", pos, end))
    reading.value = tuple(values)


def _parse_string(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    if args:
        reading.value = (args,)
        reading.atoms.append(Atom("text", start, end))


def _parse_ignore(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    reading.value = ("",)
    if args:
        reading.atoms.append(Atom("ignored", start, end))


def _parse_name_or_name_val(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    words = _parse_words(args, start, escape)
    reading.value = tuple(value for value, _, _ in words)
    reading.atoms.extend(Atom("word", s, e) for _, s, e in words)


def _parse_name_val(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    """``parseNameVal`` for ENV and LABEL: ``k=v`` pairs, or the legacy ``k v`` form."""
    words = _parse_words(args, start, escape)
    if not words:
        return
    if "=" not in words[0][0]:
        match = RE_WHITESPACE.search(args)
        if match is None:
            raise ReadingError(f"{reading.cmd.upper()} must have two arguments", start)
        reading.value = (args[: match.start()], args[match.end() :])
        reading.atoms.append(Atom("legacy_key", start, start + match.start()))
        reading.atoms.append(Atom("legacy_value", start + match.end(), end))
        return
    values: list[str] = []
    for value, s, e in words:
        if "=" not in value:
            raise ReadingError(
                f'Syntax error - can\'t find = in "{value}". Must be of the form: name=value', s
            )
        key, _, val = value.partition("=")
        values += (key, val)
        reading.atoms.append(Atom("pair", s, e))
    reading.value = tuple(values)


def _parse_health(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    sep = 0
    while sep < len(args) and args[sep] not in _BYTE_SPACE_SET:
        sep += 1
    nxt = sep
    while nxt < len(args) and args[nxt] in _BYTE_SPACE_SET:
        nxt += 1
    if sep == 0:
        return
    reading.value = (args[:sep],)
    reading.atoms.append(Atom("health_type", start, start + sep))
    _parse_maybe_json(reading, start + nxt, end, args[nxt:])


def _parse_sub_command(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    if not args:
        return
    inner = _read(line, start, end, escape, nested=True)
    reading.sub_cmd = inner.cmd
    reading.json = inner.json
    reading.value = inner.value
    reading.atoms.extend(inner.atoms)
    reading.heredoc_markers = inner.heredoc_markers
    # BuildKit keeps the inner flags on the inner node; the ``Command`` record of the
    # ``dockerfile`` package reports the outer (empty) flags, and so do we.
    reading.inner_flags = inner.flags


def _parse_run_like(
    reading: Reading, line: str, start: int, end: int, args: str, escape: str
) -> None:
    _parse_maybe_json(reading, start, end, args)


_DISPATCH = {
    "add": _parse_maybe_json_list,
    "arg": _parse_name_or_name_val,
    "cmd": _parse_run_like,
    "copy": _parse_maybe_json_list,
    "entrypoint": _parse_run_like,
    "env": _parse_name_val,
    "expose": _parse_whitespace_words,
    "from": _parse_whitespace_words,
    "healthcheck": _parse_health,
    "label": _parse_name_val,
    "maintainer": _parse_string,
    "onbuild": _parse_sub_command,
    "run": _parse_run_like,
    "shell": _parse_run_like,
    "stopsignal": _parse_string,
    "user": _parse_string,
    "volume": _parse_maybe_json_list,
    "workdir": _parse_string,
}

HEREDOC_COMMANDS = frozenset({"add", "copy", "run"})


def can_contain_heredoc(reading: Reading) -> bool:
    """``canContainHeredoc``: RUN/COPY/ADD (also under ONBUILD) in shell form."""
    cmd = reading.cmd.lower()
    if cmd == "onbuild" and reading.sub_cmd is not None:
        cmd = reading.sub_cmd.lower()
    return cmd in HEREDOC_COMMANDS and not reading.json


def _shell_words(line: str, *, raw_quotes: bool) -> list[str] | None:
    """Words as BuildKit's shell lexer splits them (escape ``\\``, no expansion).

    Returns None where the lexer reports an error (an unterminated quote), in which case
    BuildKit finds no heredocs on the line.
    """
    words: list[str] = []
    word: list[str] = []
    have_word = False
    pos = 0
    n = len(line)
    while pos < n:
        ch = line[pos]
        if ch in _GO_SPACE_SET:
            if have_word:
                words.append("".join(word))
                word = []
                have_word = False
            pos += 1
            continue
        have_word = True
        if ch == "'":
            close = line.find("'", pos + 1)
            if close < 0:
                return None
            word.append(line[pos : close + 1] if raw_quotes else line[pos + 1 : close])
            pos = close + 1
            continue
        if ch == '"':
            pos += 1
            if raw_quotes:
                word.append('"')
            while pos < n and line[pos] != '"':
                if line[pos] == "\\" and pos + 1 < n:
                    if raw_quotes:
                        word.append("\\")
                    pos += 1
                word.append(line[pos])
                pos += 1
            if pos >= n:
                return None
            if raw_quotes:
                word.append('"')
            pos += 1
            continue
        if ch == "\\" and pos + 1 < n:
            if raw_quotes:
                word.append("\\")
            word.append(line[pos + 1])
            pos += 2
            continue
        word.append(ch)
        pos += 1
    if have_word:
        words.append("".join(word))
    return words


def heredoc_markers(line: str) -> tuple[HeredocMarker, ...]:
    """``heredocsFromLine``: the heredocs a RUN/COPY/ADD line opens, in order."""
    if "<<" not in line:
        return ()
    words = _shell_words(line, raw_quotes=True)
    if not words:
        return ()
    markers = []
    for word in words:
        match = RE_HEREDOC.match(word)
        if not match or not match.group(3):
            continue
        rest = match.group(3)
        plain = _shell_words(rest, raw_quotes=False)
        raw = _shell_words(rest, raw_quotes=True)
        if plain is None or raw is None or len(plain) != 1:
            continue
        quotes = plain[0].count("'") + plain[0].count('"')
        raw_quote_count = raw[0].count("'") + raw[0].count('"')
        markers.append(
            HeredocMarker(
                name=plain[0],
                chomp=match.group(2) == "-",
                expand=quotes == raw_quote_count,
                file_descriptor=int(match.group(1) or 0),
            )
        )
    return tuple(markers)
