"""Prints file reports as text (for people) or one JSON document (for bots).

Text goes to stdout as bytes with ``surrogateescape``, so paths and diffs holding
non-UTF-8 bytes come out exactly as they are on disk, never as a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from dockfix.output.diff import colorize
from dockfix.rules.base import Settings
from dockfix.runner import FileReport, fixable

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


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

    def __init__(self, mode: str, output_format: str, *, color: bool, settings: Settings) -> None:
        self.mode = mode
        self.output_format = output_format
        self.color = color
        self.settings = settings
        #: Set when stdin's fixed text already went to stdout (``dockfix -``).
        self.stdout_taken = False

    def emit(self, reports: Sequence[FileReport]) -> int:
        if self.output_format == "json":
            self._emit_json(reports)
        else:
            self._emit_text(reports)
        return self.status(reports)

    @staticmethod
    def status(reports: Sequence[FileReport]) -> int:
        if any(report.errors for report in reports):
            return EXIT_ERROR
        if any(report.findings or report.changed for report in reports):
            return EXIT_FINDINGS
        return EXIT_CLEAN

    def _emit_text(self, reports: Sequence[FileReport]) -> None:
        out = sys.stderr if self.stdout_taken else sys.stdout
        for report in reports:
            for error in report.errors:
                where = _location(report.path, error.line, error.column)
                _write(sys.stderr, f"{where}: error: {error.message}\n")
            if self.mode == "check":
                continue
            if self.mode == "diff":
                if report.diff:
                    _write(out, colorize(report.diff) if self.color else report.diff)
                continue
            for finding in report.findings:
                if self.mode == "write" and report.written and fixable(finding, self.settings):
                    continue  # fixed: nothing left to say
                where = _location(report.path, finding.line, finding.column)
                note = f" (not fixed: {finding.note})" if finding.note else ""
                _write(out, f"{where}: {finding.code} {finding.message}{note}\n")
        if self.mode != "check":
            _write(sys.stderr, self._summary(reports))

    def _summary(self, reports: Sequence[FileReport]) -> str:
        findings = sum(len(r.findings) for r in reports)
        errors = sum(1 for r in reports if r.errors)
        changed = sum(1 for r in reports if r.changed)
        fixed = sum(sum(r.fixed.values()) for r in reports if r.written)
        unsafe = sum(1 for r in reports for f in r.findings if f.applicability == "unsafe")
        parts = [f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked"]
        if self.mode == "write":
            parts.append(
                f"{fixed} fix{'es' * (fixed != 1)} applied in {changed} file{'s' * (changed != 1)}"
            )
        elif self.mode == "diff":
            parts.append(f"{changed} file{'s' * (changed != 1)} would be changed")
        else:
            parts.append(f"{findings} finding{'s' * (findings != 1)}")
            if changed:
                parts.append(f"{changed} file{'s' * (changed != 1)} fixable with --write")
        if unsafe and not self.settings.unsafe_fixes:
            parts.append(f"{unsafe} more fix{'es' * (unsafe != 1)} with --unsafe-fixes")
        if errors:
            parts.append(f"{errors} file{'s' * (errors != 1)} with errors")
        return ", ".join(parts) + ".\n"

    def _emit_json(self, reports: Sequence[FileReport]) -> None:
        files = []
        for report in reports:
            files.append(
                {
                    "path": report.path,
                    "findings": [asdict(finding) for finding in report.findings],
                    "errors": [asdict(error) for error in report.errors],
                    "changed": report.changed,
                    "written": report.written,
                    "fixed": report.fixed,
                    "diff": report.diff,
                }
            )
        document = {
            "tool": "dockfix",
            "mode": self.mode,
            "files": files,
            "summary": {
                "files": len(reports),
                "changed": sum(1 for r in reports if r.changed),
                "findings": sum(len(r.findings) for r in reports),
                "errors": sum(len(r.errors) for r in reports),
            },
        }
        out = sys.stderr if self.stdout_taken else sys.stdout
        _write(out, json.dumps(document, indent=2) + "\n")
