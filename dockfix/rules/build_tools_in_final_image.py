"""DF202 build-tools-in-final-image: compilers kept in the image only to build Python packages.

What it does
    Finds a single-stage Python image that has compilers and headers (installed with
    ``apt-get``, or brought by the full ``python:3.x`` image) only so that ``pip install``
    can build packages, and splits it in two (practices 1 and 17 of the source article):

    * a ``builder`` stage from the same base: the original steps up to the last such
      ``pip install``, with the build tools, where ``pip install`` becomes ``pip wheel
      --wheel-dir /wheels`` (strategy ``wheels``, the default) or runs in a virtualenv
      made with ``python -m venv /opt/venv`` (strategy ``venv``);
    * the final stage: the original stage, from the same base, in the same order, with
      comments where they were, except that the build packages are gone from
      ``apt-get install`` (the runtime libraries their ``-dev`` packages stood for take
      their place, from ``dockfix/images/runtime_libs.py``: ``libpq-dev`` ->
      ``libpq5``), and each ``pip install`` installs what the builder built::

        RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \\
            pip install --no-index --find-links=/wheels -r requirements.txt

      or, for ``venv``, ``COPY --from=builder /opt/venv /opt/venv`` and
      ``ENV PATH=/opt/venv/bin:$PATH`` take the place of the first install.

    An ``apt-get install`` left with no package is removed with the ``apt-get update``
    and list clean-up that served it; a RUN left empty is removed, its comment lines go
    with its copy in the builder.  The split keeps the base image: for a full
    ``python:3.x`` base, DF203 (full-python-base-image) switches the final stage to
    ``-slim`` in the next round, and the split is offered only when it can.

    Why wheels through a bind mount: ``COPY --from=builder /wheels /wheels`` followed by
    ``rm -rf /wheels`` leaves the wheels in the COPY layer, so the image keeps them;
    a bind mount never enters a layer.  ``RUN --mount=type=bind,from=`` works with
    BuildKit (the ``# syntax=docker/dockerfile:1`` line is added when missing, as DF110
    does) and with buildah/podman (1.28 included), which support RUN mounts but not
    ``COPY --link`` or heredocs; neither is used.  The builder keeps dependencies
    (no ``--no-deps``, unlike the article) so that ``--no-index`` finds every wheel, and
    the final install keeps the original arguments, so extras, markers and constraints
    mean what they meant.

Why is this bad?
    Compilers, headers and their dependencies are hundreds of megabytes that the
    application never uses at run time (the article measures 259 MB -> 156 MB for a web
    app and 969 MB -> 357 MB for a data-science image), and every tool in the image is
    attack surface.

Example
    ``FROM python:3.12-slim`` + ``RUN apt-get update && apt-get install -y gcc
    libpq-dev`` + ``COPY requirements.txt .`` + ``RUN pip install -r requirements.txt``
    + ``COPY . .`` becomes a builder with those steps (``pip wheel``) and a final stage
    that installs ``libpq5`` and the wheels, then copies the source.

Fix safety
    Unsafe: the final image no longer has the compilers and headers, so anything that
    compiles at run time breaks (``pip install`` at start-up, pyximport, extensions
    built on first import), and only the runtime libraries of the ``-dev`` packages the
    Dockerfile names are installed: wheels built against other libraries of a full base
    image need theirs added by hand.  Report only (with the reason) when:

    * the file has more than one stage, the base image is a variable, unknown, not a
      ``python`` image, or not Debian-based (Alpine's apk uses other package names);
    * a Python install is not a ``pip install`` of requirement files or named packages:
      ``pip install .``, paths, URLs, VCS links, editable installs, wheel files,
      ``--no-binary``, hash-checking mode, uv/poetry/pipenv, ``setup.py``.  Building the
      project's own wheel (``pip wheel .``) is left to the user: the final stage would
      have to install it by file name, which the Dockerfile does not say;
    * requirement files (read from the build context through the COPY that put them in
      the image) install local paths, URLs or use hashes (built wheels would not match
      them);
    * an ``-dev`` package has no runtime package in the table, or a release-dependent
      one and the tag names no Debian release;
    * another RUN uses the build tools (``make``, ``gcc``, ``git``, a script), a RUN
      cannot be read, pip runs as a non-root ``USER``, the stage purges build packages
      itself, or commands must be removed from a RUN that is not a plain ``&&`` chain;
    * the base is the full image and the final stage could not switch to ``-slim``
      (it uses curl, wget, git... itself or in a script it runs, or the tag has no
      version): the split alone would keep every compiler of the base;
    * the base is the full image and the requirements cannot be read from the build
      context (stdin, a file the COPY does not bring), or name a package built from
      source whose runtime library has no known name for the image's Debian release:
      packages built there link the full image's libraries (``psycopg2`` ->
      ``libpq5``), so the final stage installs those it can name
      (``dockfix/images/python_packages.py``) in an ``apt-get install`` before the
      first install of the wheels, or there is no split;
    * every requirement is known to need no compiler (pure Python, or wheels for every
      current CPython, e.g. ``flask``, ``requests``, ``numpy``): a builder stage would
      build nothing; the build packages may simply go.

References
    practices.md rows 1, 3 and 17; the seed article's multi-stage examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dockfix.images.python_packages import PURE_OR_WHEELS
from dockfix.images.runtime_libs import (
    NoRuntimeKnown,
    is_build_package,
    package_name,
    runtime_packages,
)
from dockfix.images.table import Family
from dockfix.model import BuildContext, StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._hygiene import and_chain, removes_lists
from dockfix.rules._python import (
    Reader,
    Requirements,
    artifact_dirs,
    debian_release,
    image_reader,
    is_binary_only,
    is_full_python,
    is_python_image,
    python_builds,
    read_requirement_files,
    requirements_of,
    script_tool_uses,
    slim_image,
    slim_lacking_tools,
    source_build_needs,
)
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    Manager,
    PackageCommand,
    SimpleCommand,
    Word,
    classify,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction, Stage
from dockfix.syntax.nodes import BlankLine, Comment, Node

WHEELS = "/wheels"
VENV = "/opt/venv"

_APT = frozenset({Manager.APT_GET, Manager.APT})
_SYSTEM_MANAGERS = _APT | {Manager.APK, Manager.DNF, Manager.YUM, Manager.MICRODNF}
#: Instructions that only describe the image: the builder, which is never run, skips them.
_RUNTIME_ONLY = frozenset(
    {"LABEL", "EXPOSE", "HEALTHCHECK", "CMD", "ENTRYPOINT", "STOPSIGNAL", "MAINTAINER", "ONBUILD"}
)
#: ``pip install`` options that ``pip wheel`` does not take and that change only where or
#: whether packages are installed: the builder drops them, the final install keeps them.
_INSTALL_ONLY = frozenset(
    {
        "-U",
        "--upgrade",
        "--upgrade-strategy",
        "--force-reinstall",
        "-I",
        "--ignore-installed",
        "--user",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--break-system-packages",
        "--compile",
        "--no-compile",
        "--no-warn-script-location",
        "--no-warn-conflicts",
        "--root-user-action",
        "--report",
        "--install-option",
    }
)
#: Options that change what gets built or make the wheels unusable for the final install.
_UNSUPPORTED = frozenset(
    {
        "-e",
        "--editable",
        "--no-binary",
        "--require-hashes",
        "--dry-run",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
    }
)
_VENV_INCOMPATIBLE = frozenset({"--user", "-t", "--target", "--prefix", "--root"})
_VERSION = r"(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
#: A PEP 508 requirement by name (extras, versions, markers), not a path or URL.
_REQUIREMENT = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9._,\s-]*\])?"
    rf"(?:\s*{_VERSION}(?:\s*,\s*{_VERSION})*)?(?:\s*;[^@]*)?"
)
#: Commands that compile or fetch sources, so they need the build tools.
_BUILD_COMMANDS = frozenset(
    {
        *("gcc", "cc", "g++", "c++", "clang", "clang++", "gfortran", "ld", "swig"),
        *("make", "cmake", "ninja", "meson", "configure", "autoreconf", "autoconf"),
        *("automake", "libtool", "pkg-config", "cargo", "rustc", "go", "git"),
        *("cython", "cythonize", "f2py", "node-gyp", "npm", "yarn", "pnpm", "gem", "bundle"),
    }
)
_BUILD_WORD = re.compile(
    r"(?<![\w.+-])("
    + "|".join(re.escape(name) for name in sorted(_BUILD_COMMANDS, key=len, reverse=True))
    + r")(?![\w.+-])"
)
_HOUSEKEEPING = frozenset({"update", "clean", "autoremove"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "eval"})
_REQUIREMENT_PROBLEMS = (
    (re.compile(r"^\s*(-e|--editable)\b"), "an editable install"),
    (re.compile(r"^\s*(\.|/|file:)"), "a local path"),
    (re.compile(r"://|\s@\s"), "a URL"),
    (re.compile(r"--hash[=\s]|--require-hashes"), "hash-checking mode"),
    (re.compile(r"--no-binary"), "--no-binary"),
)

REASON = (
    "the final image no longer has compilers and headers: anything that compiles at run "
    "time (pip install at start-up, pyximport, extensions built on first import) breaks, "
    "and only the runtime libraries of the -dev packages named in the Dockerfile are "
    "installed"
)


class NoFix(Exception):
    """The split cannot be written safely for this file (the message says why)."""


@dataclass(frozen=True)
class BuildInstall:
    """An ``apt-get install`` (or apk/dnf) of the stage that installs build packages."""

    shell: RunShell
    package: PackageCommand
    build_words: tuple[Word, ...]


@dataclass(frozen=True)
class Site:
    """A ``pip install`` that may compile: the builder builds for it."""

    shell: RunShell
    package: PackageCommand


@dataclass
class Rewrite:
    """Edits to one RUN's shell text: spans ``(start, end, text)`` and commands to remove."""

    shell: RunShell
    spans: list[tuple[int, int, str]]
    removed: list[SimpleCommand]


