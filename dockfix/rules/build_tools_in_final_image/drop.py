"""DF202's fix when nothing needs compiling: the build packages simply leave the stage.

Why a module: when every requirement the stage's pip installs is known to need no
compiler (``PURE_OR_WHEELS``: pure Python, or manylinux wheels for every current
CPython) and no local project is built, a builder stage would only build what pip
downloads.  The fix then takes the build packages out of the stage's installs, in
place, and keeps what they brought at run time, as the split does: each word gives way
to the library packages it brought (generated data of the image's Debian release,
``gcc`` -> ``libgomp1`` ...).  Without a builder there is no scan of what links them,
so where those names are not known the fix is refused, except on the full ``python``
image of today's default release, which has the package itself (``buildpack-deps``):
there it leaves the install and stays in the image until DF203 moves the stage to
``-slim``.

Only the official Debian ``python`` images of a current CPython: their pip takes
manylinux wheels.  A system Python (Ubuntu's 2.7 and its pip 1.5 build numpy from
source), conda, Alpine (musl: no manylinux wheels) or an old Python (the wheels of the
releases pip would pick are not known) is refused.
"""

from __future__ import annotations

import posixpath
import re

from dockfix.edits import Edit, FixBuilder
from dockfix.images.python import debian_release, is_python_image
from dockfix.images.python_packages import PURE_OR_WHEELS
from dockfix.images.python_requirements import Requirements
from dockfix.images.runtime_libs import (
    FULL_PYTHON_IMAGE_HAS,
    FULL_PYTHON_IMAGE_RELEASES,
    NoRuntimeKnown,
    package_name,
    runtime_packages,
)
from dockfix.images.table import Family
from dockfix.model import StageFacts
from dockfix.rules.build_tools_in_final_image.checks import BuildInstall, Purge, Site
from dockfix.rules.build_tools_in_final_image.project import is_local_wheel
from dockfix.rules.build_tools_in_final_image.rewrite import (
    Rewrite,
    apply_rewrite,
    drop_apt_housekeeping,
    trim_install,
    trim_purge,
)
from dockfix.rules.refusal import FixRefused
from dockfix.syntax import Dockerfile, Instruction
from dockfix.syntax.nodes import BlankLine

#: CPython versions whose wheels ``PURE_OR_WHEELS`` vouches for: those maintained when
#: the table was written (3.10 to 3.14, devguide's "Status of Python versions"), and
#: 3.8/3.9, which the packages' releases of their time published wheels for.  A tag
#: naming no minor version (``python:3``, ``latest``) is the newest release.
_WHEELS_FOR = ((3, 8), (3, 14))
#: The platforms ``PURE_OR_WHEELS`` vouches for (glibc amd64/arm64).
_WHEEL_PLATFORMS = frozenset({"linux/amd64", "linux/arm64", "linux/arm64/v8"})
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")


def nothing_compiles(requirements: Requirements, sites: list[Site]) -> bool:
    """True when every install names only packages known to need no compiler: no file
    left unread, no local project, editable, ``setup.py`` or wheel file."""
    names = [name for name, _ in requirements.names]
    if requirements.unread or not names or not set(names) <= PURE_OR_WHEELS:
        return False
    for site in sites:
        if site.package is None or site.projects or site.editables or site.setup is not None:
            return False
        if any(word.is_literal and is_local_wheel(word.value) for word in site.package.packages):
            return False
    return True


def listed(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:4]) + (", ..." if len(unique) > 4 else "")


