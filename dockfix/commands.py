"""The ``dockfix`` commands (click): find Dockerfiles, report, diff, write, check.

Like black, the output mode is one value (``Mode``); like ruff, rules are chosen with
``--select``/``--ignore`` and unsafe fixes need ``--unsafe-fixes``; each file's nearest
configuration adds to that (``dockfix.profiles``).  Exit status (``dockfix.gate``): 0
nothing this mode can fix, 1 something fixable (``--fail-on`` changes what counts), 2 an
error (bad configuration or input, unreadable file, no Dockerfile found).

``dockfix.cli.main`` is the entry point: it runs the common command lines without
importing this module (and click); the main command's work is ``dockfix.main_command``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dockfix.rules.base import Rule

from dockfix import __version__
from dockfix.exit_codes import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from dockfix.main_command import execute, mode_of, read_stdin
from dockfix.strategies import CacheStrategy, SplitStrategy, choices


class _DefaultCommandGroup(click.Group):
    """``dockfix PATHS`` runs the main command; ``dockfix dump ...`` a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(
            "dockfix", "[OPTIONS] [PATHS]... | dump FILE... | verify DOCKERFILE | pr [PATHS]..."
        )


class _MainContext(click.Context):
    """``dockfix PATHS`` is the main command: usage and errors name it ``dockfix``."""

    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent is not None else super().command_path


class _MainCommand(click.Command):
    """The main command; its help also lists the other commands (``dump``, ``verify``)."""

    context_class = _MainContext

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        group = ctx.parent.command if ctx.parent is not None else None
        if isinstance(group, click.Group):
            rows = [
                (f"{name} ...", command.get_short_help_str(limit=60))
                for name, command in group.commands.items()
                if command is not self
            ]
            with formatter.section("Other commands (see `dockfix COMMAND --help`)"):
                formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


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
        click.echo(f"{rule.code:6} {rule.name:{width}} {rule.fix_label:12} {rule.summary}")


def _explain(code: str) -> None:
    from dockfix.rules import lookup

    rule = lookup(code)
    if rule is None:
        raise click.UsageError(f"unknown rule {code!r}; see `dockfix --list-rules`")
    from dockfix.rules.catalog import PRACTICES_DOC, plain_text, practices

    fix = f"{rule.fix_label} fix" if rule.kinds else "no fix"
    click.echo(f"{rule.code} {rule.name} ({fix})\n")
    click.echo(plain_text(rule.explanation), nl=False)
    numbers = practices(rule)
    if numbers:
        rows = ", ".join(str(number) for number in numbers)
        plural = "s" * (len(numbers) > 1)
        click.echo(f"\nPractice{plural} {rows} in {PRACTICES_DOC} of dockfix's repository.")
    if rule.preconditions:
        click.echo("\nPreconditions (a fix is withdrawn where one fails, unsafe where unknown):")
        for precondition in rule.preconditions:
            click.echo(f"  - {precondition.value}: {precondition.description}")


@main.command("run", cls=_MainCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--diff", "diff", is_flag=True, help="Print a unified diff of the fixes; write nothing."
)
@click.option("--write", "write", is_flag=True, help="Apply the fixes in place (atomically).")
@click.option(
    "--check",
    "check",
    is_flag=True,
    help="Print nothing; exit 1 if the mode could fix something (see --fail-on).",
)
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change behaviour.")
@click.option(
    "--ignore-noqa",
    is_flag=True,
    help="Disregard suppression comments (# dockfix: ignore, # hadolint ignore=, # check=skip=).",
)
@click.option(
    "--cache-strategy",
    type=click.Choice(choices(CacheStrategy)),
    default=None,
    help="Keep package caches out of layers with BuildKit cache mounts, or with no-cache flags."
    "  [default: mount, or the configuration's]",
)
@click.option(
    "--split-strategy",
    type=click.Choice(choices(SplitStrategy)),
    default=None,
    help="Hand the builder stage's packages to the final stage as wheels, or as a virtualenv."
    "  [default: wheels, or the configuration's]",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these rules (codes, names or prefixes; comma-separated).",
)
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this configuration file for every file (instead of the nearest one).",
)
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option(
    "--fail-on",
    type=click.Choice(["fixable", "any", "none"]),
    default="fixable",
    show_default=True,
    help="Which findings make the exit status 1: those this mode can fix, all, or none.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (errors still exit 2).")
