"""DF110 package-cache-not-mounted: package downloads cached in the layer, or not at all.

What it does
    Adds a BuildKit cache mount to ``RUN`` steps that install packages with pip, uv,
    poetry, npm, yarn or go, so downloads are kept on the build host between builds
    and never end up in the image::

        RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

    and adds ``# syntax=docker/dockerfile:1`` when the file has no syntax directive.
    With ``cache_strategy = "no-cache"`` (for builders without BuildKit) it adds
    ``--no-cache-dir`` to pip instead.

Why is this bad?
    Without a mount, pip and npm leave their download caches in the layer (bigger
    images) or, with ``--no-cache-dir``, download everything again on every rebuild.
    Practice 7 of the source article.

Fix safety
    Safe: the mount is a build-time folder only; the image's files and configuration
    are those of the original minus the package manager's cache.  Skipped (reported)
    where the cache belongs to a non-root ``USER`` (the mount would be root-owned), and
    for commands that already opt out of caching (``--no-cache-dir``,
    ``PIP_NO_CACHE_DIR``): removing that opt-out is the user's call (hadolint DL3042
    would then flag the command).  apt and apk caches are not mounted by this rule:
    apt needs the image's ``docker-clean`` hook removed, which changes the image, and
    the apk rule (DF108) covers apk with ``--no-cache``.

References
    practices.md row 7; Docker docs "Optimize cache usage in builds"; hadolint DL3042.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import Manager, PackageCommand
from dockfix.syntax import Dockerfile, Instruction, Stage

_TRUTHY = frozenset({"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"})


def cache_targets(package: PackageCommand, stage: Stage) -> tuple[str, ...]:
    """Cache folders a package command fills, for root."""
    manager, action = package.manager, package.action
    if manager is Manager.PIP and action in ("install", "wheel", "download"):
        if package.has_option("--no-cache-dir"):
            return ()
        return ("/root/.cache/pip",)
    if manager is Manager.UV and action in ("install", "sync", "add", "pip-install"):
        if package.has_option("--no-cache", "-n"):
            return ()
        return ("/root/.cache/uv",)
    if manager is Manager.POETRY and action in ("install", "add", "update"):
        return ("/root/.cache/pypoetry",)
    if manager is Manager.NPM and action in ("install", "ci"):
        return ("/root/.npm",)
    if manager is Manager.YARN and action in ("install", "add"):
        return ("/usr/local/share/.cache/yarn",)
    if manager is Manager.GO and action in ("mod-download", "build", "install"):
        gopath = "/go" if stage.image.repository in ("golang", "library/golang") else "/root/go"
        return ("/root/.cache/go-build", f"{gopath}/pkg/mod")
    return ()


def _mounted_targets(instruction: Instruction) -> set[str]:
    targets = set()
    for flag in instruction.flags:
        if flag.name != "mount" or not flag.value:
            continue
        options = dict(part.partition("=")[::2] for part in flag.value.split(","))
        target = options.get("target") or options.get("dst") or options.get("destination")
        if target:
            targets.add(target.rstrip("/"))
    return targets


def _user_and_env(stage: Stage, upto: Instruction) -> tuple[str | None, dict[str, str]]:
    user: str | None = None
    env: dict[str, str] = {}
    for instruction in stage.instructions:
        if instruction is upto:
            break
        if instruction.cmd == "USER" and instruction.value:
            user = instruction.value[0]
        elif instruction.cmd in ("ENV", "ARG"):
            values = instruction.value
            if instruction.cmd == "ENV":
                for key, value in zip(values[::2], values[1::2], strict=False):
                    env[key] = value.strip("\"'")
    return user, env


def _has_syntax_directive(document: Dockerfile) -> bool:
    return any(directive.name == "syntax" for directive in document.directives)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    no_cache = context.settings.cache_strategy == "no-cache"
    needs_directive = not no_cache and not _has_syntax_directive(document)
    for stage in document.stages:
        for instruction in stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            finding = _check_run(
                rule, document, stage, instruction, shell, no_cache, needs_directive
            )
            if finding is not None:
                if finding.fix is not None and needs_directive:
                    needs_directive = False  # one fix carries the directive
                yield finding


def _check_run(
    rule: Rule,
    document: Dockerfile,
    stage: Stage,
    instruction: Instruction,
    shell: RunShell,
    no_cache: bool,
    add_directive: bool,
) -> Finding | None:
    packages = [p for p in shell.packages() if cache_targets(p, stage)]
    if not packages:
        return None
    mounted = _mounted_targets(instruction)
    user, env = _user_and_env(stage, instruction)
    if env.get("PIP_NO_CACHE_DIR") in _TRUTHY:
        packages = [p for p in packages if p.manager is not Manager.PIP]
    wanted: list[str] = []
    for package in packages:
        for target in cache_targets(package, stage):
            if target not in mounted and target not in wanted:
                wanted.append(target)
    if not wanted:
        return None
    names = ", ".join(sorted({p.manager.value for p in packages}))
    message = f"{names} downloads are cached in the image layer or not kept between builds"
    if user not in (None, "root", "0", "0:0", "root:root"):
        return rule.finding(message, instruction, note=f"runs as USER {user}")
    if no_cache:
        return _no_cache_fix(rule, document, instruction, shell, packages, message)
    new = instruction
    for target in wanted:
        new = document.add_flag(new, f"--mount=type=cache,target={target}")
    replacement: tuple = (new,)
    edits = [Edit(instruction, replacement)]
    if add_directive:
        first = document.nodes[0]
        directive = document.make_directive("syntax", "docker/dockerfile:1")
        if first is instruction:
            edits = [Edit(instruction, (directive, new))]
        else:
            edits.append(Edit(first, (directive, first)))
    return rule.finding(message, instruction, edits=edits)


def _no_cache_fix(
    rule: Rule,
    document: Dockerfile,
    instruction: Instruction,
    shell: RunShell,
    packages: list[PackageCommand],
    message: str,
) -> Finding | None:
    edits = []
    for package in packages:
        if package.manager is Manager.PIP and package.subcommand_word is not None:
            at = shell.base + package.subcommand_word.end
            edits.append((at, at, " --no-cache-dir"))
    if not edits:
        return rule.finding(message, instruction, note="no no-cache flag for this manager")
    new = document.edit_logical(instruction, edits)
    return rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF110",
    name="package-cache-not-mounted",
    summary="Use BuildKit cache mounts for pip, uv, poetry, npm, yarn and go downloads",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL,),
)