def plan_drop(
    document: Dockerfile,
    facts: StageFacts,
    installs: list[BuildInstall],
    purges: list[Purge],
    sites: list[Site],
    requirements: Requirements,
    from_base: bool,
) -> tuple[list[Edit], str]:
    """The edits taking the build packages out of ``installs`` (and ``purges``), and
    the fix's reason; FixRefused when the wheels or the runtime libraries are not known."""
    wanted = listed([name for name, _ in requirements.names])
    release = _check_python(facts, wanted)
    _check_pip_settings(facts, sites)
    removed = listed([package_name(w.value) for i in installs for w in i.build_words])
    if not installs:
        raise FixRefused(
            f"nothing the stage's pip installs needs compiling ({wanted}: pure Python or "
            "wheels) and the stage installs no build packages: the compilers are the full "
            "image's, which DF203's move to -slim removes"
        )
    runtime, kept_by_base = _runtime(installs, release, from_base)
    rewrites: dict[int, Rewrite] = {}
    for install in installs:
        key = id(install.shell.instruction)
        rewrite = rewrites.setdefault(key, Rewrite(install.shell, [], []))
        trim_install(rewrite, install, runtime)
    for purge in purges:
        key = id(purge.shell.instruction)
        trim_purge(rewrites.setdefault(key, Rewrite(purge.shell, [], [])), purge)
    result = FixBuilder(document)
    for rewrite in rewrites.values():
        drop_apt_housekeeping(rewrite)
        splice = apply_rewrite(document, rewrite)
        if splice is None:
            _delete(document, result, rewrite.shell.instruction)
        else:
            result.replace(rewrite.shell.instruction, *splice.above, splice.instruction)
    reason = _reason(wanted, removed, runtime, kept_by_base, facts)
    for purge in purges:
        names = listed([package_name(word.value) for word in purge.words])
        reason += (
            f"; the removal on line {purge.shell.instruction.line} no longer names {names}, "
            "which the stage no longer installs"
            + (": those the full image has stay, with what depends on them" if from_base else "")
        )
    return list(result.edits()), reason


def _check_python(facts: StageFacts, wanted: str) -> str | None:
    """The Debian release of the stage's official python image, when its pip is known to
    take the wheels (see the module's doc); FixRefused otherwise."""
    image, traits = facts.image, facts.traits
    shown = facts.stage.image.text
    why = (
        f"nothing the stage's pip installs needs compiling where pip takes the wheels of "
        f"{wanted} (a current CPython on glibc)"
    )
    official = (
        image is not None
        and traits is not None
        and traits.python
        and traits.family is Family.DEBIAN
        and is_python_image(image)
        and not facts.stage.image.has_variables
    )
    if not official or image is None:
        raise FixRefused(
            f"{why}, but `{shown}` is not an official Debian python image: whether its pip "
            "takes those wheels for its Python is not known, and without the build packages "
            "it would build them from source"
        )
    platform = facts.stage.from_instruction.flag("platform")
    if platform is not None and platform.value not in _WHEEL_PLATFORMS:
        raise FixRefused(
            f"{why}, but the stage is built for `{platform.value}`, for which those wheels "
            "are not known"
        )
    version = _VERSION.match(image.tag or "")
    if version is not None and version[2] is not None:
        number = (int(version[1]), int(version[2]))
        if not _WHEELS_FOR[0] <= number <= _WHEELS_FOR[1]:
            raise FixRefused(
                f"{why}, but `{shown}` is Python {number[0]}.{number[1]}: whether wheels of "
                "the releases pip picks for it exist is not known"
            )
    elif version is not None and version[1] != "3":
        raise FixRefused(f"{why}, but `{shown}` is not a Python 3 image")
    return debian_release(image.tag)


#: pip settings that may make it build from source what has wheels (``no-binary``).
_PIP_SETTINGS = frozenset({"PIP_NO_BINARY", "PIP_CONFIG_FILE"})
_PIP_CONFIG_FILES = frozenset({"pip.conf", "pip.ini"})


