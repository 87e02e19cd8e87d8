"""Which base images DF202 splits, and what the split relies on for each.

Why a module: the split relies on facts of the base image, and each must be known, not
guessed.  The base is the model's image (``StageFacts.image``: ARG defaults resolved),
its family the image table's or the one the stage reveals.  Three kinds of bases are
split:

* the official Debian ``python`` images: Python is there, the scan runs ``python``;
* other Debian-family images, known to the table or revealed by the stage's own
  ``apt-get install``, whose stage installs Python with apt: the scan runs that Python
  (2.7 or 3), and the builder also installs ``python3-wheel``/``python-wheel``, which
  the older system pips need for ``pip wheel``.  Only the ``wheels`` strategy:
  ``python -m venv`` needs the ``python3-venv`` package;
* the official ``python:*-alpine`` images: the scan lists ``so:`` names for ``apk``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockfix.images.python import debian_release, is_python_image
from dockfix.images.table import Family
from dockfix.model import StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager
from dockfix.syntax import Dockerfile, ImageRef, Stage

_APT = frozenset({Manager.APT_GET, Manager.APT, Manager.APK})
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


def check_base(document: Dockerfile, facts: StageFacts, strategy: str) -> Base:
    """The base the split builds on, or FixRefused with the reason.  In a file with
    several stages the final stage is split; one built on an earlier stage keeps that
    stage as its base (the builder builds on it too)."""
    del document  # the stage's facts say all the split relies on
    image = facts.image
    traits = facts.traits
    variable = facts.stage.image.has_variables
    if traits is None and variable and image is not None and is_python_image(image):
        return _variable_python_base(facts.stage.image.text, image)
    if traits is not None and traits.family is Family.ALPINE:
        return _alpine_base(facts, strategy)
    if traits is not None and traits.family is not Family.DEBIAN:
        raise FixRefused(
            f"the base image is {traits.family.value}-based: its build packages have other "
            "names; only Debian- and Alpine-based images are split"
        )
    if traits is not None and image is not None and traits.python and is_python_image(image):
        return Base(image, True, "python", debian_release(image.tag))
    return _system_python_base(facts, strategy)


def _alpine_base(facts: StageFacts, strategy: str) -> Base:
    """The official python image on Alpine.  No generated names (Alpine's index was not
    read): the builder's scan writes ``so:`` names, which apk resolves to the packages
    providing them.  Alpine's own Python is not split: its older pips need the
    ``wheel`` package for ``pip wheel``, and that package's name per Alpine release is
    not known here."""
    del strategy  # the official image has venv
    stage, image, traits = facts.stage, facts.image, facts.traits
    assert image is not None and traits is not None
    if traits.python and is_python_image(image):
        return Base(image, True, "python", None, alpine=True)
    raise FixRefused(
        "the base image is not an official python image: Alpine's own Python is not "
        f"split (its pip may need a wheel package whose name is not known; `{stage.image.text}`)"
    )


def _system_python_base(facts: StageFacts, strategy: str) -> Base:
    """A Debian or Ubuntu image (known, or revealed by the stage's apt-get) whose Python
    comes from apt: the scan runs that Python, and the builder gets the ``wheel``
    package that older system pips need for ``pip wheel``."""
    stage, image, traits = facts.stage, facts.image, facts.traits
    installed = _apt_installed(stage)
    if traits is None and not installed:
        if image is None or stage.image.has_variables:
            raise FixRefused("the base image is given by a variable")
        raise FixRefused(f"the base image `{image.text}` is not known")
    shown = stage.image.text
    python3 = any(_PYTHON3.fullmatch(name) for name in installed)
    python2 = any(_PYTHON2.fullmatch(name) for name in installed)
    if not python3 and not python2:
        if traits is None:
            raise FixRefused(f"the base image `{shown}` is not known")
        raise FixRefused(
            f"the base image is not an official python image and the stage installs no "
            f"Python with apt (`{shown}`)"
        )
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
