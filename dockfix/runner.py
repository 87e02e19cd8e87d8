"""One file through the pipeline: read, parse, validate, lint and fix, then report.

The result is a plain, picklable ``FileReport`` so that many files can be processed in
worker processes; nothing here writes to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.engine import fix_document
from dockfix.files import FileProblem, SourceFile, read_source, write_atomic
from dockfix.output.diff import unified_diff
from dockfix.rules.base import Applicability, Finding, Rule, Settings

if TYPE_CHECKING:
    from dockfix.profiles import Profile


@dataclass(frozen=True)
class ReportedFinding:
    """A finding as shown to the user (no tree references, so it pickles)."""

    line: int
    column: int
    code: str
    name: str
    message: str
    applicability: str | None
    note: str = ""
    severity: str = "warning"

    @classmethod
    def of(cls, finding: Finding) -> ReportedFinding:
        applicability = finding.fix.applicability.value if finding.fix else None
        return cls(
            finding.line,
            finding.column,
            finding.code,
            finding.name,
            finding.message,
            applicability,
            finding.note,
            finding.severity,
        )


@dataclass(frozen=True)
class Error:
    """A problem that stops dockfix from touching the file."""

    line: int
    column: int
    message: str


@dataclass(frozen=True)
class FileReport:
    """Everything the CLI needs to print or write for one file."""

    path: str
    findings: tuple[ReportedFinding, ...] = ()
    errors: tuple[Error, ...] = ()
    diff: str = ""
    output: str | None = None
    fixed: dict[str, int] = field(default_factory=dict)
    written: bool = False
    #: Whether unsafe fixes applied to this file (its configuration may say so).
    unsafe_fixes: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def process_text(
    source: SourceFile,
    display_path: str,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    apply: bool,
    context_dir: Path | None,
) -> FileReport:
    """Parse, validate and fix one decoded file; never raises for bad input."""
    from dockfix.syntax import ParseError, parse
    from dockfix.syntax.validate import validate

    try:
        document = parse(source.text)
    except ParseError as error:
        return FileReport(display_path, errors=(Error(error.line, error.column, error.message),))
    except RecursionError:  # pragma: no cover - defensive
        return FileReport(display_path, errors=(Error(1, 1, "input too deeply nested"),))
    except Exception as exc:
        return FileReport(display_path, errors=(_internal_error(exc),))
    path = None if display_path == "-" else Path(display_path)
    try:
        problems = validate(document)
        if problems:
            return FileReport(
                display_path, errors=tuple(Error(p.line, p.column, p.message) for p in problems)
            )
        result = fix_document(
            document, rules, settings, path=path, context_dir=context_dir, apply=apply
        )
    except Exception as exc:
        # A bug in a rule or the validator must cost this one file, not the whole run
        # (and never print a traceback): report it and leave the file as it was.
        return FileReport(display_path, errors=(_internal_error(exc),))
    errors = tuple(Error(*_split_problem(problem)) for problem in result.problems)
    findings = tuple(ReportedFinding.of(f) for f in result.findings)
    if errors:
        # A dropped fix or a non-converging file: leave the file exactly as it was.
        return FileReport(display_path, findings=findings, errors=errors)
    diff = unified_diff(result.original, result.output, display_path) if apply else ""
    return FileReport(
        display_path,
        findings=findings,
        errors=errors,
        diff=diff,
        output=result.output if result.changed else None,
        fixed=dict(result.fixed),
        unsafe_fixes=settings.unsafe_fixes,
    )


def _internal_error(exc: Exception) -> Error:
    detail = " ".join(str(exc).split()) or "no details"
    return Error(0, 0, f"internal error ({type(exc).__name__}: {detail}); file left as it was")


def _split_problem(problem: str) -> tuple[int, int, str]:
    head, _, message = problem.partition(": ")
    line, _, column = head.partition(":")
    if line.isdigit() and column.isdigit():
        return int(line), int(column), message
    return 1, 1, problem


def process_path(
    path: Path,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    apply: bool,
    write: bool,
) -> FileReport:
    """Read, fix and (when ``write``) atomically rewrite one file on disk."""
    display = str(path)
    try:
        source = read_source(path)
    except FileProblem as problem:
        return FileReport(display, errors=(Error(0, 0, problem.message),))
    report = process_text(source, display, rules, settings, apply=apply, context_dir=path.parent)
    if write and report.output is not None and not report.errors:
        try:
            write_atomic(path, report.output, source)
        except FileProblem as problem:
            return FileReport(
                display,
                findings=report.findings,
                errors=(Error(0, 0, problem.message),),
            )
        return FileReport(
            display,
            findings=report.findings,
            diff=report.diff,
            output=report.output,
            fixed=report.fixed,
            written=True,
            unsafe_fixes=report.unsafe_fixes,
        )
    return report


def fixable(finding: ReportedFinding, settings: Settings) -> bool:
    if finding.applicability == Applicability.SAFE.value:
        return True
    return finding.applicability == Applicability.UNSAFE.value and settings.unsafe_fixes


def process_profiled(
    path: Path,
    number: int,
    *,
    profiles: Sequence[Profile],
    apply: bool,
    write: bool,
) -> FileReport:
    """:func:`process_path` with the file's profile given by its index in *profiles*.

    Worker processes receive the few distinct profiles once per chunk, not once per file.
    """
    profile = profiles[number]
    return process_path(path, profile.rules, profile.settings, apply=apply, write=write)
