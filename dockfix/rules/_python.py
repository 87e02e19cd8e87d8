"""Python-image knowledge shared by DF202 and DF203 (a rule never imports another rule).

What the full ``python:3.x`` image has that ``-slim`` lacks (tools, and the libraries
that packages built from source link), which Python installs may compile, which are
binary-only, the requirements an install names (read through the model's build
context), and the scripts a stage runs (read the same way).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from dockfix.images import lookup
from dockfix.images.python_packages import NativePackage, native, requirement_name
from dockfix.images.runtime_libs import (
    NoRuntimeKnown,
    is_build_package,
    release_of_tag,
    runtime_packages,
)
from dockfix.model import BuildContext, StageFacts, Step
from dockfix.model.expand import expand
from dockfix.model.mounts import mounts_of
from dockfix.rules._copied import Origin, origin_of
from dockfix.rules._shell import RunShell, parse_text, run_shell
from dockfix.shell import (
    Manager,
    PackageCommand,
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
_TOOL_WORD = re.compile(
    r"(?<![\w.+-])(?:/usr(?:/local)?/bin/|/bin/)?("
    + "|".join(re.escape(tool) for tool in sorted(SLIM_LACKS, key=len, reverse=True))
    + r")(?![\w.+-])"
)
#: ``python:<version>[-<codename>]``: the full variants whose slim tag is known.
_FULL_TAG = re.compile(
    r"(?P<version>\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?(?:-rc)?)"
    r"(?:-(?P<release>buster|bullseye|bookworm|trixie|forky))?"
)
#: Python package commands that may build an sdist, by manager (``uv pip install`` is
#: ``install``: the ``pip`` group word adds no prefix).
_BUILDING_ACTIONS: dict[Manager, frozenset[str]] = {
    Manager.PIP: frozenset({"install", "wheel"}),
    Manager.UV: frozenset({"install", "sync", "add"}),
    Manager.POETRY: frozenset({"install", "add"}),
    Manager.PIPENV: frozenset({"install", "sync"}),
}
_TOOLING = frozenset({"pip", "setuptools", "wheel"})
_TOOLING_SPEC = re.compile(r"([A-Za-z0-9._-]+)\s*(?:[<>=!~]=?.*)?")


def is_python_image(image: ImageRef) -> bool:
    """The official ``python`` repository (Docker Hub, with or without ``library/``)."""
    registry = (image.registry or "docker.io").lower()
    return registry in ("docker.io", "index.docker.io") and image.repository == "python"


def is_full_python(image: ImageRef) -> bool:
    """A full (buildpack-deps based) Debian ``python`` image, by the image table."""
    if image.has_variables or not is_python_image(image):
        return False
    traits = lookup("python", image.tag)
    return traits is not None and traits.toolchain


def slim_image(image: ImageRef) -> tuple[str | None, str]:
    """The ``-slim`` image for a full python image, or None and why it cannot be named."""
    if image.digest:
        return None, "the image is pinned by digest; the -slim image's digest is not known"
    match = _FULL_TAG.fullmatch(image.tag or "")
    if match is None:
        return None, "the tag names no Python version, so the -slim tag is not known"
    slim = f"{match['version']}-slim" + (f"-{match['release']}" if match["release"] else "")
    prefix = image.text[: len(image.text) - len(image.tag or "")]
    return prefix + slim, ""


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


def python_builds(stage: Stage) -> Iterator[tuple[Instruction, PackageCommand | None]]:
    """Python package installs of the stage that may compile, with their RUN.

    ``None`` in place of the command marks a ``python setup.py ...`` run.
    """
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        artifacts = artifact_dirs(stage, instruction)
        for command in iter_simple_commands(shell.script):
            words = [word.value for word in command.words]
            name = command_name(command) or ""
            if name.startswith("python") and "setup.py" in words:
                yield instruction, None
        for package in shell.packages():
            if package.action not in _BUILDING_ACTIONS.get(package.manager, ()):
                continue
            if not is_binary_only(package, artifacts):
                yield instruction, package


@dataclass(frozen=True)
class ToolUse:
    """A tool that ``-slim`` lacks, used by an instruction."""

    tool: str
    instruction: Instruction

    def describe(self) -> str:
        return f"the {self.instruction.cmd} on line {self.instruction.line} uses `{self.tool}`"


def _command_texts(instruction: Instruction, skip: frozenset[int]) -> list[str]:
    """The words an instruction runs, as text to search for tool names.

    Shell-form RUN: the words of each command (strings passed to ``sh -c`` included),
    except the commands in ``skip`` (``id``s).  Other forms: the whole argument text.
    """
    shell = run_shell(instruction)
    if isinstance(shell, RunShell):
        return [
            " ".join(word.value for word in command.words)
            for command in iter_simple_commands(shell.script)
            if id(command) not in skip
        ]
    return [" ".join(instruction.value)]


def _runtime_installed(facts: StageFacts) -> set[str]:
    """System packages the stage (and its lineage) installs, minus build packages: DF202
    moves those out of the final stage."""
    return {name for name in facts.installed if not is_build_package(name)}


def slim_lacking_tools(facts: StageFacts, skip: frozenset[int] = frozenset()) -> list[ToolUse]:
    """Uses of tools the ``-slim`` image lacks and the stage does not install itself.

    ``skip`` holds ``id``s of shell commands not to look at (the installs DF202 moves to
    the builder).
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


