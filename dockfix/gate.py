"""The exit status: what makes a CI run fail.

A CI gate that stays red after ``dockfix --write`` teaches people to ignore it, so by
default only *fixable* findings fail a run: those with a fix this mode would apply
(safe, or unsafe with ``--unsafe-fixes``).  Report-only findings are printed but pass.
``--fail-on any`` fails on every finding, ``--fail-on none`` on none; as in ruff,
``--exit-zero`` passes whatever was found and ``--exit-non-zero-on-fix`` fails a
``--write`` run that changed files.  A file dockfix could not read or parse is always
exit 2; the other files are still processed and reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.edits import Applicability
from dockfix.exit_codes import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from dockfix.lazy_dataclass import dataclass
from dockfix.runner import FileReport, ReportedFinding

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "FAIL_ON", "Gate", "is_fixable"]

FAIL_ON = ("fixable", "any", "none")


def is_fixable(finding: ReportedFinding, report: FileReport, unsafe_fixes: bool = False) -> bool:
    """Whether this run's mode would apply the finding's fix."""
    if finding.applicability is Applicability.SAFE:
        return True
    unsafe = unsafe_fixes or report.unsafe_fixes
    return finding.applicability is Applicability.UNSAFE and unsafe


@dataclass(frozen=True)
class Gate:
    """The options that decide the exit status."""

    fail_on: str = "fixable"
    exit_zero: bool = False
    exit_non_zero_on_fix: bool = False
    #: ``--unsafe-fixes`` on the command line (a file's configuration may also set it).
    unsafe_fixes: bool = False

    def status(self, reports: Sequence[FileReport]) -> int:
        """0 pass, 1 fail, 2 some file had an error."""
        if any(report.errors for report in reports):
            return EXIT_ERROR
        if self.exit_zero:
            return EXIT_CLEAN
        if self.exit_non_zero_on_fix and any(report.written for report in reports):
            return EXIT_FINDINGS
        if self.fail_on == "none":
            return EXIT_CLEAN
        for report in reports:
            if report.changed and not report.written:
                return EXIT_FINDINGS
            for finding in report.findings:
                fixable = is_fixable(finding, report, self.unsafe_fixes)
                if report.written and fixable:
                    continue  # applied by this run
                if fixable or self.fail_on == "any":
                    return EXIT_FINDINGS
        return EXIT_CLEAN
