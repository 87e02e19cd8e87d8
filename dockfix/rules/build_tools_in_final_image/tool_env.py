"""Checks shared by the lock-file installs the builder runs as written (``pipenv
install``, ``poetry install``): the split holds only when the tool reads the files and
runs on the Python it would read and run on in the final stage, so its own variables,
an activated environment and a ``cd`` before it are refused, each with the reason."""

from __future__ import annotations

import re
from collections.abc import Collection

from dockfix.model.stages import Step
from dockfix.rules._shell import RunShell
from dockfix.rules.refusal import FixRefused
from dockfix.shell import PackageCommand, command_name, iter_simple_commands

_ACTIVATES = re.compile(r"/activate\b|\bworkon\b|\bconda activate\b")


def check_tool_variables(step: Step, prefix: str, harmless: Collection[str], named: str) -> None:
    """No ``<prefix>*`` variable (``PIPENV_``, ``POETRY_``) in effect but the harmless ones."""
    for name in [*step.env, *step.args]:
        if name.startswith(prefix) and name not in harmless:
            raise FixRefused(f"{name} is set for {named}, which the split does not follow")


def check_not_activated(shell: RunShell, line: int, before: str, consequence: str) -> None:
    """The RUN activates no environment (``. venv/bin/activate``, ``workon``, ``conda
    activate``) before the install: ``before`` names the install, ``consequence`` why
    that matters."""
    if _ACTIVATES.search(shell.instruction.text):
        raise FixRefused(
            f"the RUN on line {line} activates an environment before {before}, {consequence}"
        )


def check_no_cd(shell: RunShell, package: PackageCommand, line: int, tool: str, read: str) -> None:
    """No ``cd``/``pushd`` before the install in its RUN: the files it reads (``read``)
    are known only in the RUN's WORKDIR."""
    for command in iter_simple_commands(shell.script):
        if command.start >= package.command.start:
            break
        if command_name(command) in ("cd", "pushd"):
            raise FixRefused(
                f"the RUN on line {line} changes folder before `{tool} install`, so the "
                f"{read} it reads is not known"
            )
