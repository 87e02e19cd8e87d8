"""Nodes of the concrete syntax tree.

Nodes are frozen: an edit builds new nodes and shares the rest, as in LibCST.  Every
character of the source is owned by exactly one leaf (a ``Piece``, a comment line, a
heredoc line...), so ``to_string`` is a plain concatenation and unchanged nodes print
their original bytes.  What BuildKit makes of an instruction is kept beside it as a
read-only ``Reading`` computed by the same code that tokenised it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import field

from dockfix import lazy_re
from dockfix.cached import cached_property
from dockfix.lazy_dataclass import dataclass
from dockfix.syntax.reading import Reading

#: Piece kinds that are trivia: they carry no meaning of their own.
TRIVIA_KINDS = frozenset({"ws", "linebreak", "eol"})


@dataclass(frozen=True, slots=True)
class Piece:
    """A leaf: one token of an instruction line, with its position in the source."""

    kind: str
    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column (what findings point at inside an instruction)."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Directive:
    """A parser directive line such as ``# syntax=docker/dockerfile:1``."""

    text: str
    eol: str
    line: int
    column: int = 1

    @property
    def name(self) -> str:
        return self.text.lstrip().lstrip("#").split("=", 1)[0].strip().lower()

    @property
    def value(self) -> str:
        return self.text.split("=", 1)[1].strip()

    def to_string(self) -> str:
        return self.text + self.eol


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line between instructions (it may start with whitespace)."""

    text: str
    eol: str
    line: int
    column: int = 1

    @property
    def body(self) -> str:
        """The comment without ``#`` and surrounding space, as BuildKit records it."""
        return self.text.strip()[1:].strip()

    def to_string(self) -> str:
        return self.text + self.eol


