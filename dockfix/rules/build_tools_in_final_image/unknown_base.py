"""Bases whose Python the split does not know: the stage's own pip builds the wheels.

Why a module: on an image the table does not know (``continuumio/miniconda3``, a
``${base}`` ARG, an in-house image) or one whose Python the stage brings itself (conda
installed by a script on ``ubuntu:18.04``), nothing says which Python and pip the stage
runs.  The split does not need to know: the builder starts from the same base (or the
same earlier stage) and repeats the stage's steps up to the last ``pip install``, so it
runs the very pip the original runs, and the final stage's ``pip install --no-index
--find-links=/wheels`` runs it again.  What the split then relies on, and checks:

* the family is Debian or Ubuntu (the table's, or the stage's own ``apt-get``, with no
  other package manager): ``ldd`` and ``dpkg-query``, which the library scan runs, are
  in every such image (``libc-bin`` and ``dpkg`` are essential);
* ``pip wheel`` works with that pip: older pips need the ``wheel`` package, so the
  builder installs it with the same pip (and the install's index options,
  ``--break-system-packages`` and ``--user``) before its first build; no distribution
  package name is needed.  Where ``wheel`` is already there (conda, ``get-pip.py``,
  virtualenvs) pip installs nothing; a pip older than 9 on Python 2 without it would
  fetch the newest ``wheel``, which no longer supports Python 2;
* the scan runs on a Python the builder finds: the one next to a pip given by path
  (``/opt/conda/bin/pip`` -> ``/opt/conda/bin/python``), else ``python3`` or ``python``
  on ``PATH`` (any Python 2.7 or 3 reads the wheels);
* a base the table knows to have no Python must show where the stage's pip comes from
  (``get-pip.py`` or ``ensurepip`` run by the stage, a pip given by path, or a ``PATH``
  the stage sets, as a conda install does);
  otherwise the pip is not accounted for and the split is refused.

Libraries that come with the base's Python outside dpkg (conda's under its prefix) are
not listed by the scan; the final stage is built on the same base and the same steps, so
it keeps them as the original did.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence

from dockfix.images.python import debian_release, python_builds
from dockfix.images.table import Family
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.wrappers import top_item, wrapper_reason
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand, SimpleCommand, iter_simple_commands

#: Package managers of the Debian family; any other one in the lineage hides the family.
_DEBIAN_MANAGERS = frozenset({Manager.APT_GET, Manager.APT})
_SYSTEM_MANAGERS = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)
#: Options of a ``pip install`` that choose where packages come from and where pip may
#: install (``--break-system-packages`` on an externally managed Python, ``--user``): the
#: builder's ``pip install wheel`` uses them too, so it works where the install works.
CARRIED_OPTIONS = frozenset(
    {
        "--break-system-packages",
        "--user",
        "-i",
        "--index-url",
        "--extra-index-url",
        "--no-index",
        "-f",
        "--find-links",
        "--trusted-host",
        "--proxy",
        "--cert",
        "--client-cert",
        "--isolated",
    }
)
_PIP_PROGRAM = re.compile(r"pip(?P<version>[23](?:\.\d+)?)?")


def revealed_debian(facts: StageFacts) -> bool:
    """The stage and the stages it builds on install with ``apt-get``/``apt`` and with no
    other system package manager: the base is Debian or Ubuntu for any value that builds."""
    managers = {package.manager for package in _system_packages(facts)}
    return bool(managers) and managers <= _DEBIAN_MANAGERS


def _system_packages(facts: StageFacts) -> Iterable[PackageCommand]:
    for ancestor in facts.lineage:
        for instruction in ancestor.stage.instructions:
            shell = run_shell(instruction)
            if isinstance(shell, RunShell):
                for package in shell.packages():
                    if package.manager in _SYSTEM_MANAGERS:
                        yield package


def scan_python(facts: StageFacts) -> str:
    """The command that runs the builder's library scan: the first Python found of the
    one next to a pip given by path, ``python3`` and ``python`` (``command -v`` in the
    RUN's shell; any Python 2.7 or 3 will do)."""
    candidates = [*_sibling_pythons(facts), "python3", "python"]
    chain = " || ".join(f"command -v {name}" for name in _unique(candidates))
    return f'"$({chain})"'


def _sibling_pythons(facts: StageFacts) -> list[str]:
    """``/opt/conda/bin/python`` for ``/opt/conda/bin/pip`` (a venv's, conda's layout)."""
    found = []
    for _, package in python_builds(facts.stage):
        words = [word.value for word in package.program_words] if package else []
        if len(words) != 1 or not words[0].startswith("/") or "$" in words[0]:
            continue
        folder, name = posixpath.split(words[0])
        match = _PIP_PROGRAM.fullmatch(name)
        if match is not None:
            found.append(posixpath.join(folder, f"python{match['version'] or ''}"))
    return found


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def pip_accounted_for(facts: StageFacts) -> bool:
    """On a base known to have no Python: the stage's pip is one the stage set up itself
    (``get-pip.py``, ``ensurepip``, given by path, or found through a ``PATH`` the
    stage's ``ENV`` sets)."""
    if _installs_pip(facts):
        return True
    for instruction, package in python_builds(facts.stage):
        words = [word.value for word in package.program_words] if package else []
        if words and words[0].startswith("/"):
            continue
        if "PATH" not in facts.at(instruction).env:
            return False
    return True


def _installs_pip(facts: StageFacts) -> bool:
    """The stage or a stage it builds on runs pip's own installer (``get-pip.py``,
    ``python -m ensurepip``, ``easy_install pip``)."""
    for ancestor in facts.lineage:
        for instruction in ancestor.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            for command in iter_simple_commands(shell.script):
                words = [word.value for word in command.words]
                if any(word.endswith("get-pip.py") for word in words):
                    return True
                if "ensurepip" in words[1:3] or words[:2] == ["easy_install", "pip"]:
                    return True
    return False


def stage_pip_caveat(facts: StageFacts) -> str:
    """What the unsafe fix assumes about the base, for its reason."""
    stage, image = facts.stage, facts.image
    root = facts.root.stage.image
    if root.has_variables:
        default = f", `{image.text}` by default" if image is not None else ""
        subject = (
            f"the base image is given by a variable (`{root.text}`{default}); the stage's "
            "apt-get makes it Debian or Ubuntu for any value that builds"
        )
    elif facts.traits is None:
        subject = f"the base image `{stage.image.text}` is not known"
    else:
        subject = f"the stage's Python is not installed with apt (`{stage.image.text}`)"
    return (
        f"{subject}: the builder repeats the stage's steps on the same base and builds "
        "with the stage's own pip, after installing the `wheel` package with it from the "
        "index (a pip older than 9 without `wheel` would take the newest release, which "
        "may not run on its Python); the library scan runs the first Python it finds "
        "(`python3`, `python`) and "
        "lists only libraries dpkg owns (those of a conda or other Python outside dpkg stay "
        "only as the base and the kept steps bring them)"
    )


def check_stage_pip(facts: StageFacts, strategy: str) -> None:
    """FixRefused where what the stage-pip split relies on is not established."""
    traits = facts.traits
    root = facts.root.stage.image
    shown = facts.stage.image.text
    if traits is None and not revealed_debian(facts):
        if facts.image is None or root.has_variables:
            raise FixRefused("the base image is given by a variable")
        raise FixRefused(f"the base image `{shown}` is not known")
    if traits is not None and traits.family is not Family.DEBIAN:
        raise FixRefused(f"the base image is {traits.family.value}-based (`{shown}`)")
    if traits is not None and not traits.python and not pip_accounted_for(facts):
        raise FixRefused(
            f"the base image `{shown}` has no Python and the stage installs none with apt: "
            "where its pip comes from is not known"
        )
    if strategy == "venv":
        raise FixRefused(
            "the venv split needs an official python image (the base's Python may have "
            "no venv module)"
        )


def release_of(facts: StageFacts) -> str | None:
    """The Debian codename of a literal ``debian`` tag (None: not named, or Ubuntu)."""
    image = facts.image
    if image is None or facts.root.stage.image.has_variables:
        return None
    if image.repository.removeprefix("library/") != "debian":
        return None
    return debian_release(image.tag)


# -- the builder's ``pip install wheel`` --------------------------------------------------


def pip_head(text: str, package: PackageCommand | None, command: SimpleCommand) -> str:
    """The words that run the install's pip (assignments, program, options before the
    subcommand): ``/opt/conda/bin/pip``, ``python3 -m pip``; for ``python setup.py
    install``, that Python's ``-m pip``."""
    if package is None:
        return f"{command.words[0].text} -m pip"
    subcommand = package.subcommand_word
    assert subcommand is not None
    return text[command.start : subcommand.start].strip()


def wheel_install(text: str, package: PackageCommand | None, command: SimpleCommand) -> str:
    """``<pip> install wheel`` with the install's ``CARRIED_OPTIONS``, then ``&&``."""
    options: list[str] = []
    if package is not None:
        options = [
            text[word.start : word.end]
            for option in package.parsed_options
            if {option.flag, *option.names} & CARRIED_OPTIONS
            for word in option.words
        ]
    words = [pip_head(text, package, command), "install", *options, "wheel"]
    return " ".join(words) + " && "


def check_wheel_position(shell: RunShell, command: SimpleCommand) -> None:
    """``<pip> install wheel &&`` goes right before the build: only where it then runs
    exactly when the build did (after ``&&``, ``;`` or a new line, not after ``||``; not
    followed by ``||``, which would swallow its failure)."""
    body = shell.script.body
    top = top_item(shell.script, command)
    index = next((i for i, item in enumerate(body.items) if item is top), None)
    if index is None:
        raise FixRefused(wrapper_reason(shell.script, command, shell.instruction.line))
    program = command.words[0].value if command.words else ""
    if top is not command and "/" in program and not program.startswith("/"):
        raise FixRefused(
            f"the pip install on line {shell.instruction.line} runs `{program}` by a "
            "relative path inside a subshell: the builder's install of `wheel`, put before "
            "the subshell, may run another program"
        )
    before = body.operators[index - 1].text if index > 0 else "&&"
    after = body.operators[index].text if index < len(body.operators) else ";"
    if before not in ("&&", ";", "\n") or after in ("||", "&"):
        raise FixRefused(
            f"the pip install on line {shell.instruction.line} follows `||` or is "
            "followed by `||`: the builder's install of `wheel` cannot go before it"
        )


def prepend_span(
    spans: list[tuple[int, int, str]], position: int, text: str
) -> list[tuple[int, int, str]]:
    """Insert ``text`` at ``position``: joined to an insertion already there (one edit
    per position), before its text."""
    for index, (start, end, old) in enumerate(spans):
        if start == end == position:
            return [*spans[:index], (start, end, text + old), *spans[index + 1 :]]
    return [*spans, (position, position, text)]


# -- conda's installer ----------------------------------------------------------------------

#: The installers Anaconda and conda-forge publish (``Miniconda3-latest-Linux-x86_64.sh``,
#: ``Anaconda3-2024.02-1-Linux-x86_64.sh``, ``Miniforge3-Linux-x86_64.sh``), however saved.
_CONDA_INSTALLER = re.compile(r"(?i)(miniconda|anaconda|miniforge|mambaforge)[\w.+-]*\.sh")
_SHELL_PROGRAMS = frozenset({"sh", "bash", "dash"})
#: The installer's batch options (``-b`` batch, ``-f`` force, ``-u`` update, ``-s`` skip
#: scripts, ``-p PREFIX``), alone or clustered as in ``-bfp /usr/local``.
_INSTALLER_FLAGS = re.compile(r"-[bfus]*p?")


def is_conda_installer(words: Sequence[str]) -> bool:
    """``bash miniconda.sh -b -p /opt/conda``: conda's installer in batch mode, a shell
    script with its packages appended, which unpacks prebuilt binaries and compiles
    nothing, so it does not need the build tools."""
    if words and posixpath.basename(words[0]) in _SHELL_PROGRAMS:
        words = words[1:]
    if not words or not _CONDA_INSTALLER.fullmatch(posixpath.basename(words[0])):
        return False
    batch, index = False, 1
    while index < len(words):
        flag = words[index]
        if not _INSTALLER_FLAGS.fullmatch(flag) or flag == "-":
            return False
        batch = batch or "b" in flag
        index += 2 if flag.endswith("p") else 1
    return batch
