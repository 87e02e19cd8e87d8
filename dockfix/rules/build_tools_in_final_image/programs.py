"""Programs that installed Python packages run (GitPython runs ``git``).

The documented pip table (``dockfix/images/data/pip_system_libs.json``) names, besides
the libraries a package loads, the packages of the programs it runs
(``<distro>_programs``).  Two of the split's changes could take such a program away:

* ``git`` is a build package (it fetches sources), which leaves the final stage unless
  the stage uses it (``checks.keep_git``): a requirement that runs it is such a use;
* the move of a full ``python`` image to ``-slim`` drops the full image's tools
  (``SLIM_LACKS``): the final stage installs the program's package with the runtime
  libraries, as it does for a tool a line of the stage uses.

A program that neither the full image nor the stage's own install brought was not
there before either: nothing to keep.
"""

from __future__ import annotations

from dockfix.images.python import SLIM_LACKS
from dockfix.images.python_requirements import Requirements
from dockfix.images.runtime_data import pip_package
from dockfix.images.runtime_libs import is_build_package, package_name
from dockfix.model import StageFacts
from dockfix.rules.build_tools_in_final_image.slim import SlimMove
from dockfix.rules.refusal import FixRefused

#: The packages of the full image's tools (which ``-slim`` lacks).
_FULL_IMAGE_TOOLS = frozenset(SLIM_LACKS.values())


def required_programs(
    requirements: Requirements, distro: str, release: str | None
) -> list[tuple[str, str]]:
    """``(pip name, package)`` of every program a requirement runs, by the pip table."""
    found: list[tuple[str, str]] = []
    for name, _ in requirements.names:
        row = pip_package(name)
        if row is None or not isinstance(row.raw.get(f"{distro}_programs"), dict):
            continue
        table = row.raw[f"{distro}_programs"]
        packages = table.get(release or "*", table.get("*", []))
        found += [(row.name, p) for p in packages if (row.name, p) not in found]
    return found


def keeps_git(programs: list[tuple[str, str]]) -> bool:
    """A requirement runs ``git``: the final stage keeps the stage's own install of it."""
    return any(package == "git" for _, package in programs)


def slim_programs(
    facts: StageFacts,
    programs: list[tuple[str, str]],
    slim: SlimMove | None,
    tools: tuple[str, ...],
) -> tuple[tuple[str, ...], list[str]]:
    """On the move to ``-slim``: the packages of the programs the requirements run that
    the full image had and the stage does not install itself (the final stage installs
    them with the runtime libraries), and what the reason must say of them; FixRefused
    where the final stage cannot run its package manager (an archived release)."""
    if slim is None:
        return (), []
    own = {package_name(name) for name in facts.installed if not is_build_package(name)}
    wanted: dict[str, list[str]] = {}
    for pip_name, package in programs:
        if package in _FULL_IMAGE_TOOLS and package not in own and package not in tools:
            wanted.setdefault(package, []).append(pip_name)
    if not wanted:
        return (), []
    names = " ".join(wanted)
    if slim.copies_libraries:
        raise FixRefused(
            f"{_runs(wanted)}, which the full image has and {slim.image} lacks, and the "
            f"final stage cannot install {names} there (its release's archive has left the "
            "mirrors), so the full base image keeps its compilers"
        )
    caveat = (
        f"{_runs(wanted)}: the final stage installs {names} with the runtime libraries "
        f"(the full image has it, {slim.image} does not)"
    )
    if "git" in wanted:
        caveat += (
            ", without openssh-client, which the full image has: git's ssh transport "
            "(`git@host:`, `ssh://`) fails"
        )
    return tuple(wanted), [caveat]


def _runs(wanted: dict[str, list[str]]) -> str:
    parts = [
        f"{', '.join(dict.fromkeys(users))} runs `{package}`" for package, users in wanted.items()
    ]
    return "; ".join(parts)
