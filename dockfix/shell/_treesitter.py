"""tree-sitter-bash backend: the same offset-exact model, about 200x faster than bashlex.

tree-sitter parses a typical RUN line in ~30 microseconds (bashlex: ~6 ms), which is
what makes a whole-monorepo run fast.  Its grammar is error-tolerant, so any ``ERROR``
or ``MISSING`` node in the tree becomes a ``ShellParseError``: rules then leave the RUN
alone rather than edit text the parser only guessed at.
"""

from __future__ import annotations

import functools

from dockfix.shell.model import (
    Compound,
    Group,
    ListNode,
    Node,
    Opaque,
    Operator,
    Pipeline,
    Redirect,
    ShellScript,
    SimpleCommand,
    Subshell,
    Word,
)

_STATEMENTS = frozenset(
    {
        "command",
        "list",
        "pipeline",
        "redirected_statement",
        "subshell",
        "compound_statement",
        "if_statement",
        "for_statement",
        "c_style_for_statement",
        "while_statement",
        "case_statement",
        "function_definition",
        "negated_command",
        "declaration_command",
        "unset_command",
        "test_command",
        "variable_assignment",
        "variable_assignments",
    }
)
_COMPOUND_KINDS = {
    "if_statement": "if",
    "for_statement": "for",
    "c_style_for_statement": "for",
    "while_statement": "while",
    "case_statement": "case",
    "function_definition": "function",
}
_SEPARATORS = frozenset({";", "&", ";;", "\n"})
_TEST_EXPRESSIONS = frozenset(
    {"unary_expression", "binary_expression", "parenthesized_expression", "negated_expression"}
)
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})


class TreeSitterUnavailable(ImportError):
    """tree-sitter or its bash grammar is not installed."""


@functools.cache
def _parser():  # type: ignore[no-untyped-def]
    try:
        import tree_sitter_bash
        from tree_sitter import Language, Parser
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise TreeSitterUnavailable(str(error)) from error
    return Parser(Language(tree_sitter_bash.language()))