class _Edits:
    """Node edits of one fix, merged per node (a node may get text before it and a
    replacement)."""

    def __init__(self) -> None:
        self._before: dict[int, list[Node]] = {}
        self._replace: dict[int, tuple[Node, ...]] = {}
        self._nodes: dict[int, Node] = {}

    def before(self, node: Node, new: Sequence[Node]) -> None:
        self._nodes[id(node)] = node
        self._before.setdefault(id(node), []).extend(new)

    def replace(self, node: Node, new: Sequence[Node]) -> None:
        self._nodes[id(node)] = node
        self._replace[id(node)] = tuple(new)

    def replaced(self, node: Node) -> bool:
        return id(node) in self._replace

    def edits(self) -> list[Edit]:
        result = []
        for key, node in self._nodes.items():
            tail = self._replace.get(key, (node,))
            result.append(Edit(node, (*self._before.get(key, []), *tail)))
        return result


# -- finding ------------------------------------------------------------------------------


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    if not document.stages:
        return
    finding = _check_final_stage(rule, context, document.stages[-1])
    if finding is not None:
        yield finding


def _check_final_stage(rule: Rule, context: RuleContext, stage: Stage) -> Finding | None:
    """The shipped stage: does it keep build tools that only a Python install needs?"""
    installs = _build_installs(stage)
    from_base = is_full_python(stage.image)
    builds = list(python_builds(stage))
    if not builds:
        return None  # nothing Python is compiled: the build tools serve something else
    if not installs and not from_base:
        return None  # no build tools in this image
    purged = _purged(stage)
    names = _unique(package_name(w.value) for i in installs for w in i.build_words)
    if not from_base and set(names) <= purged:
        return None  # every build package is removed again: none stays in the image
    if names:
        listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        message = f"Build tools ({listed}) stay in the final image after building Python packages"
        at: Instruction = installs[0].shell.instruction
    else:
        message = (
            f"The compilers of the full `{stage.image.text}` image stay in the final image "
            "after building Python packages"
        )
        at = stage.from_instruction
    try:
        if purged & set(names):
            raise NoFix("the stage purges build packages itself; split it by hand")
        edits, reason = _plan(context, stage, installs, builds, from_base)
    except NoFix as why:
        return rule.finding(message, at, note=str(why))
    return rule.finding(message, at, edits=edits, reason=reason)


