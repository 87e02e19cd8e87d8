"""DF202's move of the final stage to -slim: which tag, what the stage relies on that
the full image has and -slim lacks, and what the final stage installs first."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from dockfix.images.python import (
    SLIM_LACKS,
    ToolUse,
    archived_release,
    needs_https_transport,
    script_tool_uses,
    slim_image,
    slim_lacking_tools,
    variable_slim_image,
)
from dockfix.images.runtime_libs import is_build_package, package_name, release_of_tag
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, StageFacts
from dockfix.rules._shell import CommandKey, RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.checks import APT, BUILD_COMMANDS, COMPILERS
from dockfix.rules.refusal import FixRefused
from dockfix.shell import (
    SimpleCommand,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Instruction, Stage

#: Tools of the full image (buildpack-deps, jessie to trixie: ``curl``, ``wget`` and
#: ``gnupg`` in its curl layer, ``git``, ``openssh-client`` and ``procps`` in its scm
#: layer, ``unzip``, ``xz-utils``, ``bzip2`` on top) that the final stage on -slim
#: installs at its start when a line before the first pip install uses them: packages
#: of these names exist in each of those releases.  ``apt-key`` runs ``gpg`` (not in
#: Debian images since stretch); ``dirmngr`` fetches keys (``apt-key adv
#: --recv-keys``), which buildpack-deps installs with gnupg on stretch, where gnupg
#: only recommends it.  ``git`` recommends ``ssh-client`` (Debian's and Ubuntu's
#: package pages: rec ca-certificates, less, patch, ssh-client), which the final stage's
#: ``--no-install-recommends`` would leave out: its ssh transport (``git@host:``,
#: ``ssh://``, a submodule's URL) runs ``ssh``, so ``openssh-client`` goes with it, as
#: the full image has it (-slim has ``ca-certificates``; ``less`` and ``patch`` serve
#: people, not builds).  Compilers and ``make`` are not here: a build keeps refusing.
_EARLY_TOOLS = frozenset(
    {"curl", "wget", "git", "ssh", "scp", "ssh-keyscan", "gpg", "apt-key", "unzip", "xz"}
    | {"bzip2", "ps", "pgrep", "pkill"}
)
#: Packages an install of the tool adds to its own (``SLIM_LACKS``).
_EARLY_EXTRAS: dict[str, tuple[str, ...]] = {"gnupg": ("dirmngr",), "git": ("openssh-client",)}
#: Tools -slim lacks that no install in the final stage may bring back: compilers and
#: build tools (a build that uses them keeps refusing).  ``git`` only fetches: the final
#: stage installs it as it installs ``curl``.
_NEVER_INSTALLED = (BUILD_COMMANDS | COMPILERS) - {"git"}
#: Where apt's sources and proxy are set: an install at the stage's start would not
#: see what a later line writes there (``/etc/apt/sources.list.d/x.list`` only adds a
#: source, which the original could not have needed before writing it).
_APT_SETTINGS = re.compile(
    r"/etc/apt/(?:sources\.list(?![\w.-])|sources\.list\.d/debian\.sources|apt\.conf)"
    r"|(?<![\w-])(?:https?|all)_proxy(?!\w)",
    re.IGNORECASE,
)
#: An apt source fetched over https: apt needs ``apt-transport-https`` for it on stretch
#: and older, which the full image has (buildpack-deps:stretch-curl) and -slim does not.
_HTTPS_SOURCE = re.compile(r"\bdeb(?:-src)?\s+(?:\[[^\]]*\]\s+)?https://")


@dataclass(frozen=True)
class SlimMove:
    """The -slim image the final stage moves to, and what it must install first."""

    image: str
    #: Packages of the tools the stage uses before its first pip install (and later
    #: ones, merged): the final stage installs them right after FROM.
    early: tuple[str, ...] = ()
    #: What the unsafe reason must say about it.
    caveats: tuple[str, ...] = ()
    #: The final stage cannot run apt-get (its release's archive has left the
    #: mirrors): it copies the libraries' files from the builder (see ``runtime_scan``).
    copies_libraries: bool = False


def check_slimmable(
    facts: StageFacts,
    moved: frozenset[CommandKey],
    context: BuildContext,
    first_site: Instruction,
) -> tuple[SlimMove, tuple[str, ...]]:
    """A full base keeps its compilers unless the final stage can move to ``-slim``: the
    move, and the packages of the tools used from the first pip install on that -slim
    lacks (``curl`` for a HEALTHCHECK), which the final stage installs with the runtime
    libraries; or FixRefused.  A tool used before the first pip install (``wget`` for a
    key) is installed right after FROM instead, with the later ones, when its package is
    known (``_EARLY_TOOLS``); a compiler, another tool, or a tool in a script
    keeps the refusal.  A base whose version is an ARG moves to the -slim tag of the
    same variable (see ``variable_slim_image``), and the reason says what another value
    does."""
    if facts.parent is not None:
        raise FixRefused(
            "the stage builds on an earlier stage of the full image, whose compilers it keeps"
        )
    slim, caveats = _slim_of(facts)
    early, late, blocked = _sort_tool_uses(facts, moved, first_site)
    unread_at_start: list[str] = []
    blocked += script_tool_uses(facts, context, unread_at_start=unread_at_start)
    blocked += _full_image_reliances(facts)
    if blocked:
        raise FixRefused(
            f"{blocked[0]}, so the final stage cannot use {slim} and the full base "
            "image keeps its compilers"
        )
    release, copied = _check_release_reachable(facts, slim, [*early, *late])
    caveats += release
    caveats += tuple(unread_at_start)
    late_packages = _unique_packages(late)
    if not early:
        tools = (_tools_caveat(late_packages, late, early=False),) if late else ()
        return SlimMove(slim, (), (*caveats, *tools), copies_libraries=copied), late_packages
    packages = _unique_packages([*early, *late])
    _check_apt_settings(facts.stage, first_site, packages, early[0], slim)
    caveat = _tools_caveat(packages, [*early, *late], early=True)
    return SlimMove(slim, packages, (*caveats, caveat)), ()


def _check_release_reachable(
    facts: StageFacts, slim: str, tools: Sequence[ToolUse]
) -> tuple[tuple[str, ...], bool]:
    """The final stage on -slim runs ``apt-get update`` (runtime libraries, tools), which
    fails on a release whose archive has left the mirrors its sources name; a stage that
    runs ``apt-get update`` itself fails there as well (or sets sources that work), and
    gets the caveat.  One that never does has no apt-get that works: the final stage
    copies the libraries' files from the builder instead (True), which cannot bring the
    tools it would install (refused: the split would break a build that works)."""
    image = facts.image or facts.stage.image  # a tag from an ARG: its default
    archived, certain = archived_release(image.tag)
    if not archived:
        return (), False
    runs = "runs" if certain else "may run"
    left = f"`{facts.stage.image.text}` {runs} Debian {archived}, whose archive has left "
    if _updates_apt(facts.stage):
        return (
            f"{left}deb.debian.org: the final stage's apt-get update works only where the "
            "stage's own does",
        ), False
    if tools:
        names = ", ".join(_unique_packages(list(tools)))
        raise FixRefused(
            f"{left}deb.debian.org, and the stage runs no apt-get update of its own: the "
            f"final stage's apt-get install of {names} on {slim} would fail, and the full "
            "base image keeps its compilers"
        )
    return (
        f"{left}deb.debian.org, and the stage runs no apt-get update of its own, so the "
        f"final stage on {slim} cannot run apt-get either: it copies from the builder (the "
        "full image) the files of the packages that own the libraries the built packages "
        "link (and of those a pip package is known to load, where the full image has them), "
        "without replacing a file -slim has, then runs ldconfig; its dpkg does not list "
        "those packages and their maintainer scripts do not run",
    ), True


def _updates_apt(stage: Stage) -> bool:
    """The stage runs ``apt-get update`` (or ``apt update``)."""
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell) and any(
            package.manager in APT and package.action == "update" for package in shell.packages()
        ):
            return True
    return False


def _slim_of(facts: StageFacts) -> tuple[str, tuple[str, ...]]:
    """The -slim image the final stage moves to, with what the reason must say of a tag
    written from an ARG; or FixRefused."""
    image = facts.stage.image
    if not image.has_variables:
        slim, why = slim_image(image)
        if slim is None:
            raise FixRefused(f"{why}, and the full base image keeps its compilers")
        return slim, ()
    slim, why = variable_slim_image(image.text, facts.image)
    if slim is None:
        raise FixRefused(f"{why}, and the full base image keeps its compilers")
    caveat = (
        f"the final stage's `{slim}` adds -slim to the ARG's value: another plain Python "
        "version gets its -slim image (one whose images run a Debian release that has left "
        "deb.debian.org, as 2.7's do, fails at its apt-get update), and a value that is "
        "not one (`3.12-slim`, `3.12-alpine`, `3.12-bookworm`) names no image and the "
        "build fails"
    )
    return slim, (caveat,)


def _sort_tool_uses(
    facts: StageFacts, moved: frozenset[CommandKey], first_site: Instruction
) -> tuple[list[ToolUse], list[ToolUse], list[str]]:
    """The stage's uses of tools -slim lacks: those before the first pip install that
    can be installed at the start, those from it on that can be installed with the
    runtime libraries, and the descriptions of those that block the move.  A use is
    covered by the stage's own install (not of a build package, which leaves) only when
    that install comes before it or in its RUN (whose ``apt-get install curl`` names the
    tool too), or, from the first pip install on, anywhere."""
    instructions = facts.stage.instructions
    start = instructions.index(first_site)
    everywhere = {name for name in facts.installed if not is_build_package(name)}
    early: list[ToolUse] = []
    late: list[ToolUse] = []
    blocked: list[str] = []
    for use in slim_lacking_tools(_ignoring_installs(facts), moved):
        position = instructions.index(use.instruction)
        if position >= start:
            if SLIM_LACKS[use.tool] in everywhere:
                continue
            if use.tool in _NEVER_INSTALLED:
                blocked.append(use.describe())
            else:
                late.append(use)
            continue
        if SLIM_LACKS[use.tool] in _installed_up_to(facts.stage, position):
            continue
        if use.tool in _EARLY_TOOLS:
            early.append(use)
        else:
            blocked.append(use.describe())
    return early, late, blocked


def _ignoring_installs(facts: StageFacts) -> StageFacts:
    """The stage's facts as if it installed no package: ``slim_lacking_tools`` then
    lists every use, and ``_sort_tool_uses`` decides which an install covers (one
    after the use does not)."""
    bare = copy.copy(facts)
    bare.installed = frozenset()
    return bare


def _installed_up_to(stage: Stage, position: int) -> set[str]:
    """Packages (not build packages) the stage's RUNs up to ``position`` install."""
    names: set[str] = set()
    for instruction in stage.instructions[: position + 1]:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager in APT and package.action == "install":
                names.update(package_name(word.value) for word in package.packages)
    return {name for name in names if not is_build_package(name)}