class _Source:
    """Maps tree-sitter's UTF-8 byte offsets back to ``str`` indices."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogateescape")
        self.ascii = len(self.data) == len(text)
        self._index: list[int] | None = None

    def index(self, byte_offset: int) -> int:
        if self.ascii:
            return byte_offset
        if self._index is None:
            table = []
            for position, char in enumerate(self.text):
                table.extend([position] * len(char.encode("utf-8", "surrogateescape")))
            table.append(len(self.text))
            self._index = table
        return self._index[byte_offset]

    def span(self, node) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        return self.index(node.start_byte), self.index(node.end_byte)

    def word(self, node) -> Word:  # type: ignore[no-untyped-def]
        start, end = self.span(node)
        return Word(self.text[start:end], start, end)


def parse_tree_sitter(text: str) -> ShellScript | str:
    """The model of ``text``, or a string saying why it cannot be modelled."""
    source = _Source(text)
    tree = _parser().parse(source.data)
    root = tree.root_node
    if root.has_error:
        return _error_message(root, source)
    return ShellScript(text, _Converter(source).statements(root))


def _error_message(root, source: _Source) -> str:  # type: ignore[no-untyped-def]
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            offset = source.index(node.start_byte)
            return f"shell syntax not understood at offset {offset}"
        stack.extend(reversed(node.children))
    return "shell syntax not understood"  # pragma: no cover


class _Converter:
    def __init__(self, source: _Source) -> None:
        self.source = source

    def statements(self, container) -> ListNode:  # type: ignore[no-untyped-def]
        """A container's statements joined by the separators between them."""
        items: list[Node] = []
        operators: list[Operator] = []
        text = self.source.text
        for child in container.children:
            if child.type in _SEPARATORS:
                start, end = self.source.span(child)
                if items and len(operators) < len(items):
                    operators.append(Operator(text[start:end], start, end))
                    if child.type == "&":
                        items[-1] = _backgrounded(items[-1])
                continue
            if child.type in _STATEMENTS:
                if items and len(operators) < len(items):
                    # No separator token between two statements: a newline.
                    previous_end = items[-1].end
                    newline = text.find("\n", previous_end)
                    operators.append(Operator("\n", newline, newline + 1))
                converted = self.list(child) if child.type == "list" else self.node(child)
                if isinstance(converted, ListNode):
                    # `a && b; c` is one flat list of three commands, as in sh's grammar.
                    items.extend(converted.items)
                    operators.extend(converted.operators)
                else:
                    items.append(converted)
            elif child.is_named and child.type not in ("comment", "heredoc_body"):
                items.extend(self._nested(child))
        start, end = self.source.span(container)
        return ListNode(tuple(items), tuple(operators), start, end)

    def _nested(self, container) -> list[Node]:  # type: ignore[no-untyped-def]
        """Statements inside a clause (do_group, else_clause, case_item...)."""
        body = self.statements(container)
        return list(body.items) if body.items else []

    def node(self, node) -> Node:  # type: ignore[no-untyped-def]
        kind = node.type
        start, end = self.source.span(node)
        if kind == "command":
            return self.command(node, ())
        if kind == "redirected_statement":
            return self.redirected(node)
        if kind == "list":
            return self.list(node)
        if kind == "pipeline":
            return Pipeline(
                tuple(self.node(c) for c in node.named_children if c.type in _STATEMENTS),
                start,
                end,
            )
        if kind == "negated_command":
            inner = [c for c in node.named_children if c.type in _STATEMENTS]
            return Pipeline(tuple(self.node(c) for c in inner), start, end, negated=True)
        if kind == "subshell":
            return Subshell(self.statements(node), (), start, end)
        if kind == "compound_statement":
            return Group(self.statements(node), (), start, end)
        if kind in _COMPOUND_KINDS:
            return self.compound(node, _COMPOUND_KINDS[kind])
        if kind in ("declaration_command", "unset_command", "test_command"):
            return self.plain_words(node)
        if kind in ("variable_assignment", "variable_assignments"):
            assignments = (
                (self.source.word(node),)
                if kind == "variable_assignment"
                else tuple(self.source.word(c) for c in node.named_children)
            )
            return SimpleCommand((), assignments, (), start, end)
        return Opaque(kind, start, end)

    def list(self, node) -> ListNode:  # type: ignore[no-untyped-def]
        """``a && b || c`` arrives left-nested; flatten it."""
        items: list[Node] = []
        operators: list[Operator] = []
        for child in node.children:
            if child.type == "list":
                inner = self.list(child)
                items.extend(inner.items)
                operators.extend(inner.operators)
            elif child.type in ("&&", "||"):
                start, end = self.source.span(child)
                operators.append(Operator(child.type, start, end))
            elif child.type in _STATEMENTS:
                converted = self.node(child)
                if isinstance(converted, ListNode):
                    items.extend(converted.items)
                    operators.extend(converted.operators)
                else:
                    items.append(converted)
        start, end = self.source.span(node)
        return ListNode(tuple(items), tuple(operators), start, end)

    def command(self, node, redirects: tuple[Redirect, ...]) -> SimpleCommand:  # type: ignore[no-untyped-def]
        words: list[Word] = []
        assignments: list[Word] = []
        own_redirects = list(redirects)
        for child in node.children:
            if child.type == "variable_assignment" and not words:
                assignments.append(self.source.word(child))
            elif child.type in _REDIRECTS:
                own_redirects.append(self.redirect(child))
            elif child.type != "comment":
                word = self.source.word(child)
                if words and words[-1].end == word.start:
                    # Adjacent nodes with no blank between are one shell word.
                    previous = words.pop()
                    word = Word(previous.text + word.text, previous.start, word.end)
                words.append(word)
        start, end = self.source.span(node)
        if own_redirects:
            end = max(end, max(r.end for r in own_redirects))
        return SimpleCommand(tuple(words), tuple(assignments), tuple(own_redirects), start, end)

    def redirected(self, node) -> Node:  # type: ignore[no-untyped-def]
        """A statement with redirections.

        tree-sitter-bash hangs a trailing redirection on the whole ``a && b > f`` list
        or ``a | b > f`` pipeline; in sh it belongs to the last command only.
        """
        body = node.child_by_field_name("body")
        redirects = tuple(self.redirect(c) for c in node.children if c.type in _REDIRECTS)
        start, end = self.source.span(node)
        if body is None:
            return SimpleCommand((), (), redirects, start, end)
        inner = self.list(body) if body.type == "list" else self.node(body)
        return _attach(inner, redirects)

    def redirect(self, node) -> Redirect:  # type: ignore[no-untyped-def]
        start, end = self.source.span(node)
        text = self.source.text[start:end]
        descriptor = node.child_by_field_name("descriptor")
        fd = int(self.source.word(descriptor).text) if descriptor is not None else None
        destination = node.child_by_field_name("destination")
        operator = ""
        for child in node.children:
            if not child.is_named:
                operator = child.type
                break
        target = self.source.word(destination) if destination is not None else None
        return Redirect(text, start, end, operator, fd, target)

    def compound(self, node, kind: str) -> Compound:  # type: ignore[no-untyped-def]
        words: list[Word] = []
        bodies: list[Node] = []
        for child in node.named_children:
            if child.type in _STATEMENTS:
                bodies.append(self.node(child))
            elif child.type in ("variable_name", "word", "string", "raw_string", "concatenation"):
                words.append(self.source.word(child))
            elif child.type != "comment":
                body = self.statements(child)
                if body.items:
                    bodies.append(body)
        start, end = self.source.span(node)
        return Compound(kind, tuple(words), tuple(bodies), (), start, end)

    def plain_words(self, node) -> SimpleCommand:  # type: ignore[no-untyped-def]
        """``export A=1``, ``unset X``, ``[ -f x ]``: one command, its words as written."""
        words: list[Word] = []
        self._leaf_words(node, words)
        start, end = self.source.span(node)
        return SimpleCommand(tuple(words), (), (), start, end)

    def _leaf_words(self, node, words: list[Word]) -> None:  # type: ignore[no-untyped-def]
        for child in node.children:
            if child.type == "comment":
                continue
            if child.type in _TEST_EXPRESSIONS:
                self._leaf_words(child, words)
            else:
                words.append(self.source.word(child))


