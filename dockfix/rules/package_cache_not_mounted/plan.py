"""What DF110 would mount on one RUN, and why it leaves a cache alone."""

from __future__ import annotations

from dataclasses import field

from dockfix.lazy_dataclass import dataclass
from dockfix.model import FileModel, StageFacts, is_root_user
from dockfix.rules._shell import RunShell
from dockfix.rules.package_cache_not_mounted.caches import CACHING_MANAGERS, Cache, caches_of
from dockfix.rules.package_cache_not_mounted.conflicts import (
    mounted_over,
    removal,
    removed_paths,
)
from dockfix.rules.package_cache_not_mounted.linkmode import Linked, blocked, symlinked
from dockfix.rules.package_cache_not_mounted.memo import ModuleMemo
from dockfix.rules.package_cache_not_mounted.state import (
    Where,
    runs_as_other_user,
    unknown_user,
    user_of,
    where_of,
)
from dockfix.shell import PackageCommand
from dockfix.syntax import Instruction


@dataclass
class Plan:
    """What the rule would do to one RUN, before the directive carrier is chosen."""

    instruction: Instruction
    facts: StageFacts
    message: str
    targets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)


def unmounted_caches(
    model: FileModel, facts: StageFacts, instruction: Instruction, shell: RunShell
) -> tuple[list[tuple[PackageCommand, Where, Cache]], list[str]]:
    """(package, state, cache) the RUN leaves unmounted, and notes on the others."""
    wanted: list[tuple[PackageCommand, Where, Cache]] = []
    notes: list[str] = []
    # Most RUNs install nothing with a download cache (apt, apk...): skip reading their
    # user and variables, which only ``caches_of`` would use.
    packages = [package for package in shell.packages() if package.manager in CACHING_MANAGERS]
    if not packages:
        return wanted, notes
    step = facts.at(instruction)
    user = user_of(facts, instruction)
    for package in packages:
        where = where_of(facts, instruction, shell, package.command, user)
        for cache in caches_of(package, where, shell, model.context):
            if cache.path is None:
                wanted.append((package, where, cache))
                continue
            covered = mounted_over(instruction, step, cache.path)
            if covered is None:
                notes.append(f"an existing mount's target is not known; {cache.path} left alone")
            elif not covered:
                wanted.append((package, where, cache))
    return wanted, notes


def plan_run(
    model: FileModel,
    facts: StageFacts,
    instruction: Instruction,
    shell: RunShell,
    memo: ModuleMemo | None = None,
) -> Plan | None:
    """What the rule would do to the RUN; ``memo`` (of ``model``) answers the Go module
    questions the rule's other RUNs asked already."""
    if memo is None:
        memo = ModuleMemo(model)
    wanted, notes = unmounted_caches(model, facts, instruction, shell)
    if not wanted:
        return None
    names = ", ".join(sorted({package.manager.value for package, _, _ in wanted}))
    plan = Plan(
        instruction,
        facts,
        f"{names} downloads are cached in the image layer or not kept between builds",
        notes=notes,
    )
    user = user_of(facts, instruction)
    if is_root_user(user) is False:
        plan.notes.append(f"runs as USER {user} (a cache mount is owned by root)")
        return plan
    unknown = unknown_user(facts, instruction)
    if unknown is not None:
        value = " ".join(unknown.value)
        plan.notes.append(f"the user of `USER {value}` (line {unknown.line}) is not known")
        return plan
    removed: dict[int, list[tuple[str | None, str]]] = {}
    decided: set[str] = set()
    linked: list[Linked] | None = None  # read once, when a folder is about to be mounted
    for package, where, cache in wanted:
        other = runs_as_other_user(package.command)
        if other:
            plan.notes.append(other)
            continue
        if cache.path is None:
            plan.notes.append(cache.note or f"{package.manager.value} cache folder: {cache.why}")
            continue
        if cache.path in decided:
            continue  # another command of the RUN fills the same folder
        decided.add(cache.path)
        if linked is None:
            linked = symlinked(facts, instruction, shell)
        dangling = blocked(cache.path, linked)
        if dangling:
            plan.notes.append(dangling)
            continue
        if id(where) not in removed:
            removed[id(where)] = list(removed_paths(shell, where))
        gone = removal(cache, removed[id(where)])
        if gone:
            plan.notes.append(
                f"the RUN removes {cache.path} (`{gone}`); a mount point cannot be removed"
            )
            continue
        if cache.modules:
            mounted = memo.mounts(facts, cache.path, where.is_root)
            mounted.add(id(instruction))
            readers = memo.readers(facts, cache.path, mounted)
            if readers:
                plan.notes.append(f"Go modules stay in the image ({cache.path}): {readers}")
                continue
        if where.assumed_root and not plan.unsafe:
            image = facts.image.text if facts.image else facts.stage.image.text
            plan.unsafe.append(
                f"the user of `{image}` is not known; the mount assumes root ({cache.path})"
            )
        if cache.path not in plan.targets:
            plan.targets.append(cache.path)
    return plan
