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
    read that index, the finding is reported without a fix.  With ``--no-cache``
    ``/var/cache/apk`` stays empty, so a glob such as ``/var/cache/apk/*`` matches
    nothing and stays literal: when this RUN or a later one (of the stage or of a stage
    built ``FROM`` it) removes something there with an ``rm`` that lacks
    ``-f``/``--force`` (``rm /var/cache/apk/*`` would then fail the build), runs another
    command on such a glob, or does so where dockfix cannot read it (a path written with
    variables it cannot resolve, ``sh -c``/``eval``, an exec-form or heredoc RUN, an
    ``ONBUILD``), the finding is reported without a fix.  ``rm -rf /var/cache/apk/*``
    is fine and stays fixable.

References
    practices.md row 4 (delete temporary files in the RUN that made them); hadolint
    DL3019.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model import FileModel
from dockfix.model.expand import expand
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
from dockfix.shell import (
    Manager,
    PackageCommand,
    SimpleCommand,
    Word,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.shell.model import unquote
from dockfix.syntax import Instruction

#: Options that say the user wants apk's cache (or only the cache).
_WANTS_CACHE = ("--no-cache", "--cache-dir", "--cache-max-age", "--no-network")
_CACHE_DIRECTORIES = ("/var/cache/apk", "/etc/apk/cache")
#: apk actions that read the stored package index (``add`` is fixed alongside).
_INDEX_READERS = frozenset(
    {"upgrade", "search", "info", "fetch", "version", "policy", "fix", "dot", "list"}
)
_MENTIONS_APK = lazy_re.compile(r"(?:^|[\s;&|(\"'`/])apk[\s\"',]")
_APK_CACHE = "/var/cache/apk"
_GLOB = lazy_re.compile(r"[*?\[]")
#: Commands that run other commands from their arguments: what they run is out of sight.
_HIDING = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "eval", "su", "runuser", "xargs"})
#: Commands for which an unmatched (literal) glob is harmless.
_GLOB_HARMLESS = frozenset({"echo", "printf", ":", "true", "mkdir", "apk"})
_MENTIONS_RM = lazy_re.compile(r"(?:^|[\s;&|(\"'`/])rm[\s\"',]")


def _reaches_cache(path: str) -> bool:
    """True when the absolute ``path`` (a word's value, maybe with glob characters) may
    name ``/var/cache/apk`` or something inside it."""
    if not path.startswith("/"):
        return False  # relative: only where the RUN works in the cache (see ``inside``)
    glob = _GLOB.search(path)
    if glob is None:
        normal = posixpath.normpath(path)
        return normal == _APK_CACHE or normal.startswith(_APK_CACHE + "/")
    return _may_start(path[: glob.start()])


def _may_start(prefix: str) -> bool:
    """True when a path that starts with ``prefix`` may be, or be inside, the cache."""
    prefix = _GLOB.split(prefix, maxsplit=1)[0]
    return prefix.startswith(_APK_CACHE) or _APK_CACHE.startswith(prefix)


def _globs_in_cache(path: str) -> bool:
    """``/var/cache/apk/*``: a glob that, with ``--no-cache``, matches nothing."""
    glob = _GLOB.search(path)
    return glob is not None and _reaches_cache(path)


def _resolved(word: Word, variables: Mapping[str, str | None]) -> str | None:
    """The word's value with ENV/ARG references resolved, or None when unknown."""
    if word.is_literal:
        return word.value
    expanded = expand(word.text, variables)
    return None if expanded is None else unquote(expanded)


def _literal_prefix(word: Word) -> str:
    """The part of a word before its first expansion, quotes dropped."""
    cut = min((i for i in (word.text.find("$"), word.text.find("`")) if i >= 0), default=None)
    return word.text[:cut].replace('"', "").replace("'", "")


def _forced(words: tuple[Word, ...]) -> bool:
    """``rm -f``/``-rf``/``--force``: options before the first operand (busybox on musl
    stops reading options there)."""
    for word in words[1:]:
        value = word.value
        if not word.is_literal or value == "--" or not value.startswith("-") or value == "-":
            return False
        if value == "--force" or (not value.startswith("--") and "f" in value[1:]):
            return True
    return False


def _quote(shell: RunShell, command: SimpleCommand, word: Word) -> str:
    text = shell.script.text[command.start : command.end]
    if len(text) > 60 or "\n" in text:
        text = f"{command_words(command)[0].text} ... {word.text}"
    return f"`{text}`"


def _enters_cache(command: SimpleCommand, variables: Mapping[str, str | None]) -> bool:
    """``cd /var/cache/apk`` (or a ``cd`` to where dockfix cannot tell)."""
    if command_name(command) not in ("cd", "pushd"):
        return False
    for word in command_words(command)[1:]:
        value = _resolved(word, variables)
        if value is None and _may_start(_literal_prefix(word)):
            return True
        if value is not None and _reaches_cache(value):
            return True
    return False


def _command_blocks(
    shell: RunShell,
    command: SimpleCommand,
    variables: Mapping[str, str | None],
    inside: bool,
) -> str:
    """Why ``command`` would break once ``/var/cache/apk`` stays empty, or ``""``.

    ``inside``: the RUN may work in ``/var/cache/apk`` (a ``cd`` there, or its
    ``WORKDIR``), so a relative path may name the cache too.
    """
    words = command_words(command)
    name = command_name(command)
    if not words or name is None:
        return ""
    line = word_position(shell, command.start).line
    hides = name in _HIDING or any("$(" in w.text or "`" in w.text for w in words)
    if hides and _APK_CACHE in shell.script.text[command.start : command.end]:
        return f"the RUN on line {line} touches {_APK_CACHE} in a way dockfix cannot read"
    if name == "rm":
        if _forced(words):
            return ""
        for word in words[1:]:
            value = _resolved(word, variables)
            if value is None:
                prefix = _literal_prefix(word)
                if _may_start(prefix) or (inside and not prefix.startswith("/")):
                    return (
                        f"{_quote(shell, command, word)} on line {line} has no -f and may "
                        f"remove from {_APK_CACHE} (a path dockfix cannot resolve)"
                    )
                continue
            if _reaches_cache(value) or (inside and not value.startswith(("/", "-"))):
                return (
                    f"{_quote(shell, command, word)} on line {line} has no -f: with "
                    "--no-cache the cache stays empty and rm would fail"
                )
        return ""
    if name in _GLOB_HARMLESS:
        return ""
    for word in words[1:]:
        value = _resolved(word, variables)
        if value is not None and _globs_in_cache(value):
            return (
                f"{_quote(shell, command, word)} on line {line}: with --no-cache the "
                f"cache stays empty and {word.text} matches nothing"
            )
    return ""


def _unreadable_blocks(instruction: Instruction) -> str:
    """An exec-form, heredoc or unparsable RUN (or an ONBUILD) that removes files under
    ``/var/cache/apk``: whether it forces the removal cannot be read."""
    text = instruction.text
    if _APK_CACHE in text and _MENTIONS_RM.search(text):
        return (
            f"the {instruction.cmd} on line {instruction.line} removes files under "
            f"{_APK_CACHE} in a way dockfix cannot read"
        )
    return ""


def cache_removal_blocks(model: FileModel, shell: RunShell) -> str:
    """Why ``--no-cache`` would break this RUN or a later one: an ``rm`` without ``-f``
    (or a glob) under ``/var/cache/apk`` that relies on the cache having files, or ``""``.
    """
    later = instructions_after(model, shell.instruction)
    for instruction in (shell.instruction, *later):
        parsed = run_shell(instruction)
        if isinstance(parsed, RunShell):
            step = model.step_at(instruction)
            workdir = step.workdir if step is not None else None
            inside = workdir is not None and _reaches_cache(workdir)
            text = parsed.script.text
            if not inside and _APK_CACHE not in text and "$" not in text and "`" not in text:
                continue  # nothing there can name the cache (the common case)
            variables = step.variables if step is not None else {}
            inside = inside or any(
                _enters_cache(c, variables) for c in iter_simple_commands(parsed.script)
            )
            for command in iter_simple_commands(parsed.script):
                reason = _command_blocks(parsed, command, variables, inside)
                if reason:
                    return reason
        elif instruction.cmd in ("RUN", "ONBUILD"):
            reason = _unreadable_blocks(instruction)
            if reason:
                return reason
    return ""


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
            removal = cache_removal_blocks(context.model, shell)
            if removal:
                for package in missing:
                    assert package.subcommand_word is not None
                    at = word_position(shell, package.subcommand_word.start)
                    yield rule.finding(message, at, note=removal)
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
