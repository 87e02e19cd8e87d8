"""What ``dockfix PATHS`` does once its options are read: fix, print, exit.

Kept apart from click (``dockfix.commands`` reads the options for it, and so does
``dockfix.cli`` for the common command lines, without importing click): click is imported
here only to print a message to stderr, exactly as its ``echo`` does.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.exit_codes import EXIT_ERROR
from dockfix.output.mode import Mode

if TYPE_CHECKING:
    from dockfix.output.report import Printer
    from dockfix.profiles import Resolver
    from dockfix.runner import FileReport

#: Below this many files, worker processes cost more than they save.
PARALLEL_THRESHOLD = 48


def mode_of(*, diff: bool, write: bool, check: bool) -> Mode:
    """The output mode of the ``--diff``/``--write``/``--check`` flags (at most one set)."""
    return Mode.DIFF if diff else Mode.WRITE if write else Mode.CHECK if check else Mode.REPORT


def execute(
    paths: Sequence[str],
    mode: Mode,
    *,
    unsafe_fixes: bool,
    ignore_noqa: bool,
    cache_strategy: str | None,
    split_strategy: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: Path | None,
    isolated: bool,
    fail_on: str,
    exit_zero: bool,
    exit_non_zero_on_fix: bool,
    statistics: bool,
    output_format: str,
    jobs: int | None,
    stdin_filename: str | None,
    color: bool | None,
) -> None:
    """Run the main command on options already checked (see ``commands.run``); exits."""
    from dockfix.gate import Gate
    from dockfix.profiles import ConfigError, Overrides, Resolver
    from dockfix.rules.base import Settings

    overrides = Overrides(
        select=select,
        ignore=ignore,
        unsafe_fixes=unsafe_fixes,
        cache_strategy=cache_strategy,
        split_strategy=split_strategy,
        ignore_noqa=ignore_noqa,
    )
    settings = Settings(unsafe_fixes=unsafe_fixes, ignore_noqa=ignore_noqa)
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    from dockfix.output.report import Printer

    printer = Printer(
        Mode.CHECK if statistics else mode,
        "text" if statistics else output_format,
        color=color,
        settings=settings,
    )
    gate = Gate(fail_on, exit_zero, exit_non_zero_on_fix, unsafe_fixes)
    try:
        resolver = Resolver(overrides, config_path=config_path, isolated=isolated)
        reports = _run(paths, mode, resolver, printer, jobs=jobs, stdin_filename=stdin_filename)
    except ConfigError as error:
        _echo(f"error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    if reports is None:
        sys.exit(EXIT_ERROR)
    if statistics:
        _print_statistics(reports, output_format, unsafe_fixes)
    sys.exit(gate.status(reports))


def _echo(message: str, *, err: bool = False, nl: bool = True) -> None:
    import click

    click.echo(message, err=err, nl=nl)


def _print_statistics(reports: Sequence[FileReport], output_format: str, unsafe: bool) -> None:
    from dockfix.output.statistics import count, render_json, render_text

    rows = count(reports, unsafe_fixes=unsafe)
    _echo(render_json(rows) if output_format == "json" else render_text(rows), nl=False)


def _run(
    paths: Sequence[str],
    mode: Mode,
    resolver: Resolver,
    printer: Printer,
    *,
    jobs: int | None = None,
    stdin_filename: str | None = None,
) -> list[FileReport] | None:
    """Process and print; None (after a warning) when the paths hold no Dockerfile.

    Each file is printed as soon as it and all files before it are done (dockfix.streaming).
    """
    from contextlib import closing

    from dockfix.discovery import discover
    from dockfix.runner import Error, FileReport
    from dockfix.streaming import (
        PROGRESS_THRESHOLD,
        Progress,
        process_files,
        stderr_is_terminal,
        with_repo_headers,
        worker_count,
    )

    reports: list[FileReport] = []
    file_paths = [Path(p) for p in paths if p != "-"]
    found, problems = (
        discover(file_paths, excluded=resolver.excluded, included=resolver.included)
        if file_paths
        else ([], [])
    )
    if file_paths and not found and not problems and "-" not in paths:
        # Most likely a typo or a wrong folder: a green run that checked nothing would hide it.
        names = " ".join(str(p) for p in file_paths)
        _echo(f"warning: no Dockerfiles found in {names}", err=True)
        return None
    for problem in problems:
        reports.append(FileReport(str(problem.path), errors=(Error(0, 0, problem.message),)))
        printer.add(reports[-1])
    if "-" in paths:
        report = _stdin_report(mode, resolver, printer, stdin_filename)
        reports.append(with_repo_headers(report, printer.paths))
        printer.add(reports[-1])
    workers = worker_count(jobs, len(found), PARALLEL_THRESHOLD)
    bar = (
        printer.output_format == "text"
        and len(found) >= PROGRESS_THRESHOLD
        and stderr_is_terminal()
    )
    profiles = [resolver.profile_for(p) for p in found]
    # `--check` in text or GitHub annotations prints no diff: none is computed.
    diff = not (mode is Mode.CHECK and printer.output_format in ("text", "github"))
    stream = process_files(found, profiles, write=mode is Mode.WRITE, workers=workers, diff=diff)
    with Progress(len(found), enabled=bar) as progress, closing(stream):
        for report in stream:
            if report.errors or report.findings or report.diff:
                progress.before_output()
            reports.append(with_repo_headers(report, printer.paths))
            printer.add(reports[-1])
            progress.advance()
    printer.finish()
    return reports


def _stdin_report(
    mode: Mode, resolver: Resolver, printer: Printer, stdin_filename: str | None
) -> FileReport:
    """Fix standard input; in report and write mode its text goes to stdout, fixed or not.

    Editors pipe a buffer through ``dockfix -`` and replace it with what comes back, so input
    dockfix cannot fix (a parse error) is echoed unchanged; the error goes to stderr, exit 2.
    ``--stdin-filename`` gives the path to show and the build context (its folder).
    """
    from dockfix.files import FileProblem, SourceFile, read_stdin_source
    from dockfix.runner import Error, FileReport, process_text

    display = stdin_filename or "-"
    named = Path(stdin_filename) if stdin_filename else None
    data: bytes | None = None
    source: SourceFile | None = None
    try:
        data = read_stdin()
        source = read_stdin_source(data)
        profile = resolver.profile_for(named)
    except FileProblem as problem:
        report = FileReport(display, errors=(Error(0, 0, problem.message),))
    else:
        context = named.parent if named is not None and named.parent.is_dir() else None
        report = process_text(
            source, display, profile.rules, profile.settings, apply=True, context_dir=context
        )
        # Standard input only ever writes stdout: no file beside it (DF212's .dockerignore).
        report = dataclasses.replace(report, companions=())
    if mode in (Mode.REPORT, Mode.WRITE) and data is not None:
        if source is not None and not report.errors:
            text = report.output if report.output is not None else source.text
            data = text.encode(source.encoding, "surrogateescape")
            if mode is Mode.WRITE and report.output is not None:
                # stdout is where `--write -` writes: count the fixes as applied, like a file's.
                report = dataclasses.replace(report, written=True)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        printer.stdout_taken = True
    return report


def read_stdin() -> bytes:
    """All of standard input; a closed or unreadable stdin is a FileProblem, not a traceback."""
    from dockfix.files import FileProblem

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise FileProblem(Path("-"), "standard input is closed")
    try:
        data: bytes = stream.read()
        return data
    except OSError as exc:
        raise FileProblem(Path("-"), f"cannot read standard input: {exc.strerror or exc}") from exc
