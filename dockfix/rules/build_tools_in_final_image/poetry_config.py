"""Where ``poetry install`` installs, for DF202's split (see ``poetry.py``): the Python
Poetry runs on only when ``virtualenvs.create`` is false.

Poetry's ``Config.get`` (poetry/config/config.py) takes ``POETRY_VIRTUALENVS_CREATE``
first, normalised by ``boolean_normalizer`` (``true`` and ``1`` are true, so ``false``
and ``0`` are false; ``poetry config`` accepts only those four, ``boolean_validator``),
set for the stage (``ENV``, ``ARG``) or on the install command itself (``VAR=false poetry
install``: that command's environment, read before the stage's);
then the configuration files: the project's ``poetry.toml`` (written by ``poetry config
--local``), merged over the global ``config.toml`` (written by ``poetry config``).  The
default is true.  A ``poetry config`` key other than the ones of ``_QUIET_KEYS``
(``installer.no-binary``, ``repositories.*``...) changes how or from where Poetry
installs, and is refused.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from dockfix.model import BuildContext, StageFacts
from dockfix.model.copied import file_origin
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand, command_name, iter_simple_commands
from dockfix.syntax import Instruction

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: ``poetry config`` keys that change nothing the split relies on.
_QUIET_KEYS = frozenset(
    {
        *("virtualenvs.in-project", "virtualenvs.path", "virtualenvs.prefer-active-python"),
        *("cache-dir", "installer.max-workers", "installer.parallel"),
        *("installer.modern-installation", "experimental.new-installer"),
    }
)
_FALSE = frozenset({"false", "0"})
_TRUE = frozenset({"true", "1"})


def read_toml(text: str, name: str, named: str) -> Mapping[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise FixRefused(f"the {name} of {named} is not valid TOML") from None
    return data


def _poetry_configs(
    facts: StageFacts, shell: RunShell, package: PackageCommand
) -> list[tuple[Instruction, PackageCommand]]:
    """The stage's ``poetry config`` commands that run before the install, in order."""
    found: list[tuple[Instruction, PackageCommand]] = []
    for instruction in facts.stage.instructions:
        other = run_shell(instruction)
        if not isinstance(other, RunShell):
            continue
        for command in other.packages():
            if instruction is shell.instruction and command.command.start >= package.command.start:
                return found
            if command.manager is Manager.POETRY and command.action == "config":
                found.append((instruction, command))
        if instruction is shell.instruction:
            return found
    return found


def _check_same_place(
    facts: StageFacts, at: Instruction, config: PackageCommand, install: Instruction, named: str
) -> None:
    """A ``poetry config`` writes the file the install reads: the global one in the same
    user's configuration folder (no ``USER``, ``HOME``, ``XDG_CONFIG_HOME`` or
    ``POETRY_CONFIG_DIR`` change between them), the local one in the same folder."""
    stage = facts.stage.instructions
    between = stage[stage.index(at) : stage.index(install)]
    if any(instruction.cmd == "USER" for instruction in between):
        raise FixRefused(
            f"a USER line runs between `poetry config` on line {at.line} and {named}: the "
            "install may read another user's configuration"
        )
    before, after = facts.at(at), facts.at(install)
    for name in ("HOME", "XDG_CONFIG_HOME", "POETRY_CONFIG_DIR"):
        if before.value(name) != after.value(name) or before.defines(name) != after.defines(name):
            raise FixRefused(
                f"{name} changes between `poetry config` on line {at.line} and {named}: the "
                "install may read another configuration file"
            )
    shell = run_shell(at)
    moved = isinstance(shell, RunShell) and any(
        command_name(command) in ("cd", "pushd")
        for command in iter_simple_commands(shell.script)
        if command.start < config.command.start
    )
    if config.has_option("--local") and (moved or before.workdir != after.workdir):
        raise FixRefused(
            f"`poetry config --local` on line {at.line} writes poetry.toml in another folder "
            f"than the project of {named}"
        )


#: The variable Poetry reads for ``virtualenvs.create``.
CREATE = "POETRY_VIRTUALENVS_CREATE"


def inline_create(package: PackageCommand) -> str | None:
    """The ``POETRY_VIRTUALENVS_CREATE=...`` assignment on the install command itself
    (``POETRY_VIRTUALENVS_CREATE=false poetry install``), as written; None without."""
    for word in package.command.assignments:
        if word.value.split("=", 1)[0] == CREATE:
            return word.text
    return None


def check_virtualenv(
    facts: StageFacts,
    shell: RunShell,
    package: PackageCommand,
    context: BuildContext,
    named: str,
) -> None:
    """``virtualenvs.create`` is false where the install runs: Poetry's variable wins,
    then the project's poetry.toml, then the global configuration."""
    step = facts.at(shell.instruction)
    virtualenv = (
        f"{named} installs into a virtualenv Poetry makes (`virtualenvs.create` is not "
        "false), at a path derived from the project, which the final stage would have to "
        "make again with Poetry; split it by hand"
    )
    inline = next(
        (w for w in package.command.assignments if w.text == inline_create(package)), None
    )
    if inline is not None:  # the command's own environment: it wins over ENV
        value = inline.value.split("=", 1)[1] if inline.is_literal else None
        if value in _FALSE:
            return
        raise FixRefused(
            virtualenv if value in _TRUE else f"{CREATE} for {named} is not known to be false or 0"
        )
    if step.defines(CREATE):
        value = step.value(CREATE)
        if value in _FALSE:
            return
        raise FixRefused(
            virtualenv
            if value in _TRUE
            else f"POETRY_VIRTUALENVS_CREATE for {named} is not known to be false or 0"
        )
    local: str | None = None  # the value a ``poetry config --local`` wrote
    global_value: str | None = None
    for at, command in _poetry_configs(facts, shell, package):
        line = at.line
        words = [word.value for word in command.packages]
        if command.has_option("--unset", "--list") or not words:
            raise FixRefused(
                f"`poetry config` on line {line} before {named} is not followed by the split"
            )
        if words[0] == "virtualenvs.create" and len(words) == 2 and words[1] in _FALSE | _TRUE:
            _check_same_place(facts, at, command, shell.instruction, named)
            if command.has_option("--local"):
                local = words[1]
            else:
                global_value = words[1]
        elif words[0] not in _QUIET_KEYS:
            raise FixRefused(
                f"`poetry config {words[0]}` on line {line} changes how Poetry installs "
                f"for {named}; split it by hand"
            )
    origin = file_origin(facts, shell.instruction, "poetry.toml", context)
    if origin is not None:
        if origin.text is None and not origin.missing:
            raise FixRefused(
                f"the project's poetry.toml of {named} {origin.why}: whether it makes a "
                "virtualenv is not known"
            )
        if origin.text is not None:
            if local is not None:
                raise FixRefused(
                    f"both the build context's poetry.toml and `poetry config --local` "
                    f"configure {named}; split it by hand"
                )
            configured = read_toml(origin.text, "poetry.toml", named).get("virtualenvs", {})
            create = configured.get("create") if isinstance(configured, dict) else None
            local = None if create is None else str(create).lower()
    value = local if local is not None else global_value
    if value not in _FALSE:
        raise FixRefused(virtualenv)
