"""Finds the grammar and turns text into the grammar's tree."""

from __future__ import annotations

from pathlib import Path

from dockfix.syntax.lexer import tokenize
from dockfix.syntax.tokens import Child, Token, Tree

GRAMMAR_NAME = "dockerfile.lark"


def grammar_path() -> Path:
    """The grammar file: ``grammar/`` beside the package in a checkout, or in the wheel.

    The wheel installs the top-level ``grammar/`` folder as ``dockfix/grammar/`` (see
    ``pyproject.toml``), so both layouts are looked at, the installed one first.
    """
    import importlib.resources  # only the reference parser and the tests read the grammar

    packaged = importlib.resources.files("dockfix") / "grammar" / GRAMMAR_NAME
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_NAME
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"dockfix grammar {GRAMMAR_NAME} not found (broken install?)")


def parse_tree(text: str) -> Tree:
    """The grammar's tree for ``text``; lexer errors come out as ``ParseError``.

    ``parse`` builds nodes from the lexer's ``scan`` without this tree; the tree is the
    grammar's view of the same reading, for the tests and tools that check it.

    The lexer decides everything context-sensitive, so its tokens already come in the
    order the grammar allows and the tree follows from them in one pass
    (``assemble``).  Lark's LALR parser stays the reference (``lark_reference``):
    ``tests/test_syntax_nodes.py`` checks that both give the same tree, and a sequence
    the one pass does not recognise goes to Lark.
    """
    tokens = list(tokenize(text))
    tree = assemble(tokens)
    if tree is None:  # pragma: no cover - the lexer only emits sequences of the grammar
        from dockfix.syntax.lark_reference import lark_parse

        return lark_parse(text)
    return tree


#: Terminals the grammar wraps in a one-token rule inside an instruction.
_WRAPPED = {
    "SUBKEYWORD": "sub_keyword",
    "FLAG": "flag",
    "FLAG_END": "flag_end",
    "JSON": "json_array",
    "SHELL": "shell_text",
    "WORD": "word",
    "TEXT": "text",
    "IGNORED": "ignored",
    "PAIR": "pair",
    "LEGACY_KEY": "legacy_key",
    "LEGACY_VALUE": "legacy_value",
    "HEALTH_TYPE": "health_type",
}
#: Whole-line items: ``directive: DIRECTIVE EOL`` and the like.
_LINE_ITEMS = {"DIRECTIVE": "directive", "COMMENT": "comment", "BLANK": "blank"}
_TRIVIA = ("WS", "LINEBREAK")


def assemble(tokens: list[Token]) -> Tree | None:
    """The tree ``grammar/dockerfile.lark`` gives ``tokens``, or None if they do not fit.

    A direct reading of the grammar: ``start: BOM? _item*``, where an item is a
    ``directive``/``comment``/``blank`` (its token and ``EOL``) or an ``instruction``
    (``_trivia* KEYWORD _element* EOL heredoc*``); rules named with ``_`` are inlined.
    """
    children: list[Child] = []
    count = len(tokens)
    i = 0
    if count and tokens[0].type == "BOM":
        children.append(tokens[0])
        i = 1
    while i < count:
        token = tokens[i]
        line_item = _LINE_ITEMS.get(token.type)
        if line_item is not None:
            if i + 1 >= count or tokens[i + 1].type != "EOL":
                return None
            children.append(Tree(line_item, [token, tokens[i + 1]]))
            i += 2
            continue
        parts: list[Child] = []
        while i < count and tokens[i].type in _TRIVIA:
            parts.append(tokens[i])
            i += 1
        if i >= count or tokens[i].type != "KEYWORD":
            return None
        parts.append(tokens[i])
        i += 1
        while i < count:
            kind = tokens[i].type
            if kind == "EOL":
                break
            if kind in _TRIVIA:
                parts.append(tokens[i])
            else:
                rule = _WRAPPED.get(kind)
                if rule is None:
                    return None
                parts.append(Tree(rule, [tokens[i]]))
            i += 1
        if i >= count:
            return None
        parts.append(tokens[i])  # EOL
        i += 1
        while i < count and tokens[i].type in ("HEREDOC_LINE", "HEREDOC_END"):
            body: list[Child] = []
            while i < count and tokens[i].type == "HEREDOC_LINE":
                body.append(tokens[i])
                i += 1
            if i + 1 >= count or tokens[i].type != "HEREDOC_END" or tokens[i + 1].type != "EOL":
                return None
            body += (tokens[i], tokens[i + 1])
            i += 2
            parts.append(Tree("heredoc", body))
        children.append(Tree("instruction", parts))
    return Tree("start", children)
