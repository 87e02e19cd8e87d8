"""Turn the logical shell text of a ``RUN`` into the offset-exact model.

bashlex does the grammar; this module masks the constructs bashlex cannot
handle (see ``_mask``), converts its AST into ``model`` dataclasses with
words sliced from the original text, and cross-checks bashlex's positions so
that a wrong offset becomes a ``ShellParseError`` instead of a bad edit.
"""

from __future__ import annotations

import re
from typing import Any

import bashlex
import bashlex.errors

from dockfix.shell._mask import CaseRegion, MaskError, mask
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
    unquote,
)

# Blanks and comments only.  A comment must run to the end of its line: without that
# the pattern backtracks exponentially over a long run of '#'.
_BLANK = re.compile(r"(?:[ \t\r\n]|#[^\n]*(?![^\n]))*\Z")
_SEPARATORS = frozenset({";", "&", "\n"})


class ShellParseError(ValueError):
    """The text is not shell that we can model; rules must leave such a RUN alone.

    ``offset`` is where bashlex (or the pre-scan) saw the problem, 0 when unknown.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.message = message
        self.offset = offset


def parse_shell(text: str) -> ShellScript:
    """Parse the shell text BuildKit passes to ``/bin/sh -c`` into a ``ShellScript``.

    Raises ``ShellParseError`` for anything that cannot be modelled, including
    every exception bashlex raises (and ``RecursionError`` on deep nesting).
    """
    try:
        body = _parse_fragment(text, 0, len(text))
    except ShellParseError:
        raise
    except Exception as exc:  # bashlex raises many unrelated types; none may escape.
        raise _as_parse_error(exc, len(text)) from exc
    return ShellScript(text, body)


def _as_parse_error(exc: Exception, length: int) -> ShellParseError:
    position = getattr(exc, "position", None)
    offset = position if isinstance(position, int) and 0 <= position <= length else 0
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, NotImplementedError):
        message = f"unsupported by bashlex: {message}"
    elif isinstance(exc, RecursionError):
        message = "nesting too deep"
    elif not isinstance(exc, bashlex.errors.ParsingError):
        message = f"bashlex failed ({type(exc).__name__}): {message}"
    return ShellParseError(message, offset)


def _parse_fragment(text: str, start: int, end: int) -> ListNode:
    """Parse ``text[start:end]`` with offsets relative to the whole ``text``.

    The fragment is padded with spaces up to ``start`` so bashlex reports
    absolute positions; case arms are parsed this way.
    """
    source = text if (start, end) == (0, len(text)) else " " * start + text[start:end]
    if _BLANK.match(source, start):
        return ListNode((), (), start, start)
    try:
        masked = mask(source, start)
    except MaskError as exc:
        raise ShellParseError(exc.message, exc.position) from exc
    converter = _Converter(text, masked.text, masked.cases, masked.delimiters)
    try:
        return converter.parse()
    except bashlex.errors.ParsingError as exc:
        offset = min(max(exc.position, 0), len(text))
        raise ShellParseError(_original_message(exc, text, masked.text), offset) from exc


def _original_message(exc: bashlex.errors.ParsingError, text: str, seen: str) -> str:
    """bashlex's message, with a masked token (``'xxxx'``) shown as written."""
    found = re.match(r"unexpected token (['\"])(.*)\1\Z", exc.message)
    position = exc.position
    if found and seen.startswith(found.group(2), position):
        token = text[position : position + len(found.group(2))]
        return f"unexpected token {token!r}"
    return exc.message