def _tool_packages(tool: str) -> tuple[str, ...]:
    """The Debian packages that bring ``tool`` to -slim (``SLIM_LACKS``), with what an
    install at the stage's start also needs (``dirmngr`` beside ``gnupg``)."""
    package = SLIM_LACKS[tool]
    if tool not in _EARLY_TOOLS:
        return (package,)
    return (package, *_EARLY_EXTRAS.get(package, ()))


def _unique_packages(uses: Sequence[ToolUse]) -> tuple[str, ...]:
    packages: list[str] = []
    for use in uses:
        packages += [name for name in _tool_packages(use.tool) if name not in packages]
    return tuple(packages)


def _full_image_reliances(facts: StageFacts) -> list[str]:
    """What the stage's RUNs may take from the full image besides its tools: a ``.deb``
    installed with ``dpkg -i`` (its dependencies may be there, and not on -slim), an
    https apt source on a tag that may be stretch or older (apt-transport-https)."""
    tag = facts.stage.image.tag
    # A tag written from an ARG may be any release for another value.
    old = facts.stage.image.has_variables and release_of_tag(tag) is None
    old = old or needs_https_transport(tag)
    found = []
    for instruction in facts.stage.instructions:
        shell = run_shell(instruction) if instruction.cmd == "RUN" else None
        if not isinstance(shell, RunShell):
            continue
        where = f"the RUN on line {instruction.line}"
        if any(_installs_deb_file(command) for command in iter_simple_commands(shell.script)):
            found.append(
                f"{where} installs a .deb with dpkg, whose dependencies the full image may "
                "have and -slim not"
            )
        if old and _HTTPS_SOURCE.search(shell.script.text):
            found.append(
                f"{where} adds an https apt source, which needs apt-transport-https (the "
                "full image has it on stretch, which the tag may be; -slim does not)"
            )
    return found


