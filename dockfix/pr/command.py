"""``dockfix pr`` end to end: check the work tree, plan, commit rule by rule, describe.

Refuses to start on a tree with uncommitted changes (they would end up mixed into the
bot's commits, or be overwritten); everything that can fail is checked before the new
branch is made.  Never pushes and needs no network.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path

import click

from dockfix.discovery import discover
from dockfix.exit_codes import EXIT_CLEAN
from dockfix.files import FileProblem, write_atomic
from dockfix.lazy_dataclass import dataclass
from dockfix.pr import git
from dockfix.pr.body import VerifyOutcome, body, commit_message, step_title, title
from dockfix.pr.plan import Plan, Target, make_plan
from dockfix.profiles import ConfigError, Profile, Resolver
from dockfix.runner import write_companions


class PrError(Exception):
    """Why ``dockfix pr`` cannot go on; printed as one line, exit status 2."""


@dataclass(frozen=True)
class PrOptions:
    paths: tuple[str, ...]
    #: Rules and settings per file: the nearest configuration plus the command line.
    resolver: Resolver
    unsafe_fixes: bool = False
    branch: str | None = None
    body_file: Path | None = None
    dry_run: bool = False
    verify: bool = False
    cwd: Path = Path(".")


def _echo_err(message: str) -> None:
    click.echo(f"dockfix pr: {message}", err=True)


def _files(root: Path, options: PrOptions) -> tuple[list[tuple[Path, str, Profile]], list[str]]:
    """Tracked Dockerfiles under the paths: repository-relative names and profiles."""
    paths = [options.cwd / p for p in options.paths]
    resolver = options.resolver
    found, problems = discover(paths, excluded=resolver.excluded, included=resolver.included)
    if problems:
        raise PrError("; ".join(f"{p.path}: {p.message}" for p in problems))
    named: list[tuple[Path, str]] = []
    notes = []
    for path in found:
        absolute = path if path.is_absolute() else options.cwd / path
        rel = os.path.relpath(absolute.resolve(), root)
        if rel.startswith(".."):
            notes.append(f"{path}: outside the repository, left alone")
            continue
        named.append((absolute, Path(rel).as_posix()))
    known = git.tracked(root, [rel for _, rel in named])
    for _, rel in named:
        if rel not in known:
            notes.append(f"{rel}: not tracked by git, left alone")
    chosen = [(p, rel, resolver.profile_for(p)) for p, rel in named if rel in known]
    return chosen, notes


def _branch(root: Path, options: PrOptions, head: str) -> str:
    name = options.branch or f"dockfix/{datetime.date.today():%Y-%m-%d}-{head[:7]}"
    if not git.valid_branch_name(root, name):
        raise PrError(f"{name!r} is not a valid branch name")
    if git.branch_exists(root, name):
        raise PrError(f"branch {name!r} already exists (delete it or pass --branch NAME)")
    return name


def plan_text(plan: Plan, branch: str) -> str:
    """What ``--dry-run`` prints: the branch, each commit and its files."""
    lines = [f"branch: {branch} (not created: --dry-run)"]
    for number, step in enumerate(plan.steps, 1):
        lines.append(f"{number}. {step_title(step)}")
        lines += [f"     {c.path} (+{c.added} -{c.removed})" for c in step.changes]
    for path, why in plan.skipped:
        lines.append(f"left alone: {path}: {why}")
    lines.append(f"title: {title(plan)}")
    return "\n".join(lines) + "\n"


def commit_plan(root: Path, plan: Plan) -> list[str]:
    """Commit the plan's steps in ``root``'s repository, one commit a step; the hashes."""
    by_rel = {t.rel: t for t in plan.targets}
    hashes = []
    for step in plan.steps:
        for change in step.changes:
            companion = plan.companions.get(change.path)
            if companion is not None:
                errors = write_companions([companion])
                if errors:
                    raise PrError(errors[0].message)
                continue
            target = by_rel[change.path]
            try:
                write_atomic(target.path, change.after, target.source)
            except FileProblem as problem:
                raise PrError(problem.message) from None
        hashes.append(git.commit(root, step.paths, commit_message(step)))
    return hashes


def _verify(targets: Sequence[Target]) -> tuple[list[VerifyOutcome] | None, str]:
    """``dockfix verify`` of each changed file, or None and why it could not run."""
    from dockfix.verify.builders import BuilderUnavailable, find_builder
    from dockfix.verify.workflow import intended_changes, verify

    try:
        builder = find_builder()
    except BuilderUnavailable as error:
        return None, f"Not run: no image builder here ({' '.join(str(error).split())})."
    outcomes = []
    for target in targets:
        try:
            report = verify(
                builder,
                target.path,
                target.path.parent,
                target.source.text,
                target.final,
                intended=intended_changes(sorted(target.fixed)),
            )
        except Exception as error:  # a builder failure costs this file's row only
            outcomes.append(VerifyOutcome(target.rel, "error", " ".join(str(error).split())))
            continue
        outcomes.append(
            VerifyOutcome(
                target.rel,
                report.verdict,
                "; ".join(report.reasons),
                report.before.size_mb if report.before else None,
                report.after.size_mb if report.after else None,
            )
        )
    return outcomes, f"Built before and after with {builder.kind.value}."


def run_pr(options: PrOptions) -> int:
    """Do it; returns the exit status (0 done or nothing to do).  Raises PrError."""
    try:
        root = git.toplevel(options.cwd)
        head = git.head(root)
        dirty = git.dirty_paths(root)
        if dirty:
            shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise PrError(
                f"the work tree has uncommitted changes ({shown}); commit or stash them first"
            )
        files, notes = _files(root, options)
        for note in notes:
            _echo_err(note)
        plan = make_plan(files)
        if not plan.steps:
            _echo_err(f"nothing to fix in {len(files)} Dockerfile(s); no branch made")
            return EXIT_CLEAN
        branch = _branch(root, options, head)
        if options.dry_run:
            click.echo(plan_text(plan, branch), nl=False)
            return EXIT_CLEAN
        if not git.has_identity(root):
            raise PrError("git has no user identity here: set user.name and user.email")
        git.create_branch(root, branch)
        try:
            hashes = commit_plan(root, plan)
        except (git.GitError, PrError) as error:
            raise PrError(f"{error} (left on branch {branch!r}, partly committed)") from None
    except (git.GitError, ConfigError) as error:
        raise PrError(str(error)) from None
    outcomes, note = _verify(plan.changed) if options.verify else (None, "")
    text = body(plan, unsafe_fixes=options.unsafe_fixes, verify=outcomes, verify_note=note)
    if options.body_file is not None:
        try:
            options.body_file.write_text(text, encoding="utf-8")
        except OSError as error:
            raise PrError(f"cannot write {options.body_file}: {error.strerror or error}") from None
        click.echo(title(plan))
    else:
        click.echo(f"{title(plan)}\n\n{text}", nl=False)
    _echo_err(
        f"branch {branch}: {len(hashes)} commit(s) over "
        f"{len(plan.changed) + len(plan.companions)} file(s); "
        "push it and open the pull request (nothing was pushed)"
    )
    return EXIT_CLEAN
