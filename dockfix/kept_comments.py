"""Comment lines inside an instruction's line continuations, kept through a text edit.

BuildKit removes comment lines before it reads an instruction, also between continued
lines (https://docs.docker.com/reference/dockerfile/#format: "Comment lines are removed
before the Dockerfile instructions are executed", with ``RUN echo hello \\`` /
``# comment`` / ``world`` as the example), so they are no part of the logical line that
rules edit.  A span of the logical line that deletes words on both sides of such a line
would delete the comment with them: here the comment lines a span crosses are taken out
of it and put back where a continuation still carries them.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.syntax.nodes import Instruction


def splice(
    instruction: Instruction, edits: Sequence[tuple[int, int, str]]
) -> tuple[str, tuple[str, ...], str | None]:
    """The instruction's text with ``[start, end)`` spans of its logical line replaced.

    Returns the new text, the comment lines (as written, with their line endings) that
    no line of the new text can carry, and, when a span crossed a comment line, the new
    text before they were put back (None otherwise: the two must read the same).
    A crossed comment goes back at the start of the first line after its span (a
    continuation line, so the comment stays between continued lines); when the span
    ends on the last line, at the start of that line, unless it is the first line too:
    the comment then has no place inside the instruction and is returned.
    """
    text = instruction.text
    physical = instruction.physical_spans(edits)
    out: list[str] = []
    length, cursor = 0, 0
    pending: list[tuple[int, int, list[str]]] = []  # where a span's new text is, comments
    for begin, finish, new in physical:
        if begin < cursor:
            raise ValueError("overlapping edits")
        kept = text[cursor:begin] + new
        out.append(kept)
        length += len(kept)
        crossed = _comment_lines(instruction, begin, finish)
        if crossed:
            pending.append((length - len(new), length, crossed))
        cursor = finish
    out.append(text[cursor:])
    result = bare = "".join(out)
    above: list[str] = []
    for start, position, lines in reversed(pending):
        home = _home(result, start, position)
        if home is None:
            above[:0] = lines
        else:
            result = result[:home] + "".join(lines) + result[home:]
    return result, tuple(above), bare if pending else None


def _comment_lines(instruction: Instruction, begin: int, finish: int) -> list[str]:
    """The whole comment lines of ``text[begin:finish)`` that are no part of the logical
    line (they lie between its segments), with their line endings."""
    text = instruction.text
    found = []
    at = text.find("\n", begin, finish)
    while at != -1 and at + 1 < finish:
        start = at + 1
        stop = text.find("\n", start)
        stop = len(text) if stop == -1 else stop + 1
        line = text[start:stop]
        if (
            stop <= finish
            and line.lstrip().startswith("#")
            and not _logical(instruction, start, stop)
        ):
            found.append(line)
        at = text.find("\n", start, finish)
    return found


def _logical(instruction: Instruction, start: int, stop: int) -> bool:
    """True when ``text[start:stop)`` holds a character of the logical line."""
    return any(offset < stop and start < offset + size for _, offset, size in instruction.segments)


def _home(text: str, start: int, position: int) -> int | None:
    """Where comment lines can go back near new text at ``[start, position)``: the start
    of the next line, or of the line holding ``position`` when that is the last but not
    the first line.  New text of several lines (a command added) goes below them: they
    go at the start of its first line, when that is not the instruction's first."""
    if "\n" in text[start:position] and text.rfind("\n", 0, start) != -1:
        return text.rfind("\n", 0, start) + 1
    newline = text.find("\n", position)
    if newline != -1 and newline + 1 < len(text):
        return newline + 1
    previous = text.rfind("\n", 0, position)
    if previous != -1:
        return previous + 1
    return None
