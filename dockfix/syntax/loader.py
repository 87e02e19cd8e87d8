"""Finds the grammar, builds the Lark parser once, and turns text into a tree."""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from dockfix.syntax.lexer import DockerfileLexer, ParseError

GRAMMAR_NAME = "dockerfile.lark"


def grammar_path() -> Path:
    """The grammar file: ``grammar/`` beside the package in a checkout, or in the wheel.

    The wheel installs the top-level ``grammar/`` folder as ``dockfix/grammar/`` (see
    ``pyproject.toml``), so both layouts are looked at, the installed one first.
    """
    packaged = importlib.resources.files("dockfix") / "grammar" / GRAMMAR_NAME
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_NAME
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"dockfix grammar {GRAMMAR_NAME} not found (broken install?)")


@functools.cache
def lark_parser() -> Lark:
    """The compiled LALR parser: the only cache dockfix keeps.

    Lark's own on-disk cache (keyed by the grammar's hash, in the temp folder) skips the
    grammar analysis on later starts: it is most of a single-file run's start-up.  Where
    the cache cannot be used, the grammar is simply analysed again.
    """
    grammar = grammar_path().read_text(encoding="utf-8")
    options = {
        "parser": "lalr",
        "lexer": DockerfileLexer,
        "propagate_positions": False,
        "maybe_placeholders": False,
    }
    try:
        return Lark(grammar, cache=True, **options)
    except (OSError, EOFError, ValueError, TypeError, AttributeError):
        return Lark(grammar, **options)


def parse_tree(text: str) -> Tree[Token]:
    """Lark's tree for ``text``; lexer errors come out as ``ParseError``."""
    try:
        return lark_parser().parse(text)
    except ParseError:
        raise
    except LarkError as error:  # pragma: no cover - the lexer only emits valid sequences
        raise ParseError(f"internal grammar error: {error}", 1) from error
