"""DF110's findings: the mounts (or ``--no-cache-dir``) and the syntax directive."""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import Applicability, Edit, FixBuilder
from dockfix.model import FileModel, StageFacts
from dockfix.model.preconditions import Precondition, evaluate
from dockfix.rules._shell import RunShell
from dockfix.rules.base import Finding, Rule
from dockfix.rules.package_cache_not_mounted.plan import Plan, unmounted_caches
from dockfix.shell import Manager
from dockfix.syntax import Dockerfile, Instruction


def findings_of(
    rule: Rule,
    document: Dockerfile,
    model: FileModel,
    plans: list[Plan],
    mounts_supported: bool | None,
    syntax_reason: str,
    add_directive: bool,
) -> Iterator[Finding]:
    for plan in plans:
        if plan.targets and mounts_supported is False:
            plan.notes.append(syntax_reason)
            plan.targets = []
        if plan.targets and mounts_supported is None:
            plan.unsafe.append(syntax_reason)
    carrier = _carrier(model, plans) if add_directive and mounts_supported else None
    if carrier is not None:
        above = _directive_site(model, document)
        for plan in plans:
            if above and plan.targets:
                plan.unsafe.append(above)
        if above.startswith("Windows"):
            carrier = None  # the engine would withdraw it: no fix may carry the line
    for plan in plans:
        note = "; ".join(dict.fromkeys(plan.notes))
        if not plan.targets:
            yield rule.finding(plan.message, plan.instruction, note=note)
            continue
        new = plan.instruction
        for target in plan.targets:
            new = document.add_flag(new, f"--mount=type=cache,target={target}")
        builder = FixBuilder(document).replace(plan.instruction, new)
        if plan is carrier:
            builder.prepend(document.make_directive("syntax", "docker/dockerfile:1"))
        edits = builder.edits()
        applicability = Applicability.UNSAFE if plan.unsafe else Applicability.SAFE
        yield rule.finding(
            plan.message,
            plan.instruction,
            edits=edits,
            applicability=applicability,
            reason="; ".join(dict.fromkeys(plan.unsafe)),
            note=note,
        )


def _directive_site(model: FileModel, document: Dockerfile) -> str:
    """Why ``# syntax=`` cannot safely go above the file's first node, or ''.

    The line is added by editing that node: when it is the ``FROM`` of a Windows stage
    (or one of unknown platform), the fix carrying it is withdrawn (or made unsafe), and
    mounts elsewhere would then go in without the directive.
    """
    first = document.nodes[0]
    facts = model.stage_of(first) if isinstance(first, Instruction) else None
    if facts is None or not isinstance(first, Instruction):
        return ""
    for precondition in (Precondition.LINUX, Precondition.POSIX_SHELL):
        verdict = evaluate(precondition, model, facts, first)
        if verdict.holds is False:
            return (
                f"Windows stage at line {first.line}: `# syntax=docker/dockerfile:1` "
                f"cannot be added above it ({verdict.reason})"
            )
        if verdict.holds is None:
            return (
                "`# syntax=docker/dockerfile:1` goes above the stage at line "
                f"{first.line}, which may not be Linux with a POSIX shell ({verdict.reason})"
            )
    return ""


def _carrier(model: FileModel, plans: list[Plan]) -> Plan | None:
    """The fix that adds the syntax directive: the first safe one the engine keeps."""
    usable = [
        plan
        for plan in plans
        if plan.targets
        and all(
            evaluate(p, model, plan.facts, plan.instruction).holds is not False
            for p in (Precondition.LINUX, Precondition.POSIX_SHELL)
        )
    ]
    for plan in usable:
        if not plan.unsafe and all(
            evaluate(p, model, plan.facts, plan.instruction).holds
            for p in (Precondition.LINUX, Precondition.POSIX_SHELL)
        ):
            return plan
    return usable[0] if usable else None


def no_cache_check(
    rule: Rule,
    document: Dockerfile,
    model: FileModel,
    facts: StageFacts,
    instruction: Instruction,
    shell: RunShell,
) -> Finding | None:
    """``cache_strategy = "no-cache"``: pip gets ``--no-cache-dir`` (any user, any folder)."""
    wanted, _ = unmounted_caches(model, facts, instruction, shell)
    if not wanted:
        return None
    packages = list(dict.fromkeys(package for package, _, _ in wanted))
    names = ", ".join(sorted({package.manager.value for package in packages}))
    message = f"{names} downloads are cached in the image layer or not kept between builds"
    edits = []
    for package in packages:
        if package.manager is Manager.PIP and package.subcommand_word is not None:
            at = shell.base + package.subcommand_word.end
            edits.append((at, at, " --no-cache-dir"))
    if not edits:
        return rule.finding(message, instruction, note="no no-cache flag for this manager")
    new = document.edit_logical(instruction, edits)
    return rule.finding(message, instruction, edits=[Edit(instruction, (new,))])