def _unique(items: Iterator[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _build_installs(stage: Stage) -> list[BuildInstall]:
    """Installs of build packages by the system package manager, in order."""
    found = []
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager not in _SYSTEM_MANAGERS or package.action != "install":
                continue
            words = tuple(w for w in package.packages if is_build_package(w.value))
            if words:
                found.append(BuildInstall(shell, package, words))
    return found


def _purged(stage: Stage) -> set[str]:
    """Packages the stage removes again (``apt-get purge``/``remove``, ``apk del``)."""
    names: set[str] = set()
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for package in shell.packages():
                if package.manager in _SYSTEM_MANAGERS and package.action == "remove":
                    names.update(package_name(word.value) for word in package.packages)
    return names


# -- can the split be written? ------------------------------------------------------------


def _plan(
    context: RuleContext,
    stage: Stage,
    installs: list[BuildInstall],
    builds: list[tuple[Instruction, PackageCommand | None]],
    from_base: bool,
) -> tuple[list[Edit], str]:
    document = context.document
    facts = context.model.facts_of(stage)
    build_context = context.model.context
    strategy = context.settings.split_strategy
    _check_base(document, facts)
    sites = [
        _site(instruction, package, strategy, image_reader(facts, instruction, build_context))
        for instruction, package in builds
    ]
    _check_users(facts, sites)
    moved = {id(i.package.command) for i in installs} | {id(s.package.command) for s in sites}
    _check_other_runs(stage, moved)
    runtime = _runtime_words(stage, installs)
    if from_base:
        _check_slimmable(facts, frozenset(moved), build_context)
    requirements = _requirements(facts, sites, build_context)
    _check_needs_compiling(requirements)
    linked, caveats = _linked_libraries(stage, requirements, runtime) if from_base else ((), [])
    split = _Split(document, stage, installs, sites, runtime, strategy, linked)
    return split.edits(), "; ".join([REASON, *caveats])


def _requirements(facts: StageFacts, sites: list[Site], context: BuildContext) -> Requirements:
    """What the split installs name (command lines and requirement files)."""
    found = Requirements()
    for site in sites:
        read = image_reader(facts, site.shell.instruction, context)
        found.extend(requirements_of(site.package, read))
    return found


def _check_needs_compiling(requirements: Requirements) -> None:
    """A builder stage is for packages that compile: when every requirement is known to
    be pure Python or to have wheels, there is nothing to build."""
    names = [name for name, _ in requirements.names]
    if requirements.unread or not names or not set(names) <= PURE_OR_WHEELS:
        return
    listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    raise NoFix(
        f"no requirement needs compiling ({listed}: pure Python or wheels), so a builder "
        "stage would only build what pip downloads; the build packages may simply go"
    )


def _linked_libraries(
    stage: Stage, requirements: Requirements, runtime: dict[int, tuple[str, ...]]
) -> tuple[tuple[str, ...], list[str]]:
    """Runtime packages that requirements built on the full image link (``psycopg2`` ->
    ``libpq5``): the final stage, later ``-slim``, must install them.  NoFix when the
    requirements cannot be read or a library's name is not known."""
    if requirements.unread:
        raise NoFix(
            f"`{requirements.unread[0]}` cannot be read: packages built from source on the "
            "full image may link its libraries, which -slim lacks"
        )
    needs = source_build_needs(requirements, debian_release(stage.image.tag))
    if needs.blockers:
        raise NoFix(needs.blockers[0])
    named = {name for names in runtime.values() for name in names}
    return tuple(name for name in needs.packages if name not in named), needs.caveats


def _check_base(document: Dockerfile, facts: StageFacts) -> None:
    if len(document.stages) != 1:
        raise NoFix("the file already has several stages; move the build tools by hand")
    stage = facts.stage
    image = stage.image
    if image.has_variables:
        raise NoFix("the base image is given by a variable")
    traits = facts.traits
    if traits is None:
        raise NoFix(f"the base image `{image.text}` is not known")
    if traits.family is not Family.DEBIAN:
        raise NoFix(
            f"the base image is {traits.family.value}-based: its build packages have other "
            "names; only Debian-based python images are split"
        )
    if not traits.python or not is_python_image(image):
        raise NoFix("the base image is not an official python image")


def _site(
    instruction: Instruction,
    package: PackageCommand | None,
    strategy: str,
    read: Reader,
) -> Site:
    """The install as a split site, or NoFix when the final stage could not reuse wheels."""
    line = instruction.line
    if package is None:
        raise NoFix(f"the RUN on line {line} runs setup.py; only pip installs are split")
    if package.manager is not Manager.PIP or package.action != "install":
        raise NoFix(
            f"`{package.manager.value} {package.action}` on line {line}: "
            "only pip installs are split"
        )
    shell = run_shell(instruction)
    assert isinstance(shell, RunShell)
    if not any(item is package.command for item in shell.script.body.items):
        raise NoFix(f"the pip install on line {line} is inside a pipeline, group or condition")
    _check_options(package, line, strategy)
    for word in package.packages:
        if not word.is_literal:
            raise NoFix(f"`{word.text}` on line {line} is not a literal package name")
        if not _REQUIREMENT.fullmatch(word.value):
            raise NoFix(
                f"`{word.text}` on line {line} is a path, URL or file, not a package name: "
                "the final stage would have to build it again"
            )
    for word in package.option_values(
        "-r", "--requirement", "--requirements", "-c", "--constraint"
    ):
        if not word.is_literal:
            raise NoFix(f"the requirement file `{word.text}` on line {line} is a variable")
    _check_requirement_files(package.requirement_files, read)
    return Site(shell, package)


def _check_options(package: PackageCommand, line: int, strategy: str) -> None:
    for option in package.parsed_options:
        names = {option.flag, *option.names}
        unsupported = names & _UNSUPPORTED
        if unsupported:
            raise NoFix(f"pip install {min(unsupported)} on line {line} cannot use built wheels")
        if len(option.names) > 1 and names & _INSTALL_ONLY:
            raise NoFix(f"the option cluster `{option.word.text}` on line {line}")
        if strategy == "venv" and names & _VENV_INCOMPATIBLE:
            raise NoFix(f"pip install {option.flag} on line {line} does not go into a virtualenv")
    program = package.program_words[0].value if package.program_words else ""
    if strategy == "venv" and "/" in program:
        raise NoFix(f"pip is run by path on line {line}, not the virtualenv's")


def _check_requirement_files(files: Sequence[str], read: Reader) -> None:
    """Requirement files must name packages only.

    The files are read as the install sees them: the build-context file the stage's
    COPY put there, through the model's view of the context.  One that cannot be read
    is not checked here (the full-image case then reports, see ``_linked_libraries``).
    """
    for name, line in read_requirement_files(files, read).lines:
        for pattern, what in _REQUIREMENT_PROBLEMS:
            if pattern.search(line):
                text = line.strip()
                excerpt = text if len(text) <= 40 else text[:37] + "..."
                raise NoFix(f"{name} uses {what} (`{excerpt}`): built wheels cannot serve it")


def _check_users(facts: StageFacts, sites: list[Site]) -> None:
    """pip must run as root: the user each install runs as, as the model knows it."""
    for site in sites:
        instruction = site.shell.instruction
        step = facts.at(instruction)
        if step.is_root is not True:
            user = step.user if step.user is not None else "(not known)"
            raise NoFix(f"pip runs as USER {user} on line {instruction.line}")


def _check_other_runs(stage: Stage, moved: set[int]) -> None:
    """No RUN but the installs being split may use the build tools: they leave the image."""
    for instruction in stage.instructions:
        if instruction.cmd != "RUN":
            continue
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            raise NoFix(
                f"the RUN on line {instruction.line} cannot be read "
                "(exec form, heredoc, or unparsed shell)"
            )
        artifacts = artifact_dirs(stage, instruction)
        for command in iter_simple_commands(shell.script):
            if id(command) in moved:
                continue
            why = _needs_build_tools(command, artifacts)
            if why:
                raise NoFix(
                    f"the RUN on line {instruction.line} {why}, which needs the build tools"
                )


def _needs_build_tools(command: SimpleCommand, artifacts: set[str]) -> str:
    package = classify(command)
    if package is not None and package.manager in _SYSTEM_MANAGERS:
        return ""
    if package is not None and is_binary_only(package, artifacts):
        return ""
    name = command_name(command) or ""
    words = command_words(command)
    if name in _BUILD_COMMANDS:
        return f"runs `{name}`"
    if name in _SHELLS or name.endswith(".sh") or (words and words[0].value.startswith("./")):
        text = " ".join(word.value for word in words[1:])
        inline = name in _SHELLS and any(word.value == "-c" for word in words)
        match = _BUILD_WORD.search(text) if inline or name == "eval" else None
        if match:
            return f"runs `{match.group(1)}`"
        if not inline and name != "eval":
            return f"runs a script (`{words[-1].value if words else name}`)"
    return ""


def _check_slimmable(facts: StageFacts, moved: frozenset[int], context: BuildContext) -> None:
    """A full base keeps its compilers unless the final stage can move to ``-slim``."""
    slim, why = slim_image(facts.stage.image)
    if slim is None:
        raise NoFix(f"{why}, and the full base image keeps its compilers")
    uses = [tool.describe() for tool in slim_lacking_tools(facts, moved)]
    uses += script_tool_uses(facts, context)
    if uses:
        raise NoFix(
            f"{uses[0]}, so the final stage cannot use {slim} and the full base "
            "image keeps its compilers"
        )


def _runtime_words(stage: Stage, installs: list[BuildInstall]) -> dict[int, tuple[str, ...]]:
    """For each build package word, the runtime packages to install in its place.

    A runtime package that the same command already installs, or that an earlier word
    of the command already brings, is not named twice.
    """
    release = debian_release(stage.image.tag)
    result: dict[int, tuple[str, ...]] = {}
    for install in installs:
        if install.package.manager not in _APT:
            raise NoFix(f"`{install.package.manager.value}` is not apt")
        named = {package_name(w.value) for w in install.package.packages}
        for word in install.package.packages:
            if not word.is_literal:
                raise NoFix(
                    f"the package list on line {install.shell.instruction.line} uses a variable"
                )
        for word in install.build_words:
            try:
                names = runtime_packages(word.value, release, python_image=True)
            except NoRuntimeKnown as error:
                raise NoFix(str(error)) from None
            fresh = tuple(name for name in names if name not in named)
            named.update(fresh)
            result[id(word)] = fresh
    return result


# -- writing the split --------------------------------------------------------------------


class _Split:
    """Builds the fix: the builder stage above, and the edits to the original stage."""

    def __init__(
        self,
        document: Dockerfile,
        stage: Stage,
        installs: list[BuildInstall],
        sites: list[Site],
        runtime: dict[int, tuple[str, ...]],
        strategy: str,
        linked: tuple[str, ...] = (),
    ) -> None:
        self.document = document
        self.stage = stage
        self.installs = installs
        self.sites = sites
        self.runtime = runtime
        self.strategy = strategy
        #: Runtime libraries of packages built on the full image, for the final stage.
        self.linked = linked
        self.style = document.style
        self.alias = _builder_name(stage)
        self.result = _Edits()
        #: Comment lines that move to the builder, by the instruction they belong to.
        self.moved_comments: dict[int, list[Comment]] = {}

    def keyword(self, name: str) -> str:
        return self.style.keyword(name)

    def line(self, text: str) -> Instruction:
        return self.document.make_instruction(text, self.style.eol)

    def edits(self) -> list[Edit]:
        self.final_stage()
        builder = self.builder_stage()
        if self.strategy == "wheels" and not _has_syntax(self.document):
            # RUN --mount needs the Dockerfile 1.2+ frontend on older BuildKit builders.
            directive = self.document.make_directive("syntax", "docker/dockerfile:1")
            self.result.before(self.document.nodes[0], [directive])
        anchor = _leading_comments(self.document, self.stage.from_instruction)
        first = anchor[0] if anchor else self.stage.from_instruction
        blank = BlankLine("", self.style.eol, 0)
        self.result.before(first, [*builder, blank])
        return self.result.edits()

    # -- the final stage: the original, edited in place ---------------------------------

    def final_stage(self) -> None:
        rewrites = self.final_rewrites()
        first_site = self.sites[0].shell.instruction
        for instruction in self.stage.instructions:
            rewrite = rewrites.get(id(instruction))
            if rewrite is None:
                continue
            new = _apply(self.document, rewrite)
            if new is not None and self.strategy == "wheels" and self.has_site(instruction):
                new = self.document.add_flag(
                    new, f"--mount=type=bind,from={self.alias},source={WHEELS},target={WHEELS}"
                )
            replacement: list[Node] = [new] if new is not None else []
            if self.strategy == "venv" and instruction is first_site:
                replacement[:0] = [
                    self.line(f"{self.keyword('COPY')} --from={self.alias} {VENV} {VENV}"),
                    self.line(f"{self.keyword('ENV')} PATH={VENV}/bin:$PATH"),
                ]
            if self.linked and instruction is first_site:
                replacement[:0] = [self.linked_run()]
            if not replacement:
                self.drop(instruction)
            else:
                self.result.replace(instruction, replacement)

    def linked_run(self) -> Instruction:
        """``apt-get install`` of the libraries that packages built on the full image
        link: the final stage keeps them when it moves to ``-slim``."""
        style = self.style
        joint = f" && {style.escape}{style.eol}{style.indent}"
        commands = [
            "apt-get update",
            f"apt-get install -y --no-install-recommends {' '.join(self.linked)}",
            "rm -rf /var/lib/apt/lists/*",
        ]
        return self.line(f"{self.keyword('RUN')} {joint.join(commands)}")

    def has_site(self, instruction: Instruction) -> bool:
        return any(site.shell.instruction is instruction for site in self.sites)

    def final_rewrites(self) -> dict[int, Rewrite]:
        rewrites: dict[int, Rewrite] = {}

        def rewrite_of(shell: RunShell) -> Rewrite:
            key = id(shell.instruction)
            if key not in rewrites:
                rewrites[key] = Rewrite(shell, [], [])
            return rewrites[key]

        for install in self.installs:
            self.trim_install(rewrite_of(install.shell), install)
        for site in self.sites:
            rewrite = rewrite_of(site.shell)
            if self.strategy == "venv":
                rewrite.removed.append(site.package.command)
            else:
                word = site.package.subcommand_word
                assert word is not None
                text = f"{word.text[-1]} --no-index --find-links={WHEELS}"
                rewrite.spans.append((word.end - 1, word.end, text))
        for rewrite in rewrites.values():
            _drop_apt_housekeeping(rewrite)
        return rewrites

    def trim_install(self, rewrite: Rewrite, install: BuildInstall) -> None:
        """Build packages out of the install; their runtime packages in their place."""
        words = install.package.command.words
        build = {id(word) for word in install.build_words}
        kept = [word for word in install.package.packages if id(word) not in build]
        added = [name for word in install.build_words for name in self.runtime[id(word)]]
        if not kept and not added:
            rewrite.removed.append(install.package.command)
            return
        doomed = set()
        for word in install.build_words:
            names = self.runtime[id(word)]
            if names:
                rewrite.spans.append((word.start, word.end, " ".join(names)))
            else:
                doomed.add(id(word))
        rewrite.spans += _deletion_spans(install.shell, words, doomed)

    def drop(self, instruction: Instruction) -> None:
        """Remove an instruction from the final stage; its comments go to the builder."""
        comments = _leading_comments(self.document, instruction)
        self.result.replace(instruction, ())
        for comment in comments:
            self.result.replace(comment, ())
        self.moved_comments[id(instruction)] = comments
        nodes = self.document.nodes
        start = _index(nodes, comments[0] if comments else instruction)
        end = _index(nodes, instruction)
        before = nodes[start - 1] if start > 0 else None
        after = nodes[end + 1] if end + 1 < len(nodes) else None
        double_blank = isinstance(after, BlankLine) and (
            before is None or isinstance(before, BlankLine)
        )
        if double_blank and after is not None and not self.result.replaced(after):
            self.result.replace(after, ())  # no double blank line where the RUN was

    # -- the builder: the stage's steps up to the last install, building -----------------

    def builder_stage(self) -> list[Node]:
        instructions = self.stage.instructions
        last = max(instructions.index(site.shell.instruction) for site in self.sites)
        first_pip = min(i for i, ins in enumerate(instructions) if _runs_pip(ins))
        nodes: list[Node] = [self.builder_from()]
        for index, instruction in enumerate(instructions[: last + 1]):
            if instruction.cmd in _RUNTIME_ONLY:
                continue
            if self.strategy == "venv" and index == first_pip:
                nodes.append(self.line(f"{self.keyword('RUN')} python -m venv {VENV}"))
                nodes.append(self.line(f"{self.keyword('ENV')} PATH={VENV}/bin:$PATH"))
            for comment in self.moved_comments.get(id(instruction), []):
                nodes.append(Comment(comment.text, comment.eol or self.style.eol, 0))
            nodes.append(self.builder_copy(instruction))
        return nodes

    def builder_from(self) -> Instruction:
        instruction = self.stage.from_instruction
        flags = "".join(f" {piece.text}" for piece in instruction.pieces_of("flag"))
        as_word = "AS" if instruction.keyword.isupper() else "as"
        text = f"{instruction.keyword}{flags} {self.stage.image.text} {as_word} {self.alias}"
        return self.line(text)

    def builder_copy(self, instruction: Instruction) -> Instruction:
        sites = [s for s in self.sites if s.shell.instruction is instruction]
        if not sites:
            return self.copy_of(instruction)
        shell = sites[0].shell
        rewrite = Rewrite(shell, [], _after_last_site(shell, sites))
        if self.strategy == "wheels":
            for site in sites:
                _to_pip_wheel(rewrite, site)
        new = _apply(self.document, rewrite)
        assert new is not None
        return self.copy_of(new)

    def copy_of(self, instruction: Instruction) -> Instruction:
        text = instruction.text
        if not text.endswith("\n"):
            text += self.style.eol
        return self.document.parse_instructions_one(text)


def _builder_name(stage: Stage) -> str:
    taken = (stage.alias or "").lower()
    return "builder" if taken != "builder" else "wheel-builder"


def _has_syntax(document: Dockerfile) -> bool:
    return any(directive.name == "syntax" for directive in document.directives)


def _runs_pip(instruction: Instruction) -> bool:
    shell = run_shell(instruction)
    return isinstance(shell, RunShell) and any(
        package.manager is Manager.PIP for package in shell.packages()
    )


def _index(nodes: Sequence[Node], node: Node) -> int:
    return next(i for i, candidate in enumerate(nodes) if candidate is node)


def _leading_comments(document: Dockerfile, instruction: Instruction) -> list[Comment]:
    """Comment lines directly above an instruction: they describe it."""
    index = _index(document.nodes, instruction)
    comments: list[Comment] = []
    while index > 0 and isinstance(document.nodes[index - 1], Comment):
        index -= 1
        comments.insert(0, document.nodes[index])  # type: ignore[arg-type]
    return comments


def _after_last_site(shell: RunShell, sites: list[Site]) -> list[SimpleCommand]:
    """Commands after the RUN's last pip install: in the builder they would run without
    the packages installed (``pip wheel`` installs nothing), so the builder drops them."""
    items = shell.script.body.items
    last = max(i for i, item in enumerate(items) if any(item is s.package.command for s in sites))
    after = list(items[last + 1 :])
    if any(not isinstance(item, SimpleCommand) for item in after):
        raise NoFix(f"the RUN on line {shell.instruction.line} goes on after pip install")
    return after  # type: ignore[return-value]


def _to_pip_wheel(rewrite: Rewrite, site: Site) -> None:
    """``pip install ARGS`` -> ``pip wheel --wheel-dir /wheels ARGS`` minus install-only
    options (``--upgrade``, ``--user``...), which ``pip wheel`` rejects."""
    package = site.package
    word = package.subcommand_word
    assert word is not None
    rewrite.spans.append((word.start, word.end, f"wheel --wheel-dir {WHEELS}"))
    doomed = {
        id(word)
        for option in package.parsed_options
        if {option.flag, *option.names} & _INSTALL_ONLY
        for word in option.words
    }
    rewrite.spans += _deletion_spans(site.shell, package.command.words, doomed)


def _deletion_spans(
    shell: RunShell, words: Sequence[Word], doomed: set[int]
) -> list[tuple[int, int, str]]:
    """Spans deleting the words whose ``id`` is in ``doomed``, keeping the line layout.

    A run of such words goes with the blank after it when the next word is on the same
    line (``gcc libpq-dev`` -> ``libpq-dev``); otherwise with the blank before it, which
    takes the line break too when the run filled its own lines.
    """
    spans = []
    index = 0
    while index < len(words):
        if id(words[index]) not in doomed:
            index += 1
            continue
        end = index
        while end + 1 < len(words) and id(words[end + 1]) in doomed:
            end += 1
        following = words[end + 1] if end + 1 < len(words) else None
        if following is not None and not _crosses_line(shell, words[index].start, following.start):
            spans.append((words[index].start, following.start, ""))
        else:
            spans.append((words[index - 1].end, words[end].end, ""))
        index = end + 1
    return spans


def _crosses_line(shell: RunShell, start: int, end: int) -> bool:
    """True when the shell text ``[start, end)`` spans a line break of the Dockerfile."""
    instruction = shell.instruction
    begin = instruction.offset_of(shell.base + start)
    finish = instruction.offset_of(shell.base + end - 1) + 1
    return "\n" in instruction.text[begin:finish]


def _drop_apt_housekeeping(rewrite: Rewrite) -> None:
    """When no apt install is left in the RUN, its update and list clean-up go too."""
    removed = {id(command) for command in rewrite.removed}
    packages = [p for p in rewrite.shell.packages() if p.manager in _APT]
    if not any(id(p.command) in removed for p in packages if p.action == "install"):
        return
    if any(id(p.command) not in removed for p in packages if p.action == "install"):
        return
    for command in iter_simple_commands(rewrite.shell.script):
        package = classify(command)
        housekeeping = (
            package is not None and package.manager in _APT and package.action in _HOUSEKEEPING
        )
        if (housekeeping or removes_lists(command)) and id(command) not in removed:
            rewrite.removed.append(command)


def _apply(document: Dockerfile, rewrite: Rewrite) -> Instruction | None:
    """The RUN with the rewrite made; None when every command was removed."""
    shell = rewrite.shell
    instruction = shell.instruction
    spans = list(rewrite.spans)
    if rewrite.removed:
        chain = and_chain(shell.script)
        removed = {id(command) for command in rewrite.removed}
        if chain is None or not removed <= {id(item) for item in chain}:
            raise NoFix(f"the RUN on line {instruction.line} is not a plain && chain")
        keep = [id(item) not in removed for item in chain]
        if not any(keep):
            return None
        spans = [s for s in spans if not any(_inside(s, c) for c in rewrite.removed)]
        spans += _removal_spans(chain, keep)
    _check_comments_kept(instruction, shell.base, spans)
    logical = [(shell.base + start, shell.base + end, text) for start, end, text in spans]
    return document.edit_logical(instruction, logical)


def _inside(span: tuple[int, int, str], command: SimpleCommand) -> bool:
    return command.start <= span[0] and span[1] <= command.end


def _removal_spans(chain: Sequence[object], keep: list[bool]) -> list[tuple[int, int, str]]:
    """Spans deleting each run of removed items with the ``&&`` that joined it."""
    spans = []
    index = 0
    while index < len(chain):
        if keep[index]:
            index += 1
            continue
        end = index
        while end + 1 < len(chain) and not keep[end + 1]:
            end += 1
        if end + 1 < len(chain):
            spans.append((chain[index].start, chain[end + 1].start, ""))  # type: ignore[attr-defined]
        else:
            spans.append((chain[index - 1].end, chain[end].end, ""))  # type: ignore[attr-defined]
        index = end + 1
    return spans


def _check_comments_kept(
    instruction: Instruction, base: int, spans: Sequence[tuple[int, int, str]]
) -> None:
    """A deleted span must not swallow a comment line inside the RUN's continuation."""
    for start, end, _ in spans:
        if start >= end:
            continue
        begin = instruction.offset_of(base + start)
        finish = instruction.offset_of(base + end - 1) + 1
        lines = instruction.text[begin:finish].split("\n")[1:]
        if any(line.lstrip().startswith("#") for line in lines):
            raise NoFix(f"the RUN on line {instruction.line} has comment lines in the way")


RULE = Rule(
    code="DF202",
    name="build-tools-in-final-image",
    summary="Build Python packages in a builder stage; ship only the wheels or the virtualenv",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
