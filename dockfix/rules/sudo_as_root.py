"""DF211 sudo-as-root: ``sudo`` in a ``RUN`` that already runs as root.

What it does
    Finds ``sudo cmd ...`` in a shell-form ``RUN`` whose user is root and removes the
    ``sudo`` word.

Why is this bad?
    ``sudo`` does nothing for root but needs the ``sudo`` package in the image, and it
    behaves differently from a plain command (environment reset, TTY and PAM rules).

Example
    ``RUN sudo apt-get update`` becomes ``RUN apt-get update``.

Fix safety
    ``sudo`` resets the environment (``env_reset``: variables are dropped, ``PATH``
    becomes its ``secure_path``) and applies its own ``umask``, so without it the
    command may see another environment: another ``pip`` on the ``PATH``, another index
    URL.  Safe when the model knows the user is root, ``sudo`` has no options and
    nothing sets the environment: no ``ENV`` or ``ARG`` in effect (ARGs are variables
    of ``RUN`` like ENV: those declared in the stage or in a stage it builds on; global
    ``ARG`` lines before the first ``FROM`` count only where the stage declares them
    again) and no command of the ``RUN`` before it (or in a loop around it) that
    changes the environment: ``export``/``declare``/``unset``, ``source``/``.``, a bare
    ``X=1``, ``eval``, ``alias``, ``umask``, or a shell function of the command's name
    (``cd`` is fine: ``sudo`` keeps the folder).  **Unsafe** where only ``ENV``
    variables are in effect: the reason names them, the command would start seeing
    them (``PATH`` included).  Reported without a fix (the note says why) when the user
    is unknown (``USER $NAME``, an image the table does not know), ``sudo`` has options
    (``-u``, ``-E``, ``-i``, ``-H``...), variables are assigned before it
    (``FOO=1 sudo cmd``: sudo drops them) or given to it (``sudo FOO=1 cmd``), an
    ``ARG`` is in effect, or the ``RUN`` changes the environment before it.  A ``RUN``
    whose user is not root is not reported (its ``sudo`` does something).

References
    hadolint DL3004.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.model import StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import Compound, ShellScript, SimpleCommand, iter_nodes, iter_simple_commands
from dockfix.syntax import Instruction

_RESET = "sudo resets the environment"
#: Builtins that set, export or remove variables of the shell's environment.
_SETTERS = frozenset({"export", "declare", "typeset", "readonly", "local", "unset"})
_SOURCES = frozenset({".", "source"})
_LOOPS = frozenset({"for", "while", "until", "select"})
_ASSIGNMENT = lazy_re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _names(kind: str, names: list[str]) -> str:
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    return f"{kind} {shown}" if len(names) == 1 else f"{kind}s {shown}"


def _quoted(script: ShellScript, command: SimpleCommand) -> str:
    text = " ".join(script.text[command.start : command.end].split())
    return f"`{text if len(text) <= 60 else text[:57] + '...'}`"


def _earlier(script: ShellScript, sudo: SimpleCommand) -> list[SimpleCommand]:
    """Commands that may run before ``sudo`` in the same shell: those written before it,
    and those of a loop around it (they run before its next turn)."""
    loops = [
        node
        for node in iter_nodes(script)
        if isinstance(node, Compound)
        and node.kind in _LOOPS
        and node.start <= sudo.start
        and sudo.end <= node.end
    ]
    return [
        command
        for command in iter_simple_commands(script)
        if command is not sudo
        and (
            command.start < sudo.start
            or any(loop.start <= command.start and command.end <= loop.end for loop in loops)
        )
    ]


def _script_changes(script: ShellScript, sudo: SimpleCommand) -> tuple[list[str], list[str]]:
    """(what the command would see without sudo, other differences) from the RUN itself."""
    seen: list[str] = []
    other: list[str] = []
    target = sudo.words[1].value
    for command in _earlier(script, sudo):
        words = command.words
        if not words:
            if command.assignments:
                seen.append(f"the variables set by {_quoted(script, command)}")
            continue
        name = words[0].value
        if name in _SOURCES:
            seen.append(f"the PATH and variables set by {_quoted(script, command)}")
        elif name in _SETTERS or name == "eval":
            seen.append(f"the environment changed by {_quoted(script, command)}")
        elif name == "umask" and len(words) > 1:
            other.append(
                f"sudo applies its own umask: without it the command would use the one "
                f"set by {_quoted(script, command)}"
            )
        elif name == "alias" and len(words) > 1:
            seen.append(f"the aliases set by {_quoted(script, command)}")
    for node in iter_nodes(script):
        if (
            isinstance(node, Compound)
            and node.kind == "function"
            and node.words
            and node.words[0].value == target
        ):
            other.append(f"without sudo, `{target}` would run the shell function of the RUN")
            break
    return seen, other


def _arg_names(facts: StageFacts, instruction: Instruction) -> list[str]:
    """ARGs in the environment of ``instruction``: those of the step, those declared
    earlier in the stage, and those of the stages it builds on (BuildKit hands a stage's
    ARGs down to the stages built ``FROM`` it).  Global ARGs (before the first ``FROM``)
    count only where a stage declares them again."""
    names = set(facts.at(instruction).args)
    for member in facts.lineage:
        for earlier in member.stage.instructions:
            if earlier is instruction:
                break
            if earlier.cmd == "ARG":
                names.update(word.partition("=")[0] for word in earlier.value)
    return sorted(names)


def _environment(
    facts: StageFacts, instruction: Instruction, script: ShellScript, sudo: SimpleCommand
) -> tuple[str, str]:
    """(note, unsafe reason) about the environment; both empty when it cannot differ."""
    step = facts.at(instruction)
    args = _arg_names(facts, instruction)
    env = sorted(step.env)
    seen, other = _script_changes(script, sudo)
    if args or seen or other:
        parts = ([_names("ARG", args)] if args else []) + ([_names("ENV", env)] if env else [])
        parts += seen
        notes = (
            [f"{_RESET}: without it the command would see {' and '.join(parts)}"] if parts else []
        )
        return "; ".join(notes + other), ""
    if env:
        return "", (
            f"{_RESET} (PATH becomes its secure_path, ENV variables are dropped): "
            f"without it the command would see {_names('ENV', env)}"
        )
    return "", ""


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for facts in context.model.stages:  # StageFacts, in file order
        for instruction in facts.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue  # not a shell-form RUN (None), or unparsable text (a str)
            step = facts.at(instruction)  # Step: user/env/shell/workdir before it runs
            for command in iter_simple_commands(shell.script):
                words = command.words
                if len(words) < 2 or words[0].value != "sudo":
                    continue
                message = "`sudo` in a RUN that already runs as root"
                position = instruction.position_of(shell.base + words[0].start)
                if step.is_root is not True:
                    if step.is_root is None:  # unknown: never guess
                        yield rule.finding(message, position, note="the user is not known")
                    continue
                if words[1].text.startswith("-"):
                    yield rule.finding(message, position, note="sudo has options")
                    continue
                if command.assignments:
                    yield rule.finding(
                        message, position, note="variables assigned before sudo are dropped"
                    )
                    continue
                if _ASSIGNMENT.match(words[1].text):
                    yield rule.finding(
                        message,
                        position,
                        note=f"sudo sets `{words[1].text}` in the environment it resets",
                    )
                    continue
                note, reason = _environment(facts, instruction, shell.script, command)
                if note:
                    yield rule.finding(message, position, note=note)
                    continue
                start = shell.base + words[0].start  # offsets in instruction.logical
                end = shell.base + words[1].start
                new = document.edit_logical(instruction, [(start, end, "")])
                yield rule.finding(
                    message,
                    position,
                    edits=[Edit(instruction, (new,))],
                    applicability=Applicability.UNSAFE if reason else Applicability.SAFE,
                    reason=reason,
                )


RULE = Rule(
    code="DF211",
    name="sudo-as-root",
    summary="Drop `sudo` from RUNs that already run as root",
    applicability=Applicability.SAFE,
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"RUN"}),
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL),
)
