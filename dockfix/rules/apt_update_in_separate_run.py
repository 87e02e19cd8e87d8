"""DF103 apt-update-in-separate-run: ``apt-get update`` in a RUN of its own.

What it does
    Finds a RUN whose only commands are ``apt-get update`` (or ``apt update``) followed
    by a RUN that runs ``apt-get install``, and merges the update into the install RUN,
    deleting the lone update::

        RUN apt-get update                      RUN apt-get update && apt-get install -y curl
        RUN apt-get install -y curl     ->

    When the next RUN updates for itself before installing, the lone update is simply
    deleted.  It also reports (without a fix) an ``apt-get install`` RUN without
    ``apt-get update`` before it in the same RUN when an earlier RUN of the stage ran
    the update.

Why is this bad?
    The build cache keys a RUN on its text.  The lone update layer is reused for months
    while the install RUN's package list changes, so the install reads stale lists and
    fails ("Unable to locate package", 404s on removed versions) or installs outdated
    versions.  Docker's best practices say: always combine ``apt-get update`` with
    ``apt-get install`` in the same RUN.

Fix safety
    Safe: the commands run in the same order, now in one shell.  The fix is offered
    only when nothing between the two RUNs changes how a RUN runs or what the update
    reads -- only ``ENV``, ``ARG``, ``LABEL``, ``EXPOSE``, ``STOPSIGNAL``,
    ``HEALTHCHECK``, ``CMD``, ``ENTRYPOINT``, ``ONBUILD`` and ``MAINTAINER`` may stand
    between (a ``USER``, ``WORKDIR``, ``SHELL``, ``COPY`` ... is reported instead) --
    when both RUNs have the same flags (mounts, network), when the install RUN is a
    plain ``&&`` chain (so that a failed update still stops it) that does not run
    ``apt-get update`` itself (it would then run twice), when the lone update RUN
    holds no comment lines and no ``#`` comment in its shell text (deleting it would
    drop them) and has no
    ``# hadolint ignore=``/``# dockfix: ignore`` pragma above it (deleting it would
    hand the pragma to another instruction).  Comment lines between the two RUNs stay
    where they are.

References
    practices.md row 4 (``apt-get update`` and ``apt-get install`` in one RUN); hadolint
    DL3009's family (DL3059 counts the extra RUN); Docker's Dockerfile best practices
    ("Always combine RUN apt-get update with apt-get install in the same RUN").
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import APT, and_chain, packages
from dockfix.rules._shell import RunShell, run_comments, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import PackageCommand, top_level_and_chain
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.document import Stage

#: Instructions that neither run anything nor change how the next RUN runs.
TRANSPARENT = frozenset(
    {
        "ENV",
        "ARG",
        "LABEL",
        "EXPOSE",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "CMD",
        "ENTRYPOINT",
        "ONBUILD",
        "MAINTAINER",
    }
)
UPDATE_MESSAGE = "`apt-get update` runs in a RUN of its own; its lists go stale in the build cache"
RELIES_MESSAGE = "`apt-get install` relies on the package lists of an earlier RUN (line {line})"
PRAGMA_NOTE = "a pragma above the update RUN would then apply to another instruction"
SHELL_COMMENT_NOTE = "the update RUN holds a `#` comment, which deleting it would drop"


def lone_update(shell: RunShell) -> bool:
    """True for a RUN whose commands are all ``apt-get update`` (``&&``-chained)."""
    found = packages(shell, APT)
    if not found:
        return False
    chain = top_level_and_chain(shell.script)
    if not chain:
        return False
    return len(found) == len(chain) and all(package.action == "update" for package in found)


def first_unprepared_install(shell: RunShell) -> PackageCommand | None:
    """The first ``apt-get install`` that runs before any update of its own RUN."""
    apt = packages(shell, APT)
    first_update = min((p.command.start for p in apt if p.action == "update"), default=None)
    for package in apt:
        if package.action == "install" and (
            first_update is None or package.command.start < first_update
        ):
            return package
    return None


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for stage in document.stages:
        last_update: Instruction | None = None
        reported: set[int] = set()  # install RUNs already reported along with their update
        for index, instruction in enumerate(stage.instructions):
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue  # exec form, heredocs, unparsed shell: commands out of sight
            if not packages(shell, APT):
                continue  # no apt command: no update, no install (most RUNs)
            if lone_update(shell):
                for finding, about in _merge(rule, document, stage, index, shell):
                    reported.add(id(about))
                    yield finding
            if (
                last_update is not None
                and id(instruction) not in reported
                and first_unprepared_install(shell) is not None
            ):
                yield rule.finding(RELIES_MESSAGE.format(line=last_update.line), instruction)
            if any(p.action == "update" for p in packages(shell, APT)):
                last_update = instruction


def _merge(
    rule: Rule, document: Dockerfile, stage: Stage, index: int, update: RunShell
) -> Iterator[tuple[Finding, Instruction]]:
    """Findings (with the instruction each is about) for a lone update RUN and the RUN
    after it."""
    between: list[Instruction] = []
    target: Instruction | None = None
    for later in stage.instructions[index + 1 :]:
        if later.cmd == "RUN":
            target = later
            break
        between.append(later)
    install_shell = run_shell(target) if target is not None else None
    if target is None or not isinstance(install_shell, RunShell):
        return  # nothing after, or a RUN whose commands are out of sight
    lone = update.instruction
    if first_unprepared_install(install_shell) is None:
        if any(p.action == "install" for p in packages(install_shell, APT)):
            yield _delete_redundant(rule, document, lone), lone
        return  # the next RUN installs nothing: a later install RUN gets the report
    relies = RELIES_MESSAGE.format(line=lone.line)
    chain = and_chain(install_shell.script)
    blocker = next((i for i in between if i.cmd not in TRANSPARENT), None)
    note = ""
    if blocker is not None:
        note = f"the {blocker.cmd} on line {blocker.line} between the RUNs may change them"
    elif lone.comments:
        note = "the update RUN holds comment lines"
    elif run_comments(lone):
        note = SHELL_COMMENT_NOTE
    elif sorted(lone.reading.flags) != sorted(target.reading.flags):
        note = "the two RUNs have different flags"
    elif chain is None:
        note = "the install RUN is not a plain && chain"
    elif any(p.action == "update" for p in packages(install_shell, APT)):
        note = "the install RUN runs `apt-get update` itself: merged, it would run twice"
    elif _pragma_above(document, lone):
        note = PRAGMA_NOTE
    if note or chain is None:
        yield rule.finding(UPDATE_MESSAGE, lone, note=note), lone
        yield rule.finding(relies, target), target
        return
    update_chain = top_level_and_chain(update.script) or []
    update_text = update.script.text[update_chain[0].start : update_chain[-1].end]
    if not any(char in update_text for char in "'\"\\$`"):
        # Continuation lines joined: `apt-get update \ -qq` reads `apt-get update    -qq`.
        update_text = " ".join(update_text.split())
    start = install_shell.base + chain[0].start
    new = document.edit_logical(target, [(start, start, f"{update_text} && ")])
    # One fix, offered by both findings: the engine applies it once.
    edits = [Edit(lone, ()), Edit(target, (new,))]
    yield rule.finding(UPDATE_MESSAGE, lone, edits=edits), lone
    yield rule.finding(relies, target, edits=edits), target


def _delete_redundant(rule: Rule, document: Dockerfile, lone: Instruction) -> Finding:
    """The next RUN updates before it installs: the lone update only adds a layer."""
    if lone.comments:
        return rule.finding(UPDATE_MESSAGE, lone, note="the update RUN holds comment lines")
    if run_comments(lone):
        return rule.finding(UPDATE_MESSAGE, lone, note=SHELL_COMMENT_NOTE)
    if _pragma_above(document, lone):
        return rule.finding(UPDATE_MESSAGE, lone, note=PRAGMA_NOTE)
    return rule.finding(UPDATE_MESSAGE, lone, edits=[Edit(lone, ())])


def _pragma_above(document: Dockerfile, instruction: Instruction) -> bool:
    """A ``# hadolint ignore=``/``# dockfix: ignore`` pragma applies to ``instruction``:
    deleting it would hand the pragma to whatever comes next."""
    from dockfix.suppressions import collect  # imports the rule registry

    return bool(collect(document).by_instruction.get(id(instruction)))


RULE = Rule(
    code="DF103",
    name="apt-update-in-separate-run",
    summary="Run `apt-get update` in the same RUN as the `apt-get install` that needs it",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