@dataclass(frozen=True, slots=True)
class BlankLine:
    """An empty or whitespace-only line (its whitespace is kept)."""

    text: str
    eol: str
    line: int
    column: int = 1

    def to_string(self) -> str:
        return self.text + self.eol


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A heredoc body: its raw lines and the terminator line."""

    name: str
    lines: tuple[str, ...]
    terminator: str
    eol: str
    line: int

    @property
    def content(self) -> str:
        return "".join(self.lines)

    def to_string(self) -> str:
        return "".join(self.lines) + self.terminator + self.eol


@dataclass(frozen=True, slots=True)
class Flag:
    """A view of one ``--name=value`` flag piece."""

    piece: Piece
    name: str
    value: str | None


_FLAG_NAME = lazy_re.compile(r"--([^=\s]*)")


@dataclass(frozen=True)
class Instruction:
    """One instruction: its pieces (keyword, flags, arguments, trivia) and heredocs."""

    pieces: tuple[Piece, ...]
    heredocs: tuple[Heredoc, ...]
    reading: Reading = field(compare=False, repr=False)
    logical: str = field(compare=False, repr=False)
    start_line: int = 0
    end_line: int = 0
    #: How the logical line maps onto ``text``: (logical start, offset, length) runs.
    segments: tuple[tuple[int, int, int], ...] = field(default=(), compare=False, repr=False)

    def to_string(self) -> str:
        return self.text

    def offset_of(self, logical_index: int) -> int:
        """The offset in ``text`` of the character at ``logical_index`` of the logical line.

        ``len(logical)`` maps to just after the last logical character, so that text can
        be inserted at the end of the instruction (before trailing space and line end).
        """
        if not self.segments:
            raise ValueError("instruction has no logical text")
        if logical_index >= len(self.logical):
            _, last_offset, last_len = self.segments[-1]
            return last_offset + last_len
        for logical_start, offset, _ in reversed(self.segments):
            if logical_start <= logical_index:
                return offset + logical_index - logical_start
        raise ValueError(logical_index)  # pragma: no cover

    def physical_spans(self, spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """``(start, end, new)`` spans of the logical line as spans of ``text``, sorted:
        the one mapping of logical edits to the physical lines (an empty span stays
        empty; a span's end is just after its last logical character)."""
        physical = []
        for start, end, new in spans:
            begin = self.offset_of(start)
            finish = begin if end == start else self.offset_of(end - 1) + 1
            physical.append((begin, finish, new))
        physical.sort()
        return physical

    def position_of(self, logical_index: int) -> Position:
        """Where the character at ``logical_index`` of the logical line is in the file."""
        offset = self.offset_of(logical_index)
        text = self.text
        line_start = text.rfind("\n", 0, offset) + 1
        column = offset - line_start + 1
        return Position(self.start_line + text.count("\n", 0, offset), column)

    def span_of(self, piece: Piece) -> tuple[int, int]:
        """The piece's ``[start, end)`` offsets in ``text``."""
        offset = 0
        for candidate in self.pieces:
            if candidate is piece:
                return offset, offset + len(piece.text)
            offset += len(candidate.text)
        raise ValueError("piece is not part of this instruction")

    def logical_start_of(self, piece: Piece) -> int:
        """Index in the logical line where ``piece`` starts."""
        start, _ = self.span_of(piece)
        for logical_start, offset, length in self.segments:
            if offset <= start < offset + length:
                return logical_start + start - offset
        raise ValueError("piece does not start on logical text")

    @cached_property
    def text(self) -> str:
        head = "".join(piece.text for piece in self.pieces)
        if not self.heredocs:
            return head
        return head + "".join(heredoc.to_string() for heredoc in self.heredocs)

    @property
    def line(self) -> int:
        return self.start_line

    @property
    def column(self) -> int:
        return self.keyword_piece.column

    @cached_property
    def keyword_piece(self) -> Piece:
        return next(piece for piece in self.pieces if piece.kind == "keyword")

    @property
    def keyword(self) -> str:
        """The keyword as written (original case)."""
        return self.keyword_piece.text

    @cached_property
    def cmd(self) -> str:
        """The upper-case instruction name, ``RUN``, ``FROM``..."""
        return self.reading.cmd.upper()

    @property
    def sub_cmd(self) -> str | None:
        """For ONBUILD, the wrapped instruction's upper-case name."""
        return self.reading.sub_cmd.upper() if self.reading.sub_cmd else None

    @property
    def is_json(self) -> bool:
        """Exec (JSON array) form."""
        return self.reading.json

    @property
    def value(self) -> tuple[str, ...]:
        """Arguments as BuildKit's parser returns them (continuations joined)."""
        return self.reading.value

    @property
    def eol(self) -> str:
        return self.pieces[-1].text

    @cached_property
    def flags(self) -> tuple[Flag, ...]:
        """The flags of the instruction (for ONBUILD, of the wrapped instruction)."""
        result = []
        pieces = self.pieces
        values = self.reading.flags
        if self.reading.sub_cmd is not None:
            # ONBUILD: the wrapped instruction's flags follow its keyword.
            sub = next(i for i, piece in enumerate(pieces) if piece.kind == "subkeyword")
            pieces = pieces[sub:]
            values = self.reading.inner_flags
        flag_pieces = [piece for piece in pieces if piece.kind == "flag"]
        for piece, flag in zip(flag_pieces, values, strict=True):
            match = _FLAG_NAME.match(flag)
            name = match.group(1) if match else flag
            value = flag.split("=", 1)[1] if "=" in flag else None
            result.append(Flag(piece, name, value))
        return tuple(result)

    def flag(self, name: str) -> Flag | None:
        """The first flag called ``name`` (without dashes), if any."""
        return next((flag for flag in self.flags if flag.name == name), None)

    def pieces_of(self, *kinds: str) -> tuple[Piece, ...]:
        return tuple(piece for piece in self.pieces if piece.kind in kinds)

    @cached_property
    def arguments(self) -> tuple[Piece, ...]:
        """Argument pieces, in order (no keyword, flags or trivia)."""
        return tuple(
            piece
            for piece in self.pieces
            if piece.kind not in TRIVIA_KINDS
            and piece.kind not in ("keyword", "subkeyword", "flag", "flag_end")
        )

    @cached_property
    def comments(self) -> tuple[str, ...]:
        """Comment lines embedded in the instruction's line continuations."""
        found = []
        for piece in self.pieces:
            if "\n" not in piece.text or piece.kind == "eol":
                continue
            for line in piece.text.split("\n")[1:]:
                if line.lstrip().startswith("#"):
                    found.append(line.rstrip("\r"))
        return tuple(found)

    def record(self) -> dict[str, object]:
        """The ``Command`` record of the ``dockerfile`` package (for ``dockfix dump``)."""
        onbuild = self.reading.sub_cmd is not None
        original = self.logical
        if self.heredocs and not onbuild:
            # BuildKit v0.12 appends each heredoc's content and name to the original text.
            original += "\n" + "".join(h.content + h.name + "\n" for h in self.heredocs)
        return {
            "cmd": self.cmd,
            "sub_cmd": self.sub_cmd,
            "json": self.is_json,
            "original": original,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "flags": list(self.reading.flags),
            "value": list(self.value),
            "heredocs": []
            if onbuild
            else [{"name": h.name, "content": h.content} for h in self.heredocs],
        }


Node = Directive | Comment | BlankLine | Instruction


def fresh_node(node: Node) -> Node:
    """An equal node made of new objects (its pieces and heredocs too), with nothing
    cached on it: edits and the engine find nodes and pieces by identity, so a tree
    remembered for its text is handed out as copies.  The ``Reading`` is shared, as
    the lexer already shares it between equal lines."""
    if isinstance(node, Instruction):
        return Instruction(
            tuple(Piece(p.kind, p.text, p.line, p.column) for p in node.pieces),
            tuple(Heredoc(h.name, h.lines, h.terminator, h.eol, h.line) for h in node.heredocs),
            node.reading,
            node.logical,
            node.start_line,
            node.end_line,
            node.segments,
        )
    if isinstance(node, Comment):
        return Comment(node.text, node.eol, node.line, node.column)
    if isinstance(node, Directive):
        return Directive(node.text, node.eol, node.line, node.column)
    return BlankLine(node.text, node.eol, node.line, node.column)


def json_string(text: str) -> str:
    """JSON-quote a string the way Dockerfile exec forms are usually written."""
    return json.dumps(text, ensure_ascii=False)