# -- requirements ---------------------------------------------------------------------------

_INCLUDE = re.compile(r"^\s*(?:-r|--requirements?)[\s=]+(\S+)")


@dataclass
class Requirements:
    """What one or more Python installs name: packages, and what could not be read."""

    #: ``(name, extras)``, PEP 503 names.
    names: list[tuple[str, str]] = field(default_factory=list)
    #: ``(file, line)`` of every requirement-file line read (comments dropped).
    lines: list[tuple[str, str]] = field(default_factory=list)
    #: Requirement files that could not be read (no context, missing, a variable).
    unread: list[str] = field(default_factory=list)

    def extend(self, other: Requirements) -> None:
        self.names += other.names
        self.lines += other.lines
        self.unread += other.unread


#: Reads a file of the image by its path (relative to the WORKDIR of the install).
Reader = Callable[[str], "str | None"]


def read_requirement_files(files: Sequence[str], read: Reader) -> Requirements:
    """The lines of requirement files (and the files they include with ``-r``), read
    with ``read``; files it cannot read are listed as unread."""
    found = Requirements()
    queue: list[str] = list(files)
    seen: set[str] = set()
    while queue and len(seen) < 50:
        name = posixpath.normpath(queue.pop(0))
        if name in seen:
            continue
        seen.add(name)
        text = read(name)
        if text is None:
            found.unread.append(name)
            continue
        for line in text.splitlines():
            line = line.split(" #", 1)[0]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            include = _INCLUDE.match(line)
            if include:
                queue.append(posixpath.join(posixpath.dirname(name), include.group(1)))
                continue
            found.lines.append((name, line))
            if not line.lstrip().startswith("-"):
                parsed = requirement_name(line)
                if parsed is not None:
                    found.names.append(parsed)
    return found


def requirements_of(package: PackageCommand, read: Reader) -> Requirements:
    """The packages a pip/uv install names on its command line and in its ``-r`` files."""
    found = Requirements()
    for word in package.packages:
        parsed = requirement_name(word.value) if word.is_literal else None
        if parsed is None:
            found.unread.append(word.text)
        else:
            found.names.append(parsed)
    files = []
    for word in package.option_values("-r", "--requirement", "--requirements"):
        if word.is_literal:
            files.append(word.value)
        else:
            found.unread.append(word.text)
    found.extend(read_requirement_files(files, read))
    if package.manager not in (Manager.PIP, Manager.UV):
        found.unread.append(f"{package.manager.value} {package.action}")
    return found


def image_reader(facts: StageFacts, instruction: Instruction, context: BuildContext) -> Reader:
    """Reads files as ``instruction`` sees them: a relative path is in its WORKDIR, and
    the text is the build-context file that the stage's COPY/ADD put there."""

    def read(path: str) -> str | None:
        origin = file_origin(facts, instruction, path, context)
        return origin.text if origin is not None else None

    return read


def installs_in(facts: StageFacts, context: BuildContext) -> Requirements:
    """What every pip/uv/poetry/pipenv install of the stage and its lineage names."""
    found = Requirements()
    for ancestor in facts.lineage:
        for instruction in ancestor.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            read = image_reader(ancestor, instruction, context)
            for package in shell.packages():
                if package.action in _BUILDING_ACTIONS.get(package.manager, ()):
                    found.extend(requirements_of(package, read))
    return found


# -- libraries that packages built from source link -------------------------------------------


@dataclass
class RuntimeNeeds:
    """Runtime packages that compiled requirements load, and what stands in the way."""

    packages: list[str] = field(default_factory=list)
    #: Why the needs cannot be named (the fix must not be offered).
    blockers: list[str] = field(default_factory=list)
    #: What may still be missing (for the unsafe fix's reason).
    caveats: list[str] = field(default_factory=list)


