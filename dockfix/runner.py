"""One file through the pipeline: read, parse, validate, lint and fix, then report.

The result is a plain, picklable ``FileReport`` so that many files can be processed in
worker processes; nothing here writes to the terminal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.edits import Applicability, CompanionEdit
from dockfix.engine import fix_document
from dockfix.files import FileProblem, SourceFile, read_source, write_atomic
from dockfix.lazy_dataclass import dataclass
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
    #: The build-context file (``.dockerignore``) the finding's fix writes, if any.
    companion: str | None = None
    #: An unsafe fix's reason: what may change in the build or the container.
    fix_reason: str = ""

    @classmethod
    def of(cls, finding: Finding) -> ReportedFinding:
        fix = finding.fix
        unsafe = fix is not None and fix.applicability is Applicability.UNSAFE
        return cls(
            finding.line,
            finding.column,
            finding.code,
            finding.name,
            finding.message,
            fix.applicability if fix else None,
            finding.note,
            finding.severity,
            fix.companion.path if fix and fix.companion else None,
            fix.reason if unsafe and fix is not None else "",
        )

    @property
    def unsafe_note(self) -> str:
        """`` (unsafe fix: <what may change>)`` for an unsafe fix with a reason, else ``""``:
        the finding says exactly what may change, in every format that shows it."""
        return f" (unsafe fix: {self.fix_reason})" if self.fix_reason else ""

    @property
    def notes(self) -> str:
        """What follows the message: why it was not fixed, or what its fix may change."""
        note = f" (not fixed: {self.note})" if self.note else ""
        return note + self.unsafe_note


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
    #: Other files of the build context the fixes change (DF212's ``.dockerignore``).
    companions: tuple[CompanionReport, ...] = ()

    @property
    def changed(self) -> bool:
        # ``output`` is set exactly when the text changed (``diff`` may be left out).
        return self.output is not None or bool(self.diff) or bool(self.companions)


@dataclass(frozen=True)
class CompanionReport:
    """A fix's edit of a file beside the Dockerfile (``Fix.companion``), as shown and written."""

    #: As shown (beside the Dockerfile's display path when the context is its folder).
    path: str
    #: The file on disk.
    target: str
    diff: str
    #: None: the file does not exist yet.
    old_text: str | None
    new_text: str
    #: The file relative to the build context, as the fix names it (``.dockerignore``).
    context_path: str = ""


def process_text(
    source: SourceFile,
    display_path: str,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    apply: bool,
    context_dir: Path | None,
    diff: bool = True,
) -> FileReport:
    """Parse, validate and fix one decoded file; never raises for bad input.

    ``diff=False`` leaves the report's ``diff`` empty, for callers that print none
    (``--check`` in text: ``changed`` still says whether the text changed).
    """
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
    shown = unified_diff(result.original, result.output, display_path) if apply and diff else ""
    return FileReport(
        display_path,
        findings=findings,
        errors=errors,
        diff=shown,
        output=result.output if result.changed else None,
        fixed=dict(result.fixed),
        unsafe_fixes=settings.unsafe_fixes,
        companions=_companion_reports(result.companions, path, context_dir),
    )


def _companion_reports(
    edits: Sequence[CompanionEdit], path: Path | None, context_dir: Path | None
) -> tuple[CompanionReport, ...]:
    """The companion edits with their diffs, named beside the Dockerfile's display path
    when the context is the Dockerfile's folder."""
    if not edits or context_dir is None:
        return ()
    shown_base = context_dir
    if path is not None and path.parent.resolve() == context_dir.resolve():
        shown_base = path.parent
    reports = []
    for edit in edits:
        shown = (shown_base / edit.path).as_posix()
        old = edit.old_text
        diff = unified_diff(old or "", edit.new_text, shown, created=old is None)
        target = str(context_dir / edit.path)
        reports.append(CompanionReport(shown, target, diff, old, edit.new_text, edit.path))
    return tuple(reports)


def write_companions(companions: Sequence[CompanionReport]) -> tuple[Error, ...]:
    """Write each companion atomically, only while the file still reads as the rule saw it
    (a new file only while there is none); an existing file keeps its encoding, BOM and
    permissions (the rule kept its line endings)."""
    errors = []
    for companion in companions:
        target = Path(companion.target)
        try:
            if companion.old_text is None:
                if target.exists() or target.is_symlink():
                    raise FileProblem(target, "appeared since it was read; left as it was")
                like = SourceFile(target, "", "utf-8", False, "\n", None)
            else:
                like = read_source(target)
                if like.text != companion.old_text:
                    raise FileProblem(
                        target, "changed since it was read (or is not UTF-8); left as it was"
                    )
            write_atomic(target, companion.new_text, like)
        except FileProblem as problem:
            errors.append(Error(0, 0, str(problem)))
    return tuple(errors)


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
    diff: bool = True,
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
    report = process_text(
        source, display, rules, settings, apply=apply, context_dir=context, diff=diff
    )
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
            errors=write_companions(report.companions),
            diff=report.diff,
            output=report.output,
            fixed=report.fixed,
            written=True,
            unsafe_fixes=report.unsafe_fixes,
            companions=report.companions,
        )
    if write and report.companions and not report.errors:
        return dataclasses.replace(report, errors=write_companions(report.companions), written=True)
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
    diff: bool = True,
) -> FileReport:
    """:func:`process_path` with the file's profile given by its index in *profiles*.

    Worker processes receive the few distinct profiles once per chunk, not once per file.
    """
    profile = profiles[number]
    return process_path(path, profile.rules, profile.settings, apply=apply, write=write, diff=diff)
