"""Prints file reports as text (for people) or one JSON document (for bots).

Text goes to stdout as bytes with ``surrogateescape``, so paths and diffs holding
non-UTF-8 bytes come out exactly as they are on disk, never as a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from dockfix.edits import Applicability
from dockfix.exit_codes import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from dockfix.gate import is_fixable
from dockfix.output.diff import colorize
from dockfix.output.fixes import is_fixed
from dockfix.output.locations import RepoPaths
from dockfix.output.mode import Mode
from dockfix.rules.base import Settings
from dockfix.runner import FileReport


def _json(document: object) -> str:
    """A json or sarif document as printed (json is imported only by runs that print one)."""
    import json

    return json.dumps(document, indent=2) + "\n"


def _write(stream: object, text: str) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(text.encode("utf-8", "surrogateescape"))
        buffer.flush()
    else:  # click's test runner gives text streams
        stream.write(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))  # type: ignore[attr-defined]


def _location(path: str, line: int, column: int) -> str:
    return f"{path}:{line}:{column}" if line else path


class Printer:
    """Turns reports into output and an exit status."""

    def __init__(self, mode: Mode, output_format: str, *, color: bool, settings: Settings) -> None:
        self.mode = mode
        self.output_format = output_format
        self.color = color
        self.settings = settings
        #: Set when stdin's fixed text already went to stdout (``dockfix -``).
        self.stdout_taken = False
        self._reports: list[FileReport] = []
        #: Repository-relative paths for annotations and SARIF locations.
        self.paths = RepoPaths()

    def emit(self, reports: Sequence[FileReport]) -> int:
        for report in reports:
            self.add(report)
        return self.finish()

    def add(self, report: FileReport) -> None:
        """Take one file's report; text and github print it now (streaming), json/sarif keep it."""
        self._reports.append(report)
        if self.output_format == "text":
            self._text_report(report)
        elif self.output_format == "github":
            from dockfix.output.github import annotate

            _write(self._out, annotate(report, self.mode, self.settings, self.paths))

    def finish(self) -> int:
        """Print what needs the whole run (a document, the summary); return the exit status."""
        reports = self._reports
        if self.output_format == "json":
            self._emit_json(reports)
        elif self.output_format == "sarif":
            from dockfix.output.sarif import sarif_document

            document = sarif_document(reports, self.mode, self.settings, self.paths)
            _write(self._out, _json(document))
        elif self.output_format == "text" and self.mode is not Mode.CHECK:
            _write(sys.stderr, self._summary(reports))
        return self.status(reports)

    @property
    def _out(self) -> object:
        return sys.stderr if self.stdout_taken else sys.stdout

    @staticmethod
    def status(reports: Sequence[FileReport]) -> int:
        if any(report.errors for report in reports):
            return EXIT_ERROR
        if any(report.findings or report.changed for report in reports):
            return EXIT_FINDINGS
        return EXIT_CLEAN

    def _text_report(self, report: FileReport) -> None:
        out = self._out
        for error in report.errors:
            where = _location(report.path, error.line, error.column)
            _write(sys.stderr, f"{where}: error: {error.message}\n")
        if self.mode is Mode.CHECK:
            return
        if self.mode is Mode.DIFF:
            for diff in (report.diff, *(c.diff for c in report.companions)):
                if diff:
                    _write(out, colorize(diff) if self.color else diff)
            # What the diff's unsafe fixes may change, beside it (stdout stays a patch).
            for finding in report.findings:
                if finding.fix_reason and is_fixed(report, finding, self.settings):
                    where = _location(report.path, finding.line, finding.column)
                    warning = f"{finding.code} unsafe fix: {finding.fix_reason}"
                    _write(sys.stderr, f"{where}: {warning}\n")
            return
        for finding in report.findings:
            where = _location(report.path, finding.line, finding.column)
            if self.mode is Mode.WRITE and report.written and is_fixable(finding, report):
                # Fixed: nothing left to report on stdout; an unsafe fix says once more,
                # on stderr, what it may have changed.
                if finding.fix_reason:
                    warning = f"{finding.code} unsafe fix applied: {finding.fix_reason}"
                    _write(sys.stderr, f"{where}: {warning}\n")
                continue
            _write(out, f"{where}: {finding.code} {finding.message}{finding.notes}\n")

    def _summary(self, reports: Sequence[FileReport]) -> str:
        findings = sum(len(r.findings) for r in reports)
        errors = sum(1 for r in reports if r.errors)
        changed = sum(1 for r in reports if r.changed)
        fixed = sum(sum(r.fixed.values()) for r in reports if r.written)
        # Unsafe fixes that were not on for their file (its configuration may turn them on).
        unsafe = sum(
            f.applicability is Applicability.UNSAFE
            for r in reports
            if not r.unsafe_fixes
            for f in r.findings
        )
        parts = [f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked"]
        if self.mode is Mode.WRITE:
            parts.append(
                f"{fixed} fix{'es' * (fixed != 1)} applied in {changed} file{'s' * (changed != 1)}"
            )
        elif self.mode is Mode.DIFF:
            parts.append(f"{changed} file{'s' * (changed != 1)} would be changed")
        else:
            parts.append(f"{findings} finding{'s' * (findings != 1)}")
            if changed:
                # The text was fixed with --unsafe-fixes: --write alone would not do the same.
                with_unsafe = self.settings.unsafe_fixes and any(
                    f.applicability is Applicability.UNSAFE
                    for r in reports
                    if r.changed
                    for f in r.findings
                )
                how = "--write --unsafe-fixes" if with_unsafe else "--write"
                parts.append(f"{changed} file{'s' * (changed != 1)} fixable with {how}")
        if unsafe and not self.settings.unsafe_fixes:  # (an error's report has no settings)
            parts.append(f"{unsafe} more fix{'es' * (unsafe != 1)} with --unsafe-fixes")
        if errors:
            parts.append(f"{errors} file{'s' * (errors != 1)} with errors")
        return ", ".join(parts) + ".\n"

    def _emit_json(self, reports: Sequence[FileReport]) -> None:
        from dockfix.output.json_format import json_document

        document = json_document(reports, self.mode, self.settings)
        _write(self._out, _json(document))
