"""The shell text of RUN instructions, parsed once per distinct text (model and rules).

Rules that look inside ``RUN`` share this: the logical shell text BuildKit hands to
``/bin/sh -c``, where it starts in the instruction's logical line (so word offsets can
be turned into edits with ``Dockerfile.edit_logical``), and the parsed script, or the
reason it could not be parsed.
"""

from __future__ import annotations

import functools

from dockfix.cached import Backlink, remembered
from dockfix.lazy_dataclass import dataclass
from dockfix.shell import (
    PackageCommand,
    ShellParseError,
    ShellScript,
    SimpleCommand,
    classify,
    iter_simple_commands,
    parse_shell,
)
from dockfix.syntax import Instruction

#: Distinct shell texts whose parse (and package commands) a process keeps.  A file's
#: rounds ask again for the texts of that file, and the model and rules of one round ask
#: for each RUN many times (the instruction keeps its own, ``run_shell``); across files
#: a text repeats less.  Over the corpus (10,520 distinct texts, 2,093 files, one
#: process): 8,192 entries kept about 30 MB more alive (peak 130 against 102 MB) to save
#: 862 of 11,382 parses, under 1% of the run (benchmarks/README.md).
SHELL_CACHE_SIZE = 2048


#: A shell command where it runs: ``command_key(instruction, command)``.
CommandKey = tuple[int, int]


def command_key(instruction: Instruction, command: SimpleCommand) -> CommandKey:
    """Names ``command`` as run by ``instruction``, for sets of commands across RUNs.

    A command's ``id`` alone is not enough there: two RUNs of the same text share their
    parsed commands (``parse_text`` remembers parses by text), so it names the command
    in both RUNs at once.
    """
    return id(instruction), id(command)


@dataclass(frozen=True)
class RunShell:
    """A shell-form RUN's script and where its text starts in the logical line.

    The instruction keeps this (``run_shell``); this refers back to it weakly
    (``Backlink``), so the two make no reference cycle.
    """

    link: Backlink[Instruction]
    script: ShellScript
    #: Offset of the shell text in ``instruction.logical``.
    base: int

    @property
    def instruction(self) -> Instruction:
        return self.link()

    def packages(self) -> list[PackageCommand]:
        """The package-manager commands of the script, whose ``command`` nodes are this
        script's own (rules match them by identity against ``iter_simple_commands``)."""
        return list(script_packages(self.script))


@functools.lru_cache(maxsize=SHELL_CACHE_SIZE)
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
    """The package-manager commands of a shell text, for questions about names only: the
    nodes are those of whichever parse of the text ``parse_text`` holds now."""
    script = parse_text(text)
    return () if isinstance(script, str) else script_packages(script)


def script_packages(script: ShellScript) -> tuple[PackageCommand, ...]:
    """The package-manager commands of ``script``, computed once per script object and
    kept on it.  Not a cache by text: after ``parse_text`` forgets a text, a new parse
    of it is a new object, and commands from the old one would not be found in it (the
    results would depend on which files a process read before)."""
    return remembered(script, "_packages", _classified)


def _classified(script: ShellScript) -> tuple[PackageCommand, ...]:
    return tuple(
        classified
        for command in iter_simple_commands(script)
        if (classified := classify(command)) is not None
    )


def is_shell_run(instruction: Instruction) -> bool:
    """A plain ``RUN`` in shell form without heredocs."""
    return (
        instruction.cmd == "RUN"
        and not instruction.is_json
        and not instruction.heredocs
        and bool(instruction.value)
    )


def run_comments(instruction: Instruction) -> tuple[str, ...]:
    """The ``#`` comments in a shell-form RUN's shell text (``shell.comments``).

    Such a comment runs to the end of the RUN's logical line: a command joined after it
    would be inside it, and deleting the RUN would lose it.
    """
    if not is_shell_run(instruction) or "#" not in instruction.value[0]:
        return ()
    from dockfix.shell.comments import shell_comments

    return shell_comments(instruction.value[0])


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
        found = RunShell(Backlink(new), found.script, found.base)
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
    return RunShell(Backlink(instruction), parsed, base)
