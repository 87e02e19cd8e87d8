"""DF203 full-python-base-image: a shipped stage starts from the full ``python:3.x`` image.

What it does
    Reports stages that start from the full Debian-based Python image (``python:3.12``,
    ``python:3.12-bookworm``) and are shipped (no later stage builds on them or copies
    from them: a builder may well use the full image).  When nothing in the stage needs
    what only the full image has, the fix switches to the ``-slim`` variant of the same
    version and release::

        FROM python:3.12-bookworm        ->  FROM python:3.12-slim-bookworm

    The criterion for "needs nothing of the full image":

    * every Python package install is provably binary-only, so it cannot compile:
      ``pip install --only-binary=:all:``, ``pip install --no-index --find-links DIR``
      where every ``DIR`` comes from another stage (``RUN --mount=type=bind,from=...``
      or ``COPY --from=...``, as the DF202 split writes it), or an install of pip,
      setuptools and wheel only.  Any other ``pip``/``uv``/``poetry``/``pipenv`` install
      or ``setup.py`` run may build an sdist with the full image's compilers;
    * the stage installs no build packages with apt (compilers, ``-dev`` headers: DF202's
      business);
    * no ``RUN``, ``CMD``, ``ENTRYPOINT`` or ``HEALTHCHECK`` uses a tool that the full
      image has and ``-slim`` lacks (curl, wget, git, ssh, gcc, make, ...), unless the
      stage installs that tool's package itself;
    * every ``RUN`` can be read (shell form that parses, no heredoc).

    It never proposes Alpine: musl has no manylinux wheels, so packages compile (slower,
    often bigger, sometimes broken).

Why is this bad?
    The full image is buildpack-deps: compilers, headers, version control and image
    libraries, about 900 MB against about 120 MB for ``-slim`` (practice 3 of the
    source article).  Everything in it is attack surface and download time, and a
    runtime image needs none of it.

Example
    ``FROM python:3.11`` + ``COPY app.py .`` + ``CMD ["python", "app.py"]`` becomes
    ``FROM python:3.11-slim`` with the rest unchanged.

Fix safety
    Unsafe: ``-slim`` lacks the full image's libraries and tools.  Python packages that
    load system libraries at run time (python-magic, Wand, WeasyPrint, ...), wheels
    built against the full image's libraries, and programs that shell out to tools
    (``git``, ``convert``) fail on ``-slim`` even though the Dockerfile never names them.
    Report only: an untagged or ``latest`` image (the version is unknown), a tag that
    names no version (``python:bookworm``), a digest-pinned image (the slim image's
    digest is not known), and every stage that fails the criterion above.

References
    practices.md row 3 (and row 1: the final stage of the DF202 split qualifies).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dockfix.images import lookup
from dockfix.images.runtime_libs import is_build_package
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import Manager, PackageCommand, command_name, iter_simple_commands
from dockfix.syntax import Dockerfile, ImageRef, Instruction, Stage

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


def referenced_stages(document: Dockerfile) -> set[int]:
    """Indexes of stages a later stage builds on (``FROM``) or reads (``--from``)."""
    names = {}
    for stage in document.stages:
        names[str(stage.index)] = stage.index
        if stage.alias:
            names[stage.alias.lower()] = stage.index
    used: set[int] = set()
    for stage in document.stages:
        if stage.image.text.lower() in names and names[stage.image.text.lower()] < stage.index:
            used.add(names[stage.image.text.lower()])
        for instruction in stage.instructions:
            for source in _from_references(instruction):
                if source.lower() in names:
                    used.add(names[source.lower()])
    return used


def _from_references(instruction: Instruction) -> list[str]:
    found = []
    for flag in instruction.flags:
        if flag.name == "from" and flag.value:
            found.append(flag.value)
        elif flag.name == "mount" and flag.value:
            for part in flag.value.split(","):
                key, _, value = part.partition("=")
                if key.strip() == "from" and value:
                    found.append(value.strip())
    return found


def _mount_targets_from_stages(instruction: Instruction) -> set[str]:
    """Targets of ``RUN --mount=type=bind,from=...`` flags (files of another stage)."""
    targets = set()
    for flag in instruction.flags:
        if flag.name != "mount" or not flag.value:
            continue
        fields = dict(part.partition("=")[::2] for part in flag.value.split(","))
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if fields.get("from") and fields.get("type", "bind") == "bind" and target:
            targets.add(posixpath.normpath(target))
    return targets


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


def _installed_debian_packages(stage: Stage) -> set[str]:
    names: set[str] = set()
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager in (Manager.APT_GET, Manager.APT) and package.action == "install":
                names.update(word.value.split("=")[0] for word in package.packages)
    return names


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


def slim_lacking_tools(stage: Stage, skip: frozenset[int] = frozenset()) -> list[ToolUse]:
    """Uses of tools the ``-slim`` image lacks and the stage does not install itself.

    ``skip`` holds ``id``s of shell commands not to look at (the installs DF202 moves to
    the builder).  Build packages installed by the stage do not count as installed: DF202
    moves them out of the final stage.
    """
    installed = {name for name in _installed_debian_packages(stage) if not is_build_package(name)}
    found = []
    for instruction in stage.instructions:
        if instruction.cmd not in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue
        for text in _command_texts(instruction, skip):
            for match in _TOOL_WORD.finditer(text):
                tool = match.group(1)
                if SLIM_LACKS[tool] not in installed:
                    found.append(ToolUse(tool, instruction))
    return found


def unreadable_runs(stage: Stage) -> list[Instruction]:
    """RUNs whose commands cannot be known: exec form, heredocs, shell that does not parse."""
    found = []
    for instruction in stage.instructions:
        if instruction.cmd != "RUN":
            continue
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            found.append(instruction)
    return found


def apt_build_packages(stage: Stage) -> list[str]:
    names = []
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager in (Manager.APT_GET, Manager.APT) and package.action == "install":
                names += [w.value for w in package.packages if is_build_package(w.value)]
    return names


def slim_blockers(stage: Stage) -> str:
    """Why the stage cannot switch to ``-slim`` (the first reason), or ``""``."""
    unreadable = unreadable_runs(stage)
    if unreadable:
        line = unreadable[0].line
        return f"the RUN on line {line} cannot be read (exec form, heredoc, or unparsed shell)"
    for instruction, package in python_builds(stage):
        what = "`setup.py`" if package is None else f"`{package.manager.value} {package.action}`"
        return (
            f"{what} on line {instruction.line} may compile packages with the full image's "
            "compilers (see DF202)"
        )
    build = apt_build_packages(stage)
    if build:
        return f"the stage installs build packages ({', '.join(build[:3])}; see DF202)"
    tools = slim_lacking_tools(stage)
    if tools:
        return tools[0].describe() + ", which the -slim image lacks"
    return ""


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    shipped = set(range(len(document.stages))) - referenced_stages(document)
    for stage in document.stages:
        if stage.index not in shipped:
            continue  # a builder: its size does not ship, and it may need the compilers
        if not is_full_python(stage.image):
            continue
        yield _check_stage(rule, document, stage)


def _check_stage(rule: Rule, document: Dockerfile, stage: Stage) -> Finding:
    image = stage.image
    message = (
        f"`{image.text}` is the full Python image (compilers, headers, tools); "
        "a runtime image needs the -slim variant"
    )
    slim, why = slim_image(image)
    if slim is None:
        return rule.finding(message, stage.from_instruction, note=why)
    blocked = slim_blockers(stage)
    if blocked:
        return rule.finding(message, stage.from_instruction, note=blocked)
    instruction = stage.from_instruction
    piece = next((p for p in instruction.arguments if p.text == image.text), None)
    if piece is None:
        return rule.finding(message, instruction, note="the image is not written as one word")
    new = document.replace_piece(instruction, piece, slim)
    return rule.finding(
        f"{message} (`{slim}`)",
        instruction,
        edits=[Edit(instruction, (new,))],
        reason=(
            "-slim lacks the full image's libraries and tools: Python packages that load "
            "system libraries at run time (python-magic, Wand, WeasyPrint, ...), wheels "
            "built against the full image's libraries, and programs that call git or "
            "ImageMagick fail on it"
        ),
    )


RULE = Rule(
    code="DF203",
    name="full-python-base-image",
    summary="Use python:X-slim for images that need nothing of the full python:X image",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX,),
)

__all__ = [
    "RULE",
    "SLIM_LACKS",
    "artifact_dirs",
    "is_binary_only",
    "is_full_python",
    "is_python_image",
    "is_tooling_install",
    "python_builds",
    "referenced_stages",
    "slim_blockers",
    "slim_image",
    "slim_lacking_tools",
]
