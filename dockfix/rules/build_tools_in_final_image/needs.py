"""What the split's final stage installs in place of the build packages: runtime
libraries, by name (generated data) and by the documented pip table."""

from __future__ import annotations

from dockfix.images.python_packages import PURE_OR_WHEELS
from dockfix.images.python_requirements import (
    Requirements,
    image_reader,
    requirements_of,
    source_build_needs,
)
from dockfix.images.runtime_libs import NoRuntimeKnown, package_name, runtime_packages
from dockfix.model import BuildContext, StageFacts
from dockfix.rules.build_tools_in_final_image.checks import APT, BuildInstall, Site
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager


def requirements_named(facts: StageFacts, sites: list[Site], context: BuildContext) -> Requirements:
    """What the split installs name (command lines and requirement files)."""
    found = Requirements()
    for site in sites:
        if site.package is None:
            found.unread.append("setup.py")  # the project's own requirements
            continue
        read = image_reader(facts, site.shell.instruction, context)
        found.extend(requirements_of(site.package, read))
    return found


def check_needs_compiling(requirements: Requirements) -> None:
    """A builder stage is for packages that compile: when every requirement is known to
    be pure Python or to have wheels, there is nothing to build."""
    names = [name for name, _ in requirements.names]
    if requirements.unread or not names or not set(names) <= PURE_OR_WHEELS:
        return
    listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    raise FixRefused(
        f"no requirement needs compiling ({listed}: pure Python or wheels), so a builder "
        "stage would only build what pip downloads; the build packages may simply go"
    )


def linked_libraries(
    release: str | None,
    requirements: Requirements,
    runtime: dict[int, tuple[str, ...]],
    from_base: bool,
    distro: str = "debian",
) -> tuple[tuple[str, ...], list[str]]:
    """Runtime packages the documented pip table names for the requirements (``psycopg2``
    -> ``libpq5``; on the full image also those linked when headers are there): the
    final stage installs them besides what the builder's scan finds, so that a library
    loaded with ``ctypes`` (``python-magic``) stays too.  On the full image, whose every
    library -slim lacks, requirements that cannot be read block the fix (one of them may
    load a library itself); elsewhere they are a caveat.  A library's unknown name for a
    package that loads it itself blocks the fix."""
    caveats = []
    if requirements.unread:
        if from_base:
            raise FixRefused(
                f"`{requirements.unread[0]}` cannot be read: packages built from source on "
                "the full image may link its libraries, which -slim lacks"
            )
        caveats.append(
            f"`{requirements.unread[0]}` could not be read: a package in it that loads a "
            "library with ctypes may miss it"
        )
    needs = source_build_needs(
        requirements, release, linked_found=True, optional=from_base, distro=distro
    )
    if needs.blockers:
        raise FixRefused(needs.blockers[0])
    named = {name for names in runtime.values() for name in names}
    linked = tuple(name for name in needs.packages if name not in named)
    return linked, [*needs.caveats, *caveats]


def runtime_words(
    installs: list[BuildInstall], release: str | None, python_image: bool, alpine: bool = False
) -> tuple[dict[int, tuple[str, ...]], list[str]]:
    """For each build package word, the library packages to install in its place, and
    caveats.

    The names come from the generated data of the image's Debian release (every library
    the package brought: ``gcc`` -> ``libgomp1`` ...).  Where the release has no data,
    the tag names none, or the image is Alpine's, the word goes with no name in its
    place: the builder's scan (``runtime_scan``) finds what the built packages link, and
    the caveat says that a library loaded only with ``dlopen``/``ctypes`` is not found
    that way.  A runtime package that the same command already installs, or that an
    earlier word of the command already brings, is not named twice.
    """
    result: dict[int, tuple[str, ...]] = {}
    unknown: list[str] = ["runtime libraries of Alpine are not known"] if alpine else []
    managers = frozenset({Manager.APK}) if alpine else APT
    for install in installs:
        if install.package.manager not in managers:
            raise FixRefused(
                f"`{install.package.manager.value}` is not the image's package manager"
            )
        named = {package_name(w.value) for w in install.package.packages}
        for word in install.package.packages:
            if not word.is_literal:
                raise FixRefused(
                    f"the package list on line {install.shell.instruction.line} uses a variable"
                )
        for word in install.build_words:
            names: tuple[str, ...] = ()
            if not alpine:
                try:
                    names = runtime_packages(word.value, release, python_image=python_image)
                except NoRuntimeKnown as error:
                    if not unknown:
                        unknown.append(str(error))
            fresh = tuple(name for name in names if name not in named)
            named.update(fresh)
            result[id(word)] = fresh
    caveats = (
        [
            f"{unknown[0]}: the final stage installs the packages the built code links, "
            "found at build time, but not a library loaded only with dlopen/ctypes"
        ]
        if unknown
        else []
    )
    return result, caveats