def _check_pip_settings(facts: StageFacts, sites: list[Site]) -> None:
    """FixRefused when pip may be told to build from source: ``PIP_NO_BINARY`` or a
    configuration file of its own set for an install, or a ``pip.conf`` the stage copies
    in (either may say ``no-binary``; pip's docs, "Configuration")."""
    for site in sites:
        line = site.shell.instruction.line
        names = set(facts.at(site.shell.instruction).variables)
        names |= {word.text.split("=", 1)[0] for word in site.command.assignments}
        found = sorted(names & _PIP_SETTINGS)
        if found:
            raise FixRefused(
                f"`{found[0]}` is set for the pip install on line {line}: it may make pip "
                "build from source what has wheels, with the build packages"
            )
    for instruction in facts.stage.instructions:
        if instruction.cmd in ("COPY", "ADD") and any(
            posixpath.basename(item.rstrip("/")) in _PIP_CONFIG_FILES for item in instruction.value
        ):
            raise FixRefused(
                f"the {instruction.cmd} on line {instruction.line} brings a pip configuration "
                "file, which may make pip build from source (`no-binary`)"
            )


def _runtime(
    installs: list[BuildInstall], release: str | None, from_base: bool
) -> tuple[dict[int, tuple[str, ...]], list[str]]:
    """For each build package word, the library packages that go in its place, and the
    packages that leave with nothing in their place because the full image has them."""
    runtime: dict[int, tuple[str, ...]] = {}
    kept_by_base: list[str] = []
    full = from_base and (release is None or release in FULL_PYTHON_IMAGE_RELEASES)
    for install in installs:
        line = install.shell.instruction.line
        if any(not word.is_literal for word in install.package.packages):
            raise FixRefused(f"the package list on line {line} uses a variable")
        named = {package_name(w.value) for w in install.package.packages}
        for word in install.build_words:
            name = package_name(word.value)
            try:
                names = runtime_packages(word.value, release, python_image=True)
            except NoRuntimeKnown as error:
                if not (full and name in FULL_PYTHON_IMAGE_HAS):
                    raise FixRefused(
                        f"{error}: with no builder stage to scan what links them, removing "
                        f"{name} may remove a library the image loads"
                    ) from None
                names = ()
                kept_by_base.append(name)
            fresh = tuple(each for each in names if each not in named)
            named.update(fresh)
            runtime[id(word)] = fresh
    return runtime, kept_by_base


def _reason(
    wanted: str,
    removed: str,
    runtime: dict[int, tuple[str, ...]],
    kept_by_base: list[str],
    facts: StageFacts,
) -> str:
    libraries = listed([name for names in runtime.values() for name in names])
    parts = [
        f"nothing the stage's pip installs needs compiling ({wanted}: pure Python, or wheels "
        f"for current CPython on glibc), so the build packages leave its installs ({removed})"
        + (f", the libraries they brought in their place ({libraries})" if libraries else ""),
        "a requirement or dependency with no wheel for this Python and platform when the "
        "image is built (a pinned old release, a Python newer than its wheels, another "
        "architecture) is built from source by pip, which then fails without them",
        "anything that compiles or runs the build tools at run time (pip install at "
        "start-up, pyximport, gcc, make) breaks",
    ]
    if kept_by_base:
        parts.append(
            f"the full `{facts.stage.image.text}` image has {listed(kept_by_base)} itself: "
            "they stay in the image (at its version, not a newer one apt would install) "
            "until it moves to -slim (DF203), which drops them and the libraries they "
            "brought, not known by name for a tag that names no Debian release"
        )
    return "; ".join(parts)


def _delete(document: Dockerfile, result: FixBuilder, instruction: Instruction) -> None:
    """Remove a RUN left with no command; comment lines above it stay where they are,
    and so does one blank line where two would meet."""
    nodes = document.nodes
    index = next(i for i, node in enumerate(nodes) if node is instruction)
    result.delete(instruction)
    before = nodes[index - 1] if index > 0 else None
    after = nodes[index + 1] if index + 1 < len(nodes) else None
    double = isinstance(after, BlankLine) and (before is None or isinstance(before, BlankLine))
    if double and after is not None and not result.replaced(after):
        result.delete(after)