class _Converter:
    """Translates one bashlex parse of ``seen`` (a masked ``text``) into model nodes."""

    def __init__(
        self,
        text: str,
        seen: str,
        cases: tuple[CaseRegion, ...],
        delimiters: tuple[tuple[int, int], ...],
    ) -> None:
        self.text = text
        self.seen = seen
        self.cases = {(region.start, region.end): region for region in cases}
        self.delimiters = delimiters

    def parse(self) -> ListNode:
        parts = bashlex.parse(self.seen)
        items: list[Node] = []
        ops: list[Operator] = []
        for part in parts:
            if items and len(ops) < len(items):
                ops.append(self._newline_after(items[-1].end))
            sub = self.as_list(part)
            items.extend(sub.items)
            ops.extend(sub.operators)
        return _make_list(items, ops)

    def _newline_after(self, pos: int) -> Operator:
        newline = self.seen.find("\n", pos)
        if newline < 0:
            raise ShellParseError("commands not separated by a newline", pos)
        return Operator("\n", newline, newline + 1)

    # -- leaves -------------------------------------------------------------------
    def span(self, node: Any) -> tuple[int, int]:
        start, end = node.pos
        if not (0 <= start <= end <= len(self.text)):
            raise ShellParseError("bashlex reported a position outside the text", 0)
        return start, end

    def word(self, node: Any) -> Word:
        start, end = self.span(node)
        if start == end or not _on_word_boundaries(self.seen, start, end):
            raise ShellParseError(f"bashlex position mismatch for word {node.word!r}", start)
        expected = unquote(self.seen[start:end])
        # bashlex's own word values mishandle some quoting (it drops every backslash
        # inside double quotes, mangles '...'"'"'...'), so quotes and backslashes are
        # left out of this cross-check; a span on the wrong word still differs.
        if expected is not None and _squash(expected) != _squash(node.word):
            raise ShellParseError(f"bashlex position mismatch for word {node.word!r}", start)
        return Word(self.text[start:end], start, end)

    def redirect(self, node: Any) -> Redirect:
        start, end = self.span(node)
        target = self.word(node.output) if _kind(node.output) == "word" else None
        heredoc = None
        if getattr(node, "heredoc", None) is not None:
            h_start, h_end = self.span(node.heredoc)
            heredoc = Word(self.text[h_start:h_end], h_start, h_end)
        if heredoc is not None:  # bashlex stretches the span over the body; keep it on one line
            end = target.end if target is not None else start + len(node.type)
            for d_start, d_end in self.delimiters:  # restore the quotes masked off 'EOF'
                if target is not None and d_start <= target.start and target.end <= d_end:
                    target = Word(self.text[d_start:d_end], d_start, d_end)
                    end = d_end
        fd = node.input if isinstance(getattr(node, "input", None), int) else None
        return Redirect(self.text[start:end], start, end, node.type, fd, target, heredoc)

    # -- structure ----------------------------------------------------------------
    def convert(self, node: Any) -> Node:
        kind = _kind(node)
        if kind == "command":
            return self.command(node)
        if kind == "list":
            return self.as_list(node)
        if kind == "pipeline":
            return self.pipeline(node)
        if kind == "compound":
            return self.compound(node)
        if kind in ("if", "for", "while", "until"):
            return self.construct(kind, node.parts, node, ())
        if kind == "function":
            return self.construct("function", node.parts, node, ())
        start, end = self.span(node)
        return Opaque(kind, start, end)

    def as_list(self, node: Any) -> ListNode:
        if _kind(node) != "list":
            item = self.convert(node)
            return ListNode((item,), (), item.start, item.end)
        items: list[Node] = []
        ops: list[Operator] = []
        for part in node.parts:
            if _kind(part) == "operator":
                if len(ops) < len(items):  # ignore a second separator in a row
                    start, end = self.span(part)
                    ops.append(Operator(part.op, start, end))
            elif _kind(part) == "list":
                sub = self.as_list(part)
                if len(ops) < len(items):
                    raise ShellParseError("list items without an operator", sub.start)
                items.extend(sub.items)
                ops.extend(sub.operators)
            else:
                if len(ops) < len(items):
                    raise ShellParseError("list items without an operator", node.pos[0])
                items.append(self.convert(part))
        return _make_list(items, ops)

    def command(self, node: Any) -> Node:
        words: list[Word] = []
        assignments: list[Word] = []
        redirects: list[Redirect] = []
        for part in node.parts:
            kind = _kind(part)
            if kind == "assignment" and not words:
                assignments.append(self.word(part))
            elif kind in ("word", "assignment"):
                words.append(self.word(part))
            elif kind == "redirect":
                redirects.append(self.redirect(part))
            else:
                raise ShellParseError(f"unexpected {kind} in a command", node.pos[0])
        start, end = self.span(node)
        if len(words) == 1 and not assignments:
            region = self.cases.get((words[0].start, words[0].end))
            if region is not None:
                return self.case(region, tuple(redirects), start, end)
        return SimpleCommand(tuple(words), tuple(assignments), tuple(redirects), start, end)

    def case(
        self, region: CaseRegion, redirects: tuple[Redirect, ...], start: int, end: int
    ) -> Compound:
        text = self.text
        subject = text[region.subject_start : region.subject_end]
        words = [Word(subject, region.subject_start, region.subject_end)]
        bodies: list[Node] = []
        for arm in region.arms:
            pattern = text[arm.pattern_start : arm.pattern_end].rstrip(" \t")
            words.append(Word(pattern, arm.pattern_start, arm.pattern_start + len(pattern)))
            bodies.append(_parse_fragment(text, arm.body_start, arm.body_end))
        return Compound("case", tuple(words), tuple(bodies), redirects, start, end)

    def pipeline(self, node: Any) -> Pipeline:
        commands: list[Node] = []
        negated = False
        for part in node.parts:
            kind = _kind(part)
            if kind == "reservedword" and part.word == "!":
                negated = True
            elif kind != "pipe":
                commands.append(self.convert(part))
        start, end = self.span(node)
        return Pipeline(tuple(commands), start, end, negated)

    def compound(self, node: Any) -> Node:
        parts = list(node.list)
        redirects = tuple(self.redirect(r) for r in getattr(node, "redirects", ()))
        start, end = self.span(node)
        opener = parts[0].word if parts and _kind(parts[0]) == "reservedword" else None
        if opener in ("(", "{"):
            inner = [p for p in parts if _kind(p) != "reservedword"]
            if len(inner) != 1:
                raise ShellParseError("unexpected shape of ( ) or { }", start)
            body = self.as_list(inner[0])
            cls = Subshell if opener == "(" else Group
            return cls(body, redirects, start, end)
        if len(parts) == 1 and _kind(parts[0]) in ("if", "for", "while", "until"):
            return self.construct(_kind(parts[0]), parts[0].parts, node, redirects)
        return Opaque("compound", start, end)

    def construct(
        self, kind: str, parts: list[Any], node: Any, redirects: tuple[Redirect, ...]
    ) -> Compound:
        words: list[Word] = []
        bodies: list[Node] = []
        for part in parts:
            part_kind = _kind(part)
            if part_kind == "reservedword":
                continue
            if part_kind == "word":
                words.append(self.word(part))
            elif kind == "function" and part_kind == "compound":
                bodies.append(self.convert(part))
            else:
                bodies.append(self.as_list(part))
        start, end = self.span(node)
        return Compound(kind, tuple(words), tuple(bodies), redirects, start, end)


