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
    Safe when the model knows the user is root, ``sudo`` has no options and no
    ``ENV`` of the file is in effect.  ``sudo`` resets the environment (``PATH``
    becomes its ``secure_path``, other variables are dropped): where the stage sets
    ``ENV`` variables the command would start seeing them, so the fix is **unsafe**
    there.  Reported without a fix when the user is unknown (``USER $NAME``, an image
    the table does not know), is not root, ``sudo`` has options (``-u``, ``-E``...)
    or variables are assigned before it (``FOO=1 sudo cmd``: sudo drops them).

References
    hadolint DL3004.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import iter_simple_commands

_ENV_REASON = (
    "sudo resets the environment (PATH becomes its secure_path, ENV variables are "
    "dropped): without it the command sees the stage's ENV"
)


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
                start = shell.base + words[0].start  # offsets in instruction.logical
                end = shell.base + words[1].start
                new = document.edit_logical(instruction, [(start, end, "")])
                unsafe = bool(step.env)
                yield rule.finding(
                    message,
                    position,
                    edits=[Edit(instruction, (new,))],
                    applicability=Applicability.UNSAFE if unsafe else Applicability.SAFE,
                    reason=_ENV_REASON if unsafe else "",
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
