"""Builds without build isolation: they import what the installs before them installed.

``pip install --no-build-isolation X`` (also ``PIP_NO_BUILD_ISOLATION`` set to any
value: pip reads the variable with an inverted meaning, so ``0`` and ``false`` turn
isolation off too) and legacy builds (``--no-use-pep517``, ``PIP_USE_PEP517`` or
``PIP_NO_USE_PEP517`` set) run the project's build in the environment pip installs into:
``setup.py`` imports numpy or Cython installed by an earlier ``pip install``.

* The ``wheels`` builder only builds wheels (``pip wheel`` installs nothing), so such a
  build would not find them: the builder installs its wheels of every install before
  the last such build, as the final stage does (``pip wheel ... && pip install
  --no-index --find-links=/wheels ...``, the same mechanism as a Python program between
  installs, see ``checks.check_between_sites``).
* The ``venv`` builder installs in order, into ``python -m venv``'s environment, which
  has ensurepip's seed packages: pip, and up to Python 3.11 an old setuptools without
  ``wheel``, where the official images' Python up to 3.11 has setuptools and ``wheel``
  (``bdist_wheel``, which setuptools before 70.1 takes from ``wheel``).  A build without
  isolation is offered there only on an official python image of 3.12 or newer, whose
  Python has neither (so the virtualenv starts as the image did); elsewhere refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.images.python import is_python_image, python_tag_version
from dockfix.model import StageFacts
from dockfix.rules._shell import CommandKey, command_key
from dockfix.rules.build_tools_in_final_image.checks import Site
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager

#: pip's variables that turn build isolation off (any value: see the module's docstring).
_VARIABLES = ("PIP_NO_BUILD_ISOLATION", "PIP_USE_PEP517", "PIP_NO_USE_PEP517")
#: pip's options that do (optparse takes any unambiguous abbreviation: ``--no-build-i``).
_OPTIONS = (("--no-build-isolation", len("--no-bu")), ("--no-use-pep517", len("--no-use-")))


def isolation_off(facts: StageFacts, site: Site) -> str | None:
    """What makes ``site``'s builds run without isolation (for the note), or None."""
    package = site.package
    if package is not None and package.manager is not Manager.PIP:
        return None  # pipenv/Poetry lock installs: the builder runs them as they are
    if package is not None:
        for option in package.parsed_options:
            for name, shortest in _OPTIONS:
                flag = option.flag
                if len(flag) >= shortest and name.startswith(flag):
                    return f"`{flag}`"
    command = site.command
    assigned = {word.value.split("=", 1)[0] for word in command.assignments}
    step = facts.at(site.shell.instruction)
    before = site.shell.script.text[: command.start]
    for variable in _VARIABLES:
        if variable in assigned or step.defines(variable) or variable in before:
            return f"`{variable}`"
    return None


def installs_before_unisolated(
    facts: StageFacts, sites: Sequence[Site], strategy: str
) -> set[CommandKey]:
    """The installs the ``wheels`` builder must also make from its wheels (their
    commands' ids): every one before the last build without isolation.  With ``venv``,
    refused unless the virtualenv starts as the image's Python (see the docstring)."""
    stage = facts.stage

    def position(site: Site) -> tuple[int, int]:
        return stage.instructions.index(site.shell.instruction), site.command.start

    unisolated = [(site, why) for site in sites if (why := isolation_off(facts, site))]
    if not unisolated:
        return set()
    if strategy == "venv":
        _check_venv_seed(facts, *unisolated[0])
        return set()
    last = max(position(site) for site, _ in unisolated)
    return {
        command_key(site.shell.instruction, site.command) for site in sites if position(site) < last
    }


def _check_venv_seed(facts: StageFacts, site: Site, why: str) -> None:
    image = facts.stage.image
    resolved = facts.image or image
    version = python_tag_version(resolved) if is_python_image(resolved) else None
    if not image.has_variables and version is not None and version >= (3, 12):
        return
    raise FixRefused(
        f"the install on line {site.shell.instruction.line} builds without isolation "
        f"({why}), in the environment it installs into: the builder's virtualenv (`python "
        "-m venv`) has only ensurepip's pip and setuptools, not the `wheel` package the "
        "image's Python has, which setuptools before 70.1 needs to build a wheel: a "
        "setuptools build fails there unless an install before it adds `wheel`; the wheels "
        "strategy builds with the image's Python"
    )
