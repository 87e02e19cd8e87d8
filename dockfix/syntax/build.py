"""The lexer's reading -> dockfix nodes: typed, frozen, with line and column on every leaf.

Nodes are built straight from ``lexer.scan`` (offsets into the text), not from the
grammar's tree: making a token and a tree node for every piece only to turn them into
pieces cost a third of a parse.  ``tokenize`` gives the grammar the same reading, and
the tests check that Lark's parser accepts it.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockfix.syntax.lexer import Item, LexedInstruction
from dockfix.syntax.nodes import BlankLine, Comment, Directive, Heredoc, Instruction, Node, Piece

_LINE_NODE: dict[str, type[Directive | Comment | BlankLine]] = {
    "directive": Directive,
    "comment": Comment,
    "blank": BlankLine,
}


def build_nodes(items: Iterable[Item], text: str) -> tuple[Node, ...]:
    """The top-level nodes of the file, from the lexer's items.

    Every item starts a line (an instruction at its first character, whitespace
    included), so its first leaf is at column 1: a BOM takes no column, as BuildKit and
    editors count line 1 from after it.
    """
    nodes: list[Node] = []
    for item in items:
        if isinstance(item, LexedInstruction):
            nodes.append(_instruction(item, text))
        else:
            kind, start, content_end, end, line = item
            nodes.append(_LINE_NODE[kind](text[start:content_end], text[content_end:end], line, 1))
    return tuple(nodes)


def _instruction(lexed: LexedInstruction, text: str) -> Instruction:
    pieces: list[Piece] = []
    line = lexed.start_line
    column = 1
    for kind, start, end in lexed.pieces:
        piece_text = text[start:end]
        pieces.append(Piece(kind, piece_text, line, column))
        # The pieces are contiguous: the next one starts where this one ends.
        newline = piece_text.rfind("\n")
        if newline < 0:
            column += end - start
        else:
            line += piece_text.count("\n")
            column = end - start - newline
    reading = lexed.reading
    heredocs = [
        Heredoc(
            marker.name,
            tuple([text[start:end] for start, end in body.lines]),
            text[body.terminator_start : body.terminator_end],
            text[body.terminator_end : body.end],
            body.line,
        )
        for marker, body in zip(reading.heredoc_markers, lexed.heredocs, strict=True)
    ]
    return Instruction(
        tuple(pieces),
        tuple(heredocs),
        reading,
        lexed.logical,
        lexed.start_line,
        lexed.end_line,
        lexed.segments,
    )
