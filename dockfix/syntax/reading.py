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

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass

#: Go's ``unicode.IsSpace``: the characters BuildKit trims and splits on.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_SET = frozenset(GO_SPACE)
#: ``unicode.IsSpace(rune(byte))``: what byte-wise Go loops treat as a space.
_BYTE_SPACES = frozenset(b"\t\n\v\f\r \x85\xa0")
#: The same for a loop over characters: a non-ASCII character is several bytes, and its
#: first byte is never a space (its later bytes may be: see ``_extract_flags``).
_BYTE_SPACE_SET = frozenset("\t\n\v\f\r ")
#: BuildKit's ``reWhitespace``.
RE_WHITESPACE = lazy_re.compile(r"[\t\v\f\r ]+")
RE_HEREDOC = lazy_re.compile(r"^([0-9]*)<<(-?)([^<]*)$")
#: A run of characters that are not Go spaces.
_NON_SPACES = lazy_re.compile(f"[^{re.escape(GO_SPACE)}]+")


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


def go_lower(text: str) -> str:
    """``strings.ToLower``: simple case mapping (Python maps U+0130 to two characters)."""
    return text.replace("\u0130", "i").lower()


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """``strconv.Quote`` (``%q``), as BuildKit's error messages print words."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\\ufffd")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


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
        args_start = match.end()
        # Cheap test first: in ASCII, after the whitespace run, only ``--`` or a newline
        # (a byte-wise space) make ``_extract_flags`` find anything.
        if not line.isascii() or line.startswith(("--", "\n"), args_start, end):
            args_start, flags = _extract_flags(line, args_start, end, atoms)
        args_start = _lstrip_index(line, args_start, end)
    kind = go_lower(keyword)
    reading = Reading(keyword, None, False, tuple(flags), (), atoms)
    args = line[args_start:args_end]
    parser = _DISPATCH.get(kind, _parse_ignore)
    parser(reading, line, args_start, args_end, args, escape)
    return reading


def _extract_flags(line: str, pos: int, end: int, atoms: list[Atom]) -> tuple[int, list[str]]:
    """``extractBuilderFlags``: leading ``--name[=value]`` words; returns where args start.

    Quotes are removed and ``\\`` escapes the next character (always backslash, whatever
    the escape directive says).  Go walks *bytes* here and appends each byte as a rune,
    so a non-ASCII flag comes out as Latin-1 mojibake and the bytes 0x85 and 0xA0 inside
    a UTF-8 character count as spaces.  We do the same on the UTF-8 bytes, and map
    positions back to characters (a boundary inside a character moves past it).
    """
    segment = line[pos:end]
    if segment.isascii():
        data = segment.encode("ascii")
        to_char = None
    else:
        data = segment.encode("utf-8", "surrogateescape")
        to_char = _byte_to_char_table(segment)
    words: list[str] = []
    spans: list[tuple[str, int, int]] = []
    stop = _extract_flag_bytes(data, words, spans)
    for kind, begin, finish in spans:
        if to_char is not None:
            begin, finish = to_char[begin], to_char[finish]
        atoms.append(Atom(kind, pos + begin, pos + finish))
    if to_char is not None:
        stop = to_char[stop]
    return pos + stop, words


def _byte_to_char_table(text: str) -> list[int]:
    """Byte offset -> index of the character that starts at or after it."""
    table: list[int] = []
    for index, char in enumerate(text):
        width = len(char.encode("utf-8", "surrogateescape"))
        table.append(index)
        table.extend([index + 1] * (width - 1))
    table.append(len(text))
    return table


def _extract_flag_bytes(data: bytes, words: list[str], spans: list[tuple[str, int, int]]) -> int:
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word = bytearray()
    word_start = 0
    quote = 0
    blank_ok = False
    pos = 0
    end = len(data)
    backslash, dash = 0x5C, 0x2D
    while pos <= end:
        ch = data[pos] if pos < end else -1
        if phase == in_spaces:
            if pos == end:
                break
            if ch in _BYTE_SPACES:
                pos += 1
                continue
            if ch != dash or pos + 1 == end or data[pos + 1] != dash:
                return pos
            phase = in_word
            word_start = pos
        if pos == end:
            if word == b"--":
                spans.append(("flag_terminator", word_start, end))
            elif blank_ok or word:
                words.append(word.decode("latin-1"))
                spans.append(("flag", word_start, end))
            break
        if phase == in_word:
            if ch in _BYTE_SPACES:
                phase = in_spaces
                if word == b"--":
                    spans.append(("flag_terminator", word_start, pos))
                    return pos
                if blank_ok or word:
                    words.append(word.decode("latin-1"))
                    spans.append(("flag", word_start, pos))
                word = bytearray()
                blank_ok = False
                pos += 1
                continue
            if ch in (0x22, 0x27):
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == backslash:
                if pos + 1 == end:
                    pos += 1
                    continue
                pos += 1
                ch = data[pos]
            word.append(ch)
            pos += 1
            continue
        if ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == backslash:
            if pos + 1 == end:
                phase = in_word
                pos += 1
                continue
            pos += 1
            ch = data[pos]
        word.append(ch)
        pos += 1
    return end


def _parse_words(text: str, base: int, escape: str) -> list[tuple[str, int, int]]:
    """``parseWords``: quote-aware words, quotes kept; returns (value, start, end)."""
    if escape not in text and "'" not in text and '"' not in text:
        # Without quotes and escapes a word is a run of non-spaces (most ENV and LABEL
        # lines): one regex scan instead of the character loop below.
        return [(m.group(), base + m.start(), base + m.end()) for m in _NON_SPACES.finditer(text)]
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


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")  # Go's decoder refuses it
    return value


_JSON = json.JSONDecoder(parse_constant=_raise_constant, parse_float=_finite_float)
_SURROGATE = lazy_re.compile("[\ud800-\udfff]")


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
    # Go turns invalid UTF-8 and lone surrogate escapes into U+FFFD.
    return [_SURROGATE.sub("\ufffd", item) for item in value]


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
                f"Syntax error - can't find = in {go_quote(value)}. "
                "Must be of the form: name=value",
                s,
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
    if go_lower(inner.cmd) == "onbuild":
        # The record shows the wrapped ONBUILD node's own (empty) value.
        inner.value = ("",)
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


class _LexError(Exception):
    """BuildKit's shell lexer rejects the text (then it finds no heredocs on the line)."""


