"""DF111 cd-in-run: ``RUN cd /dir && ...`` instead of ``WORKDIR /dir``.

What it does
    Turns a ``RUN`` that starts with ``cd /dir &&`` into ``WORKDIR /dir`` followed by the
    ``RUN`` without the ``cd``.

Why is this bad?
    A ``cd`` lasts for one ``RUN``: the next instruction is back in the old folder, which
    is easy to forget, and every ``RUN`` that needs the folder repeats the ``cd``.
    ``WORKDIR`` says where the following instructions run, once, and creates the folder.

Example
    ``RUN cd /src && make && make install`` becomes ``WORKDIR /src`` +
    ``RUN make && make install``.

Fix safety
    The ``RUN`` itself runs in the same folder.  What changes is that the instructions
    after it (and the container, through the image's working directory) also run in
    ``/dir``.  So the fix is **safe** only when a later ``WORKDIR`` with an absolute
    path in the same stage sets the folder again before anything that could depend on
    it (``RUN``, ``COPY``/``ADD``/``VOLUME`` to a relative path, a relative ``WORKDIR``,
    ``CMD``, ``ENTRYPOINT``, ``HEALTHCHECK``, ``ONBUILD``); otherwise it is **unsafe**
    and says so.  A relative folder is resolved against the working directory when an
    absolute ``WORKDIR`` of the file set it.  Reported without a fix: ``cd`` to a
    relative folder where the working directory comes from the base image, ``~`` or a
    path with variables, ``cd`` with options, scripts that are not a plain ``&&`` chain, a
    script that reads ``OLDPWD`` or runs ``cd -``, a ``RUN`` whose mounts have relative
    targets, and a ``RUN`` with comment lines inside it.

References
    hadolint DL3003.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability, FixBuilder
from dockfix.model import StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import SimpleCommand, iter_simple_commands, top_level_and_chain
from dockfix.syntax import Instruction

#: Instructions that never read the working directory.
_CWD_FREE = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "USER", "STOPSIGNAL", "MAINTAINER"})
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+@%,")


def _target(command: SimpleCommand, base: str | None) -> tuple[str | None, str]:
    """The absolute folder of ``cd DIR``, or why it cannot be a WORKDIR."""
    words = command.words
    if command.assignments or command.redirects or len(words) != 2:
        return None, "`cd` with options, redirections or several arguments"
    target = words[1]
    if not target.is_literal or not set(target.value) <= _PLAIN:
        return None, "the folder has variables, quotes or `~`"
    if target.value.startswith("-"):
        return None, "`cd` with options"
    folder = target.value
    if not folder.startswith("/"):
        if base is None:
            return None, "the folder is relative and the working directory is not known"
        folder = posixpath.join(base, folder)
    return "/" + posixpath.normpath(folder).lstrip("/"), ""


def _workdir(facts: StageFacts, instruction: Instruction) -> str | None:
    """The working directory ``instruction`` runs in, when an absolute ``WORKDIR`` of the
    file set it (the base image's own is not trusted)."""
    for ancestor in reversed(facts.lineage):
        for candidate in ancestor.stage.instructions:
            if candidate is instruction:
                break
            if (
                candidate.cmd == "WORKDIR"
                and candidate.value
                and candidate.value[0].startswith("/")
            ):
                workdir = facts.at(instruction).workdir
                return workdir if workdir and workdir.startswith("/") else None
    return None


def _later_need(facts: StageFacts, instruction: Instruction) -> str:
    """What after ``instruction`` could depend on its working directory ("" when a later
    absolute WORKDIR sets it again first)."""
    own = facts.stage.instructions
    index = next(i for i, candidate in enumerate(own) if candidate is instruction)
    for later in own[index + 1 :]:
        cmd = later.cmd
        if cmd == "WORKDIR" and later.value and later.value[0].startswith("/"):
            return ""
        if cmd in _CWD_FREE:
            continue
        if cmd in ("COPY", "ADD", "VOLUME") and not later.is_json and later.value:
            paths = later.value[-1:] if cmd != "VOLUME" else later.value
            if all(path.startswith("/") for path in paths):
                continue
        return f"the {cmd} on line {later.line} would run in the new folder"
    return "later instructions and the container would run in the new folder"


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for facts in context.model.stages:
        for instruction in facts.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            body = shell.script.body
            first = body.items[0] if body.items else None
            if not isinstance(first, SimpleCommand) or not first.words:
                continue
            if first.words[0].value != "cd" or len(body.items) < 2:
                continue
            message = "use WORKDIR to switch to a folder instead of `cd` in RUN"
            position = instruction.position_of(shell.base + first.start)
            chain = top_level_and_chain(shell.script)
            if chain is None:
                yield rule.finding(message, position, note="the script is not a plain && chain")
                continue
            folder, why = _target(first, _workdir(facts, instruction))
            if folder is None:
                yield rule.finding(message, position, note=why)
                continue
            script = shell.script
            if "OLDPWD" in script.text or any(
                c.words
                and c.words[0].value == "cd"
                and len(c.words) > 1
                and c.words[1].value == "-"
                for c in iter_simple_commands(script)
            ):
                yield rule.finding(message, position, note="the script uses OLDPWD or `cd -`")
                continue
            if instruction.comments:
                yield rule.finding(message, position, note="comment lines inside the RUN")
                continue
            mounts = [f.value or "" for f in instruction.flags if f.name == "mount"]
            if any(
                part.split("=", 1)[1][:1] not in ("/", "")
                for mount in mounts
                for part in mount.split(",")
                if part.startswith(("target=", "dst=", "destination="))
            ):
                yield rule.finding(message, position, note="a mount has a relative target")
                continue
            start = shell.base + chain[0].start
            end = shell.base + chain[1].start
            new_run = document.edit_logical(instruction, [(start, end, "")])
            keyword = "workdir" if instruction.keyword.islower() else "WORKDIR"
            workdir = document.make_instruction(f"{keyword} {folder}")
            edits = FixBuilder(document).insert_before(
                document.with_comments_above(instruction), workdir
            )
            edits.replace(instruction, new_run)
            need = _later_need(facts, instruction)
            yield rule.finding(
                message,
                position,
                edits=edits.edits(),
                applicability=Applicability.UNSAFE if need else Applicability.SAFE,
                reason=need,
            )


RULE = Rule(
    code="DF111",
    name="cd-in-run",
    summary="Use `WORKDIR` instead of starting a `RUN` with `cd dir &&`",
    applicability=Applicability.SAFE,
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"RUN"}),
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL),
)
