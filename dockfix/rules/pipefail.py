"""DF112 pipefail: a ``RUN`` with a pipe under ``/bin/sh``, which ignores failures on the left.

What it does
    Finds shell-form ``RUN``s with a pipe (``curl ... | sh``, ``wget -O- ... | tar x``)
    in a stage whose shell is ``/bin/sh`` without ``pipefail``, and adds
    ``SHELL ["/bin/bash", "-o", "pipefail", "-c"]`` before the first of them when the
    image is known to have bash.

Why is this bad?
    A pipeline's exit status is the status of its last command: when ``curl`` fails
    (404, no network) and ``sh`` or ``tar`` reads nothing, the ``RUN`` still succeeds
    and the build goes on with a missing tool or an empty folder.  ``pipefail`` makes
    any failing command fail the pipeline, and the build.

Example
    ``RUN curl -fsSL https://example.com/install.sh | sh`` gets
    ``SHELL ["/bin/bash", "-o", "pipefail", "-c"]`` on the line above.

Fix safety
    Always **unsafe**: a build that succeeded while a command on the left of a pipe
    failed now fails (which is the point, but it is a change), every later ``RUN`` of
    the stage (and of stages built on it) runs under bash instead of ``/bin/sh``, and so
    do shell-form ``CMD``/``ENTRYPOINT``/``HEALTHCHECK``.  Offered only for Debian,
    Ubuntu and RHEL-family images, which ship bash; reported for other images (Alpine
    and BusyBox have no bash unless installed), unknown images, stages with their own
    ``SHELL``, and scripts that already set ``pipefail``.

References
    hadolint DL4006.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability, FixBuilder
from dockfix.images.table import Family
from dockfix.model import StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import Pipeline, iter_nodes
from dockfix.syntax import Instruction

_REASON = (
    "a command failing on the left of a pipe now fails the build, and later RUNs and "
    "shell-form CMD/ENTRYPOINT run under bash instead of /bin/sh"
)
_SHELL_WORDS = '["/bin/bash", "-o", "pipefail", "-c"]'


def _has_pipe(shell: RunShell) -> bool:
    return any(
        isinstance(node, Pipeline) and len(node.commands) > 1 for node in iter_nodes(shell.script)
    )


def _why_no_bash(facts: StageFacts) -> str:
    traits = facts.traits
    if traits is None:
        return "the base image is not known to have bash"
    if traits.family is Family.DEBIAN:
        return ""
    if traits.family is Family.RHEL and traits.package_manager is not None:
        return ""
    return f"{traits.family.value} images have no bash unless it is installed"


def _piped_runs(facts: StageFacts) -> Iterator[tuple[Instruction, RunShell]]:
    for instruction in facts.stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell) and _has_pipe(shell):
            yield instruction, shell


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    for facts in context.model.stages:
        piped = list(_piped_runs(facts))
        if not piped:
            continue
        anchor = None
        for instruction, shell in piped:
            step = facts.at(instruction)
            if "pipefail" in shell.script.text:
                continue
            if step.shell is not None and any("pipefail" in word for word in step.shell):
                continue
            message = (
                "RUN with a pipe but no `pipefail`: only the last command's failure fails the build"
            )
            if step.shell is not None:
                yield rule.finding(message, instruction, note="the stage has its own SHELL")
                continue
            why = _why_no_bash(facts)
            if why:
                yield rule.finding(message, instruction, note=why)
                continue
            if anchor is None:
                anchor = instruction
            keyword = "shell" if anchor.keyword.islower() else "SHELL"
            new = document.make_instruction(f"{keyword} {_SHELL_WORDS}")
            edits = (
                FixBuilder(document)
                .insert_before(document.with_comments_above(anchor), new)
                .edits()
            )
            yield rule.finding(
                message,
                instruction,
                edits=edits,
                applicability=Applicability.UNSAFE,
                reason=_REASON,
            )


RULE = Rule(
    code="DF112",
    name="pipefail",
    summary='Set `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before RUNs with pipes',
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"RUN"}),
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL),
)
