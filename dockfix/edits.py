"""The one edit model: what a fix is, how a rule builds one, and how it says "cannot fix".

As in ruff, a fix is a set of node replacements plus an applicability: *safe* fixes keep
the build and the container's behaviour and are applied by ``--diff``/``--write``;
*unsafe* ones may change behaviour and need ``--unsafe-fixes``; *display-only* findings
are never rewritten.

Rules build fixes with ``FixBuilder``, whose insertions go through the same guards as
``Dockerfile.insert_before``/``insert_after``/``prepend`` (below the parser directives,
never after a dangling continuation), so no rule re-implements them; the engine checks
the same guards again before it applies anything.  Shell text inside a RUN is edited with
``rewrite_shell``.  A rule that cannot write a fix raises ``FixRefused(reason)``.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dockfix.kept_comments import splice
from dockfix.lazy_dataclass import dataclass
from dockfix.syntax.document import ends_in_continuation
from dockfix.syntax.nodes import Comment, Instruction, Node

if TYPE_CHECKING:
    from dockfix.model.runs import RunShell
    from dockfix.syntax import Dockerfile


class Applicability(enum.Enum):
    """How far a rule's fix can be trusted (ordered from most to least)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


class FixAvailability(enum.Enum):
    """Whether a rule offers a fix at all, apart from how safe that fix is (ruff's
    ``FixAvailability``): a rule may find cases it never fixes, or fix only some."""

    NEVER = "never"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


@dataclass(frozen=True)
class Edit:
    """Replace one top-level node by zero or more nodes (which may include itself)."""

    old: Node
    new: tuple[Node, ...]


@dataclass(frozen=True)
class CompanionEdit:
    """A fix's change to a file of the build context other than the Dockerfile (DF212's
    ``.dockerignore``).  The engine does not apply it to the tree: it hands it on with
    the result, and the runner shows it as a second diff (``--diff``), counts it as a
    change (``--check``) and writes it atomically (``--write``) only while the file on
    disk still reads ``old_text``."""

    #: The file, relative to the build context (``.dockerignore``).
    path: str
    #: The file's text as the rule read it; None: the file does not exist yet.
    old_text: str | None
    new_text: str


@dataclass(frozen=True)
class Fix:
    """The edits that fix one finding, applied together or not at all."""

    edits: tuple[Edit, ...]
    applicability: Applicability
    #: For unsafe fixes: what may change, shown to the user.
    reason: str = ""
    #: A file beside the Dockerfile that the fix writes (``edits`` is then empty).
    companion: CompanionEdit | None = None

    def touched(self) -> set[int]:
        return {id(edit.old) for edit in self.edits}


