"""Turn the first ``ERROR``/``MISSING`` node of a tree-sitter tree into a ``ShellParseError``.

tree-sitter never fails: on bad input it still returns a tree, with ``ERROR`` nodes
around what it skipped and zero-width ``MISSING`` nodes for tokens it invented.  A
tree holding either is a guess, so it is never converted; this module says where
the guess started, quoting the source text as written.
"""

from __future__ import annotations

from dockfix.shell._errors import ShellParseError
from dockfix.shell._source import ShellSource, TSNode

#: Tokens that open something a later token must close.
_OPENERS = frozenset(
    {
        "(",
        "$(",
        "`",
        "$`",
        "{",
        "${",
        "$((",
        "((",
        "[",
        "[[",
        "<(",
        ">(",
        "if",
        "then",
        "else",
        "elif",
        "case",
        "for",
        "select",
        "while",
        "until",
        "do",
    }
)
_QUOTES = {"'": "single quote", '"': "double quote", "`": "backtick", "$'": "single quote"}


def first_problem(root: TSNode) -> TSNode | None:
    """The first ``ERROR`` or ``MISSING`` node in source order (iterative: any depth)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node
        stack.extend(child for child in reversed(node.children) if child.has_error)
    return None


def syntax_error(root: TSNode, source: ShellSource) -> ShellParseError:
    """Describe why ``root`` (a tree with ``has_error``) is not a valid script."""
    problem = first_problem(root)
    if problem is None:  # pragma: no cover - has_error promises a problem node
        return ShellParseError("shell syntax not understood", 0)
    if problem.is_missing:
        return _missing(problem, source)
    return _unexpected(problem, source)


def _leaf(node: TSNode) -> TSNode:
    """The first token of a node (an ``ERROR`` node may have no children: then itself)."""
    while node.children:
        node = node.children[0]
    return node


def _unexpected(error: TSNode, source: ShellSource) -> ShellParseError:
    token = _leaf(error)
    start, end = source.span(token)
    text = source.text[start:end]
    for quote, name in _QUOTES.items():
        if text.startswith(quote):
            if quote == "`" and "`" in source.text[end:]:
                return ShellParseError("the command inside backticks does not parse", start)
            return ShellParseError(f"unterminated {name}", start)
    if text in ("<<", "<<-"):
        delimiter = next((c for c in error.children if c.type == "heredoc_start"), None)
        if delimiter is not None:
            name = source.text[slice(*source.span(delimiter))]
            return ShellParseError(f"here-document {name!r} has no closing line", start)
    if text in _OPENERS and source.text[source.index(error.end_byte) :].strip() == "":
        return ShellParseError(f"{text!r} is never closed", start)
    return ShellParseError(f"unexpected token {text!r}", start)


def _missing(missing: TSNode, source: ShellSource) -> ShellParseError:
    """A token tree-sitter invented: usually the closer of an opener left open."""
    parent = missing.parent
    if parent is not None and parent.children and parent.children[-1] == missing:
        opener = parent.children[0]
        if not opener.is_named and opener != missing:
            start, end = source.span(opener)
            return ShellParseError(f"{source.text[start:end]!r} is never closed", start)
    offset = source.index(missing.start_byte)
    expected = "a word" if missing.type == "word" else repr(missing.type)
    if source.text[offset:].strip() == "":
        return ShellParseError(f"unexpected end of text (expected {expected})", offset)
    return ShellParseError(f"expected {expected}", offset)
