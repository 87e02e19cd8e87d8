"""Python-image knowledge that DF202 and DF203 read (a rule never imports another rule).

What the full ``python:3.x`` image has that ``-slim`` lacks (the tools; the libraries
that packages built from source link are in ``python_requirements``), which Python
installs may compile, which are binary-only, and the scripts a stage runs (read through
the model's build context).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence

from dockfix import lazy_re
from dockfix.cached import remembered
from dockfix.images import lookup
from dockfix.images.runtime_libs import is_build_package, release_of_tag
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, StageFacts
from dockfix.model.copied import file_origin
from dockfix.model.mounts import mounts_of
from dockfix.model.runs import CommandKey, RunShell, command_key, parse_text, run_shell
from dockfix.shell import (
    Manager,
    PackageCommand,
    ShellScript,
    SimpleCommand,
    classify,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import ImageRef, Instruction, Stage

#: Tools the full image has and ``-slim`` lacks, with the Debian package that brings each.
SLIM_LACKS: dict[str, str] = {
    "curl": "curl",
    "wget": "wget",
    "git": "git",
    "hg": "mercurial",
    "svn": "subversion",
    "ssh": "openssh-client",
    "scp": "openssh-client",
    "ssh-keyscan": "openssh-client",
    "gpg": "gnupg",
    "apt-key": "gnupg",  # apt-key runs gpg, not in Debian images since stretch
    "ps": "procps",
    "pgrep": "procps",
    "pkill": "procps",
    "file": "file",
    "unzip": "unzip",
    "xz": "xz-utils",
    "bzip2": "bzip2",
    "patch": "patch",
    "convert": "imagemagick",
    "identify": "imagemagick",
    "gcc": "gcc",
    "cc": "gcc",
    "g++": "g++",
    "c++": "g++",
    "make": "make",
    "autoconf": "autoconf",
    "automake": "automake",
    "libtool": "libtool",
    "pkg-config": "pkg-config",
}
_TOOL_WORD = lazy_re.compile(
    r"(?<![\w.+-])(?:/usr(?:/local)?/bin/|/bin/)?("
    + "|".join(re.escape(tool) for tool in sorted(SLIM_LACKS, key=len, reverse=True))
    + r")(?![\w.+-])"
)
#: Debian releases whose full python image has a -slim variant: docker-library/python
#: builds ``<version>/<release>/slim`` beside ``<version>/<release>`` for each (tags
#: ``<version>-slim-<release>`` and ``slim-<release>``: ``3.6.8-slim-stretch``,
#: ``2.7.15-slim-jessie``, ``slim-jessie`` in docker-library/repo-info's
#: ``repos/python/remote``).  wheezy had none: ``2.7/wheezy`` only, no
#: ``2.7-slim-wheezy`` tag.
_SLIM_RELEASES = ("jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky")
_NO_SLIM_RELEASES = frozenset({"wheezy"})
_VERSION = r"\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?(?:-rc)?"
#: ``python:<version>[-<release>]``: the full variants whose slim tag is known.
_FULL_TAG = re.compile(rf"(?P<version>{_VERSION})(?:-(?P<release>{'|'.join(_SLIM_RELEASES)}))?")
_CODENAME_TAGS = frozenset(_SLIM_RELEASES)
#: ``python:${VERSION}`` or ``python:${VERSION}-<release>``: a tag whose version is one
#: ARG (``$V``, ``${V}``, ``${V:-3.12}``), on the official repository.
_VARIABLE_VERSION_TAG = re.compile(
    r"(?P<head>(?:docker\.io/)?(?:library/)?python:"
    r"(?P<variable>\$\w+|\$\{\w+(?::?-[^}]*)?\}))"
    rf"(?:-(?P<release>{'|'.join(_SLIM_RELEASES)}))?"
)
#: Python package commands that may build an sdist, by manager (``uv pip install`` is
#: ``install``: the ``pip`` group word adds no prefix).
BUILDING_ACTIONS: dict[Manager, frozenset[str]] = {
    Manager.PIP: frozenset({"install", "wheel"}),
    Manager.UV: frozenset({"install", "sync", "add"}),
    Manager.POETRY: frozenset({"install", "add", "sync", "update"}),
    Manager.PIPENV: frozenset({"install", "sync"}),
}
_TOOLING = frozenset({"pip", "setuptools", "wheel"})
_TOOLING_SPEC = lazy_re.compile(r"([A-Za-z0-9._-]+)\s*(?:[<>=!~]=?.*)?")


def is_python_image(image: ImageRef) -> bool:
    """The official ``python`` repository (Docker Hub, with or without ``library/``)."""
    registry = (image.registry or "docker.io").lower()
    return registry in ("docker.io", "index.docker.io") and image.repository == "python"


def python_tag_version(image: ImageRef) -> tuple[int, int] | None:
    """The ``X.Y`` an official python image's tag starts with (``3.11-slim`` -> (3, 11));
    None for a tag that names none (``latest``, ``3``, ``slim``)."""
    match = re.match(r"(\d+)\.(\d+)", image.tag or "")
    return (int(match.group(1)), int(match.group(2))) if match is not None else None


def is_full_python(image: ImageRef) -> bool:
    """A full (buildpack-deps based) Debian ``python`` image, by the image table."""
    if image.has_variables or not is_python_image(image):
        return False
    traits = lookup("python", image.tag)
    return traits is not None and traits.toolchain


def slim_image(image: ImageRef) -> tuple[str | None, str]:
    """The ``-slim`` image for a full python image, or None and why it cannot be named.

    ``python`` and ``python:latest`` -> ``python:slim`` and ``python:bookworm`` ->
    ``python:slim-bookworm``: the same moving version and release, slim (Docker Hub
    publishes those tags)."""
    if image.digest:
        return None, "the image is pinned by digest; the -slim image's digest is not known"
    tag = image.tag
    if tag is None or tag == "latest":
        return f"{image.text}:slim" if tag is None else f"{image.text[: -len(tag)]}slim", ""
    prefix = image.text[: len(image.text) - len(tag)]
    if tag in _CODENAME_TAGS:
        return f"{prefix}slim-{tag}", ""
    if _NO_SLIM_RELEASES.intersection(tag.split("-")):
        return None, f"the python images of `{tag}` have no -slim variant"
    match = _FULL_TAG.fullmatch(tag)
    if match is None:
        return None, "the tag names no Python version, so the -slim tag is not known"
    slim = f"{match['version']}-slim" + (f"-{match['release']}" if match["release"] else "")
    return prefix + slim, ""


def variable_slim_image(text: str, default: ImageRef | None) -> tuple[str | None, str]:
    """The -slim image for a full python image whose version is an ARG
    (``python:${PY}`` -> ``python:${PY}-slim``, ``python:${PY}-bookworm`` ->
    ``python:${PY}-slim-bookworm``), or None and why it cannot be written.

    The tag written adds ``-slim`` to the value, so it names an image only when the value
    is a plain Python version, as the ARG's default (``default``, the resolved image)
    must be: another value (``3.12-slim``, ``3.12-alpine``) gives a tag that does not
    exist, and the build fails (the caller's reason says so)."""
    match = _VARIABLE_VERSION_TAG.fullmatch(text)
    if match is None:
        return (
            None,
            f"the full base image is given by a variable (`{text}`), so -slim cannot be named",
        )
    if default is None or default.digest or default.tag is None:
        return None, f"the ARG in `{text}` has no default, so -slim cannot be named"
    version = default.tag.removesuffix(f"-{match['release']}") if match["release"] else default.tag
    if not re.fullmatch(_VERSION, version):
        return None, (
            f"`{text}` is `{default.text}` by default, whose version is not a plain Python "
            "version, so -slim cannot be named from the variable"
        )
    release = f"-{match['release']}" if match["release"] else ""
    return f"{match['head']}-slim{release}", ""


def _mount_targets_from_stages(instruction: Instruction) -> set[str]:
    """Targets of ``RUN --mount=type=bind,from=...`` flags (files of another stage)."""
    return {
        mount.target
        for mount in mounts_of(instruction)
        if mount.from_stage and mount.type == "bind" and mount.target
    }


def artifact_dirs(stage: Stage, upto: Instruction) -> set[str]:
    """Directories at ``upto`` that hold files built by another stage (and only those)."""
    dirs = _mount_targets_from_stages(upto)
    for instruction in stage.instructions:
        if instruction is upto:
            break
        if instruction.cmd == "COPY" and instruction.flag("from") and len(instruction.value) >= 2:
            destination = instruction.value[-1]
            if destination.startswith("/") and "$" not in destination:
                dirs.add(posixpath.normpath(destination))
    return dirs


def is_tooling_install(package: PackageCommand) -> bool:
    """``pip install -U pip setuptools wheel``: installers only, always pure-Python wheels."""
    if package.manager is not Manager.PIP or package.action != "install":
        return False
    if package.requirement_files or not package.packages:
        return False
    for word in package.packages:
        match = _TOOLING_SPEC.fullmatch(word.value)
        if not word.is_literal or match is None or match.group(1).lower() not in _TOOLING:
            return False
    return True


def is_binary_only(package: PackageCommand, artifacts: set[str]) -> bool:
    """True when the install provably cannot compile anything (see the module docstring)."""
    if package.manager is not Manager.PIP or package.action != "install":
        return False
    if is_tooling_install(package):
        return True
    if any(word.value == ":all:" for word in package.option_values("--only-binary")):
        return True
    if not package.has_option("--no-index"):
        return False
    links = package.option_values("-f", "--find-links")
    return bool(links) and all(
        posixpath.normpath(word.value.removeprefix("file://")) in artifacts for word in links
    )


def _setup_py_runs(script: ShellScript) -> tuple[SimpleCommand, ...]:
    """The script's ``python ... setup.py`` commands, found once per script (a parsed
    script never changes, and every RUN is asked again every round)."""
    return remembered(script, "_setup_py_runs", _find_setup_py_runs)


def _find_setup_py_runs(script: ShellScript) -> tuple[SimpleCommand, ...]:
    return tuple(
        command
        for command in iter_simple_commands(script)
        # The word test first: few commands name setup.py, and the name costs more.
        if any(word.value == "setup.py" for word in command.words)
        and (command_name(command) or "").startswith("python")
    )


def python_builds(stage: Stage) -> Iterator[tuple[Instruction, PackageCommand | None]]:
    """Python package installs of the stage that may compile, with their RUN.

    ``None`` in place of the command marks a ``python setup.py ...`` run.
    """
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for _ in _setup_py_runs(shell.script):
            yield instruction, None
        artifacts: set[str] | None = None  # read only for a RUN that installs
        for package in shell.packages():
            if package.action not in BUILDING_ACTIONS.get(package.manager, ()):
                continue
            if artifacts is None:
                artifacts = artifact_dirs(stage, instruction)
            if not is_binary_only(package, artifacts):
                yield instruction, package


@dataclass(frozen=True)
class ToolUse:
    """A tool that ``-slim`` lacks, used by an instruction."""

    tool: str
    instruction: Instruction

    def describe(self) -> str:
        return f"the {self.instruction.cmd} on line {self.instruction.line} uses `{self.tool}`"


#: System package managers: their commands name packages (``apt-get purge git``), they
#: do not run the tools of those names.
_SYSTEM_MANAGERS = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)


