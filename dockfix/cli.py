"""The ``dockfix`` command line (click): find Dockerfiles, report, diff, write, check.

Like black, the output mode is one value (``Mode``); like ruff, rules are chosen with
``--select``/``--ignore`` and unsafe fixes need ``--unsafe-fixes``.  Exit status:
0 nothing to do, 1 findings or changes, 2 an error (bad input, unreadable file).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dockfix.output.report import Printer
    from dockfix.rules.base import Rule, Settings
    from dockfix.runner import FileReport

from dockfix import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: Below this many files, worker processes cost more than they save.
PARALLEL_THRESHOLD = 48


class Mode(enum.Enum):
    """What to do with the fixed text."""

    REPORT = "report"
    DIFF = "diff"
    WRITE = "write"
    CHECK = "check"


class _DefaultCommandGroup(click.Group):
    """``dockfix PATHS`` runs the main command; ``dockfix dump ...`` a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("dockfix", "[OPTIONS] [PATHS]... | dump FILE... | verify DOCKERFILE")


@click.group(cls=_DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Rewrite Dockerfiles to follow best practice, without touching anything else."""


def _rules_from(select: Sequence[str], ignore: Sequence[str]) -> tuple[Rule, ...]:
    from dockfix.rules import select_rules

    try:
        return select_rules(select, ignore)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _list_rules() -> None:
    from dockfix.rules import ALL_RULES

    width = max(len(rule.name) for rule in ALL_RULES)
    click.echo(f"{'code':6} {'name':{width}} {'fix':12} summary")
    for rule in ALL_RULES:
        click.echo(
            f"{rule.code:6} {rule.name:{width}} {rule.applicability.value:12} {rule.summary}"
        )


def _explain(code: str) -> None:
    from dockfix.rules import lookup

    rule = lookup(code)
    if rule is None:
        raise click.UsageError(f"unknown rule {code!r}; see `dockfix --list-rules`")
    click.echo(f"{rule.code} {rule.name} ({rule.applicability.value} fix)\n")
    click.echo(rule.explanation.strip())


@main.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--diff", "diff", is_flag=True, help="Print a unified diff of the fixes; write nothing."
)
@click.option("--write", "write", is_flag=True, help="Apply the fixes in place (atomically).")
@click.option(
    "--check",
    "check",
    is_flag=True,
    help="Print nothing; exit 1 if anything would change or is reported.",
)
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change behaviour.")
@click.option(
    "--cache-strategy",
    type=click.Choice(["mount", "no-cache"]),
    default="mount",
    show_default=True,
    help="Keep package caches out of layers with BuildKit cache mounts, or with no-cache flags.",
)
@click.option(
    "--split-strategy",
    type=click.Choice(["wheels", "venv"]),
    default="wheels",
    show_default=True,
    help="Hand the builder stage's packages to the final stage as wheels, or as a virtualenv.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these rules (codes, names or prefixes; comma-separated).",
)
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json is one document for bots.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the diff (default: when stdout is a terminal)."
)
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.option("--explain", metavar="CODE", help="Show one rule's documentation and exit.")
@click.version_option(__version__, "--version", prog_name="dockfix")
def run(
    paths: tuple[str, ...],
    diff: bool,
    write: bool,
    check: bool,
    unsafe_fixes: bool,
    cache_strategy: str,
    split_strategy: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    color: bool | None,
    list_rules: bool,
    explain: str | None,
) -> None:
    """Find Dockerfiles under PATHS (files or folders; `-` for stdin) and fix them.

    \b
    Default: report findings as `path:line:col: CODE message`.
    --diff / --write / --check: show, apply, or only test the fixes.
    Other commands: `dockfix dump FILE...` prints BuildKit's reading as JSON Lines.
    """
    if list_rules:
        _list_rules()
        return
    if explain:
        _explain(explain)
        return
    if sum((diff, write, check)) > 1:
        raise click.UsageError("choose one of --diff, --write and --check")
    if not paths:
        raise click.UsageError("no paths given (try `dockfix .`)")
    mode = Mode.DIFF if diff else Mode.WRITE if write else Mode.CHECK if check else Mode.REPORT
    from dockfix.rules.base import Settings

    settings = Settings(
        unsafe_fixes=unsafe_fixes, cache_strategy=cache_strategy, split_strategy=split_strategy
    )
    rules = _rules_from(select, ignore)
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    from dockfix.output.report import Printer

    printer = Printer(mode.value, output_format, color=color, settings=settings)
    status = _run(paths, mode, rules, settings, printer)
    sys.exit(status)


def _run(
    paths: Sequence[str],
    mode: Mode,
    rules: Sequence[Rule],
    settings: Settings,
    printer: Printer,
) -> int:
    from dockfix.discovery import discover
    from dockfix.files import FileProblem, read_stdin_source
    from dockfix.runner import Error, FileReport, process_text

    reports: list[FileReport] = []
    file_paths = [Path(p) for p in paths if p != "-"]
    found, problems = discover(file_paths) if file_paths else ([], [])
    for problem in problems:
        reports.append(FileReport(str(problem.path), errors=(Error(0, 0, problem.message),)))
    if "-" in paths:
        try:
            source = read_stdin_source(_read_stdin())
            report = process_text(source, "-", rules, settings, apply=True, context_dir=None)
        except FileProblem as problem:
            report = FileReport("-", errors=(Error(0, 0, problem.message),))
        if mode in (Mode.REPORT, Mode.WRITE) and not report.errors:
            text = report.output if report.output is not None else source.text
            sys.stdout.buffer.write(text.encode(source.encoding, "surrogateescape"))
            sys.stdout.flush()
            printer.stdout_taken = True
            if mode is Mode.WRITE and report.output is not None:
                # stdout is where `--write -` writes: count the fixes as applied, like a file's.
                report = dataclasses.replace(report, written=True)
        reports.append(report)
    reports.extend(_process_all(found, mode, rules, settings))
    return printer.emit(reports)


def _read_stdin() -> bytes:
    """All of standard input; a closed or unreadable stdin is a FileProblem, not a traceback."""
    from dockfix.files import FileProblem

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise FileProblem(Path("-"), "standard input is closed")
    try:
        return stream.read()
    except OSError as exc:
        raise FileProblem(Path("-"), f"cannot read standard input: {exc.strerror or exc}") from exc


def _process_all(
    files: Sequence[Path], mode: Mode, rules: Sequence[Rule], settings: Settings
) -> list[FileReport]:
    from dockfix.runner import process_path

    apply = True  # even a report needs the fixed text, to say which files --write would change
    write = mode is Mode.WRITE
    if len(files) < PARALLEL_THRESHOLD or (os.cpu_count() or 1) < 2:
        return [process_path(p, rules, settings, apply=apply, write=write) for p in files]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    work = partial(process_path, rules=rules, settings=settings, apply=apply, write=write)
    # forkserver: workers start from a clean process, never from a fork of one that may
    # hold a lock in another thread.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=context) as pool:
        return list(pool.map(work, files, chunksize=16))


@main.command("dump", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def dump(files: tuple[str, ...]) -> None:
    """Print BuildKit's reading of each FILE as one JSON line.

    \b
    {"path": ..., "instructions": [{cmd, sub_cmd, json, flags, value, heredocs,
     start_line, end_line, original}, ...]}
    or {"path": ..., "error": {"line", "column", "message"}}.
    The fields mean what the `Command` records of the `dockerfile` package mean.
    """
    from dockfix.files import FileProblem, read_source, read_stdin_source
    from dockfix.syntax import ParseError, parse

    status = EXIT_CLEAN
    for name in files:
        try:
            source = read_stdin_source(_read_stdin()) if name == "-" else read_source(Path(name))
            document = parse(source.text)
            record: dict[str, object] = {
                "path": name,
                "instructions": [i.record() for i in document.instructions],
            }
        except FileProblem as problem:
            record = {"path": name, "error": {"line": 0, "column": 0, "message": problem.message}}
            status = EXIT_ERROR
        except ParseError as error:
            record = {
                "path": name,
                "error": {"line": error.line, "column": error.column, "message": error.message},
            }
            status = EXIT_ERROR
        except Exception as error:  # a parser bug: report it as this file's error, go on
            message = f"internal error ({type(error).__name__}: {' '.join(str(error).split())})"
            record = {"path": name, "error": {"line": 0, "column": 0, "message": message}}
            status = EXIT_ERROR
        click.echo(json.dumps(record))
    sys.exit(status)


@main.command("verify", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("dockerfile", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--context",
    "context_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Build context (default: the Dockerfile's folder).",
)
@click.option(
    "--smoke",
    help="Shell command run in both images; must exit 0 (default: the image's own command starts).",
)
@click.option("--unsafe-fixes", is_flag=True, help="Verify the unsafe fixes too.")
@click.option(
    "--builder",
    "builder_name",
    type=click.Choice(["docker", "podman", "buildah"]),
    help="Builder to use (default: the first that works).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def verify_command(
    dockerfile: Path,
    context_dir: Path | None,
    smoke: str | None,
    unsafe_fixes: bool,
    builder_name: str | None,
    output_format: str,
) -> None:
    """Build DOCKERFILE before and after dockfix's fixes, run both, and compare.

    Prints image configuration differences, size and layers, the smoke test and the
    rebuild time after a source change, and a verdict. Exit status: 0 pass (or nothing
    to verify), 1 fail, 2 no builder or an error. DOCKERFILE itself is never modified.
    """
    from dockfix.engine import fix_document
    from dockfix.files import FileProblem, read_source
    from dockfix.rules import ALL_RULES
    from dockfix.rules.base import Settings
    from dockfix.syntax import ParseError, parse
    from dockfix.verify.builders import BuilderUnavailable, find_builder
    from dockfix.verify.workflow import intended_changes, render_text, verify

    context = context_dir or dockerfile.parent
    try:
        source = read_source(dockerfile)
        document = parse(source.text)
    except FileProblem as problem:
        click.echo(f"{dockerfile}: error: {problem.message}", err=True)
        sys.exit(EXIT_ERROR)
    except ParseError as error:
        click.echo(f"{dockerfile}:{error.line}:{error.column}: error: {error.message}", err=True)
        sys.exit(EXIT_ERROR)
    result = fix_document(
        document,
        ALL_RULES,
        Settings(unsafe_fixes=unsafe_fixes),
        path=dockerfile,
        context_dir=context,
    )
    try:
        builder = find_builder(builder_name)
    except BuilderUnavailable as error:
        click.echo(f"{dockerfile}: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    report = verify(
        builder,
        dockerfile,
        context,
        source.text,
        result.output,
        smoke=smoke,
        intended=intended_changes(sorted(result.fixed)),
    )
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2, default=str))
    else:
        click.echo(render_text(report), nl=False)
    if report.before is not None and not report.before.success:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if report.verdict == "fail" else EXIT_CLEAN)