@click.option(
    "--exit-non-zero-on-fix", is_flag=True, help="With --write: exit 1 if any file was changed."
)
@click.option("--statistics", is_flag=True, help="Print counts of findings per rule instead.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="Output format: json (one versioned document for bots), sarif (code scanning), "
    "github (workflow annotations).",
)
@click.option(
    "-j",
    "--jobs",
    metavar="N|auto",
    callback=lambda _ctx, _param, value: _jobs(value),
    help="Worker processes (default auto: one per CPU for runs of 48 files or more).",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="Path of the Dockerfile read from stdin: names it in the output; its folder is the "
    "build context.",
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
    list_rules: bool,
    explain: str | None,
) -> None:
    """Find Dockerfiles under PATHS (files or folders; `-` for stdin) and fix them.

    \b
    Default: report findings as `path:line:col: CODE message`.
    --diff / --write / --check: show, apply, or only test the fixes.
    Each file uses the nearest .dockfix.toml, dockfix.toml or pyproject.toml
    [tool.dockfix] in its folder or above (--config: one file; --isolated: none).
    Exit status: 0 nothing fixable, 1 fixable findings (see --fail-on), 2 an error.
    """
    if list_rules:
        _list_rules()
        return
    if explain:
        _explain(explain)
        return
    if sum((diff, write, check)) > 1:
        raise click.UsageError("choose one of --diff, --write and --check")
    if stdin_filename is not None and not paths:
        paths = ("-",)
    if not paths:
        raise click.UsageError("no paths given (try `dockfix .`)")
    if stdin_filename is not None and "-" not in paths:
        raise click.UsageError("--stdin-filename names standard input: give `-` or no paths")
    _rules_from(select, ignore)  # a bad --select/--ignore is a usage error, before any work
    execute(
        paths,
        mode_of(diff=diff, write=write, check=check),
        unsafe_fixes=unsafe_fixes,
        ignore_noqa=ignore_noqa,
        cache_strategy=cache_strategy,
        split_strategy=split_strategy,
        select=select,
        ignore=ignore,
        config_path=config_path,
        isolated=isolated,
        fail_on=fail_on,
        exit_zero=exit_zero,
        exit_non_zero_on_fix=exit_non_zero_on_fix,
        statistics=statistics,
        output_format=output_format,
        jobs=jobs,
        stdin_filename=stdin_filename,
        color=color,
    )