def is_system_package_command(command: SimpleCommand) -> bool:
    """``apt-get install curl``, ``apt-get purge -y git``, ``apk del .deps``..."""
    package = classify(command)
    return package is not None and package.manager in _SYSTEM_MANAGERS


def _command_texts(instruction: Instruction, skip: frozenset[CommandKey]) -> list[str]:
    """The words an instruction runs, as text to search for tool names.

    Shell-form RUN: the words of each command (strings passed to ``sh -c`` included),
    except the commands in ``skip`` (``command_key``s) and the system package manager's (whose
    words are package names).  Other forms: the whole argument text.
    """
    shell = run_shell(instruction)
    if isinstance(shell, RunShell):
        return [
            " ".join(word.value for word in command.words)
            for command in iter_simple_commands(shell.script)
            if command_key(instruction, command) not in skip
            and not is_system_package_command(command)
        ]
    return [" ".join(instruction.value)]


def _runtime_installed(facts: StageFacts) -> set[str]:
    """System packages the stage (and its lineage) installs, minus build packages: DF202
    moves those out of the final stage."""
    return {name for name in facts.installed if not is_build_package(name)}


def slim_lacking_tools(
    facts: StageFacts, skip: frozenset[CommandKey] = frozenset()
) -> list[ToolUse]:
    """Uses of tools the ``-slim`` image lacks and the stage does not install itself.

    ``skip`` holds shell commands not to look at, where they run (``command_key``: the
    installs DF202 moves to the builder).
    """
    installed = _runtime_installed(facts)
    found = []
    for instruction in facts.stage.instructions:
        if instruction.cmd not in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue
        for text in _command_texts(instruction, skip):
            for match in _TOOL_WORD.finditer(text):
                tool = match.group(1)
                if SLIM_LACKS[tool] not in installed:
                    found.append(ToolUse(tool, instruction))
    return found


