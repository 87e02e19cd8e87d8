"""Which base images DF202 splits, and what the split relies on for each.

Why a module: the split relies on facts of the base image, and each must be known, not
guessed.  The base is the model's image (``StageFacts.image``: ARG defaults resolved),
its family the image table's or the one the stage reveals.  These bases are
split:

* the official Debian ``python`` images: Python is there, the scan runs ``python``;
* other Debian-family images, known to the table or revealed by the stage's own
  ``apt-get install``, whose stage installs Python with apt: the scan runs that Python
  (2.7 or 3), and the builder also installs ``python3-wheel``/``python-wheel``, which
  the older system pips need for ``pip wheel``.  Only the ``wheels`` strategy:
  ``python -m venv`` needs the ``python3-venv`` package;
* the official ``python:*-alpine`` images: the scan lists ``so:`` names for ``apk``;
* Debian-family images whose Python does not come from apt (unknown, a variable, conda
  installed by the stage): the builder runs the stage's own pip (``unknown_base``);
* Alpine images whose Python is Alpine's own (``apk add python3 py3-pip``) and
  RHEL-family images (CentOS, Fedora, Amazon Linux, Rocky, Alma, UBI) whose stage
  installs Python with ``yum``/``dnf``/``microdnf``: the scan runs that Python (2.7 or
  3) and names ``so:`` packages (Alpine) or ``rpm -qf`` owners (RHEL).

The ``wheel`` package on those system Pythons.  pip before 23.1 builds a project that
has no ``pyproject.toml`` with ``setup.py bdist_wheel`` in the environment itself, so
``pip wheel`` fails there without the ``wheel`` distribution (pip 9 even refused to
start: "'pip wheel' requires the 'wheel' package"); ``pip install`` does not need it
(it falls back to ``setup.py install``).  From pip 23.1 a missing ``wheel`` selects the
isolated PEP 517 build, which brings its own.  The release a tag names does not say
which pip the distribution's package has (nor whether it is named ``py-wheel``,
``py2-wheel`` or ``py3-wheel``, ``python-wheel`` or ``python3-wheel``), and
``alpine:latest``/``edge`` name no release at all; so the builder installs ``wheel``
with the very pip the file uses (``pip install wheel`` before its first ``pip wheel``),
which picks a release of ``wheel`` for that Python by ``Requires-Python`` from pip 9 on.
That pip must be known to be 9 or newer: the stage upgrades it (``pip install -U pip``,
or a pin ``pip==N`` with N >= 9) before its first install.  Otherwise the split is
refused: the distribution's pip of an old release, older than 9, would take the newest
``wheel``, which no longer runs on Python 2.  The install's index options, ``--user``
and ``--break-system-packages`` (PEP 668: an "externally managed" system Python, as on
Alpine 3.19 and later) go to ``pip install wheel`` too (``unknown_base``).
"""

from __future__ import annotations

import re

from dockfix.images.python import debian_release, is_python_image
from dockfix.images.runtime_libs import is_build_package
from dockfix.images.table import Family
from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.unknown_base import (
    check_stage_pip,
    release_of,
    revealed_debian,
    scan_python,
    stage_pip_caveat,
)
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand, iter_simple_commands
from dockfix.syntax import Dockerfile, ImageRef, Stage

_APT = frozenset({Manager.APT_GET, Manager.APT, Manager.APK})
#: The package managers of a system-Python split, by family.
_FAMILY_MANAGERS = {
    "alpine": frozenset({Manager.APK}),
    "rhel": frozenset({Manager.YUM, Manager.DNF, Manager.MICRODNF}),
}
#: Python 3 and Python 2 by package name, on Alpine and in the RHEL family (``python3``,
#: ``python36-devel``, ``py3-pip``; ``python``, ``python2-pip``, ``py2-pip``): not
#: ``py-pip``, which is Python 2's pip on old Alpine releases and Python 3's on new ones.
_SYSTEM_PYTHON3 = re.compile(r"python3\d*(\.\d+)?(-\w+)?|py3-\w[\w.-]*")
_SYSTEM_PYTHON2 = re.compile(r"python(2(\.\d+)?)?(-(pip|devel?|libs|setuptools))?|py2-\w[\w.-]*")
#: RHEL-family tags whose ``python`` is older than 2.7 (CentOS 5/6, Fedora before 14,
#: Amazon Linux 1's dated tags are 2.7 but its first ones were not: refused too).
_RHEL_TOO_OLD = re.compile(r"(centos)?[56](\..*)?|(201[0-7])\..*")
_PYTHON3 = re.compile(r"python3(\.\d+)?(-pip|-venv|-minimal|-dev|-setuptools)?")
_PYTHON2 = re.compile(r"python(2(\.\d+)?)?(-pip|-minimal|-dev|-setuptools)?")
#: Releases whose system Python is older than 2.7 (the scan needs 2.7 or 3).
_TOO_OLD = frozenset({"lenny", "squeeze", "lucid", "hardy", "karmic", "maverick"})
_MINIMUM = {"debian": (7,), "ubuntu": (12, 4)}


