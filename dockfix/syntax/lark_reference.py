"""Lark's LALR parser for ``grammar/dockerfile.lark``: the reference for ``assemble``.

``loader.parse_tree`` builds the grammar's tree from the lexer's tokens in one pass,
without loading Lark (importing and building it is a fifth of a single-file run).  This
module runs the same tokens through Lark's parser, so the tests can check that both
trees are the same, and ``parse_tree`` falls back to it for a token sequence its one
pass does not recognise.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from lark import Lark
from lark import Token as LarkToken
from lark import Tree as LarkTree
from lark.exceptions import LarkError
from lark.lexer import Lexer

from dockfix.syntax.lexer import ParseError, tokenize
from dockfix.syntax.tokens import Child, Token, Tree


class DockerfileLexer(Lexer):
    """Lark custom lexer: ``lexer.tokenize``'s tokens as Lark's."""

    __future_interface__ = 0

    def __init__(self, lexer_conf: object = None) -> None:
        pass

    # lark's stubs declare only the newest interface, lex(lexer_state, parser_state); with
    # __future_interface__ = 0 its wrapper calls lex(text) with the whole text as a str.
    def lex(self, data: str) -> Iterator[LarkToken]:  # type: ignore[override]
        for token in tokenize(data):
            yield LarkToken(token.type, str(token), token.start_pos)


@functools.cache
def lark_parser() -> Lark:
    """The compiled LALR parser.

    Lark's own on-disk cache (keyed by the grammar's hash, in the temp folder) skips the
    grammar analysis on later starts.  Where the cache cannot be used, the grammar is
    simply analysed again.
    """
    from dockfix.syntax.loader import grammar_path

    grammar = grammar_path().read_text(encoding="utf-8")
    options: dict[str, Any] = {
        "parser": "lalr",
        "lexer": DockerfileLexer,
        "propagate_positions": False,
        "maybe_placeholders": False,
    }
    try:
        return Lark(grammar, cache=True, **options)
    except (OSError, EOFError, ValueError, TypeError, AttributeError):
        return Lark(grammar, **options)


def lark_parse(text: str) -> Tree:
    """Lark's parse of ``text``, as a ``Tree`` of the lexer's own tokens."""
    try:
        parsed = lark_parser().parse(text)
    except ParseError:
        raise
    except LarkError as error:  # pragma: no cover - the lexer only emits valid sequences
        raise ParseError(f"internal grammar error: {error}", 1) from error
    # Every terminal is kept in the tree, in input order: put the lexer's tokens back
    # (the keyword's carries BuildKit's reading of its line).
    ours = iter(tokenize(text))

    def convert(node: LarkTree[LarkToken]) -> Tree:
        children: list[Child] = []
        for child in node.children:
            if isinstance(child, LarkTree):
                children.append(convert(child))
                continue
            token: Token = next(ours)
            assert (token.type, str(token), token.start_pos) == (
                child.type,
                str(child),
                child.start_pos,
            )
            children.append(token)
        return Tree(str(node.data), children)

    return convert(parsed)