def debian_release(tag: str | None) -> str | None:
    """The Debian release of a python image tag: its codename, or None for "today's
    default" (bookworm or trixie).  Images of Python 3.7 and older stopped before
    bookworm, so their default is an older release the table has no names for."""
    named = release_of_tag(tag)
    if named is not None:
        return named
    if _NAMED_OLD.intersection((tag or "").lower().split("-")):
        return "before bookworm"  # ``jessie``, ``2.7-wheezy``: older than the table's names
    version = re.match(r"(\d+)(?:\.(\d+))?", tag or "")
    if version and (int(version[1]), int(version[2] or 99)) < (3, 8):
        return "before bookworm"
    return None


#: Releases older than the table's codenames that python tags name.
_NAMED_OLD = frozenset({"wheezy", "jessie"})
#: Debian releases that have left deb.debian.org and security.debian.org for
#: archive.debian.org, where the images' apt sources do not point: ``apt-get update``
#: fails there (404, "does not have a Release file"): wheezy and jessie, stretch in April
#: 2023, buster in July 2025 (debian-devel-announce 2025/06 msg00001).  bullseye is not
#: here: its archive was still on the mirrors when this was written.
_ARCHIVED = ("wheezy", "jessie", "stretch", "buster")
#: The newest Debian release docker-library/python built each finished Python on (its
#: ``<version>/<release>`` folders: ``2.7/buster``, ``3.4/stretch``, ``3.5/buster``,
#: ``3.6/bullseye``, ``3.7/bookworm``): what the moving ``X.Y`` tag runs.
_LAST_RELEASE = {
    (2, 7): "buster",
    (3, 3): "jessie",
    (3, 4): "stretch",
    (3, 5): "buster",
    (3, 6): "bullseye",
    (3, 7): "bookworm",
}
#: The first patch release of each Python out after bullseye (2021-08-14): 3.6.15,
#: 3.7.12, 3.8.12, 3.9.7; 3.10 came later.  An earlier patch's tag was built on buster
#: or older (perhaps rebuilt on bullseye while it was the newest patch).
_FIRST_AFTER_BULLSEYE = {(3, 6): 15, (3, 7): 12, (3, 8): 12, (3, 9): 7}


