"""The shell text of RUN instructions, parsed once per distinct text (model and rules).

Rules that look inside ``RUN`` share this: the logical shell text BuildKit hands to
``/bin/sh -c``, where it starts in the instruction's logical line (so word offsets can
be turned into edits with ``Dockerfile.edit_logical``), and the parsed script, or the
reason it could not be parsed.
"""

from __future__ import annotations

import functools

from dockfix.lazy_dataclass import dataclass
from dockfix.shell import (
    PackageCommand,
    ShellParseError,
    ShellScript,
    classify,
    iter_simple_commands,
    parse_shell,
)
from dockfix.syntax import Instruction


@dataclass(frozen=True)
class RunShell:
    """A shell-form RUN's script and where its text starts in the logical line."""

    instruction: Instruction
    script: ShellScript
    #: Offset of the shell text in ``instruction.logical``.
    base: int

    def packages(self) -> list[PackageCommand]:
        """The package-manager commands of the script (computed once per shell text)."""
        return list(_packages(self.script.text))


@functools.lru_cache(maxsize=8192)
def parse_text(text: str) -> ShellScript | str:
    """The parsed script, or why it cannot be modelled (cached: RUNs repeat a lot).

    Texts the parser cannot read exactly are never guessed at; the reason string
    is what rules report or skip on.
    """
    try:
        return parse_shell(text)
    except ShellParseError as error:
        return str(error)


def text_packages(text: str) -> tuple[PackageCommand, ...]:
    """The package-manager commands of a shell text (computed once per text)."""
    return _packages(text)


@functools.lru_cache(maxsize=8192)
def _packages(text: str) -> tuple[PackageCommand, ...]:
    script = parse_text(text)
    if isinstance(script, str):
        return ()
    found = []
    for command in iter_simple_commands(script):
        classified = classify(command)
        if classified is not None:
            found.append(classified)
    return tuple(found)


def is_shell_run(instruction: Instruction) -> bool:
    """A plain ``RUN`` in shell form without heredocs."""
    return (
        instruction.cmd == "RUN"
        and not instruction.is_json
        and not instruction.heredocs
        and bool(instruction.value)
    )


def run_shell(instruction: Instruction) -> RunShell | str | None:
    """The parsed shell of a shell-form RUN; a string says why it does not parse.

    None for instructions that are not shell-form RUNs.  Computed once per instruction
    (nodes are immutable; an unchanged node keeps its answer).
    """
    cache = instruction.__dict__
    try:
        return cache["_run_shell"]  # type: ignore[no-any-return]
    except KeyError:
        pass
    found = cache["_run_shell"] = _run_shell(instruction)
    return found


def carry_run_shell(old: Instruction, new: Instruction) -> None:
    """Give ``new``, ``old`` moved to other lines (same pieces, heredocs and reading),
    ``old``'s ``run_shell`` answer if it has one, made for ``new``: the answer reads the
    instruction's name, form, value and the logical offset of its shell text, never a
    line number, so it is the one ``run_shell(new)`` would compute."""
    found = old.__dict__.get("_run_shell", _NOT_READ)
    if found is _NOT_READ:
        return
    if isinstance(found, RunShell):
        found = RunShell(new, found.script, found.base)
    new.__dict__["_run_shell"] = found


_NOT_READ = object()


def _run_shell(instruction: Instruction) -> RunShell | str | None:
    if not is_shell_run(instruction):
        return None
    shell_pieces = instruction.pieces_of("shell")
    if not shell_pieces:
        return None
    base = instruction.logical_start_of(shell_pieces[0])
    parsed = parse_text(instruction.value[0])
    if isinstance(parsed, str):
        return parsed
    return RunShell(instruction, parsed, base)
