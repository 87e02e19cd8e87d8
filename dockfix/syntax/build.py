"""The grammar's tree -> dockfix nodes: typed, frozen, with line and column on every leaf."""

from __future__ import annotations

import bisect
from collections.abc import Callable

from dockfix.syntax.lexer import KeywordToken
from dockfix.syntax.nodes import BlankLine, Comment, Directive, Heredoc, Instruction, Node, Piece
from dockfix.syntax.tokens import Token, Tree

_PIECE_KIND = {
    "WS": "ws",
    "LINEBREAK": "linebreak",
    "EOL": "eol",
    "KEYWORD": "keyword",
    "SUBKEYWORD": "subkeyword",
    "FLAG": "flag",
    "FLAG_END": "flag_end",
    "JSON": "json",
    "SHELL": "shell",
    "WORD": "word",
    "TEXT": "text",
    "IGNORED": "ignored",
    "PAIR": "pair",
    "LEGACY_KEY": "legacy_key",
    "LEGACY_VALUE": "legacy_value",
    "HEALTH_TYPE": "health_type",
}


def build_nodes(tree: Tree, text: str) -> tuple[str, tuple[Node, ...]]:
    """Return the BOM (or "") and the top-level nodes of the file."""
    line_starts = [0]
    find = text.find
    index = find("\n")
    while index >= 0:
        line_starts.append(index + 1)
        index = find("\n", index + 1)

    # A BOM takes no column: BuildKit and editors count line 1 from after it.
    bom_width = 1 if text.startswith("\ufeff") else 0

    def position(offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(line_starts, offset) - 1
        column = offset - line_starts[row] + 1
        if row == 0 and offset >= bom_width:
            column -= bom_width
        return row + 1, column

    bom = ""
    nodes: list[Node] = []
    for child in tree.children:
        if isinstance(child, Token):
            bom = str(child)
            continue
        builder = _BUILDERS[child.data]
        nodes.append(builder(child, position))
    return bom, tuple(nodes)


Position = Callable[[int], tuple[int, int]]


def _line_node(
    cls: type[Directive | Comment | BlankLine],
) -> Callable[[Tree, Position], Node]:
    def build(tree: Tree, position: Position) -> Node:
        token, eol = tree.children
        assert isinstance(token, Token) and token.start_pos is not None  # our lexer's
        line, column = position(token.start_pos)
        return cls(str(token), str(eol), line, column)

    return build


def _instruction(tree: Tree, position: Position) -> Instruction:
    pieces: list[Piece] = []
    heredoc_trees: list[Tree] = []
    keyword: KeywordToken | None = None
    line = column = 0
    for child in tree.children:
        if isinstance(child, Tree):
            if child.data == "heredoc":
                heredoc_trees.append(child)
                continue
            child = child.children[0]
        assert isinstance(child, Token)
        if child.type == "KEYWORD":
            assert isinstance(child, KeywordToken)
            keyword = child
        if not pieces:
            line, column = position(child.start_pos)
        text = str(child)
        pieces.append(Piece(_PIECE_KIND[child.type], text, line, column))
        # The pieces are contiguous: the next one starts where this one ends.
        breaks = text.count("\n")
        if breaks:
            line += breaks
            column = len(text) - text.rfind("\n")
        else:
            column += len(text)
    assert keyword is not None
    reading = keyword.reading
    heredocs = []
    for marker, body in zip(reading.heredoc_markers, heredoc_trees, strict=True):
        *lines, terminator, eol = body.children
        assert isinstance(terminator, Token) and terminator.start_pos is not None
        heredocs.append(
            Heredoc(
                marker.name,
                tuple(str(line) for line in lines),
                str(terminator),
                str(eol),
                position(terminator.start_pos)[0],
            )
        )
    return Instruction(
        tuple(pieces),
        tuple(heredocs),
        reading,
        keyword.logical,
        keyword.start_line,
        keyword.end_line,
        keyword.segments,
    )


_BUILDERS: dict[str, Callable[[Tree, Position], Node]] = {
    "directive": _line_node(Directive),
    "comment": _line_node(Comment),
    "blank": _line_node(BlankLine),
    "instruction": _instruction,
}
