"""Which findings a run fixed, and which of a file's edits belong to which finding.

The engine applies every fix of a file together and reports counts per rule, so both
questions are answered here for the machine-readable formats (JSON, SARIF), once.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.gate import is_fixable
from dockfix.output.edits import LineEdit
from dockfix.output.mode import Mode
from dockfix.rules.base import Settings
from dockfix.runner import FileReport, ReportedFinding

__all__ = ["assign_edits", "is_fixed", "still_open"]


def is_fixed(report: FileReport, finding: ReportedFinding, settings: Settings) -> bool:
    """Whether this run's output carries the finding's fix (written, with ``--write``)."""
    if report.errors or not report.changed or finding.code not in report.fixed:
        return False
    return is_fixable(finding, report, settings.unsafe_fixes)


def still_open(
    report: FileReport, finding: ReportedFinding, mode: Mode, settings: Settings
) -> bool:
    """False for a finding ``--write`` just fixed: there is nothing left to say about it."""
    if mode is not Mode.WRITE or not report.written:
        return True
    return not is_fixable(finding, report, settings.unsafe_fixes)


def assign_edits(lines: Sequence[int | None], edits: Sequence[LineEdit]) -> list[list[LineEdit]]:
    """Give each edit to one finding: the fixed finding inside it, else the nearest one.

    *lines* holds each finding's line, or None for a finding that was not fixed. Every edit
    goes to exactly one finding, so applying all findings' fixes is applying the file's fix.
    """
    assigned: list[list[LineEdit]] = [[] for _ in lines]
    candidates = [(line, index) for index, line in enumerate(lines) if line is not None]
    if not candidates:
        return assigned
    for edit in edits:
        last = max(edit.end_line, edit.start_line)

        def distance(item: tuple[int, int], edit: LineEdit = edit, last: int = last) -> int:
            line = item[0]
            if edit.start_line <= line <= last:
                return 0
            return edit.start_line - line if line < edit.start_line else line - last

        _, index = min(candidates, key=lambda item: (distance(item), item[1]))
        assigned[index].append(edit)
    return assigned