@dataclass(frozen=True)
class Base:
    """The resolved base image and what the split uses of it."""

    image: ImageRef
    #: The official python image (its libraries ship, ``python`` runs the scan).
    python_image: bool
    #: The command that runs the scan in the builder.
    python: str
    #: The Debian codename the tag names (None: not named, or not Debian's).
    release: str | None
    #: Packages the builder adds to its apt install: ``python3-wheel`` where the system
    #: pip is old enough to need the ``wheel`` package for ``pip wheel``.
    builder_packages: tuple[str, ...] = ()
    #: Alpine: ``apk`` and ``so:`` names instead of apt and dpkg.
    alpine: bool = False
    #: The builder installs ``wheel`` with the stage's own pip before it builds (a base
    #: whose pip is not known: see ``unknown_base``; a system Python of Alpine or the
    #: RHEL family, whose pip the stage upgrades).
    pip_wheel: bool = False
    #: What the fix assumes about the base, for its reason.
    caveats: tuple[str, ...] = ()
    #: The RHEL family: ``rpm -qf`` names, installed with ``manager``.
    rhel: bool = False
    #: The package manager the final stage installs the scanned list with.
    manager: str = "apt-get"

    @property
    def family(self) -> str:
        """``debian``, ``alpine`` or ``rhel``: which scan, names and manager."""
        return "alpine" if self.alpine else "rhel" if self.rhel else "debian"


def check_base(document: Dockerfile, facts: StageFacts, strategy: str) -> Base:
    """The base the split builds on, or FixRefused with the reason.  In a file with
    several stages the final stage is split; one built on an earlier stage keeps that
    stage as its base (the builder builds on it too)."""
    del document  # the stage's facts say all the split relies on
    image = facts.image
    traits = facts.traits
    variable = facts.stage.image.has_variables
    # ``python:${PY}-slim``; another variable tag goes on as any Debian base when the
    # stage's apt-get reveals the family (``unknown_base``).
    text = facts.stage.image.text
    python_tag = variable and (bool(_VARIABLE_TAG.fullmatch(text)) or not revealed_debian(facts))
    if traits is None and variable and image is not None and is_python_image(image) and python_tag:
        return _variable_python_base(facts.stage.image.text, image)
    if traits is not None and traits.family is Family.ALPINE:
        return _alpine_base(facts, strategy)
    if traits is not None and traits.family is Family.RHEL:
        return _family_python_base(facts, strategy, "rhel")
    if traits is not None and traits.family is not Family.DEBIAN:
        raise FixRefused(
            f"the base image is {traits.family.value}-based: only Debian-, Alpine- and "
            "RHEL-family images are split"
        )
    if traits is not None and image is not None and traits.python and is_python_image(image):
        return Base(image, True, "python", debian_release(image.tag))
    return _system_python_base(facts, strategy)


def _alpine_base(facts: StageFacts, strategy: str) -> Base:
    """The official python image on Alpine, or Alpine's own Python.  No generated names
    (Alpine's index was not read): the builder's scan writes ``so:`` names, which apk
    resolves to the packages providing them."""
    image, traits = facts.image, facts.traits
    assert image is not None and traits is not None
    if traits.python and is_python_image(image):
        return Base(image, True, "python", None, alpine=True, manager="apk")
    return _family_python_base(facts, strategy, "alpine")


