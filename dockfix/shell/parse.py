"""Turn the logical shell text of a ``RUN`` into the offset-exact model.

tree-sitter-bash does the grammar: it parses a typical RUN in well under a
millisecond, which is what makes whole-monorepo runs fast.  It is error tolerant,
so a tree holding any ``ERROR`` or ``MISSING`` node is refused with a
``ShellParseError`` (rules then leave the RUN alone rather than edit text the
parser only guessed at).  ``_tree`` works around the ways the grammar misreads
sh, and ``_convert`` turns the error-free tree into the model.
"""

from __future__ import annotations

from dockfix.shell._convert import Converter
from dockfix.shell._diagnose import syntax_error
from dockfix.shell._errors import ShellParseError
from dockfix.shell._source import ShellSource
from dockfix.shell._tree import TreeError, parse_bytes
from dockfix.shell.model import ShellScript

__all__ = ["ShellParseError", "parse_shell"]


def parse_shell(text: str) -> ShellScript:
    """Parse the shell text BuildKit passes to ``/bin/sh -c`` into a ``ShellScript``.

    Raises ``ShellParseError`` for anything that cannot be modelled exactly: a
    syntax error, a construct sh rejects although bash's grammar allows it, or
    nesting deeper than ``_convert.MAX_DEPTH``.
    """
    source = ShellSource(text)
    try:
        root, source.parsed = parse_bytes(source.data)
    except TreeError as error:
        raise ShellParseError(error.message, source.index(error.offset)) from error
    if root.has_error:
        raise syntax_error(root, source)
    try:
        body = Converter(source).sequence(root.children, 0)
    except RecursionError as error:  # MAX_DEPTH should prevent it; never crash anyway
        raise ShellParseError("nesting too deep", 0) from error
    return ShellScript(text, body)