def source_build_needs(requirements: Requirements, release: str | None) -> RuntimeNeeds:
    """The Debian runtime packages that ``requirements`` built from source (against the
    full image's libraries, or a builder's ``-dev`` packages) load, by the table in
    ``dockfix.images.python_packages``.

    A package PyPI has no wheel for (``psycopg2``, ``mysqlclient``, ``uwsgi``), or one
    that loads its library itself, needs the runtime packages: a name the table does not
    know for ``release`` blocks the fix.  A package with wheels is installed from them
    (their libraries bundled) unless none fits the platform: that is only a caveat.
    """
    needs = RuntimeNeeds()
    for name, extras in requirements.names:
        row = native(name, extras)
        if row is None:
            continue
        names, unknown = _runtime_names(row, release)
        if row.wheels and not row.loads_at_run_time:
            listed = " ".join(names) or "its libraries"
            needs.caveats.append(
                f"{row.name} built from source (no wheel for the platform) would need {listed}"
            )
        elif unknown:
            needs.blockers.append(f"{row.name} is built from source and needs a library: {unknown}")
        else:
            needs.packages += [n for n in names if n not in needs.packages]
    return needs


def _runtime_names(row: NativePackage, release: str | None) -> tuple[list[str], str]:
    """The runtime packages of a row's ``-dev`` packages, and why one is not known."""
    names: list[str] = []
    for dev in row.dev:
        try:
            found = runtime_packages(dev, release, python_image=True)
        except NoRuntimeKnown as error:
            return names, str(error)
        names += [n for n in found if n not in names]
    return names, ""


def debian_release(tag: str | None) -> str | None:
    """The Debian release of a python image tag: its codename, or None for "today's
    default" (bookworm or trixie).  Images of Python 3.7 and older stopped before
    bookworm, so their default is an older release the table has no names for."""
    named = release_of_tag(tag)
    if named is not None:
        return named
    version = re.match(r"(\d+)(?:\.(\d+))?", tag or "")
    if version and (int(version[1]), int(version[2] or 99)) < (3, 8):
        return "before bookworm"
    return None


# -- scripts a stage runs --------------------------------------------------------------------

_SHELLS = frozenset({"sh", "bash", "dash", "ash"})
_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


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


def script_tool_uses(facts: StageFacts, context: BuildContext) -> list[str]:
    """Scripts that RUN/CMD/ENTRYPOINT run and that use tools ``-slim`` lacks (or that
    cannot be read from the build context): what each one shows, as text."""
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
                found.append(f"{where}, which {why}: it may use tools -slim lacks")
                continue
            code = "\n".join(line.split("#", 1)[0] for line in origin.text.splitlines())
            for match in _TOOL_WORD.finditer(code):
                if SLIM_LACKS[match.group(1)] not in installed:
                    found.append(f"{where}, which uses `{match.group(1)}`")
                    break
    return found


def file_origin(
    facts: StageFacts,
    instruction: Instruction,
    path: str,
    context: BuildContext,
    *,
    on_path: bool = False,
) -> Origin | None:
    """The file at ``path`` (relative to ``instruction``'s WORKDIR, or looked up on
    ``PATH``) as the stage's COPY/ADD put it there; None when none did."""
    step = facts.at(instruction)
    if on_path:
        candidates = [posixpath.join(folder, path) for folder in _PATH]
    elif path.startswith("/") or step.workdir is not None:
        candidates = [posixpath.normpath(posixpath.join(step.workdir or "/", path))]
    else:
        return None

    def destination(copy: Instruction) -> str | None:
        copy_step = _step_in_lineage(facts, copy)
        target = expand(copy.value[-1], copy_step.variables)
        if target is None:
            return None
        if not target.startswith("/"):
            if copy_step.workdir is None:
                return None
            target = posixpath.join(copy_step.workdir, target)
        return posixpath.normpath(target)

    instructions = [i for ancestor in reversed(facts.lineage) for i in ancestor.stage.instructions]
    if instruction.cmd == "RUN" and instruction in instructions:
        # A RUN sees what was copied before it; CMD/ENTRYPOINT see the finished image.
        instructions = instructions[: instructions.index(instruction)]
    for candidate in candidates:
        origin = origin_of(candidate, instructions, destination, context)
        if origin is not None:
            return origin
    return None


def _step_in_lineage(facts: StageFacts, instruction: Instruction) -> Step:
    """The state before ``instruction`` in whichever stage of the lineage holds it."""
    for ancestor in facts.lineage:
        if ancestor.contains(instruction):
            return ancestor.at(instruction)
    return facts.end
