"""The ``Dockerfile`` tree: parse, print, derived views, and the edit API.

Edits never re-format: they splice text into the one instruction they change and
re-parse that instruction in the file's context (its escape character), so a new node
is always something the parser itself produced and the rest of the file keeps its
original bytes.  New text follows the file's own style (see ``Style``).
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from dockfix.cached import cached_property
from dockfix.lazy_dataclass import dataclass
from dockfix.syntax.build import build_nodes
from dockfix.syntax.images import ImageRef, parse_image_ref
from dockfix.syntax.lexer import ParseError, scan
from dockfix.syntax.nodes import Comment, Directive, Instruction, Node, Piece, fresh_node


@dataclass(frozen=True)
class Style:
    """How the file writes things, so that inserted text looks like the rest."""

    upper_keywords: bool
    eol: str
    escape: str
    indent: str

    def keyword(self, name: str) -> str:
        return name.upper() if self.upper_keywords else name.lower()


@dataclass(frozen=True)
class Stage:
    """A build stage: its FROM instruction and the instructions up to the next FROM."""

    index: int
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]

    @property
    def image(self) -> ImageRef:
        words = [value for value in self.from_instruction.value]
        return parse_image_ref(words[0] if words else "")

    @property
    def alias(self) -> str | None:
        words = self.from_instruction.value
        if len(words) >= 3 and words[1].lower() == "as":
            return words[2]
        return None

    @property
    def platform(self) -> str | None:
        flag = self.from_instruction.flag("platform")
        return flag.value if flag else None


class Dockerfile:
    """A parsed Dockerfile.  ``parse(text).to_string() == text`` always holds."""

    def __init__(self, bom: str, nodes: tuple[Node, ...]) -> None:
        self.bom = bom
        self.nodes = nodes

    def to_string(self) -> str:
        return self.bom + "".join(node.to_string() for node in self.nodes)

    # -- derived, read-only views -------------------------------------------------

    @cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(node for node in self.nodes if isinstance(node, Instruction))

    @cached_property
    def directives(self) -> tuple[Directive, ...]:
        return tuple(node for node in self.nodes if isinstance(node, Directive))

    @property
    def escape(self) -> str:
        for directive in self.directives:
            if directive.name == "escape":
                return directive.value
        return "\\"

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        stages: list[Stage] = []
        current: list[Instruction] = []
        start: Instruction | None = None
        for instruction in self.instructions:
            if instruction.cmd == "FROM":
                if start is not None:
                    stages.append(Stage(len(stages), start, tuple(current)))
                start, current = instruction, []
            elif start is not None:
                current.append(instruction)
        if start is not None:
            stages.append(Stage(len(stages), start, tuple(current)))
        return tuple(stages)

    @cached_property
    def style(self) -> Style:
        keywords = [i.keyword for i in self.instructions if i.keyword]
        upper = sum(1 for k in keywords if k.isupper())
        crlf = other = 0  # nodes ending in CRLF, and other non-empty nodes
        for node in self.nodes:
            text = node.to_string()
            if text.endswith("\r\n"):
                crlf += 1
            elif text:
                other += 1
        indents: Counter[str] = Counter()
        escape = self.escape
        for instruction in self.instructions:
            found = _continuation_indents(instruction, escape)
            if found:  # (most instructions are one line: no call for them)
                indents.update(found)
        return Style(
            upper_keywords=upper * 2 >= len(keywords),
            eol="\r\n" if crlf > other else "\n",
            escape=self.escape,
            indent=indents.most_common(1)[0][0] if indents else "    ",
        )

    # -- building new nodes ---------------------------------------------------------

    def parse_instructions(self, text: str) -> tuple[Instruction, ...]:
        """Parse ``text`` as instructions of this file (same escape character)."""
        prefix = ""
        if self.escape != "\\":
            prefix = f"# escape={self.escape}\n"
        fragment = parse_fragment(prefix + text)
        nodes = fragment.nodes[1:] if prefix else fragment.nodes
        instructions = tuple(node for node in nodes if isinstance(node, Instruction))
        if fragment.bom or not instructions or len(instructions) != len(nodes):
            raise ValueError(f"not a sequence of instructions: {text!r}")
        if "".join(node.to_string() for node in instructions) != text:  # pragma: no cover
            raise ValueError("fragment did not round-trip")
        return instructions

    def make_instruction(self, text: str, eol: str | None = None) -> Instruction:
        """One new instruction from text.

        ``eol`` is the line ending to give it (``""`` for a last line without one); by
        default a missing line ending becomes the file's own.
        """
        if eol is not None:
            text += eol
        elif not text.endswith("\n"):
            text += self.style.eol
        (instruction,) = self.parse_instructions(text)
        return instruction

    def make_directive(self, name: str, value: str) -> Directive:
        """A parser directive line (``# name=value``) with the file's line ending."""
        text = f"# {name}={value}"
        return Directive(text, self.style.eol, 1)

    # -- edits (each returns a new Dockerfile) -------------------------------------

    def _with_nodes(self, nodes: Iterable[Node]) -> Dockerfile:
        return Dockerfile(self.bom, tuple(nodes))

    def _index(self, node: Node) -> int:
        for index, candidate in enumerate(self.nodes):
            if candidate is node:
                return index
        raise ValueError("node is not in this Dockerfile")

    def replace(self, old: Node, new: Node | Sequence[Node]) -> Dockerfile:
        index = self._index(old)
        news = tuple(new) if isinstance(new, Sequence) else (new,)
        return self._with_nodes(self.nodes[:index] + news + self.nodes[index + 1 :])

    def delete(self, node: Node) -> Dockerfile:
        return self.replace(node, ())

    def insert_before(self, anchor: Node, new: Node | Sequence[Node]) -> Dockerfile:
        news = tuple(new) if isinstance(new, Sequence) else (new,)
        index = self.insertion_index(anchor, news, after=False)
        return self._with_nodes(self.nodes[:index] + news + self.nodes[index:])

    def with_comments_above(self, instruction: Instruction) -> Node:
        """The first of the comment lines directly above ``instruction`` (they describe it,
        and a suppression pragma among them must stay next to it), or the instruction:
        where a new line that belongs before ``instruction`` goes."""
        index = self._index(instruction)
        while index > 0 and isinstance(self.nodes[index - 1], Comment):
            index -= 1
        return self.nodes[index]

    def insertion_index(self, anchor: Node, news: Sequence[Node], *, after: bool) -> int:
        """Where ``news`` go when inserted before (or ``after``) ``anchor``: the one place
        that keeps insertions out of the directive block and off a dangling line.

        A line above a directive turns it into a plain comment (changing the escape
        character or the frontend), so such an insertion moves below the block.  A line
        after an instruction that ends in a continuation (or after a last line without a
        line ending) would join it: refused with ValueError.
        """
        index = self._index(anchor) + (1 if after else 0)
        if after:
            if not anchor.to_string().endswith("\n"):
                raise ValueError("cannot insert after a last line without a line ending")
            if isinstance(anchor, Instruction) and ends_in_continuation(anchor):
                raise ValueError(
                    "cannot insert after an instruction that ends in a line continuation: "
                    "the new line would become part of it"
                )
        if all(isinstance(node, Directive) for node in news):
            return index
        return max(index, directive_block_size(self.nodes))

    def insert_after(self, anchor: Node, new: Node | Sequence[Node]) -> Dockerfile:
        """Insert after ``anchor``; refused where the new line would join the anchor."""
        news = tuple(new) if isinstance(new, Sequence) else (new,)
        index = self.insertion_index(anchor, news, after=True)
        return self._with_nodes(self.nodes[:index] + news + self.nodes[index:])

    def move_before(self, node: Node, anchor: Node) -> Dockerfile:
        """Move ``node`` (with nothing else) to just before ``anchor``.

        A last line without a line ending gets the file's own when it moves up, or it
        would run into the anchor.
        """
        if node is anchor:
            return self
        self._index(anchor)
        moved = node
        if isinstance(node, Instruction) and not node.eol:
            if ends_in_continuation(node):
                raise ValueError("cannot move an instruction that ends in a line continuation")
            moved = self.make_instruction(node.text, eol=self.style.eol)
        without = self.delete(node)
        return without.insert_before(anchor, moved)

    def prepend(self, new: Node | Sequence[Node]) -> Dockerfile:
        """Insert at the top of the file, after its parser directives.

        Anything above a directive would turn it into a plain comment, silently
        changing the escape character or the frontend.  A new directive goes first.
        """
        news = tuple(new) if isinstance(new, Sequence) else (new,)
        index = self.insertion_index(self.nodes[0], news, after=False)
        return self._with_nodes(self.nodes[:index] + news + self.nodes[index:])

    # -- edits inside one instruction ----------------------------------------------

    def replace_piece(self, instruction: Instruction, piece: Piece, text: str) -> Instruction:
        """The instruction with one piece's text replaced, re-parsed."""
        return self._splice(instruction, [(piece, text)])

    def edit_pieces(
        self, instruction: Instruction, edits: Sequence[tuple[Piece, str]]
    ) -> Instruction:
        """Replace several pieces' texts at once."""
        return self._splice(instruction, edits)

    def _splice(self, instruction: Instruction, edits: Sequence[tuple[Piece, str]]) -> Instruction:
        changes = {id(piece): text for piece, text in edits}
        head = "".join(changes.get(id(piece), piece.text) for piece in instruction.pieces)
        tail = "".join(heredoc.to_string() for heredoc in instruction.heredocs)
        return self.parse_instructions_one(head + tail)

    def edit_logical(
        self, instruction: Instruction, edits: Sequence[tuple[int, int, str]]
    ) -> Instruction:
        """Replace ``[start, end)`` spans of the *logical* line with new text.

        Offsets are those of ``instruction.logical`` (what BuildKit reads, continuations
        joined); each span is mapped back to the physical text, so a rule can edit a
        shell word found in the logical line without knowing where the line breaks are.
        A span that crosses a line break replaces it too: keep spans inside one word.
        """
        text = instruction.text
        physical = instruction.physical_spans(edits)
        out, cursor = [], 0
        for begin, finish, new in physical:
            if begin < cursor:
                raise ValueError("overlapping edits")
            out.append(text[cursor:begin])
            out.append(new)
            cursor = finish
        out.append(text[cursor:])
        return self.parse_instructions_one("".join(out))

    def parse_instructions_one(self, text: str) -> Instruction:
        nodes = self.parse_instructions(text)
        if len(nodes) != 1:
            raise ValueError(f"edit produced {len(nodes)} instructions: {text!r}")
        return nodes[0]

    def add_flag(self, instruction: Instruction, flag_text: str) -> Instruction:
        """Add ``--name=value`` after the keyword (and after existing flags).

        Raises ValueError for a flag the instruction does not take (BuildKit would refuse
        the file): ``MAINTAINER --mount=...`` must fail here, not in the next parse.
        """
        _check_flag(instruction, flag_text)
        anchor = instruction.pieces_of("flag")
        if anchor:
            last = anchor[-1]
            return self.replace_piece(instruction, last, f"{last.text} {flag_text}")
        target = instruction.pieces_of("subkeyword") or (instruction.keyword_piece,)
        piece = target[0]
        return self.replace_piece(instruction, piece, f"{piece.text} {flag_text}")

    def remove_flag(self, instruction: Instruction, name: str) -> Instruction:
        """Drop a flag and the whitespace before it."""
        flag = instruction.flag(name)
        if flag is None:
            return instruction
        pieces = list(instruction.pieces)
        index = next(i for i, piece in enumerate(pieces) if piece is flag.piece)
        edits = [(flag.piece, "")]
        if index > 0 and pieces[index - 1].kind == "ws":
            edits.append((pieces[index - 1], ""))
        return self._splice(instruction, edits)

    def set_keyword(self, instruction: Instruction, keyword: str) -> Instruction:
        return self.replace_piece(instruction, instruction.keyword_piece, keyword)

    def replace_arguments(self, instruction: Instruction, text: str) -> Instruction:
        """Replace everything from the first argument to the last with ``text``."""
        arguments = instruction.arguments
        if not arguments:
            piece = instruction.keyword_piece
            return self.replace_piece(instruction, piece, f"{piece.text} {text}")
        first, last = arguments[0], arguments[-1]
        pieces = instruction.pieces
        start = next(i for i, p in enumerate(pieces) if p is first)
        end = next(i for i, p in enumerate(pieces) if p is last)
        edits = [(first, text)] + [(piece, "") for piece in pieces[start + 1 : end + 1]]
        return self._splice(instruction, edits)


def _check_flag(instruction: Instruction, flag_text: str) -> None:
    """Refuse text that is not one ``--name[=value]`` flag the instruction accepts."""
    from dockfix.syntax.validate import ALLOWED_FLAGS

    cmd = instruction.sub_cmd or instruction.cmd
    match = re.fullmatch(r"--([a-z][a-z0-9-]*)(=\S*)?", flag_text)
    if match is None:
        raise ValueError(f"not a flag: {flag_text!r} (expected --name or --name=value)")
    allowed = ALLOWED_FLAGS.get(cmd, frozenset())
    if match.group(1) not in allowed:
        takes = ", ".join(f"--{name}" for name in sorted(allowed)) or "no flags"
        raise ValueError(f"{cmd} does not take --{match.group(1)} ({cmd} takes {takes})")


def _continuation_indents(instruction: Instruction, escape: str) -> tuple[str, ...]:
    """The indentation of each continuation line of ``instruction``, in order (``style``
    counts them): a function of its pieces and the escape character alone, so read once
    per instruction (every round's document asks again of the instructions it kept)."""
    cache = instruction.__dict__
    known: tuple[str, tuple[str, ...]] | None = cache.get("_continuation_indents")
    if known is not None and known[0] == escape:
        return known[1]
    found: list[str] = []
    pieces = instruction.pieces
    for piece_before, piece in itertools.pairwise(pieces):
        if piece_before.kind == "linebreak" and piece.kind == "ws":
            found.append(piece.text)
    continuation = re.compile(re.escape(escape) + r"[ \t]*\r?\n([ \t]+)(?=[^ \t\r\n#])")
    for piece in pieces:
        # Shell text keeps its continuation lines inside one piece.
        if piece.kind == "shell" and "\n" in piece.text:
            found.extend(continuation.findall(piece.text))
    indents = tuple(found)
    cache["_continuation_indents"] = (escape, indents)
    return indents


def ends_in_continuation(instruction: Instruction) -> bool:
    """True for ``RUN a \\`` at the end of the file: a dangling line continuation."""
    meaningful = [piece for piece in instruction.pieces if piece.kind not in ("eol", "ws")]
    return bool(meaningful) and meaningful[-1].kind == "linebreak"


def directive_block_size(nodes: Sequence[Node]) -> int:
    """How many nodes at the top are parser directives (BuildKit reads no others)."""
    block = 0
    while block < len(nodes) and isinstance(nodes[block], Directive):
        block += 1
    return block


def _dangles(node: Node) -> bool:
    """True when a line put right after ``node`` would join it."""
    if not node.to_string().endswith("\n"):
        return True
    return isinstance(node, Instruction) and ends_in_continuation(node)


def layout_problem(before: Sequence[Node], after: Sequence[Node]) -> str:
    """Why ``after`` (an edit of the nodes ``before``) breaks what the insertion guards of
    ``Dockerfile.insertion_index`` keep, or ``""``: a directive that no longer heads the
    file (it would read as a comment), or a line newly put after a dangling one."""
    block = directive_block_size(after)
    for node in after[block:]:
        if isinstance(node, Directive):
            return f"an edit puts a line above the parser directive `{node.text.strip()}`"
    # The pairs of lines that were not neighbours before, found without a Python step per
    # line (a round applies its fixes one by one, each over the whole file): ``next_of``
    # is the same map as ``{id(a): id(b) for a, b in pairwise(before)}``.
    next_of = dict(itertools.pairwise(map(id, before)))
    ids = list(map(id, after))
    moved = map(operator.ne, map(next_of.get, ids), ids[1:])
    for index in itertools.compress(range(len(ids) - 1), moved):
        node = after[index]
        if _dangles(node):
            return f"an edit puts a line after `{node.to_string().strip()}`, which would join it"
    return ""


def parse(text: str) -> Dockerfile:
    """Parse Dockerfile text into a lossless tree; raises ``ParseError``."""
    nodes = build_nodes(scan(text), text)
    document = Dockerfile("\ufeff" if text.startswith("\ufeff") else "", nodes)
    if not document.instructions:
        last_line = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        raise ParseError("file with no instructions", max(last_line, 1))
    return document


def parse_fragment(text: str) -> Dockerfile:
    """``parse(text)`` for the short texts edits and the verifier parse, remembered: each
    round of fixes builds most of the same instructions again, and the verifier re-reads
    what the rules built.  Every call gets nodes of its own (see ``fresh_node``)."""
    template = _parsed_fragment(text)
    return Dockerfile(template.bom, tuple(map(fresh_node, template.nodes)))


@functools.lru_cache(maxsize=1024)
def _parsed_fragment(text: str) -> Dockerfile:
    """The parse of ``text``, never handed out itself (failures are not remembered)."""
    return parse(text)