class FixRefused(Exception):
    """The fix cannot be written safely; ``reason`` says why (shown with the finding).

    The rule catches it where it builds the finding and reports without a fix, with the
    reason as the finding's note.  ``kind`` groups reasons of the same sort
    (``root-command``, ``privileged-port``...): ``combined`` keeps the first reason of
    each kind (DF201 looks for every reason at once).
    """

    def __init__(self, reason: str, *, kind: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind

    @classmethod
    def combined(cls, refusals: Iterable[FixRefused]) -> FixRefused:
        """One refusal for several: the first reason of each kind, in the order given."""
        first: dict[str, str] = {}
        for refusal in refusals:
            first.setdefault(refusal.kind, refusal.reason)
        return cls("; ".join(first.values()))


class FixBuilder:
    """The node edits of one fix, made through the document's insertion guards and merged
    per node (a node may get lines before it, a replacement and lines after it)."""

    def __init__(self, document: Dockerfile) -> None:
        self.document = document
        self._nodes: dict[int, Node] = {}
        self._before: dict[int, list[Node]] = {}
        self._replace: dict[int, tuple[Node, ...]] = {}
        self._after: dict[int, list[Node]] = {}

    def _touch(self, node: Node) -> int:
        self._nodes.setdefault(id(node), node)
        return id(node)

    def replace(self, old: Node, *new: Node) -> FixBuilder:
        """``old`` becomes ``new`` (nothing: a deletion)."""
        self._replace[self._touch(old)] = new
        return self

    def delete(self, node: Node) -> FixBuilder:
        return self.replace(node)

    def replaced(self, node: Node) -> bool:
        """Whether ``node`` was already replaced or deleted by this fix."""
        return id(node) in self._replace

    def insert_before(self, anchor: Node, *new: Node) -> FixBuilder:
        """``new`` above ``anchor`` (below the parser directives when the anchor is one)."""
        index = self.document.insertion_index(anchor, new, after=False)
        return self._insert_at(index, new)

    def insert_after(self, anchor: Node, *new: Node) -> FixBuilder:
        """``new`` below ``anchor``; ValueError where they would join a dangling line.

        An anchor that ends the file without a line ending gets the file's own, and the
        last new instruction goes without, so the file still ends the way it did.
        """
        last = new[-1] if new else None
        if (
            isinstance(anchor, Instruction)
            and isinstance(last, Instruction)
            and not last.heredocs
            and anchor is self.document.nodes[-1]
            and not anchor.to_string().endswith("\n")
            and not ends_in_continuation(anchor)
            and not self.replaced(anchor)
        ):
            self.replace(anchor, self.document.make_instruction(anchor.text))
            ending = self.document.make_instruction(last.text.removesuffix(last.eol), eol="")
            self._after.setdefault(id(anchor), []).extend((*new[:-1], ending))
            return self
        index = self.document.insertion_index(anchor, new, after=True)
        if self.document.nodes[index - 1] is anchor:
            # The edit stays on the anchor, so fixes touching the next node do not overlap.
            self._after.setdefault(self._touch(anchor), []).extend(new)
            return self
        return self._insert_at(index, new)

    def prepend(self, *new: Node) -> FixBuilder:
        """``new`` at the top of the file, after its parser directives (a directive first)."""
        return self.insert_before(self.document.nodes[0], *new)

    def _insert_at(self, index: int, new: Sequence[Node]) -> FixBuilder:
        nodes = self.document.nodes
        if index < len(nodes):
            self._before.setdefault(self._touch(nodes[index]), []).extend(new)
        else:
            self._after.setdefault(self._touch(nodes[-1]), []).extend(new)
        return self

    def edits(self) -> tuple[Edit, ...]:
        """The merged edits, one per node touched, in the order first touched."""
        result = []
        for key, node in self._nodes.items():
            middle = self._replace.get(key, (node,))
            news = (*self._before.get(key, ()), *middle, *self._after.get(key, ()))
            result.append(Edit(node, news))
        return tuple(result)

    def build(self, applicability: Applicability, reason: str = "") -> Fix:
        return Fix(self.edits(), applicability, reason)


@dataclass(frozen=True)
class ShellSplice:
    """A RUN with its shell text edited, and the comment lines it can no longer carry."""

    instruction: Instruction
    #: Comment lines from the RUN's continuations that an edited span crossed and that
    #: no continuation line of the new RUN can carry (it is left with one line): they
    #: go directly above it.
    above: tuple[Comment, ...] = ()


def splice_shell(
    document: Dockerfile, shell: RunShell, spans: Sequence[tuple[int, int, str]]
) -> ShellSplice:
    """The RUN with ``[start, end)`` spans of its shell text replaced (offsets into
    ``shell.script.text``); the one place shell edits are mapped to the file's text.

    A pure insertion (``start == end``) rewrites the character before it with the new
    text after it, so text added right after a word lands there even when a line
    continuation follows the word.  Comment lines between continued lines that a span
    crosses are kept (see ``kept_comments``); ValueError when putting them back would
    change what BuildKit reads, which is checked.
    """
    instruction = shell.instruction
    edits = _logical_edits(shell, spans)
    text, above, bare = splice(instruction, edits)
    new = document.parse_instructions_one(text)
    if bare is not None:
        _check_kept(instruction, document.parse_instructions_one(bare), new, above)
    eol = document.style.eol
    comments = tuple(Comment(line.strip(), eol, 0) for line in above)
    return ShellSplice(new, comments)


def _check_kept(
    old: Instruction, bare: Instruction, new: Instruction, above: Sequence[str]
) -> None:
    """The comment lines put back change nothing BuildKit reads (``new`` reads as
    ``bare``, the edit without them), and none is lost."""
    if new.logical != bare.logical:
        raise ValueError("the comment lines put back change the instruction")
    kept = Counter(line.strip() for line in new.comments)
    kept.update(line.strip() for line in above)
    if Counter(line.strip() for line in old.comments) - kept:
        raise ValueError("a comment line of the instruction would be lost")


def rewrite_shell(
    document: Dockerfile, shell: RunShell, spans: Sequence[tuple[int, int, str]]
) -> Instruction:
    """``splice_shell``'s RUN alone.  A comment line it could not keep inside the RUN is
    lost, and the engine's check of comment lines then drops the fix: a rule whose
    spans may cross comment lines uses ``splice_shell`` and puts ``above`` in place."""
    try:
        return splice_shell(document, shell, spans).instruction
    except ValueError:
        return document.edit_logical(shell.instruction, _logical_edits(shell, spans))


def _logical_edits(
    shell: RunShell, spans: Sequence[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Spans of the shell text as spans of the instruction's logical line."""
    logical = shell.instruction.logical
    edits = []
    for start, end, text in spans:
        at, stop = shell.base + start, shell.base + end
        if at == stop and at > 0:
            edits.append((at - 1, at, logical[at - 1] + text))
        else:
            edits.append((at, stop, text))
    return edits
