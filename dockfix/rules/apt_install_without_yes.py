"""DF104 apt-install-without-yes: ``apt-get install`` that may stop at a prompt.

What it does
    Finds ``apt-get install`` (and ``apt install``) without ``-y``/``--yes``/
    ``--assume-yes`` (or ``-qq``, which implies it) and adds ``-y`` right after
    ``install``.  Wrappers and prefixes (``sudo``, ``DEBIAN_FRONTEND=noninteractive``)
    are looked through.

Why is this bad?
    A build has no terminal: when apt wants to install more than the named packages it
    asks "Do you want to continue? [Y/n]", reads end-of-file, and aborts.  Whether it
    asks depends on what the base image already holds, so the build breaks at random
    when the base image changes.  ``DEBIAN_FRONTEND=noninteractive`` silences debconf
    questions, not this prompt.

Example
    ``RUN apt-get update && apt-get install curl`` becomes
    ``RUN apt-get update && apt-get install -y curl``.

Fix safety
    Safe.  ``-y`` only answers the confirmation prompt that would otherwise abort the
    build; it does not change which packages are installed.  Commands that read a pipe
    (``yes | apt-get install``) already get their answer and are left alone, as are
    commands with ``--assume-no`` or an ``APT::Get::Assume-Yes`` setting, and stages
    whose RUNs write an ``Assume-Yes`` apt configuration.

References
    practices.md row 4 (apt hygiene); hadolint DL3014.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import (
    APT,
    is_apt,
    option_findings,
    packages,
    runs_before_apt_setting,
    stdin_fed,
)
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import PackageCommand

_YES = ("-y", "--yes", "--assume-yes")


def quiet_level(package: PackageCommand) -> int:
    """apt's quiet level: ``-q`` counts one, ``-qq``/``-q -q`` two, ``-q=2`` sets it."""
    level = 0
    for option in package.parsed_options:
        if option.flag in ("--quiet", "-q") and option.value is not None:
            return int(option.value.value) if option.value.value.isdigit() else level
        level += option.names.count("-q") + option.names.count("--quiet")
    return level


def answers_prompt(package: PackageCommand) -> bool:
    """True when apt will not ask (or is told the answer) on this command line."""
    if package.has_option(*_YES, "--assume-no") or quiet_level(package) >= 2:
        return True
    return any("assume-yes" in value.value.lower() for value in package.option_values("-o"))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    message = "`apt-get install` without `-y` aborts at its confirmation prompt"
    for shell in runs_before_apt_setting(document, "assume-yes"):
        installs = [
            package
            for package in packages(shell, APT)
            if is_apt(package, "install") and package.subcommand_word is not None
        ]
        if not installs:
            continue  # (most RUNs: the pipes need not be read)
        fed = stdin_fed(shell)
        missing = [
            package
            for package in installs
            if id(package.command) not in fed  # `yes | apt-get install`: answered
            and not answers_prompt(package)
        ]
        if not missing:
            continue
        yield from option_findings(rule, document, shell, missing, "-y", message)


RULE = Rule(
    code="DF104",
    name="apt-install-without-yes",
    summary="Pass `-y` to `apt-get install` so that it never waits for an answer",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.ALWAYS,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