def _attach(node: Node, redirects: tuple[Redirect, ...]) -> Node:
    """Give trailing redirections to the command they belong to (the last one)."""
    if not redirects:
        return node
    end = max(node.end, max(r.end for r in redirects))
    if isinstance(node, SimpleCommand):
        return SimpleCommand(
            node.words,
            node.assignments,
            (*node.redirects, *redirects),
            node.start,
            end,
            node.background,
        )
    if isinstance(node, ListNode) and node.items:
        items = (*node.items[:-1], _attach(node.items[-1], redirects))
        return ListNode(items, node.operators, node.start, end)
    if isinstance(node, Pipeline) and node.commands:
        commands = (*node.commands[:-1], _attach(node.commands[-1], redirects))
        return Pipeline(commands, node.start, end, node.negated)
    if isinstance(node, Subshell | Group):
        return type(node)(node.body, (*node.redirects, *redirects), node.start, end)
    if isinstance(node, Compound):
        return Compound(
            node.kind, node.words, node.bodies, (*node.redirects, *redirects), node.start, end
        )
    return node


def _backgrounded(node: Node) -> Node:
    if isinstance(node, SimpleCommand):
        return SimpleCommand(
            node.words, node.assignments, node.redirects, node.start, node.end, background=True
        )
    return node
