"""Which tree-sitter nodes are (parts of) shell words, and how pieces form words.

In sh a word ends only at an unquoted, unescaped blank or operator.  tree-sitter-bash
sometimes hands one word over in pieces (``a"b"\\<newline>c``: the line continuation
is an "extra" between two nodes) and sometimes glues several words into one ``word``
node (``] }``: a run of special characters).  ``join_pieces`` and ``split_blanks``
restore the shell's view so that ``Word.text`` is always one whole word.
"""

from __future__ import annotations

from dockfix import lazy_re
from dockfix.shell.model import Word

#: Nodes whose whole source text is (part of) one word; never descended into.
WORD_NODES = frozenset(
    {
        "word",
        "string",
        "raw_string",
        "ansi_c_string",
        "translated_string",
        "string_expansion",
        "number",
        "concatenation",
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "arithmetic_expansion",
        "brace_expression",
        "regex",
        "extglob_pattern",
        "test_operator",
        "variable_name",
        "special_variable_name",
        "variable_assignment",
    }
)

# Only escaped blanks and line continuations between two pieces: still one word.
_SAME_WORD_GAP = lazy_re.compile(r"(?:\\\r?\n|\\[ \t\v\f])*")
#: A blank byte: a ``word`` node with one is split by ``split_blanks``.
BLANK = lazy_re.compile(rb"[ \t\n]")


def join_pieces(text: str, spans: list[tuple[int, int]]) -> list[Word]:
    """Words from piece spans in source order, joining pieces no blank separates."""
    words: list[Word] = []
    # The word being gathered (a Word is made once it is complete).
    word_start = word_end = -1
    for start, end in spans:
        if start == end:
            continue
        if word_end >= 0:
            # Cheap tests first: most pieces are separated by a plain blank.
            if start == word_end or (
                text[word_end] == "\\" and _SAME_WORD_GAP.fullmatch(text, word_end, start)
            ):
                word_end = end
                continue
            words.append(Word(text[word_start:word_end], word_start, word_end))
        word_start, word_end = start, end
    if word_end >= 0:
        words.append(Word(text[word_start:word_end], word_start, word_end))
    return words


def split_blanks(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """Byte spans of ``data[start:end]`` between unescaped blanks (a ``word`` has no quotes).

    Works on the bytes tree-sitter parsed (backtick substitutions masked), where a
    blank is never inside a substitution; UTF-8 continuation bytes are never blanks.
    """
    if BLANK.search(data, start, end) is None:
        return [(start, end)]
    spans: list[tuple[int, int]] = []
    piece = start
    i = start
    while i < end:
        byte = data[i]
        if byte == 0x5C:  # backslash: the next byte is escaped
            i += 2
            continue
        if byte in b" \t\n":
            if piece < i:
                spans.append((piece, i))
            piece = i + 1
        i += 1
    if piece < end:
        spans.append((piece, end))
    return spans