_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class _ShellWords:
    """BuildKit v0.12.5's ``shell.Lex.ProcessWords`` with ``SkipUnsetEnv`` and no
    environment: the words a RUN/COPY line splits into when looking for heredocs.

    Only what decides word boundaries and heredoc names is modelled: quotes, the
    backslash escape, and ``$`` expansions (unset variables stay literal; a malformed or,
    in v0.12.5, unsupported ``${...}`` form is a lexing error).
    """

    def __init__(self, text: str, *, raw_quotes: bool, raw_escapes: bool) -> None:
        self.text = text
        self.pos = 0
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def words(self) -> list[str]:
        words: list[str] = []
        word: list[str] = []
        in_word = False

        def add_char(ch: str) -> None:
            nonlocal word, in_word
            if ch in _GO_SPACE_SET:
                if in_word and word:
                    words.append("".join(word))
                    word, in_word = [], False
            else:
                word.append(ch)
                in_word = True

        while self.pos < len(self.text):
            ch = self.peek()
            if ch == "'":
                word.append(self.single_quote())
                in_word = True
            elif ch == '"':
                word.append(self.double_quote())
                in_word = True
            elif ch == "$":
                for expanded in self.dollar():
                    add_char(expanded)
            else:
                self.next()
                if ch == "\\":
                    if self.raw_escapes:
                        word.append(ch)
                        in_word = True
                    if self.pos >= len(self.text):
                        break
                    word.append(self.next())
                    in_word = True
                else:
                    add_char(ch)
        if word:
            words.append("".join(word))
        return words

    def single_quote(self) -> str:
        self.next()
        close = self.text.find("'", self.pos)
        if close < 0:
            raise _LexError("unexpected end of statement while looking for matching single-quote")
        body = self.text[self.pos : close]
        self.pos = close + 1
        return f"'{body}'" if self.raw_quotes else body

    def double_quote(self) -> str:
        self.next()
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise _LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.next()
                break
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == "\\":
                following = self.peek()
                if not following:
                    continue
                if following in ('"', "$", "\\"):
                    ch = self.next()
            out.append(ch)
        body = "".join(out)
        return f'"{body}"' if self.raw_quotes else body

    def name(self) -> str:
        out: list[str] = []
        while self.peek():
            ch = self.peek()
            if not out and ch.isdigit() and ch.isascii():
                while self.peek().isdigit() and self.peek().isascii():
                    out.append(self.next())
                return "".join(out)
            if not out and ch in _SPECIAL_PARAMS:
                return self.next()
            if not (ch.isalnum() or ch == "_"):
                break
            out.append(self.next())
        return "".join(out)

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            return f"${name}" if name else "$"
        self.next()
        if self.peek() in ("", "{", "}", ":"):
            raise _LexError("bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            return f"${{{name}}}"
        if ch in ("?", ":"):
            modifier = self.next() if ch == ":" else ""
            word = self.until_brace()
            return f"${{{name}{ch}{modifier}{word}}}"
        raise _LexError("missing ':' in substitution")

    def until_brace(self) -> str:
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise _LexError("missing '}'")
            if ch == "}":
                self.next()
                return "".join(out)
            if ch == "'":
                out.append(self.single_quote())
            elif ch == '"':
                out.append(self.double_quote())
            elif ch == "$":
                out.append(self.dollar())
            else:
                self.next()
                if ch == "\\" and self.peek():
                    ch = self.next()
                out.append(ch)


def _shell_words(line: str, *, raw_quotes: bool, raw_escapes: bool = False) -> list[str] | None:
    """Words of ``line`` as BuildKit's shell lexer splits them, or None on a lexing error."""
    try:
        return _ShellWords(line, raw_quotes=raw_quotes, raw_escapes=raw_escapes).words()
    except _LexError:
        return None


def heredoc_markers(line: str) -> tuple[HeredocMarker, ...]:
    """``heredocsFromLine``: the heredocs a RUN/COPY/ADD line opens, in order."""
    if "<<" not in line:
        return ()
    words = _shell_words(line, raw_quotes=True, raw_escapes=True)
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
        if plain is None or raw is None or len(plain) != 1 or not plain[0]:
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
