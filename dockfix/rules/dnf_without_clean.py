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
    Not offered when the author keeps the cache on purpose: ``keepcache`` set to a true
    value (``1``, ``true``, ``yes``, ``on``, any case) by ``--setopt=keepcache=...``
    (or ``--setopt keepcache=...``) on a command of the RUN, or written into
    ``/etc/dnf/dnf.conf``/``/etc/yum.conf`` by this RUN or an earlier one of the stage
    (or of a stage it is built ``FROM``), e.g. ``echo keepcache=1 >> /etc/dnf/dnf.conf``.
    A ``keepcache`` value dockfix cannot read (a variable), or a write to those files it
    cannot read (``cp``, ``curl -o``, ``cat file >``, a ``COPY``, a heredoc or exec-form
    RUN) blocks the fix too.

References
    practices.md row 4 (delete temporary files in the RUN that made them); hadolint
    DL3032 (yum) and DL3040 (dnf, microdnf).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model import FileModel
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
    word_position,
)
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    PackageCommand,
    Pipeline,
    SimpleCommand,
    command_name,
    command_words,
    iter_nodes,
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


#: The files that hold ``keepcache`` (dnf 4 and 5, yum).
_CONFIG = lazy_re.compile(r"(?:dnf|yum)\.conf|libdnf5\.conf|/etc/dnf(?:/|$|[\s\"'])")
_KEEPCACHE = lazy_re.compile(r"keepcache", re.IGNORECASE)
_SETTING = lazy_re.compile(r"keepcache\s*=\s*[\"']?([$\w{}`(]*)", re.IGNORECASE)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
#: Commands whose output, redirected into a config file, is all in the RUN's text.
_LITERAL_WRITERS = frozenset({"echo", "printf"})
#: Commands that edit a config file in place from their (literal) arguments only.
_EDITORS = frozenset({"sed", "crudini", "dnf", "yum", "microdnf", "dnf5"})
#: Commands that read or inspect a file without writing into it.
_READERS = frozenset(
    {"cat", "grep", "egrep", "fgrep", "test", "[", "ls", "head", "tail", "stat", "diff",
     "file", "chmod", "chown", "less", "more", "wc", "md5sum", "sha256sum"}
)  # fmt: skip
_OUTPUT_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>"})


def _keepcache_value(text: str) -> str:
    """``"set"`` when ``text`` sets keepcache to a true value, ``"unknown"`` when it
    mentions keepcache in a way that cannot be read, else ``""``."""
    if _KEEPCACHE.search(text) is None:
        return ""
    found = ""
    settings = list(_SETTING.finditer(text))
    if len(settings) != len(_KEEPCACHE.findall(text)):
        found = "unknown"  # ``sed '/keepcache/d'``, ``crudini ... keepcache 1``
    for match in settings:
        value = match.group(1).lower()
        if value in _TRUE:
            return "set"
        if value not in _FALSE:
            found = "unknown"  # ``keepcache=$KEEP``
    return found


def _names_config(text: str) -> bool:
    return _CONFIG.search(text) is not None


def _pipelines(shell: RunShell) -> dict[int, Pipeline]:
    found: dict[int, Pipeline] = {}
    for node in iter_nodes(shell.script):
        if isinstance(node, Pipeline):
            for command in node.commands:
                found[id(command)] = node
    return found


def _literal(command: SimpleCommand) -> bool:
    return all(word.is_literal for word in command.words) and not any(
        redirect.heredoc is not None
        and ("$" in redirect.heredoc.text or "`" in redirect.heredoc.text)
        for redirect in command.redirects
    )


def _unreadable_write(
    shell: RunShell, command: SimpleCommand, pipelines: dict[int, Pipeline]
) -> bool:
    """True when ``command`` writes a dnf/yum config file with content dockfix cannot read
    (it has already checked that the command's own text does not mention keepcache)."""
    name = command_name(command) or ""
    targets = [
        r.target.text
        for r in command.redirects
        if r.operator in _OUTPUT_REDIRECTS and r.target is not None
    ]
    if any(_names_config(target) for target in targets):
        if name in _LITERAL_WRITERS:
            return not _literal(command)
        heredoc_fed = any(r.heredoc is not None for r in command.redirects)
        return not (name == "cat" and heredoc_fed and _literal(command))
    if not any(_names_config(word.text) for word in command.words[1:]):
        return False  # it names no config file
    if name == "tee":
        pipeline = pipelines.get(id(command))
        feeders = pipeline.commands[: pipeline.commands.index(command)] if pipeline else ()
        return not feeders or not all(
            isinstance(feeder, SimpleCommand)
            and command_name(feeder) in _LITERAL_WRITERS
            and _literal(feeder)
            for feeder in feeders
        )
    if name in _EDITORS:
        return not _literal(command)
    return name not in _READERS


def keepcache_in(shell: RunShell) -> str:
    """Why the RUN keeps (or may keep) the RPM cache on purpose, or ``""``."""
    text = shell.script.text
    if not _KEEPCACHE.search(text) and not _names_config(text):
        return ""  # the common case: nothing about keepcache or the config files
    pipelines = _pipelines(shell)
    for command in iter_simple_commands(shell.script):
        own = text[command.start : command.end] + "".join(
            r.heredoc.text for r in command.redirects if r.heredoc is not None
        )
        line = word_position(shell, command.start).line
        state = _keepcache_value(own)
        if state == "set":
            return f"keepcache is set on line {line}: the package cache is kept on purpose"
        if state == "unknown":
            return f"line {line} sets keepcache in a way dockfix cannot read"
        if _unreadable_write(shell, command, pipelines):
            return f"line {line} writes the dnf/yum configuration in a way dockfix cannot read"
    return ""


def _keepcache_unreadable(instruction: Instruction) -> str:
    """A RUN dockfix cannot parse (exec form, heredoc), an ONBUILD, or a COPY/ADD that
    sets or writes the dnf/yum configuration: why it blocks the fix, or ``""``."""
    text = instruction.text
    state = _keepcache_value(text)
    if state == "set":
        return f"keepcache is set on line {instruction.line}: the package cache is kept on purpose"
    if state or _names_config(text):
        what = "sets keepcache" if state else "writes the dnf/yum configuration"
        return (
            f"the {instruction.cmd} on line {instruction.line} {what} in a way dockfix cannot read"
        )
    return ""


def keepcache_blocks(model: FileModel, shell: RunShell) -> str:
    """Why ``clean all`` would delete a cache kept on purpose: ``keepcache`` set in this
    RUN (``--setopt``, a config write) or in an earlier one of the stage's lineage."""
    reason = keepcache_in(shell)
    if reason:
        return reason
    facts = model.stage_of(shell.instruction)
    if facts is None:
        return ""
    earlier: list[Instruction] = []
    for stage in reversed(facts.lineage):
        for instruction in stage.stage.instructions:
            if instruction is shell.instruction:
                break
            earlier.append(instruction)
    for instruction in earlier:
        reason = ""
        parsed = run_shell(instruction)
        if isinstance(parsed, RunShell):
            reason = keepcache_in(parsed)
        elif instruction.cmd in ("RUN", "ONBUILD", "COPY", "ADD"):
            reason = _keepcache_unreadable(instruction)
        if reason:
            return reason
    return ""


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
            kept = keepcache_blocks(context.model, shell)
            if kept:
                yield rule.finding(message, instruction, note=kept)
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
