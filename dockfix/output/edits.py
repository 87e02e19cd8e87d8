"""A file's fix as line edits, read back from its unified diff.

Bots and SARIF consumers want "replace lines 3-4 by this text", not a patch to parse. The
diff (``dockfix.output.diff``) is already exact, including ``\\r\\n`` endings and a last line
without a newline, so the edits are derived from it rather than by diffing the texts a second
time: both always describe the same change.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass
from dockfix.output.diff import NO_NEWLINE_MARKER, split_lines

__all__ = ["LineEdit", "apply_edits", "edits_from_diff"]

_HUNK = lazy_re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class LineEdit:
    """Lines ``start_line``..``end_line`` (1-based, inclusive) of the original become
    ``replacement`` (whole lines with their endings). An insertion before ``start_line`` has
    ``end_line == start_line - 1``; a deletion has an empty ``replacement``."""

    start_line: int
    end_line: int
    replacement: str

    def to_json(self) -> dict[str, object]:
        return {
            "start_line": self.start_line,
            "end_line": self.end_line,
            "replacement": self.replacement,
        }


def edits_from_diff(diff: str) -> list[LineEdit]:
    """The runs of changed lines in *diff* (one file's unified diff), in file order."""
    lines = split_lines(diff)
    edits: list[LineEdit] = []
    index = 0
    while index < len(lines):
        match = _HUNK.match(lines[index])
        index += 1
        if match is None:
            continue  # file headers
        old_start, old_count, _, new_count = (
            int(group) if group is not None else 1 for group in match.groups()
        )
        # difflib numbers an empty old range by the line *before* it (``-0,0`` at the top).
        old_line = old_start if old_count else old_start + 1
        old_left, new_left = old_count, new_count
        start: int | None = None
        deleted = 0
        inserted: list[str] = []
        while (old_left > 0 or new_left > 0) and index < len(lines):
            line = lines[index]
            index += 1
            tag, body = line[:1], line[1:]
            if index < len(lines) and lines[index] == NO_NEWLINE_MARKER:
                index += 1
                body = body[:-1]  # the diff ended this line only to add the marker
            if tag == "-" or tag == "+":
                if start is None:
                    start = old_line
                if tag == "-":
                    deleted += 1
                    old_line += 1
                    old_left -= 1
                else:
                    inserted.append(body)
                    new_left -= 1
                continue
            if start is not None:
                edits.append(LineEdit(start, start + deleted - 1, "".join(inserted)))
                start, deleted, inserted = None, 0, []
            old_line += 1
            old_left -= 1
            new_left -= 1
        if start is not None:
            edits.append(LineEdit(start, start + deleted - 1, "".join(inserted)))
    return edits


def apply_edits(original: str, edits: Sequence[LineEdit]) -> str:
    """*original* with *edits* made (what a consumer of the JSON does; used by the tests)."""
    lines = split_lines(original)
    for edit in sorted(edits, key=lambda e: e.start_line, reverse=True):
        lines[edit.start_line - 1 : edit.end_line] = [edit.replacement]
    return "".join(lines)