def _installs_deb_file(command: SimpleCommand) -> bool:
    """``dpkg -i x.deb`` (``--install``, ``-i`` in a cluster) or ``gdebi``."""
    name = command_name(command)
    words = [word.value for word in command_words(command)[1:]]
    if name == "gdebi":
        return True
    short = [w for w in words if w.startswith("-") and not w.startswith("--")]
    return name == "dpkg" and ("--install" in words or any("i" in w[1:] for w in short))


def _check_apt_settings(
    stage: Stage, first_site: Instruction, packages: tuple[str, ...], use: ToolUse, slim: str
) -> None:
    """The install at the start runs with the image's apt sources and no proxy: a line
    before the first pip install that sets them (an archive mirror for an old release,
    a proxy) shows the image's own may not be reachable."""
    for instruction in stage.instructions[: stage.instructions.index(first_site)]:
        match = _APT_SETTINGS.search(instruction.text)
        if match is not None:
            raise FixRefused(
                f"the {instruction.cmd} on line {instruction.line} sets apt's sources or "
                f"proxy (`{match.group(0)}`), which the final stage's install of "
                f"{' '.join(packages)} at its start (for `{use.tool}` on line "
                f"{use.instruction.line}) would not use, so the final stage cannot use "
                f"{slim} and the full base image keeps its compilers"
            )


def _tools_caveat(packages: tuple[str, ...], uses: Sequence[ToolUse], *, early: bool) -> str:
    """The unsafe reason's words for the install of the full image's tools: at the start
    (``early``) or with the runtime libraries."""
    by_line: dict[int, list[str]] = {}
    for use in uses:
        tools = by_line.setdefault(use.instruction.line, [])
        tools += [f"`{use.tool}`"] if f"`{use.tool}`" not in tools else []
    said = ", ".join(f"line {line} uses {' and '.join(tools)}" for line, tools in by_line.items())
    where = "right after FROM" if early else "with the runtime libraries"
    return (
        f"the final stage installs {' '.join(packages)} {where} because {said} "
        "(the full image has them, -slim does not); a program those lines download may "
        "need a library of the full image that -slim lacks"
    )
