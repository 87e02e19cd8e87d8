"""DF007 no-empty-continuation: blank lines inside an instruction continued over lines.

What it does
    Removes the empty (or whitespace-only) lines that follow a line continuation
    inside an instruction.  Comment lines inside the continuation are kept.

Why is this bad?
    BuildKit skips such lines today but has deprecated them: a future Dockerfile
    syntax will refuse the file (check ``NoEmptyContinuation``).  A blank line also
    reads as the end of the instruction when it is not.

Example
    ``RUN apk add \\`` + an empty line + ``    curl`` becomes ``RUN apk add \\`` +
    ``    curl``.

Fix safety
    Safe: BuildKit ignores the empty lines, so the instruction reads the same (the fix
    checks that the re-parsed instruction has the same arguments and flags).  Blank
    lines inside heredoc bodies are content, not continuation lines, and are never
    touched; blank lines at the very end of a file that ends in a continuation are left
    alone.

References
    BuildKit check ``NoEmptyContinuation``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.syntax import Instruction
from dockfix.syntax.nodes import Position


def _without_empty_lines(instruction: Instruction) -> tuple[str, int] | None:
    """The instruction's head text without its empty continuation lines, and the
    line number of the first one (None when it has none)."""
    # Read once per instruction (the rule runs every round, and an unedited instruction
    # is the same object): the answer is kept as the line's offset from the start.
    cache = instruction.__dict__
    try:
        found: tuple[str, int] | None = cache["_empty_continuation"]
    except KeyError:
        found = cache["_empty_continuation"] = _empty_lines_removed(instruction)
    return None if found is None else (found[0], instruction.start_line + found[1])


def _empty_lines_removed(instruction: Instruction) -> tuple[str, int] | None:
    """``_without_empty_lines`` with the index of the first empty line in the instruction."""
    pieces = instruction.pieces
    if pieces[-1].kind != "eol":
        return None
    head = "".join(piece.text for piece in pieces[:-1])
    lines = head.splitlines(keepends=True)
    if len(lines) < 3:
        return None  # an empty line needs a line before it and one with text after it
    # The last line with text: only empty lines above it are removed (one pass, not a
    # look-ahead per line: a long RUN has many lines).
    last_text = max((index for index, line in enumerate(lines) if line.strip()), default=0)
    kept: list[str] = []
    first = 0
    for index, line in enumerate(lines):
        if 0 < index < last_text and not line.strip():
            if not first:
                first = index
            continue
        kept.append(line)
    if not first:
        return None
    return "".join(kept), first


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for instruction in document.instructions:
        found = _without_empty_lines(instruction)
        if found is None:
            continue
        head, line = found
        tail = "".join(heredoc.to_string() for heredoc in instruction.heredocs)
        message = f"empty continuation line found in: {instruction.logical}"
        position = Position(line, 1)
        try:
            new = document.parse_instructions_one(head + instruction.eol + tail)
        except ValueError:
            yield rule.finding(message, position, note="the instruction does not re-parse")
            continue
        if (
            new.value != instruction.value
            or new.reading.flags != instruction.reading.flags
            or new.comments != instruction.comments
        ):
            yield rule.finding(message, position, note="removing the lines changes the instruction")
            continue
        yield rule.finding(message, position, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF007",
    name="no-empty-continuation",
    summary="Remove empty lines inside instructions continued over several lines",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
)