def archived_release(tag: str | None) -> tuple[str, bool]:
    """The Debian release a python tag runs when its archive has left the mirrors, as
    words (``stretch``, ``buster or older``), and whether that is certain; ("", True)
    when it has not (a newer release, or today's default)."""
    parts = (tag or "").lower().split("-")
    named = next((part for part in parts if part in _ARCHIVED), None)
    if named is not None:
        return named, True
    if release_of_tag(tag) is not None:
        return "", True  # bullseye and newer, named
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", tag or "")
    if match is None:
        return "", True  # ``latest``, ``slim``: today's default
    major, minor = int(match[1]), int(match[2]) if match[2] else None
    if minor is None:
        return ("buster", True) if major == 2 else ("", True)
    version = (major, minor)
    if version >= (3, 10):
        return "", True
    if match[3] is None:  # ``3.6``: the newest image of that Python
        last = _LAST_RELEASE.get(version)
        if last is None:
            return ("", True) if version >= (3, 8) else ("wheezy or jessie", True)
        return (last, True) if last in _ARCHIVED else ("", True)
    first = _FIRST_AFTER_BULLSEYE.get(version)
    if first is None:
        return "jessie, stretch or buster", True  # 2.7.x, 3.3.x to 3.5.x
    return ("", True) if int(match[3]) >= first else ("buster or older", False)


