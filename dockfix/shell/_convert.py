"""Convert an error-free tree-sitter-bash tree into the offset-exact shell model.

tree-sitter-bash is an editor grammar: fast, but its tree does not always have the
shape sh gives the text.  A trailing redirection hangs on a whole ``a && b > f``
list, ``! a | b`` negates only ``a``, ``cat <<EOF | sh`` nests the pipeline inside
the here-document, ``] }`` lexes as one word and ``a"b"\\<newline>c`` as pieces.
This module rebuilds the POSIX shape and refuses (``ShellParseError``) what the
grammar accepts but sh rejects (``name (args)``, ``a;; b``, empty ``{ }``), so rules
only edit text that means what the model says.  Words are always sliced from the
original text; the insides of quotes and substitutions are never descended into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter

from dockfix import lazy_re
from dockfix.shell._build import add_words, attach, join, make_list
from dockfix.shell._errors import ShellParseError
from dockfix.shell._source import ShellSource, TSNode
from dockfix.shell._tree import is_valid_assignment
from dockfix.shell._words import BLANK, WORD_NODES, join_pieces, split_blanks
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

#: Deepest nesting of statements converted; deeper scripts are refused, never a crash.
MAX_DEPTH = 100

_SEPARATORS = frozenset({";", "&", "\n"})
_CASE_TERMINATORS = frozenset({";;", ";&", ";;&"})
_REDIRECTS = frozenset({"file_redirect", "herestring_redirect"})
#: A simple command's argument nodes (an assignment is one only after the command name).
_ARGUMENTS = (WORD_NODES - {"variable_assignment"}) | {"$", "=~", "=="}
_DUPLICATIONS = frozenset({">&", "<&"})
_TEST_EXPRESSIONS = frozenset(
    {
        "unary_expression",
        "binary_expression",
        "ternary_expression",
        "postfix_expression",
        "parenthesized_expression",
        "redirected_statement",
    }
)
_IF_KEYWORDS = frozenset({"if", "then", "elif", "else", "fi"})
_ASSIGNMENT = lazy_re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
#: sh's reserved words: never a command name where a command starts.
_RESERVED = frozenset(
    {
        "!",
        "{",
        "}",
        "case",
        "do",
        "done",
        "elif",
        "else",
        "esac",
        "fi",
        "for",
        "if",
        "in",
        "then",
        "until",
        "while",
        "]]",
    }
)
_WORD_EDGE = frozenset(" \t\r\n;&|()<>")
_START = attrgetter("start")
_END = attrgetter("end")


class Converter:
    """One conversion of one tree; ``depth`` bounds the recursion (see ``MAX_DEPTH``)."""

    def __init__(self, source: ShellSource) -> None:
        self.source = source
        self.text = source.text
        self.depth = 0

    # -- errors ----------------------------------------------------------------------
    def unexpected(self, node: TSNode) -> ShellParseError:
        """bash's ``syntax error near unexpected token``, quoting the token as written.

        For ``name (args)`` bash reads ``name (`` as the start of a function
        definition, so the token it complains about is the first one inside.
        """
        if node.type == "subshell" and len(node.children) > 1:
            node = node.children[1]
        while node.children and node.type not in WORD_NODES:
            node = node.children[0]
        start, end = self.source.span(node)
        return ShellParseError(f"unexpected token {self.text[start:end]!r}", start)

    # -- lists -----------------------------------------------------------------------
    def sequence(
        self, children: Iterable[TSNode], empty_at: int, closer: int | None = None
    ) -> ListNode:
        """Statements joined by ``;``, ``&`` and newlines (a program, a body, a case arm).

        In a body, ``closer`` is where its closing token (``fi``, ``done``, ``;;``...)
        starts: a newline before it ends the last statement and is kept as its
        terminator, as sh's grammar has it (a script's final newline is not).
        """
        items: list[Node] = []
        operators: list[Operator] = []
        for child in children:
            kind = child.type
            if kind == "comment":
                continue
            if kind in _SEPARATORS:
                if len(operators) < len(items):
                    start, end = self.source.span(child)
                    operators.append(Operator(self.text[start:end], start, end))
                elif kind != "\n":
                    raise self.unexpected(child)
                continue
            if kind not in _STATEMENTS:
                raise self.unexpected(child)
            if len(operators) < len(items):
                start = self.source.index(child.start_byte)
                newline = self._newline(items[-1].end, start)
                if newline is None:
                    message = "commands are not separated by ';', '&' or a newline"
                    raise ShellParseError(message, start)
                operators.append(newline)
            _extend(items, operators, self.statement(child))
        if closer is not None and items and len(operators) < len(items):
            newline = self._newline(items[-1].end, closer)
            if newline is not None:
                operators.append(newline)
        return make_list(items, operators, empty_at)

    def _newline(self, start: int, end: int) -> Operator | None:
        """The first newline in ``text[start:end]`` outside comments and line continuations."""
        text = self.text
        i = start
        while i < end:
            char = text[i]
            if char == "\n":
                return Operator("\n", i, i + 1)
            if char == "#":
                i = text.find("\n", i)
                if i < 0:
                    break
                continue
            i += 2 if char == "\\" else 1
        return None

    def statement(self, node: TSNode) -> Node:
        """One statement; a ``ListNode`` when it is an and-or list (the caller flattens it).

        Each node type's converter is found in ``_HANDLERS`` (one lookup).
        """
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                offset = self.source.index(node.start_byte)
                raise ShellParseError(f"nesting deeper than {MAX_DEPTH} levels", offset)
            handler = _HANDLERS.get(node.type)
            if handler is None:
                raise self.unexpected(node)
            return handler(self, node)
        finally:
            self.depth -= 1

    def subshell(self, node: TSNode) -> Subshell:
        start, end = self.source.span(node)
        return Subshell(self.block(node), (), start, end)

    def group(self, node: TSNode) -> Node:
        """``{ list; }``, or ``(( ... ))`` arithmetic, which the grammar also calls compound."""
        start, end = self.source.span(node)
        if node.children and node.children[0].type == "((":
            return Opaque("arithmetic", start, end)
        return Group(self.block(node), (), start, end)

    def and_or(self, node: TSNode) -> ListNode:
        """``a && b || c`` arrives left-nested; walk the spine iteratively and flatten it."""
        spine = []
        while node.type == "list":
            spine.append(node)
            node = _first(node.children)
        items: list[Node] = []
        operators: list[Operator] = []
        _extend(items, operators, self.statement(node))
        for parent in reversed(spine):
            seen_left = False
            for child in parent.children:
                kind = child.type
                if kind == "comment":
                    continue
                if not seen_left:
                    seen_left = True
                elif kind in ("&&", "||"):
                    start, end = self.source.span(child)
                    operators.append(Operator(kind, start, end))
                else:
                    _extend(items, operators, self.statement(child))
        return make_list(items, operators, items[0].start)

    def pipeline(self, node: TSNode) -> Node:
        """``a | b | c`` (left-nested in the tree), folded element by element.

        tree-sitter sometimes nests an and-or list inside a pipe
        (``a | b | c && d`` as ``a | (b | c && d)``); ``join`` restores sh's
        precedence, where ``|`` binds tighter than ``&&``/``||``.
        """
        spine = []
        while node.type == "pipeline":
            spine.append(node)
            node = _first(node.children)
        result = self.statement(node)
        for parent in reversed(spine):
            seen_left = False
            for child in parent.children:
                if child.type == "comment":
                    continue
                if child.type in ("|", "|&"):
                    start, end = self.source.span(child)
                    pipe = Operator(child.type, start, end)
                elif seen_left:
                    result = join(result, pipe, self.statement(child))
                seen_left = True
        return result

    def negated(self, node: TSNode) -> Pipeline:
        """``! cmd``: the ``!`` negates the whole pipeline ``cmd`` starts."""
        inner = self.statement(_first(node.children[1:]))
        if isinstance(inner, ListNode | Pipeline):
            raise self.unexpected(node.children[1])
        start = self.source.index(node.start_byte)
        return Pipeline((inner,), start, inner.end, negated=True)

    # -- simple commands ---------------------------------------------------------------
    def command(self, node: TSNode) -> SimpleCommand:
        """``A=1 cmd args >redir``.

        A piece tree-sitter leaves after an assignment with no blank between
        (``U=a/$(b)/$C/d`` ends its assignment at ``/$``) still belongs to it.
        """
        assigned: list[tuple[int, int]] = []
        redirects: list[Redirect] = []
        pieces: list[tuple[int, int]] = []
        prefix_redirect = False
        add_pieces = self.add_pieces
        for child in node.children:
            kind = child.type
            # Most frequent first: the name, then plain arguments.
            if kind == "command_name":
                for part in child.children:
                    part_kind = part.type
                    if part_kind != "comment":
                        add_pieces(part, part_kind, pieces)
            elif kind in _ARGUMENTS:
                add_pieces(child, kind, pieces)
            elif kind == "variable_assignment":
                if not pieces and is_valid_assignment(child):
                    assigned.append(self.source.span(child))
                else:
                    add_pieces(child, kind, pieces)
            elif kind in _REDIRECTS:
                prefix_redirect = prefix_redirect or not pieces
                redirects.append(self.redirect(child, pieces))
            elif kind != "comment":
                raise self.unexpected(child)
        if assigned:
            joined = join_pieces(self.text, sorted([*assigned, *pieces]))
            starts = {start for start, _ in assigned}
            assignments = [word for word in joined if word.start in starts]
            words = [word for word in joined if word.start not in starts]
        else:
            words, assignments = join_pieces(self.text, sorted(pieces)), []
        if not assignments and not prefix_redirect and words:
            if words[0].text == "time":
                words, assignments = _without_time(words)
            if words and words[0].text in _RESERVED:  # tree-sitter takes `a; done` for a command
                raise ShellParseError(f"unexpected token {words[0].text!r}", words[0].start)
        return self.simple(words, assignments, redirects)

    def add_pieces(self, node: TSNode, kind: str, found: list[tuple[int, int]]) -> None:
        """Append the spans of a word-level node of type ``kind`` to ``found``.

        A ``word`` tree-sitter glued over blanks (``] }``) is split in pieces.
        """
        source = self.source
        start, end = node.start_byte, node.end_byte
        # A blank inside a ``word`` is rare: test for one before splitting.
        if kind == "word" and BLANK.search(source.parsed, start, end) is not None:
            spans = split_blanks(source.parsed, start, end)
            if len(spans) > 1:
                index = source.index
                found.extend((index(a), index(b)) for a, b in spans)
                return
        # Byte offsets are ``str`` indices in ASCII text (nearly every RUN).
        found.append((start, end) if source.ascii else (source.index(start), source.index(end)))

    def plain_command(self, node: TSNode) -> Node:
        """``export A=1``, ``unset X``, ``[ -f x ]``, ``[[ a == b ]]``: words as written."""
        pieces: list[tuple[int, int]] = []
        redirects: list[Redirect] = []
        stack = list(reversed(node.children))
        while stack:
            child = stack.pop()
            kind = child.type
            if kind == "comment":
                continue
            if kind in _REDIRECTS:
                redirects.append(self.redirect(child, pieces))
            elif kind in _TEST_EXPRESSIONS:
                stack.extend(reversed(child.children))
            else:
                self.add_pieces(child, kind, pieces)
        return self.simple(join_pieces(self.text, sorted(pieces)), [], redirects)

    def assignments(self, node: TSNode) -> SimpleCommand:
        """``A=1`` or ``A=1 B=2`` on their own: a command with no words.

        From the first invalid name on (``--opt=v``) they are the command's words.
        """
        children = [node] if node.type == "variable_assignment" else node.children
        assignments: list[Word] = []
        pieces: list[tuple[int, int]] = []
        for child in children:
            if child.type == "comment":
                continue
            if not pieces and is_valid_assignment(child):
                assignments.append(self.source.word(child))
            else:
                pieces.append(self.source.span(child))
        return self.simple(join_pieces(self.text, pieces), assignments, [])

    # -- redirections ------------------------------------------------------------------
    def redirect(self, node: TSNode, words: list[tuple[int, int]]) -> Redirect:
        """``2>/dev/null``, ``>&2``, ``<<< "x"``: ``target`` is None for ``>&N`` and ``>&-``.

        A redirection takes one word; tree-sitter also hangs the words after it
        on it (``echo >&2 "msg"``), and those are added to ``words``, the
        command's arguments.
        """
        fd: int | None = None
        operator = ""
        pieces: list[tuple[int, int]] = []
        for child in node.children:
            kind = child.type
            if kind == "file_descriptor":
                text = self.text[slice(*self.source.span(child))]
                fd = int(text) if text.isdigit() else None
            elif not child.is_named and not operator:
                operator = kind
            elif kind != "comment":
                self.add_pieces(child, kind, pieces)
        found = join_pieces(self.text, pieces)
        if found and "\n" in self.text[self.source.index(node.start_byte) : found[0].start]:
            raise ShellParseError("a redirection needs a word on the same line", found[0].start)
        words.extend((word.start, word.end) for word in found[1:])
        target = found[0] if found else None
        if target is not None and operator in _DUPLICATIONS and _is_fd(target.text):
            target = None
        start = self.source.index(node.start_byte)
        end = found[0].end if found else self.source.index(node.end_byte)
        return Redirect(self.text[start:end], start, end, operator, fd, target)

    def redirected(self, node: TSNode) -> Node:
        """A statement and its trailing redirections (and what a here-document drags along).

        The redirections belong to the last command of the statement (tree-sitter
        hangs them on the whole ``a && b > f``); ``cat <<EOF | sh`` and
        ``cat <<EOF && x`` come back nested inside the here-document and are
        rebuilt as the pipeline/list they are.
        """
        body = node.child_by_field_name("body")
        redirects: list[Redirect] = []
        words: list[tuple[int, int]] = []
        tails: list[tuple[TSNode, TSNode]] = []
        for child in node.children:
            if child.type in _REDIRECTS:
                redirects.append(self.redirect(child, words))
            elif child.type == "heredoc_redirect":
                tails.extend(self.heredoc(child, redirects, words))
        if len(tails) > 1:
            raise self.unexpected(tails[1][0])
        if body is None:
            result: Node = self.simple(join_pieces(self.text, words), [], redirects)
        else:
            result = attach(self.statement(body), tuple(redirects))
            if words:
                result = add_words(result, self.bounded(join_pieces(self.text, words)))
        for operator, statement in tails:
            start, end = self.source.span(operator)
            joined = self.statement(statement)
            result = join(result, Operator(operator.type, start, end), joined)
        return result

    def heredoc(
        self, node: TSNode, redirects: list[Redirect], words: list[tuple[int, int]]
    ) -> list[tuple[TSNode, TSNode]]:
        """Append ``<<EOF`` (and redirections on its line) to ``redirects``; return what follows.

        Words tree-sitter hangs on those redirections go to ``words``.  The returned
        ``(operator, statement)`` pairs are a ``| cmd`` or ``&& cmd`` written after
        the delimiter on the same line.
        """
        fd: int | None = None
        operator = ""
        delimiter: Word | None = None
        body_start: int | None = None
        body: Word | None = None
        extra: list[Redirect] = []
        tails: list[tuple[TSNode, TSNode]] = []
        pending: TSNode | None = None
        for child in node.children:
            kind = child.type
            if kind == "file_descriptor":
                text = self.text[slice(*self.source.span(child))]
                fd = int(text) if text.isdigit() else None
            elif kind in ("<<", "<<-"):
                operator = kind
            elif kind == "heredoc_start":
                delimiter = self.source.word(child)
            elif kind == "file_redirect":
                extra.append(self.redirect(child, words))
            elif kind == "pipeline":  # the ``| cmd`` alias: a pipe token, then a statement
                pipe = _first(child.children)
                tails.append((pipe, _first(child.children[child.children.index(pipe) + 1 :])))
            elif kind in ("&&", "||"):
                pending = child
            elif kind in _STATEMENTS and pending is not None:
                tails.append((pending, child))
                pending = None
            elif kind == "heredoc_body":
                body_start = self.source.index(child.start_byte)
            elif kind == "heredoc_end":
                start, end = self.source.span(child)
                start = body_start if body_start is not None else start
                body = Word(self.text[start:end], start, end)
            elif kind not in ("\n", "comment"):
                raise self.unexpected(child)
        if delimiter is None or body is None:  # pragma: no cover - tree-sitter reports these
            offset = self.source.index(node.start_byte)
            raise ShellParseError("here-document without delimiter", offset)
        start = self.source.index(node.start_byte)
        end = delimiter.end
        redirects.append(
            Redirect(self.text[start:end], start, end, operator, fd, delimiter, heredoc=body)
        )
        redirects.extend(extra)
        return tails

    # -- compound commands -------------------------------------------------------------
    def block(self, node: TSNode) -> ListNode:
        """The body between a construct's first and last token (``( )``, ``{ }``, ``do done``)."""
        children = node.children
        opener, closer = children[0], children[-1]
        closer_at = self.source.index(closer.start_byte)
        body = self.sequence(children[1:-1], self.source.index(opener.end_byte), closer_at)
        if not body.items:  # sh requires at least one command: `{ }` is a syntax error
            raise self.unexpected(closer)
        return body

    def if_statement(self, node: TSNode) -> Compound:
        """Bodies in source order: condition, then-part, each elif's two, the else-part."""
        stream: list[TSNode] = []
        for child in node.children:
            if child.type in ("elif_clause", "else_clause"):
                stream.extend(child.children)
            else:
                stream.append(child)
        bodies: list[Node] = []
        segment: list[TSNode] | None = None
        opened_at = 0
        for child in stream:
            if child.type in _IF_KEYWORDS and not child.is_named:
                if segment is not None:
                    body = self.sequence(segment, opened_at, self.source.index(child.start_byte))
                    if not body.items:
                        raise self.unexpected(child)
                    bodies.append(body)
                segment = None if child.type == "fi" else []
                opened_at = self.source.index(child.end_byte)
            elif segment is not None:
                segment.append(child)
            elif child.type != "comment":
                raise self.unexpected(child)
        return self._compound("if", node, [], bodies)

    def while_statement(self, node: TSNode) -> Compound:
        keyword = node.children[0]
        condition: list[TSNode] = []
        bodies: list[Node] = []
        for child in node.children[1:]:
            if child.type == "do_group":
                start = self.source.index(keyword.end_byte)
                closer = self.source.index(child.start_byte)
                bodies.append(self.sequence(condition, start, closer))
                bodies.append(self.block(child))
            else:
                condition.append(child)
        return self._compound(keyword.type, node, [], bodies)

    def for_statement(self, node: TSNode) -> Compound:
        """``for x in a b; do ...; done`` (also ``select`` and ``for ((...))``).

        ``words`` are the variable and the items; the arithmetic of a C-style loop
        is not words and is left out.
        """
        keyword = node.children[0]
        pieces: list[tuple[int, int]] = []
        bodies: list[Node] = []
        c_style = node.type == "c_style_for_statement"
        for child in node.children[1:]:
            kind = child.type
            if kind == "do_group":
                bodies.append(self.block(child))
            elif kind == "compound_statement":
                bodies.append(self.statement(child))
            elif c_style or kind in ("in", ";", "\n", "comment"):
                continue
            elif child.is_named:
                self.add_pieces(child, kind, pieces)
            else:
                raise self.unexpected(child)
        words = [] if c_style else join_pieces(self.text, pieces)
        return self._compound(keyword.type, node, words, bodies)

    def case_statement(self, node: TSNode) -> Compound:
        """``words`` are the subject and each arm's pattern; ``bodies`` one list per arm."""
        subject = node.child_by_field_name("value")
        words = [self.source.word(subject)] if subject is not None else []
        bodies: list[Node] = []
        for child in node.children:
            if child.type == "case_item":
                pattern, body = self.case_item(child)
                words.append(pattern)
                bodies.append(body)
        return self._compound("case", node, words, bodies)

    def case_item(self, node: TSNode) -> tuple[Word, ListNode]:
        children = node.children
        values = node.children_by_field_name("value")
        last_value = values[-1]
        close = next(
            i
            for i, child in enumerate(children)
            if child.type == ")" and child.start_byte >= last_value.end_byte
        )
        start = self.source.index(values[0].start_byte)
        end = self.source.index(last_value.end_byte)
        body = children[close + 1 :]
        closer = self.source.index(node.end_byte)
        if body and body[-1].type in _CASE_TERMINATORS:
            closer = self.source.index(body[-1].start_byte)
            body = body[:-1]
        opened_at = self.source.index(children[close].end_byte)
        pattern = Word(self.text[start:end], start, end)
        return pattern, self.sequence(body, opened_at, closer)

    def function(self, node: TSNode) -> Node:
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        words = [self.source.word(name)] if name is not None else []
        bodies = [self.statement(body)] if body is not None else []
        extra: list[tuple[int, int]] = []
        redirects = [self.redirect(c, extra) for c in node.children if c.type in _REDIRECTS]
        if extra:
            raise ShellParseError("unexpected word after a function", extra[0][0])
        return attach(self._compound("function", node, words, bodies), tuple(redirects))

    def _compound(
        self, kind: str, node: TSNode, words: Sequence[Word], bodies: Sequence[Node]
    ) -> Compound:
        start, end = self.source.span(node)
        return Compound(kind, tuple(self.bounded(words)), tuple(bodies), (), start, end)

    # -- model nodes -------------------------------------------------------------------
    def simple(
        self, words: Sequence[Word], assignments: Sequence[Word], redirects: Sequence[Redirect]
    ) -> SimpleCommand:
        """A ``SimpleCommand`` spanning its parts (never a here-document body)."""
        self.bounded(words)
        if assignments:
            self.bounded(assignments)
        if redirects:
            self.bounded([r.target for r in redirects if r.target is not None])
        spans = (*words, *assignments, *redirects)
        start = min(map(_START, spans))
        end = max(map(_END, spans))
        return SimpleCommand(tuple(words), tuple(assignments), tuple(redirects), start, end)

    def bounded(self, words: Sequence[Word]) -> Sequence[Word]:
        """``words``, each checked to start and end where sh ends a word.

        The last line of defence against a tree that splits one shell word in
        two: such a model would let a rule edit half a word.
        """
        text = self.text
        length = len(text)
        for word in words:
            start, end = word.start, word.end
            if not (
                (start == 0 or text[start - 1] in _WORD_EDGE or text.startswith("<<-", start - 3))
                and (end == length or text[end] in _WORD_EDGE)
            ):
                raise ShellParseError(f"cannot tell where the word {word.text!r} ends", start)
        return words


