"""Which base images DF202 splits, and what the split relies on for each.

Why a module: the split relies on facts of the base image, and each must be known, not
guessed.  The base is the model's image (``StageFacts.image``: ARG defaults resolved),
its family the image table's or the one the stage reveals.  These bases are
split:

* the official Debian ``python`` images: Python is there, the scan runs ``python``;
  with the tag from an ARG, one whose literal rest keeps it a Debian python image
  (``python:${PY}-slim``), or the image the ARG's default names (``python:${PY}``, also
  on Alpine), which the reason says the split was planned for;
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
or a pin ``pip==N`` with N >= 9) before its first install, or the table of distribution
pips (``dockfix.images.system_pip``) says which pip the release's package ships for the
command the stage runs (``distro_pip``).  Otherwise the split is refused: the
distribution's pip of an old release, older than 9, would take the newest ``wheel``,
which no longer runs on Python 2.  The install's index options, ``--user``
and ``--break-system-packages`` (PEP 668: an "externally managed" system Python, as on
Alpine 3.19 and later) go to ``pip install wheel`` too (``unknown_base``).
"""

from __future__ import annotations

import re

from dockfix.images import lookup
from dockfix.images.python import debian_release, is_python_image
from dockfix.images.runtime_libs import is_build_package
from dockfix.images.table import Family
from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.distro_pip import check_stage_pips
from dockfix.rules.build_tools_in_final_image.unknown_base import (
    check_stage_pip,
    release_of,
    revealed_debian,
    scan_python,
    stage_pip_caveat,
)
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand
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
    #: RHEL family, whose pip the stage upgrades or the distribution table knows).
    pip_wheel: bool = False
    #: What the fix assumes about the base, for its reason.
    caveats: tuple[str, ...] = ()
    #: The RHEL family: ``rpm -qf`` names, installed with ``manager``.
    rhel: bool = False
    #: The package manager the final stage installs the scanned list with.
    manager: str = "apt-get"
    #: The image runs as root where the model does not know its user: the official
    #: python image with its tag from an ARG (docker-library/python's Dockerfiles, e.g.
    #: ``3.10/bookworm/Dockerfile``, set no ``USER``; any Linux tag of it).
    root: bool = False

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
    caveats = check_stage_pips(facts, managers, 3 if python3 else 2)
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
        caveats=caveats,
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


#: ``python:<tag with an ARG>``: the official repository, the tag from a variable.
_VARIABLE_PYTHON = re.compile(r"(?:docker\.io/)?(?:library/)?python:[^:@]*\$[^:@]*")


def _variable_python_base(text: str, resolved: ImageRef) -> Base:
    """A python image whose tag has an ARG: split when the literal rest of the tag keeps
    it a Debian python image for every value (the default is not relied on); otherwise
    on the image the ARG's default names, which the reason says (``_default_base``)."""
    match = _VARIABLE_TAG.fullmatch(text)
    if match is None:
        return _default_base(text, resolved)
    release = match["release"] or match["slim_release"]
    return Base(resolved, True, "python", release, root=True)


def _default_base(text: str, resolved: ImageRef) -> Base:
    """``python:${VERSION}`` (``resolved``: the image its ARG's default names), an
    official Debian or Alpine python image by the table: the split is planned for that
    image.  The scan runs the image's ``python`` (any tag of the repository has it); no
    Debian release is taken from the default (the names the builder finds are
    installed, none generated for one release), so another value of the same family
    gets the same split.  What another value does is the reason's: on Debian the -slim
    tag of the final stage is written from the variable (``checks.check_slimmable``)."""
    traits = lookup("python", resolved.tag) if is_python_image(resolved) else None
    if not _VARIABLE_PYTHON.fullmatch(text) or traits is None or resolved.digest:
        raise FixRefused("the base image is given by a variable")
    if traits.family not in (Family.DEBIAN, Family.ALPINE):
        raise FixRefused(
            f"the base image is given by a variable, `{resolved.text}` by default, which is "
            f"{traits.family.value}-based"
        )
    alpine = traits.family is Family.ALPINE
    caveat = (
        f"the base `{text}` is `{resolved.text}` by its ARG's default, which the split was "
        "planned for"
    )
    if not alpine:
        return Base(resolved, True, "python", None, caveats=(caveat,), root=True)
    caveat += (
        ": a value naming another Alpine python image gets the same split, and any other "
        "value breaks the stage's own apk, as in the original"
    )
    return Base(
        resolved, True, "python", None, alpine=True, manager="apk", caveats=(caveat,), root=True
    )


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