def needs_https_transport(tag: str | None) -> bool:
    """apt fetches an https source only with ``apt-transport-https`` on stretch and older
    (built into apt from 1.5, buster's 1.8): the tag runs or may run one of them."""
    parts = (tag or "").lower().split("-")
    if {"wheezy", "jessie", "stretch"}.intersection(parts):
        return True
    return debian_release(tag) == "before bookworm"


# -- scripts a stage runs ------------------------------------------------------------------

_SHELLS = frozenset({"sh", "bash", "dash", "ash"})


def script_of(words: Sequence[str]) -> tuple[str, bool] | None:
    """The shell script a command runs (``./build.sh``, ``sh scripts/x.sh``), if any, and
    whether it is looked up on ``PATH`` (a bare program name) or in the WORKDIR."""
    if not words:
        return None
    program = posixpath.basename(words[0])
    if program in _SHELLS:
        operands = [word for word in words[1:] if not word.startswith("-")]
        if "-c" in words[1:] or not operands:
            return None
        return operands[0], False
    if words[0].endswith((".sh", ".bash")):
        return words[0], "/" not in words[0]
    return None


def _commands_run(instruction: Instruction) -> list[list[str]]:
    """The word lists of the commands a RUN/CMD/ENTRYPOINT runs (exec form: one)."""
    if instruction.is_json:
        return [list(instruction.value)] if instruction.value else []
    if instruction.cmd == "RUN":
        shell = run_shell(instruction)
        scripts = [shell.script] if isinstance(shell, RunShell) else []
    else:
        parsed = parse_text(instruction.value[0]) if instruction.value else ""
        scripts = [] if isinstance(parsed, str) else [parsed]
    return [
        [word.value for word in command_words(command)]
        for script in scripts
        for command in iter_simple_commands(script)
    ]


def script_tool_uses(
    facts: StageFacts, context: BuildContext, *, unread_at_start: list[str] | None = None
) -> list[str]:
    """Scripts that RUN/CMD/ENTRYPOINT run and that use tools ``-slim`` lacks (or that
    cannot be read from the build context): what each one shows, as text.

    With ``unread_at_start``, a CMD/ENTRYPOINT script that cannot be read goes there
    instead: it runs only when the container starts, so on -slim the build still works
    and what may fail is the start, which an unsafe fix's reason can name (as DF201
    names an entrypoint it cannot read).  A RUN script that cannot be read stays a
    finding of the first kind: the build itself may need the full image's tools."""
    installed = _runtime_installed(facts)
    found: list[str] = []
    for instruction in facts.stage.instructions:
        if instruction.cmd not in ("RUN", "CMD", "ENTRYPOINT"):
            continue
        for words in _commands_run(instruction):
            script = script_of(words)
            if script is None:
                continue
            path, on_path = script
            origin = file_origin(facts, instruction, path, context, on_path=on_path)
            where = f"the {instruction.cmd} on line {instruction.line} runs `{path}`"
            if origin is None or origin.text is None:
                why = origin.why if origin is not None else "cannot be read from the build context"
                if unread_at_start is not None and instruction.cmd != "RUN":
                    unread_at_start.append(
                        f"{where}, which {why}: if it runs a program of the full image that "
                        "-slim lacks (git, curl, a compiler...), the container fails at start"
                    )
                else:
                    found.append(f"{where}, which {why}: it may use tools -slim lacks")
                continue
            code = "\n".join(line.split("#", 1)[0] for line in origin.text.splitlines())
            for match in _TOOL_WORD.finditer(code):
                if SLIM_LACKS[match.group(1)] not in installed:
                    found.append(f"{where}, which uses `{match.group(1)}`")
                    break
    return found
