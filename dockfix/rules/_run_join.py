"""Several consecutive ``RUN`` instructions written as one (DF102's fix text).

The joined RUN keeps the first instruction's keyword and flags and follows the file's own
way of writing ``&&`` chains over several lines: ``&&`` leading or trailing, and the
indent of continuation lines.
"""

from __future__ import annotations

from dockfix.lazy_dataclass import dataclass
from dockfix.rules._hygiene import join_layout
from dockfix.syntax import Dockerfile, Instruction


@dataclass(frozen=True)
class JoinStyle:
    """How the file writes ``&&`` chains over several lines."""

    leading: bool
    indent: str


def join_style(document: Dockerfile, group: list[Instruction]) -> JoinStyle:
    """The group's own ``&&`` layout and command indent, else the file's, else the default."""
    for candidates in (group, None):
        leading, indent = join_layout(document, candidates)
        if indent is not None:
            return JoinStyle(leading, indent or "    ")
    # No RUN breaks a line at `&&`: the file's indent unless it is deeper than usual,
    # which is a package list's, not a command's.
    indent = document.style.indent
    return JoinStyle(False, indent if len(indent.expandtabs(4)) <= 4 else "    ")


def _head(instruction: Instruction) -> str:
    """The instruction's text up to its last argument (no trailing space or line end)."""
    pieces = list(instruction.pieces[:-1])
    while pieces and pieces[-1].kind == "ws":
        pieces.pop()
    return "".join(piece.text for piece in pieces)


def _shell_text(instruction: Instruction) -> str:
    shell = instruction.pieces_of("shell")[0]
    start, _ = instruction.span_of(shell)
    return _head(instruction)[start:]


def merged_text(document: Dockerfile, group: list[Instruction]) -> str:
    """The group's RUNs as one, in the file's continuation style."""
    first = group[0]
    escape, eol = document.escape, first.eol
    style = join_style(document, group)
    parts = [_head(first)]
    for instruction in group[1:]:
        if style.leading:
            parts.append(f" {escape}{eol}{style.indent}&& {_shell_text(instruction)}")
        else:
            parts.append(f" && {escape}{eol}{style.indent}{_shell_text(instruction)}")
    return "".join(parts) + group[-1].eol
