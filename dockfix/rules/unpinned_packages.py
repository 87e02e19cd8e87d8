"""DF303 unpinned-packages: packages installed without a version in the final image.

What it does
    Reports, in the final stage and the stages it is built on (not in stages that only
    feed ``COPY --from``), install commands that name packages without a version:

    * ``apt-get install``/``apt install`` ``pkg`` instead of ``pkg=1.2-3`` (hadolint DL3008);
    * ``apk add`` ``pkg`` instead of ``pkg=1.2-r0`` or ``pkg~1.2`` (DL3018);
    * ``pip install`` ``pkg`` without a version specifier (``==``, ``~=``, ``>=``...) or a
      direct reference (DL3013); ``pip``, ``setuptools`` and ``wheel`` themselves are
      not reported (upgrading the installer is not what pinning is about);
    * ``npm install -g`` ``pkg`` instead of ``pkg@1.2.3`` (DL3016).

    Out of scope: requirement and lock files (``pip install -r requirements.txt``,
    ``npm ci``, ``poetry install``: whether *they* pin is not in the Dockerfile), local
    paths, archives and URLs, and words only known at build time (``$PKG``).

    The rule is opt-in (``extend-select = ["DF303"]``): on real-world Dockerfiles it
    fires on most files that install anything, because distribution packages are
    seldom pinned on purpose (the versions in a distribution release's archive are
    replaced by security updates, and a pinned ``apt`` version disappears from the
    archive with the next update, which breaks the build).

Why is this bad?
    An unpinned install takes whatever version the index has on the day of the build:
    two builds of the same Dockerfile differ, and a new release can break the image
    with no change in the repository.

Example
    ``RUN pip install gunicorn`` should be ``RUN pip install gunicorn==22.0.0`` (or a
    requirements file with hashes).

Fix safety
    No fix (display only): dockfix never invents a version.

References
    practices.md row 12; hadolint DL3008, DL3013, DL3016, DL3018.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability
from dockfix.rules._hygiene import word_position
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.shell import Word
from dockfix.shell.packages import Manager, PackageCommand

_INSTALLERS = frozenset({"pip", "setuptools", "wheel"})
_ARCHIVE = lazy_re.compile(r".*\.(?:deb|rpm|apk|whl|tar\.gz|tgz|zip|tar\.bz2|tar)$", re.IGNORECASE)
_PIP_PINNED = lazy_re.compile(r"[=<>~!]=|[<>]|@| @ ")


def _local(text: str) -> bool:
    """A path, URL, archive or variable: not a package from an index."""
    return (
        "$" in text
        or "/" in text
        or text.startswith((".", "~", "-"))
        or "://" in text
        or _ARCHIVE.fullmatch(text) is not None
        or "*" in text
    )


def unpinned(package: PackageCommand) -> list[Word]:
    """The package words of an install command that name no version."""
    manager = package.manager
    words: list[Word] = []
    for word in package.packages:
        text = word.value if word.is_literal else None
        if text is None:
            continue
        scoped = manager is Manager.NPM and text.startswith("@") and text.count("/") == 1
        if _local(text.replace("/", "", 1) if scoped else text):
            continue
        if manager in (Manager.APT_GET, Manager.APT):
            if "=" not in text:
                words.append(word)
        elif manager is Manager.APK:
            if not any(mark in text for mark in "=~<>"):
                words.append(word)
        elif manager is Manager.PIP:
            name = re.split(r"[\[=<>~!@; ]", text, maxsplit=1)[0].lower()
            if name in _INSTALLERS:
                continue
            if not _PIP_PINNED.search(text):
                words.append(word)
        elif manager is Manager.NPM and "@" not in text.lstrip("@"):
            words.append(word)
    return words


def _applies(package: PackageCommand) -> bool:
    manager, action = package.manager, package.action
    if manager in (Manager.APT_GET, Manager.APT, Manager.APK, Manager.PIP):
        return action == "install"
    if manager is Manager.NPM:
        return action == "install" and package.has_option("-g", "--global")
    return False


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    final = context.model.final
    if final is None:
        return
    for facts in reversed(final.lineage):
        for instruction in facts.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            for package in shell.packages():
                if not _applies(package):
                    continue
                found = unpinned(package)
                if not found:
                    continue
                names = ", ".join(f"`{word.text}`" for word in found)
                verb = package.subcommand_word.text if package.subcommand_word else "install"
                yield rule.finding(
                    f"{package.manager.value} {verb} without versions: {names}; "
                    "pin them for reproducible builds",
                    word_position(shell, found[0].start),
                )


RULE = Rule(
    code="DF303",
    name="unpinned-packages",
    summary="Pin the versions of packages installed in the final image",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    severity="info",
    default_enabled=False,
    keywords=frozenset({"RUN"}),
)
