"""Is the pip a system-Python stage runs (Alpine, RHEL family) known to be 9 or newer?

Why: the builder installs ``wheel`` with the stage's own pip before its first ``pip
wheel`` (see ``base.py``), and ``pip install wheel`` picks a ``wheel`` that runs on the
Python only from pip 9 (``Requires-Python``).  A pip is known to be 9 or newer when an
earlier command of the stage upgraded it (``pip install -U pip``, ``pip==N`` with N >=
9) by the same command, or when the distribution's table
(``dockfix.images.system_pip``) says so for the image's release, the package the stage
installed before and the command it runs.  The table is read only when nothing else of
the stage may put another pip first on ``PATH`` or replace it (nor an earlier stage it
builds on): ``get-pip.py``,
``ensurepip``, ``easy_install``, a Python built from source (``make install``), conda or
pyenv, a link or alternative naming pip/python, an ``ENV PATH``, a pip requirement with
a range (``pip<9``), a pip given by a path other than ``/usr/bin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.images.system_pip import system_pip
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand, SimpleCommand, iter_simple_commands
from dockfix.syntax import Instruction, Stage

_PIP_PIN = re.compile(r"pip==(\d+)(\.[\w.]*)?")
_PIP_SPEC = re.compile(r"pip\s*[<>=!~\[;@].*", re.IGNORECASE)
#: Parts of words (split at ``/``, ``=``, ``:``, ``,``) that bring or point to another
#: pip or Python: ``get-pip.py``, ``-m ensurepip``, ``easy_install``, pyenv, conda.
_OTHER_PIP = re.compile(
    r"get-pip.*|ensurepip|easy_install.*|pyenv.*|conda|(mini|ana)conda.*", re.IGNORECASE
)
_LINKERS = frozenset({"ln", "alternatives", "update-alternatives"})
Position = tuple[int, int]


def _runs(stage: Stage) -> Iterator[tuple[int, Instruction, RunShell]]:
    for index, instruction in enumerate(stage.instructions):
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            yield index, instruction, shell


def _packages(stage: Stage) -> list[tuple[Position, PackageCommand]]:
    """Every package command of the stage with its position, in file order."""
    found = []
    for index, _, shell in _runs(stage):
        found += [((index, p.command.start), p) for p in shell.packages()]
    return found


def _check_no_virtualenv(stage: Stage) -> None:
    for _, instruction, shell in _runs(stage):
        for command in iter_simple_commands(shell.script):
            words = [w.value for w in command.words]
            venv = words[:1] == ["virtualenv"] or words[1:3] == ["-m", "venv"]
            activate = words[:1] in (["source"], ["."]) and any("activate" in w for w in words)
            if venv or activate:
                raise FixRefused(
                    f"pip runs in a virtualenv made in the stage (line {instruction.line}): "
                    "its pip is not known to be 9 or newer, which `pip install wheel` needs"
                )


def _other_pip(stage: Stage, before: Position) -> str | None:
    """What of the stage, before ``before``, may run or install another pip."""
    for index, instruction in enumerate(stage.instructions):
        if (index, 0) > before:
            break
        if instruction.cmd == "ENV" and re.search(r"\bPATH\b", " ".join(instruction.value)):
            return f"the ENV on line {instruction.line} sets PATH"
    for index, instruction, shell in _runs(stage):
        for command in iter_simple_commands(shell.script):
            if (index, command.start) >= before:
                break
            found = _other_pip_command(command)
            if found:
                return f"the RUN on line {instruction.line} runs `{found}`"
    return None


def _other_pip_command(command: SimpleCommand) -> str | None:
    words = [w.value for w in command.words]
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if any(_OTHER_PIP.fullmatch(part) for w in words for part in re.split(r"[/=:,]", w)):
        return " ".join(words[:3])
    if program == "make" and {"install", "altinstall"} & set(words[1:]):
        return " ".join(words[:2])
    if program == "configure" or words[0].endswith("/configure"):
        return words[0]
    if program in _LINKERS and any("pip" in w or "python" in w for w in words[1:]):
        return " ".join(words[:3])
    return None


def _command(package: PackageCommand) -> str | None:
    """The pip command as the table names it, None for a pip given by another path."""
    words = [w.value for w in package.program_words]
    if "/" in words[0]:
        if words[0].rsplit("/", 1)[0] != "/usr/bin":
            return None
        words[0] = words[0].rsplit("/", 1)[1]
    return " ".join(words)


def check_stage_pips(
    facts: StageFacts, managers: frozenset[Manager], python: int
) -> tuple[str, ...]:
    """Refuses unless every ``pip install`` of the stage but pip's own upgrade runs a pip
    known to be 9 or newer; returns what the fix takes from the distribution table."""
    stage = facts.stage
    shown = stage.image.text
    _check_no_virtualenv(stage)
    packages = _packages(stage)
    upgraded: set[str] = set()
    caveats: list[str] = []
    for position, package in packages:
        if package.manager is not Manager.PIP or package.action != "install":
            continue
        program = " ".join(w.value.rsplit("/", 1)[-1] for w in package.program_words)
        names = [w.value for w in package.packages]
        if any(_PIP_SPEC.fullmatch(n) and not _PIP_PIN.fullmatch(n) for n in names):
            raise FixRefused(f"`{program}` installs a pip by a version range on `{shown}`")
        pins = [int(m[1]) for m in map(_PIP_PIN.fullmatch, names) if m is not None]
        tooling = set(names) - {"pip", "setuptools", "wheel"}
        if names and len(tooling) == len(pins):  # pip, setuptools, wheel and pip==N
            upgrade = package.has_option("-U", "--upgrade") and "pip" in names
            if pins and min(pins) < 9:
                raise FixRefused(f"`{program}` is pinned to a pip older than 9 on `{shown}`")
            if upgrade or pins:
                upgraded.add(program)
            continue
        if program in upgraded:
            continue
        caveats.append(_from_table(facts, packages, position, package, managers, python))
        upgraded.add(program)
    return tuple(dict.fromkeys(caveats))


def _from_table(
    facts: StageFacts,
    packages: list[tuple[Position, PackageCommand]],
    position: Position,
    package: PackageCommand,
    managers: frozenset[Manager],
    python: int,
) -> str:
    """The distribution's pip that ``package`` runs, when known to be 9 or newer (the
    caveat that says so), or FixRefused with the reason."""
    stage, image = facts.stage, facts.image
    shown = stage.image.text
    command = _command(package)
    program = command or " ".join(w.value for w in package.program_words)
    unknown = (
        f"the system pip of `{shown}` is not known to be 9 or newer (the stage does not "
        f"upgrade `{program}` before using it"
    )
    why = "`pip install wheel`, which older pips need for `pip wheel`, picks a wheel for the "
    why += "Python only from pip 9"
    if image is None or stage.image.has_variables:
        raise FixRefused(f"{unknown}, and the image is given by a variable): {why}")
    if len(facts.lineage) > 1:
        raise FixRefused(
            f"{unknown}, and it builds on an earlier stage, which may bring another pip): {why}"
        )
    if command is None:
        raise FixRefused(f"{unknown}, and it is not the distribution's): {why}")
    other = _other_pip(stage, position)
    if other is not None:
        raise FixRefused(f"{unknown}, and {other}, which may bring another pip): {why}")
    installed = {
        word.value
        for at, earlier in packages
        if at < position and earlier.manager in managers and earlier.action == "install"
        for word in earlier.packages
        if word.is_literal and not re.search(r"[=<>~*]", word.value)
    }
    answer = system_pip(image, installed, command)
    row = answer.row
    if row is None:
        raise FixRefused(f"{unknown}, and {answer.why}): {why}")
    version = ".".join(map(str, row.version))
    if row.version < (9,):
        raise FixRefused(
            f"`{command}` on `{shown}` is the pip of {row.package}, {version}, older than 9 "
            f"(the stage does not upgrade it before using it): {why}"
        )
    if row.python != python:
        raise FixRefused(
            f"`{command}` on `{shown}` is Python {row.python}'s pip ({row.package}), but the "
            f"stage's Python is taken to be Python {python}"
        )
    return (
        f"`{command}` is taken to be the pip of {row.package} on `{shown}` ({version} or "
        "newer, by the table of distribution pips), which the builder uses to install `wheel`"
    )