#: The converter of each statement node type: one dictionary lookup instead of a chain of
#: comparisons per statement.
_HANDLERS: dict[str, Callable[[Converter, TSNode], Node]] = {
    "command": Converter.command,
    "redirected_statement": Converter.redirected,
    "list": Converter.and_or,
    "pipeline": Converter.pipeline,
    "negated_command": Converter.negated,
    "subshell": Converter.subshell,
    "compound_statement": Converter.group,
    "if_statement": Converter.if_statement,
    "for_statement": Converter.for_statement,
    "c_style_for_statement": Converter.for_statement,
    "while_statement": Converter.while_statement,
    "case_statement": Converter.case_statement,
    "function_definition": Converter.function,
    "declaration_command": Converter.plain_command,
    "unset_command": Converter.plain_command,
    "test_command": Converter.plain_command,
    "variable_assignment": Converter.assignments,
    "variable_assignments": Converter.assignments,
}
_STATEMENTS = frozenset(_HANDLERS)


# -- helpers ---------------------------------------------------------------------------------


def _first(nodes: Iterable[TSNode]) -> TSNode:
    """The first node that is not a comment (there always is one where this is asked)."""
    for node in nodes:
        if node.type != "comment":
            return node
    raise StopIteration  # as ``next()`` of an empty generator did


def _is_fd(text: str) -> bool:
    return text.isdigit() or text == "-"


def _extend(items: list[Node], operators: list[Operator], node: Node) -> None:
    if isinstance(node, ListNode):
        items.extend(node.items)
        operators.extend(node.operators)
    else:
        items.append(node)


def _without_time(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """Drop bash's ``time [-p]`` keyword; ``VAR=x`` words after it are assignments again.

    Only when a command follows: ``time`` alone is left as written.
    """
    if len(words) < 2 or words[0].text != "time":
        return words, []
    rest = words[1:]
    if rest[0].text == "-p" and len(rest) > 1:
        rest = rest[1:]
    assignments: list[Word] = []
    while len(rest) > 1 and _ASSIGNMENT.match(rest[0].text):
        assignments.append(rest.pop(0))
    return rest, assignments
