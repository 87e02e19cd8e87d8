"""DF109 dnf-without-clean: ``yum``/``dnf``/``microdnf install`` leaves its cache behind.

What it does
    Finds a RUN that runs ``yum install``, ``dnf install`` or ``microdnf install``
    without ``<tool> clean all`` after it, and appends ``&& <tool> clean all`` (on the
    same line, or on a new continuation line laid out like the RUN's other ``&&`` lines).

Why is this bad?
    The RPM tools keep repository metadata and downloaded packages under
    ``/var/cache/yum`` or ``/var/cache/dnf``: often a hundred megabytes that the image
    never uses.  Files deleted by a later RUN still take space in the earlier layer, so
    the clean-up must happen in the RUN that installed (practice 4 of the article).

Example
    ``RUN dnf install -y gcc`` becomes ``RUN dnf install -y gcc && dnf clean all``.

Fix safety
    Safe when the RUN is a plain ``c1 && ... && cN`` chain (otherwise the appended
    command could run where the original stopped or change the exit status; the finding
    is then reported without a fix).  Unlike apt, these tools download fresh metadata
    by themselves when it is missing, so later RUNs do not depend on the cache -- except
    ones that insist on it (``-C``/``--cacheonly``), which block the fix.  A RUN with a
    cache or tmpfs mount on the tool's cache directory keeps nothing in the layer and is
    not reported.  ``rm -rf /var/cache/yum`` (or ``/var/cache/dnf``) counts as a clean-up.

References
    practices.md row 4 (delete temporary files in the RUN that made them); hadolint
    DL3032 (yum) and DL3040 (dnf, microdnf).
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import (
    RPM,
    and_chain,
    append_command,
    has_mount_under,
    instructions_after,
    packages,
    stage_runs,
    sudo_prefix,
)
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    PackageCommand,
    SimpleCommand,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Instruction

_CACHES = ("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5")


def removes_cache(command: SimpleCommand) -> bool:
    """``rm -rf /var/cache/yum/*`` and the like: as good as ``clean all``."""
    if command_name(command) != "rm":
        return False
    return any(
        word.value.rstrip("/*").rstrip("/") in _CACHES for word in command_words(command)[1:]
    )


def cleaned_after(shell: RunShell, install: PackageCommand) -> bool:
    """True when a ``clean all`` (any RPM tool) or a cache removal follows ``install``."""
    for package in packages(shell, RPM):
        words = [word.value for word in package.packages]
        if (
            package.action == "clean"
            and "all" in words
            and package.command.start > install.command.start
        ):
            return True
    return any(
        removes_cache(command) and command.start > install.command.start
        for command in iter_simple_commands(shell.script)
    )


def cache_only(instruction: Instruction) -> bool:
    """A later RUN that installs from the cache alone (``-C``/``--cacheonly``)."""
    parsed = run_shell(instruction)
    if not isinstance(parsed, RunShell):
        return False
    return any(p.has_option("-C", "--cacheonly") for p in packages(parsed, RPM))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for stage in document.stages:
        for shell in stage_runs(stage):
            instruction = shell.instruction
            installs = [p for p in packages(shell, RPM) if p.action == "install"]
            if not installs:
                continue  # no yum/dnf/microdnf install: no cache of this RUN's making
            if has_mount_under(instruction, *_CACHES):
                continue  # a cache/tmpfs mount keeps the cache out of the layer already
            # One clean per tool, in the order of their last install, for those not
            # cleaned after it.
            last: dict[str, PackageCommand] = {}
            for package in installs:
                last.pop(package.manager.value, None)
                last[package.manager.value] = package
            missing = [p for p in last.values() if not cleaned_after(shell, p)]
            if not missing:
                continue  # every tool is cleaned after its last install
            tools = " and ".join(f"`{p.manager.value} clean all`" for p in missing)
            message = f"{tools} missing after the install; the package cache stays in the layer"
            chain = and_chain(shell.script)
            if chain is None:
                yield rule.finding(message, instruction, note="the RUN is not a plain && chain")
                continue
            if any(map(cache_only, instructions_after(context.model, instruction))):
                note = "a later RUN installs from the cache only (-C/--cacheonly)"
                yield rule.finding(message, instruction, note=note)
                continue
            command = " && ".join(
                f"{sudo_prefix(p)}{p.program_words[0].text} clean all" for p in missing
            )
            new = append_command(document, shell, chain, command)
            yield rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF109",
    name="dnf-without-clean",
    summary="Run `yum/dnf/microdnf clean all` in the RUN that installed packages",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
