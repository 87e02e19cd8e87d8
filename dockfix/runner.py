"""One file through the pipeline: read, parse, validate, lint and fix, then report.

The result is a plain, picklable ``FileReport`` so that many files can be processed in
worker processes; nothing here writes to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.edits import Applicability
from dockfix.engine import fix_document
from dockfix.files import FileProblem, SourceFile, read_source, write_atomic
from dockfix.output.diff import unified_diff
from dockfix.problems import Problem
from dockfix.rules.base import Finding, Rule, Settings

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
    #: How far the finding's fix can be trusted; None: the finding has no fix.
    applicability: Applicability | None
    note: str = ""
    severity: str = "warning"

    @classmethod
    def of(cls, finding: Finding) -> ReportedFinding:
        applicability = finding.fix.applicability if finding.fix else None
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


#: A problem that stops dockfix from touching the file (line 0: the whole file).
Error = Problem


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
    errors = result.problems
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


def process_path(
    path: Path,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    apply: bool,
    write: bool,
    context_dir: Path | None = None,
) -> FileReport:
    """Read, fix and (when ``write``) atomically rewrite one file on disk.

    The one path every command takes (``--write``, ``--diff``, ``verify``, ``pr``), so
    none builds a rewrite another would refuse.  ``context_dir`` defaults to the file's
    folder.
    """
    display = str(path)
    try:
        source = read_source(path)
    except FileProblem as problem:
        return FileReport(display, errors=(Error(0, 0, problem.message),))
    context = path.parent if context_dir is None else context_dir
    report = process_text(source, display, rules, settings, apply=apply, context_dir=context)
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
    if finding.applicability is Applicability.SAFE:
        return True
    return finding.applicability is Applicability.UNSAFE and settings.unsafe_fixes


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