def _jobs(value: str | None) -> int | None:
    from dockfix.streaming import parse_jobs

    try:
        return None if value is None else parse_jobs(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'-j' / '--jobs'") from None


@main.command("pr", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change behaviour.")
@click.option("--ignore-noqa", is_flag=True, help="Disregard suppression comments.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this configuration file for every file.",
)
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--branch", metavar="NAME", help="Branch to create [default: dockfix/DATE-HASH].")
@click.option(
    "--body-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the PR body here and print only the title (default: both to stdout).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--verify", "verify_builds", is_flag=True, help="Build before/after (needs a builder)."
)
def pr_command(
    paths: tuple[str, ...],
    unsafe_fixes: bool,
    ignore_noqa: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: Path | None,
    isolated: bool,
    branch: str | None,
    body_file: Path | None,
    dry_run: bool,
    verify_builds: bool,
) -> None:
    """Commit the fixes under PATHS (default `.`) rule by rule on a new branch.

    Needs a clean git work tree. One commit per rule (and a last "remaining fixes"
    commit where applying rules one at a time ends elsewhere than `--write`), on branch
    dockfix/DATE-HASH; prints the PR title and markdown body. Never pushes.
    Exit status: 0 done or nothing to fix, 2 an error (dirty tree, not a repository).
    """
    from dockfix.pr import PrError, PrOptions, run_pr
    from dockfix.profiles import ConfigError, Overrides, Resolver

    _rules_from(select, ignore)  # a bad --select/--ignore is a usage error, before any work
    overrides = Overrides(
        select=select, ignore=ignore, unsafe_fixes=unsafe_fixes, ignore_noqa=ignore_noqa
    )
    try:
        resolver = Resolver(overrides, config_path=config_path, isolated=isolated)
        options = PrOptions(
            paths or (".",),
            resolver,
            unsafe_fixes=unsafe_fixes,
            branch=branch,
            body_file=body_file,
            dry_run=dry_run,
            verify=verify_builds,
            cwd=Path.cwd(),
        )
        status = run_pr(options)
    except (PrError, ConfigError) as error:
        click.echo(f"dockfix pr: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(status)


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
    import json

    from dockfix.files import FileProblem, read_source, read_stdin_source
    from dockfix.syntax import ParseError, parse

    status = EXIT_CLEAN
    for name in files:
        try:
            source = read_stdin_source(read_stdin()) if name == "-" else read_source(Path(name))
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
@click.option(
    "--repair",
    "repair_libraries",
    is_flag=True,
    help="Add the packages of missing shared libraries to the final stage, rebuild, re-check.",
)
@click.option(
    "--max-rounds",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Rebuilds --repair may make.",
)
@click.option(
    "--output",
    "output_file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Write the (repaired) rewrite to this file; '-' prints it. Never DOCKERFILE itself.",
)
def verify_command(
    dockerfile: Path,
    context_dir: Path | None,
    smoke: str | None,
    unsafe_fixes: bool,
    builder_name: str | None,
    output_format: str,
    repair_libraries: bool,
    max_rounds: int,
    output_file: Path | None,
) -> None:
    """Build DOCKERFILE before and after dockfix's fixes, run both, and compare.

    Prints image configuration differences, size and layers, the smoke test and the
    rebuild time after a source change, the shared libraries the fixed image cannot
    load (with the package and the line to add), and a verdict. --repair adds that line,
    rebuilds and checks again (at most --max-rounds times, without the rebuild-time
    probe). Exit status: 0 pass (or nothing to verify), 1 fail, 2 no builder or an
    error. DOCKERFILE itself is never modified.
    """
    import json

    from dockfix.files import read_source
    from dockfix.profiles import ConfigError, Overrides, Resolver
    from dockfix.runner import process_path
    from dockfix.verify.builders import BuilderUnavailable, find_builder
    from dockfix.verify.workflow import intended_changes, render_text, verify

    context = context_dir or dockerfile.parent
    to_stdout = output_file is not None and str(output_file) == "-"
    if output_file is not None and not to_stdout and output_file.resolve() == dockerfile.resolve():
        click.echo(f"{dockerfile}: error: --output must not be DOCKERFILE itself", err=True)
        sys.exit(EXIT_ERROR)
    try:  # the fixes `dockfix --write` would make: the file's configuration decides them
        profile = Resolver(Overrides(unsafe_fixes=unsafe_fixes)).profile_for(dockerfile)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    # The same read, validation and fix as `--write`: a rewrite it refuses is never built.
    fixed = process_path(
        dockerfile, profile.rules, profile.settings, apply=True, write=False, context_dir=context
    )
    if fixed.errors:
        for problem in fixed.errors:
            where = f"{dockerfile}:{problem.line}:{problem.column}" if problem.line else dockerfile
            click.echo(f"{where}: error: {problem.message}", err=True)
        sys.exit(EXIT_ERROR)
    original = read_source(dockerfile).text
    try:
        builder = find_builder(builder_name)
    except BuilderUnavailable as error:
        click.echo(f"{dockerfile}: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    intended = intended_changes(sorted(fixed.fixed))
    rewrite = original if fixed.output is None else fixed.output
    repair_note: dict[str, object] | None = None
    repair_line = ""
    if repair_libraries:
        from dockfix.verify.repair import repair

        outcome = repair(
            lambda text: verify(
                builder,
                dockerfile,
                context,
                original,
                text,
                smoke=smoke,
                intended=intended,
                rebuild_probe=False,
            ),
            rewrite,
            max_rounds=max_rounds,
        )
        report, rewrite = outcome.report, outcome.text
        repair_line = f"repair: added {', '.join(outcome.added) or 'nothing'}; {outcome.stopped}"
        repair_note = {
            "added": list(outcome.added),
            "stopped": outcome.stopped,
            "rounds": [
                {"round": r.number, "added": list(r.added), "verdict": r.report.verdict}
                for r in outcome.rounds
            ],
        }
    else:
        report = verify(
            builder, dockerfile, context, original, rewrite, smoke=smoke, intended=intended
        )
    if output_format == "json":
        payload = report.to_json()
        if repair_note is not None:
            payload["repair"] = repair_note
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo(render_text(report), nl=False)
        if repair_line:
            click.echo(repair_line)
    if output_file is not None:
        if to_stdout:
            click.echo(rewrite, nl=False)
        else:
            output_file.write_text(rewrite, encoding="utf-8")
    if report.before is not None and not report.before.success:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if report.verdict == "fail" else EXIT_CLEAN)
