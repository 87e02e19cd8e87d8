"""DF106 apt-no-install-recommends: ``apt-get install`` pulls in recommended packages.

What it does
    Finds ``apt-get install`` (and ``apt install``) without ``--no-install-recommends``
    and adds the option right after ``install``.

Why is this bad?
    By default apt installs every package the requested ones merely *recommend*:
    documentation, optional tools, often whole desktop libraries.  They make the image
    larger and widen its attack surface without being needed to run the application.

Example
    ``RUN apt-get install -y curl`` becomes
    ``RUN apt-get install --no-install-recommends -y curl``.

Fix safety
    Unsafe.  Some recommended packages are needed at run time after all, for example
    ``ca-certificates`` for HTTPS with ``curl``: the build still succeeds but the
    container may fail later.  Review the package list after applying.  Commands that
    already decide (``--install-recommends``, ``-o APT::Install-Recommends=...``) and
    stages whose RUNs configure ``Install-Recommends`` are left alone.

References
    practices.md row 4 (apt hygiene); hadolint DL3015.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import (
    APT,
    is_apt,
    option_findings,
    packages,
    runs_before_apt_setting,
)
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import PackageCommand

REASON = (
    "--no-install-recommends skips packages apt would install as recommended; "
    "the application may need some of them at run time (e.g. ca-certificates)"
)


def decides_recommends(package: PackageCommand) -> bool:
    """True when the command line already says whether recommends are installed."""
    if package.has_option("--no-install-recommends", "--install-recommends"):
        return True
    return any("install-recommends" in v.value.lower() for v in package.option_values("-o"))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    message = "`apt-get install` without `--no-install-recommends` installs extra packages"
    for shell in runs_before_apt_setting(document, "install-recommends"):
        missing = [
            package
            for package in packages(shell, APT)
            if is_apt(package, "install")
            and package.subcommand_word is not None
            and not decides_recommends(package)
        ]
        if not missing:
            continue
        yield from option_findings(
            rule, document, shell, missing, "--no-install-recommends", message, REASON
        )


RULE = Rule(
    code="DF106",
    name="apt-no-install-recommends",
    summary="Pass `--no-install-recommends` to `apt-get install` to keep the image small",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL,),
)
