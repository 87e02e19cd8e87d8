"""DF113 apt-upgrade: ``apt-get upgrade`` or ``dist-upgrade`` in a ``RUN``.

What it does
    Reports ``apt-get upgrade``, ``apt-get dist-upgrade``, ``apt-get full-upgrade``
    (and the same with ``apt``).  It never rewrites them.

Why is this bad?
    Upgrading every package of the base image makes the build depend on the day it
    runs (two builds of the same commit differ), grows the image with a second copy of
    every upgraded file, and hides which versions the image ships.  Pull a newer base
    image instead (the maintainers rebuild them for security updates), and pin the
    packages you need with ``apt-get install pkg=version``.

Example
    ``RUN apt-get update && apt-get upgrade -y`` is reported.

Fix safety
    No fix: removing the upgrade could keep a vulnerable package in the image, and the
    right newer base image is a decision only a person can make.

References
    hadolint DL3005 (removed from recent hadolint releases, but still a common review
    comment); Docker's best practices ("avoid RUN apt-get upgrade and dist-upgrade").
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import Manager

_UPGRADES = frozenset({"upgrade", "dist-upgrade", "full-upgrade"})


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    for instruction in context.document.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager not in (Manager.APT_GET, Manager.APT):
                continue
            word = package.subcommand_word
            if word is None or word.value not in _UPGRADES:
                continue
            yield rule.finding(
                f"`{package.manager.value} {word.value}` upgrades every package of the "
                "base image: use a newer base image and pin the packages you need",
                instruction.position_of(shell.base + word.start),
                note="upgrading is a decision about the base image, not a rewrite",
            )


RULE = Rule(
    code="DF113",
    name="apt-upgrade",
    summary="Do not `apt-get upgrade`/`dist-upgrade` in a build: use a newer base image",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"RUN"}),
)
