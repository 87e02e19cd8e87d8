"""The lexer's tokens and the grammar's tree, as plain classes.

They have the shape of Lark's ``Token`` and ``Tree`` (a token is its text, with a
terminal ``type`` and a ``start_pos``; a tree is a rule name and its children), so the
grammar in ``grammar/dockerfile.lark`` describes them exactly, but building them does
not import Lark: ``loader.parse_tree`` assembles the tree itself and Lark is loaded
only as the reference parser (``loader.lark_parse``, used by the tests).
"""

from __future__ import annotations

from typing import Union


class Token(str):
    """A terminal: its text, its type (``KEYWORD``, ``WS``...) and offset in the input."""

    __slots__ = ("start_pos", "type")

    type: str
    start_pos: int

    def __new__(cls, type_: str, value: str, start_pos: int) -> Token:
        token = super().__new__(cls, value)
        token.type = type_
        token.start_pos = start_pos
        return token

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {str(self)!r}, {self.start_pos})"


class Tree:
    """A grammar rule's match: its name (``instruction``...) and its children in order."""

    __slots__ = ("children", "data")

    def __init__(self, data: str, children: list[Child]) -> None:
        self.data = data
        self.children = children

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


Child = Union[Token, Tree]  # noqa: UP007 - a runtime alias (the class above needs it)
