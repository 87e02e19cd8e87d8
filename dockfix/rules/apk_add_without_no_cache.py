"""DF108 apk-add-without-no-cache: ``apk add`` leaves its package index in the image.

What it does
    Finds ``apk add`` without ``--no-cache`` and adds the option right after ``add``.

Why is this bad?
    Without ``--no-cache``, ``apk`` keeps the downloaded package index (and, with a
    cache directory, the packages) under ``/var/cache/apk`` in the layer.
    ``--no-cache`` fetches a fresh index for the one command and keeps nothing, which
    replaces the ``apk update`` ... ``rm -rf /var/cache/apk/*`` dance.

Example
    ``RUN apk add curl`` becomes ``RUN apk add --no-cache curl``.

Fix safety
    Safe: ``--no-cache`` only changes where the index lives, not which packages are
    installed.  An ``apk update`` or ``rm -rf /var/cache/apk/*`` in the same RUN is left
    where it is: with ``--no-cache`` they are merely redundant (an extra index download,
    a no-op removal), and removing ``apk update`` could break a later ``apk`` command
    that relies on its index -- a separate, cosmetic clean-up.  Not offered when the
    command names a cache (``--cache-dir``) or works offline (``--no-network``), when
    the stage sets up ``/etc/apk/cache``, or when a cache mount covers ``/var/cache/apk``
    (the cache-mount rule owns that case).  ``apk add -U`` (``--update``) also stores a
    fresh index for later commands; with ``--no-cache`` it no longer does, so when a
    later ``apk upgrade``/``search``/``info``... (or an unfixable ``apk add``) might
    read that index, the finding is reported without a fix.

References
    practices.md row 4 (delete temporary files in the RUN that made them); hadolint
    DL3019.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model import FileModel
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import (
    has_mount_under,
    instructions_after,
    option_findings,
    packages,
    stage_runs,
    word_position,
)
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import Manager, PackageCommand

#: Options that say the user wants apk's cache (or only the cache).
_WANTS_CACHE = ("--no-cache", "--cache-dir", "--cache-max-age", "--no-network")
_CACHE_DIRECTORIES = ("/var/cache/apk", "/etc/apk/cache")
#: apk actions that read the stored package index (``add`` is fixed alongside).
_INDEX_READERS = frozenset(
    {"upgrade", "search", "info", "fetch", "version", "policy", "fix", "dot", "list"}
)
_MENTIONS_APK = lazy_re.compile(r"(?:^|[\s;&|(\"'`/])apk[\s\"',]")


def refreshes_index(package: PackageCommand) -> bool:
    """``apk add -U``: without ``--no-cache`` this leaves a fresh index for later commands."""
    return package.has_option("-U", "--update", "--update-cache")


def reads_index(package: PackageCommand) -> bool:
    """An apk command that uses the stored index and is not fixed by this rule itself."""
    if package.has_option("-U", "--update", "--update-cache", "--no-cache"):
        return False  # it gets its own index
    if package.action == "install":
        return package.has_option("--no-network")  # not fixed, so it keeps needing it
    return package.action in _INDEX_READERS


def index_needed_after(model: FileModel, shell: RunShell, start: int) -> bool:
    """True when a later apk command (in this RUN after ``start``, in a later RUN of the
    stage or of a stage built from it) may read the index that ``apk add -U`` stores."""
    if any(p.command.start > start and reads_index(p) for p in packages(shell, [Manager.APK])):
        return True
    for later in instructions_after(model, shell.instruction):
        parsed = run_shell(later)
        if isinstance(parsed, RunShell):
            if any(reads_index(p) for p in packages(parsed, [Manager.APK])):
                return True
        elif later.cmd in ("RUN", "ONBUILD") and _MENTIONS_APK.search(later.text):
            return True  # exec form, heredoc or unparsed shell: cannot tell
    return False


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    message = "`apk add` without `--no-cache` keeps the package index in the image"
    for stage in document.stages:
        uses_cache = False
        for shell in stage_runs(stage):
            if "/etc/apk/cache" in shell.script.text:
                uses_cache = True  # the stage enables apk's package cache on purpose
            if uses_cache:
                continue
            missing = [
                package
                for package in packages(shell, [Manager.APK])
                if package.action == "install"
                and package.subcommand_word is not None
                and not package.has_option(*_WANTS_CACHE)
            ]
            if not missing:
                continue  # no apk add to fix: the mounts (costlier to read) do not matter
            if has_mount_under(shell.instruction, *_CACHE_DIRECTORIES):
                continue  # a cache mount: the cache-mount rule decides
            blocked = [
                p
                for p in missing
                if refreshes_index(p) and index_needed_after(context.model, shell, p.command.start)
            ]
            for package in blocked:
                assert package.subcommand_word is not None
                at = word_position(shell, package.subcommand_word.start)
                note = "a later apk command reads the index that `apk add -U` stores"
                yield rule.finding(message, at, note=note)
            missing = [p for p in missing if p not in blocked]
            if not missing:
                continue
            yield from option_findings(rule, document, shell, missing, "--no-cache", message)


RULE = Rule(
    code="DF108",
    name="apk-add-without-no-cache",
    summary="Use `apk add --no-cache` so that no package index stays in the image",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
