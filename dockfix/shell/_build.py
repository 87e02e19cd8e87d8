"""Build and reshape model nodes: background marking, redirections, sh's precedence.

``_convert`` walks the tree; these functions only combine model nodes, so they
are where the POSIX rules live that tree-sitter's tree shape does not follow
(``&`` applies to a whole and-or list, a trailing redirection to the last
command, ``|`` binds tighter than ``&&``/``||``).
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.shell._errors import ShellParseError
from dockfix.shell.model import (
    Compound,
    Group,
    ListNode,
    Node,
    Opaque,
    Operator,
    Pipeline,
    Redirect,
    SimpleCommand,
    Subshell,
    Word,
)

_SEPARATORS = frozenset({";", "&", "\n"})


def make_list(items: list[Node], operators: list[Operator], empty_at: int) -> ListNode:
    """Build a ListNode, marking commands that ``&`` sends to the background.

    ``a && b &`` backgrounds the whole and-or list, so every item since the
    previous ``;``/``&``/newline is marked.
    """
    segment_start = 0
    for index, operator in enumerate(operators):
        if operator.text == "&":
            for k in range(segment_start, index + 1):
                items[k] = _background(items[k])
        if operator.text in _SEPARATORS:
            segment_start = index + 1
    if not items:
        return ListNode((), (), empty_at, empty_at)
    end = max(items[-1].end, operators[-1].end if operators else 0)
    return ListNode(tuple(items), tuple(operators), items[0].start, end)


def _background(node: Node) -> Node:
    if isinstance(node, SimpleCommand):
        return SimpleCommand(
            node.words, node.assignments, node.redirects, node.start, node.end, True
        )
    if isinstance(node, Pipeline):
        commands = tuple(_background(c) for c in node.commands)
        return Pipeline(commands, node.start, node.end, node.negated)
    return node


def attach(node: Node, redirects: tuple[Redirect, ...]) -> Node:
    """Give trailing redirections to the command they belong to (the last one)."""
    if not redirects:
        return node
    end = max(node.end, max(r.end for r in redirects))
    if isinstance(node, SimpleCommand):
        merged = (*node.redirects, *redirects)
        return SimpleCommand(node.words, node.assignments, merged, node.start, end, node.background)
    if isinstance(node, ListNode) and node.items:
        items = (*node.items[:-1], attach(node.items[-1], redirects))
        return ListNode(items, node.operators, node.start, end)
    if isinstance(node, Pipeline) and node.commands:
        commands = (*node.commands[:-1], attach(node.commands[-1], redirects))
        return Pipeline(commands, node.start, end, node.negated)
    if isinstance(node, Subshell | Group):
        return type(node)(node.body, (*node.redirects, *redirects), node.start, end)
    if isinstance(node, Compound):
        merged = (*node.redirects, *redirects)
        return Compound(node.kind, node.words, node.bodies, merged, node.start, end)
    return Opaque(node.kind, node.start, end) if isinstance(node, Opaque) else node


def add_words(node: Node, words: Sequence[Word]) -> Node:
    """Arguments written after a trailing redirection go to the command before it."""
    if isinstance(node, SimpleCommand):
        merged = tuple(sorted((*node.words, *words), key=lambda word: word.start))
        end = max(node.end, words[-1].end)
        return SimpleCommand(
            merged, node.assignments, node.redirects, node.start, end, node.background
        )
    if isinstance(node, ListNode) and node.items:
        items = (*node.items[:-1], add_words(node.items[-1], words))
        return ListNode(items, node.operators, node.start, max(node.end, words[-1].end))
    if isinstance(node, Pipeline) and node.commands:
        commands = (*node.commands[:-1], add_words(node.commands[-1], words))
        return Pipeline(commands, node.start, max(node.end, words[-1].end), node.negated)
    raise ShellParseError(f"unexpected token {words[0].text!r}", words[0].start)


def join(left: Node, operator: Operator, right: Node) -> Node:
    """``left OP right``, either side possibly an and-or list: rebuild sh's precedence.

    ``|`` binds tighter than ``&&``/``||``: ``a | b && c`` is ``(a | b) && c``
    although tree-sitter may nest ``b && c`` under the pipe (it does for
    ``cat <<EOF | sh && x`` and for some longer pipelines).
    """
    left_items, left_ops = _items(left)
    right_items, right_ops = _items(right)
    if operator.text in ("&&", "||"):
        items = [*left_items, *right_items]
        operators = [*left_ops, operator, *right_ops]
    else:
        piped = _pipe(left_items[-1], right_items[0])
        items = [*left_items[:-1], piped, *right_items[1:]]
        operators = [*left_ops, *right_ops]
    if len(items) == 1:
        return items[0]
    return make_list(items, operators, items[0].start)


def _items(node: Node) -> tuple[list[Node], list[Operator]]:
    if isinstance(node, ListNode):
        return list(node.items), list(node.operators)
    return [node], []


def _pipe(left: Node, right: Node) -> Pipeline:
    if isinstance(right, Pipeline) and right.negated:
        raise ShellParseError("unexpected token '!'", right.start)
    if isinstance(left, Pipeline):
        commands, negated, start = left.commands, left.negated, left.start
    else:
        commands, negated, start = (left,), False, left.start
    more = right.commands if isinstance(right, Pipeline) else (right,)
    return Pipeline((*commands, *more), start, right.end, negated)