_WORD_EDGE = frozenset(" \t\n;&|()<>")
_QUOTING = str.maketrans("", "", "'\"\\")


def _squash(value: str) -> str:
    return value.translate(_QUOTING)


def _on_word_boundaries(seen: str, start: int, end: int) -> bool:
    """A real word starts and ends at blanks/operators (or ``<<-`` before a delimiter)."""
    before_ok = start == 0 or seen[start - 1] in _WORD_EDGE or seen.startswith("<<-", start - 3)
    return before_ok and (end == len(seen) or seen[end] in _WORD_EDGE)


def _kind(node: Any) -> str | None:
    return getattr(node, "kind", None)


def _make_list(items: list[Node], ops: list[Operator]) -> ListNode:
    """Build a ListNode, marking commands that ``&`` sends to the background.

    ``a && b &`` backgrounds the whole and-or list, so every item since the
    previous ``;``/``&``/newline is marked.
    """
    segment_start = 0
    for index, op in enumerate(ops):
        if op.text == "&":
            for k in range(segment_start, index + 1):
                items[k] = _background(items[k])
        if op.text in _SEPARATORS:
            segment_start = index + 1
    if not items:
        return ListNode((), (), 0, 0)
    end = max(items[-1].end, ops[-1].end if ops else 0)
    return ListNode(tuple(items), tuple(ops), items[0].start, end)


def _background(node: Node) -> Node:
    if isinstance(node, SimpleCommand):
        return SimpleCommand(
            node.words, node.assignments, node.redirects, node.start, node.end, True
        )
    if isinstance(node, Pipeline):
        commands = tuple(_background(c) for c in node.commands)
        return Pipeline(commands, node.start, node.end, node.negated)
    return node