def _family_python_base(facts: StageFacts, strategy: str, family: str) -> Base:
    """Alpine's own Python (``apk``) or a RHEL-family system Python (``yum``/``dnf``/
    ``microdnf``): the scan runs that Python; the builder installs ``wheel`` with the
    stage's pip, which must be known to be pip 9 or newer (see the module's doc)."""
    stage = facts.stage
    shown = stage.image.text
    managers = _FAMILY_MANAGERS[family]
    commands = _installs(stage, managers)
    installed = {w.value.split("=", 1)[0] for p in commands for w in p.packages if w.is_literal}
    pips = _pip_installs(stage)
    named = {" ".join(w.value for w in p.program_words) for p in pips}
    python3 = any(_SYSTEM_PYTHON3.fullmatch(n) for n in installed) or any(
        re.fullmatch(r"(pip|python)3(\.\d+)?( -m pip)?", n) for n in named
    )
    python2 = any(_SYSTEM_PYTHON2.fullmatch(n) for n in installed) or any(
        re.fullmatch(r"(pip|python)2(\.\d+)?( -m pip)?", n) for n in named
    )
    tool = "apk" if family == "alpine" else "yum/dnf"
    if not python3 and not python2:
        raise FixRefused(
            f"the base image is not an official python image and the stage installs no "
            f"Python with {tool} (`{shown}`)"
        )
    image = facts.image
    tag = (image.tag or "latest").lower() if image is not None else ""
    if family == "rhel" and not stage.image.has_variables and _RHEL_TOO_OLD.fullmatch(tag):
        raise FixRefused(f"the system Python of `{shown}` may be older than 2.7")
    if strategy == "venv":
        raise FixRefused("the venv split needs an official python image (python3-venv)")
    manager = _final_manager(commands, managers)
    _check_pip_upgraded(stage, pips, shown)
    python = "python3" if python3 else "python2"
    return Base(
        stage.image,
        False,
        python,
        None,
        alpine=family == "alpine",
        rhel=family == "rhel",
        manager=manager,
        pip_wheel=True,
    )


def _installs(stage: Stage, managers: frozenset[Manager]) -> list[PackageCommand]:
    """The stage's package installs by ``managers``, in file order."""
    found = []
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            found += [
                p for p in shell.packages() if p.manager in managers and p.action == "install"
            ]
    return found


def _final_manager(commands: list[PackageCommand], managers: frozenset[Manager]) -> str:
    """The manager the final stage installs the scanned list with: the one the stage
    installs its build packages with (``microdnf`` only where the file answers yes)."""
    builds = [p for p in commands if any(is_build_package(w.value) for w in p.packages)]
    chosen = (builds or commands)[0].manager if (builds or commands) else min(managers)
    if chosen is Manager.MICRODNF and not any(
        p.has_option("-y", "--assumeyes") for p in commands if p.manager is chosen
    ):
        raise FixRefused(
            "the stage runs microdnf install without -y: whether the final stage's "
            "install would ask is not known"
        )
    return chosen.value


def _pip_installs(stage: Stage) -> list[PackageCommand]:
    """The stage's ``pip install`` commands, in file order."""
    found = []
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            found += [
                p for p in shell.packages() if p.manager is Manager.PIP and p.action == "install"
            ]
    return found


_PIP_PIN = re.compile(r"pip==(\d+)(\.[\w.]*)?")


def _check_pip_upgraded(stage: Stage, pips: list[PackageCommand], shown: str) -> None:
    """Every ``pip install`` but pip's own upgrade runs a pip that an earlier command of
    the stage upgraded (``pip install -U pip``, ``pip==N`` with N >= 9), by the same
    command (``pip``, ``pip3``, ``python3 -m pip``), outside a virtualenv: that pip is 9
    or newer, so ``pip install wheel`` honours ``Requires-Python``."""
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for command in iter_simple_commands(shell.script):
            words = [w.value for w in command.words]
            venv = words[:1] == ["virtualenv"] or words[1:3] == ["-m", "venv"]
            activate = words[:1] in (["source"], ["."]) and any("activate" in w for w in words)
            if venv or activate:
                raise FixRefused(
                    f"pip runs in a virtualenv made in the stage (line {instruction.line}): "
                    "its pip is not known to be 9 or newer, which `pip install wheel` needs"
                )
    upgraded: set[str] = set()
    for package in pips:
        program = " ".join(w.value.rsplit("/", 1)[-1] for w in package.program_words)
        names = [w.value for w in package.packages]
        pins = [int(m[1]) for m in map(_PIP_PIN.fullmatch, names) if m is not None]
        tooling = set(names) - {"pip", "setuptools", "wheel"}
        if names and len(tooling) == len(pins):  # pip, setuptools, wheel and pip==N
            upgrade = package.has_option("-U", "--upgrade") and "pip" in names
            if pins and min(pins) < 9:
                raise FixRefused(f"`{program}` is pinned to a pip older than 9 on `{shown}`")
            if upgrade or pins:
                upgraded.add(program)
            continue
        if program not in upgraded:
            raise FixRefused(
                f"the system pip of `{shown}` is not known to be 9 or newer (the stage does "
                f"not upgrade `{program}` before using it): `pip install wheel`, which older "
                "pips need for `pip wheel`, picks a wheel for the Python only from pip 9"
            )


def _system_python_base(facts: StageFacts, strategy: str) -> Base:
    """A Debian or Ubuntu image (known, or revealed by the stage's apt-get) whose Python
    comes from apt: the scan runs that Python, and the builder gets the ``wheel``
    package that older system pips need for ``pip wheel``."""
    stage, image, traits = facts.stage, facts.image, facts.traits
    installed = set().union(*(_apt_installed(ancestor.stage) for ancestor in facts.lineage))
    shown = stage.image.text
    python3 = any(_PYTHON3.fullmatch(name) for name in installed)
    python2 = any(_PYTHON2.fullmatch(name) for name in installed)
    if not python3 and not python2:
        return _stage_pip_base(facts, strategy)
    if traits is None and not revealed_debian(facts):
        if image is None or facts.root.stage.image.has_variables:
            raise FixRefused("the base image is given by a variable")
        raise FixRefused(f"the base image `{image.text}` is not known")
    if image is not None and not stage.image.has_variables and _too_old(image):
        raise FixRefused(f"the system Python of `{shown}` may be older than 2.7")
    if strategy == "venv":
        raise FixRefused("the venv split needs an official python image (python3-venv)")
    wheel = []
    if "python3-pip" in installed:
        wheel.append("python3-wheel")
    if "python-pip" in installed:
        wheel.append("python-wheel")
    debian = image is not None and image.repository.removeprefix("library/") == "debian"
    release = debian_release(image.tag) if image is not None and debian else None
    return Base(stage.image, False, "python3" if python3 else "python", release, tuple(wheel))


#: ``python:${VERSION}-slim``: a variable only in the version, then a literal Debian
#: variant, so that any value the build passes still names a Debian python image.
_VARIABLE_TAG = re.compile(
    r"(?:docker\.io/)?(?:library/)?python:[^:@]*\$\{?\w+\}?"
    r"-(?:slim|(?P<release>buster|bullseye|bookworm|trixie))(?:-(?P<slim_release>"
    r"buster|bullseye|bookworm|trixie))?"
)


def _variable_python_base(text: str, resolved: ImageRef) -> Base:
    """A python image whose version is an ARG: split when the literal rest of the tag
    keeps it a Debian python image for every value (the default is not relied on)."""
    match = _VARIABLE_TAG.fullmatch(text)
    if match is None:
        raise FixRefused("the base image is given by a variable")
    release = match["release"] or match["slim_release"]
    return Base(resolved, True, "python", release)


def _stage_pip_base(facts: StageFacts, strategy: str) -> Base:
    """No Python from apt: the builder runs the stage's own pip (``unknown_base``)."""
    check_stage_pip(facts, strategy)
    python = scan_python(facts)
    caveat = stage_pip_caveat(facts)
    image = facts.stage.image
    return Base(image, False, python, release_of(facts), pip_wheel=True, caveats=(caveat,))


def _apt_installed(stage: Stage) -> set[str]:
    """Literal package names the stage installs with apt (or apk)."""
    names: set[str] = set()
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager in _APT and package.action == "install":
                names.update(w.value.split("=", 1)[0] for w in package.packages if w.is_literal)
    return names


def _too_old(image: ImageRef) -> bool:
    """Releases whose Python is older than 2.7, by the tag of a debian/ubuntu image."""
    repository = image.repository.removeprefix("library/")
    first = (image.tag or "latest").lower().split("-", 1)[0]
    if first in _TOO_OLD:
        return True
    if repository not in _MINIMUM or not re.fullmatch(r"\d+(\.\d+)*", first):
        return False
    return tuple(int(part) for part in first.split(".")) < _MINIMUM[repository]
