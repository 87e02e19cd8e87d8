"""Whether DF202 can write the split: every reason not to is a ``FixRefused``."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import Protocol

from dockfix.images.python import (
    artifact_dirs,
    is_binary_only,
    is_system_package_command,
)
from dockfix.images.python_packages import variable_version_name
from dockfix.images.python_requirements import (
    Reader,
    read_requirement_files,
)
from dockfix.images.runtime_libs import package_name
from dockfix.lazy_dataclass import dataclass
from dockfix.rules._shell import CommandKey, RunShell, command_key, run_shell
from dockfix.rules.build_tools_in_final_image.project import (
    PROJECT_WHEELS,
    check_extras,
    check_project_site,
    editable_words,
    is_local_wheel,
    is_setup_develop,
    project_words,
    setup_install,
)
from dockfix.rules.build_tools_in_final_image.unknown_base import is_conda_installer
from dockfix.rules.build_tools_in_final_image.wrappers import top_item, wrapper_reason
from dockfix.rules.refusal import FixRefused
from dockfix.shell import (
    Manager,
    Node,
    PackageCommand,
    Pipeline,
    SimpleCommand,
    Word,
    classify,
    command_name,
    command_words,
    iter_nodes,
    iter_simple_commands,
)
from dockfix.syntax import Instruction, Stage

APT = frozenset({Manager.APT_GET, Manager.APT})
SYSTEM_MANAGERS = APT | {Manager.APK, Manager.DNF, Manager.YUM, Manager.MICRODNF}
#: ``pip install`` options that ``pip wheel`` does not take and that change only where or
#: whether packages are installed: the builder drops them, the final install keeps them.
INSTALL_ONLY = frozenset(
    {
        "-U",
        "--upgrade",
        "--upgrade-strategy",
        "--force-reinstall",
        "--force",  # optparse's abbreviation of --force-reinstall, which pip install takes
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
        "--no-binary",
        "--require-hashes",
        "--dry-run",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
    }
)
_VENV_EDITABLE = (
    "the editable install on line {line} would point the copied virtualenv at the "
    "builder's source folder"
)
_VENV_INCOMPATIBLE = frozenset({"--user", "-t", "--target", "--prefix", "--root"})
_VERSION = r"(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
#: A PEP 508 requirement by name (extras, versions, markers), not a path or URL.
_REQUIREMENT = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9._,\s-]*\])?"
    rf"(?:\s*{_VERSION}(?:\s*,\s*{_VERSION})*)?(?:\s*;[^@]*)?"
)
#: Commands that compile or fetch sources, so they need the build tools.
BUILD_COMMANDS = frozenset(
    {
        *("gcc", "cc", "g++", "c++", "clang", "clang++", "gfortran", "ld", "swig"),
        *("make", "cmake", "ninja", "meson", "configure", "autoreconf", "autoconf"),
        *("automake", "libtool", "pkg-config", "cargo", "rustc", "go", "git"),
        *("cython", "cythonize", "f2py", "node-gyp", "npm", "yarn", "pnpm", "gem", "bundle"),
        *("R", "Rscript"),  # install.packages() builds CRAN's sources
    }
)
#: Tools of the full image that are the compilers themselves: never installed again.
COMPILERS = frozenset({"gcc", "cc", "g++", "c++", "make", "autoconf", "automake", "libtool"})
_BUILD_WORD = re.compile(
    r"(?<![\w.+-])("
    + "|".join(re.escape(name) for name in sorted(BUILD_COMMANDS, key=len, reverse=True))
    + r")(?![\w.+-])"
)
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "eval"})
_REQUIREMENT_PROBLEMS = (
    (re.compile(r"^\s*(-e|--editable)\b"), "an editable install"),
    (re.compile(r"^\s*(\.|/|file:)"), "a local path"),
    (re.compile(r"://|\s@\s"), "a URL"),
    (re.compile(r"--hash[=\s]|--require-hashes"), "hash-checking mode"),
    (re.compile(r"--no-binary"), "--no-binary"),
)


@dataclass(frozen=True)
class BuildInstall:
    """An ``apt-get install`` (or apk/dnf) of the stage that installs build packages."""

    shell: RunShell
    package: PackageCommand
    build_words: tuple[Word, ...]


@dataclass(frozen=True)
class Purge:
    """A removal (``apt-get purge``, ``apk del``) of build packages the stage installed."""

    shell: RunShell
    package: PackageCommand
    words: tuple[Word, ...]


class LockedInstall(Protocol):
    """An install of what a lock file pins (``pipenv install --system``, see
    ``pipenv.py``; ``poetry install`` without a virtualenv, see ``poetry.py``): the
    builder runs it as it is, then builds a wheel of every pin it installed."""

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def caveats(self) -> tuple[str, ...]: ...

    def builder_text(self) -> str:
        """What the builder runs right after the install."""
        ...

    def final_text(self) -> str:
        """What the final stage runs in place of the install."""
        ...


@dataclass(frozen=True)
class Site:
    """A ``pip install`` that may compile: the builder builds for it."""

    shell: RunShell
    #: The pip install; None for a ``python setup.py install`` (``setup``).
    package: PackageCommand | None
    #: Local projects it builds (``.``): see ``project``.
    projects: tuple[Word, ...] = ()
    setup: SimpleCommand | None = None
    #: Where the builder puts the wheels of ``projects`` or ``setup`` (one per site).
    project_dir: str = PROJECT_WHEELS
    #: Editable installs among ``projects`` (``-e .``), or ``setup`` is ``develop``.
    editables: tuple[Word, ...] = ()
    develop: bool = False
    #: Commands of the RUN that only prepared the install (``setup.py build``): the
    #: builder runs them, the final stage drops them.
    dropped: tuple[SimpleCommand, ...] = ()
    #: A lock file's install (``package`` is pipenv's or Poetry's): see ``pipenv.py``
    #: and ``poetry.py``.
    locked: LockedInstall | None = None
    #: A check the builder runs right after the install (``&&``): a fact the split
    #: relies on that only the build can show stops the build there when it fails.
    builder_check: str = ""

    @property
    def command(self) -> SimpleCommand:
        if self.package is not None:
            return self.package.command
        assert self.setup is not None
        return self.setup

    @property
    def item(self) -> Node:
        """The RUN's top-level item that runs the install: the command, or a wrapper
        that runs it as if it stood alone (``yes | pip install``, see ``wrappers``)."""
        return top_item(self.shell.script, self.command) or self.command


def split_site(
    instruction: Instruction,
    package: PackageCommand | None,
    strategy: str,
    read: Reader,
) -> Site:
    """The install as a split site, or FixRefused when the final stage could not reuse wheels."""
    line = instruction.line
    shell = run_shell(instruction)
    assert isinstance(shell, RunShell)
    if package is None:
        setup, prebuild = setup_install(shell)
        develop = is_setup_develop(setup)
        if develop and strategy == "venv":
            raise FixRefused(_VENV_EDITABLE.format(line=line))
        dropped = (prebuild,) if prebuild is not None else ()
        return Site(shell, None, setup=setup, develop=develop, dropped=dropped)
    if package.manager is not Manager.PIP or package.action != "install":
        raise FixRefused(
            f"`{package.manager.value} {package.action}` on line {line}: "
            "only pip installs are split"
        )
    if top_item(shell.script, package.command) is None:
        raise FixRefused(wrapper_reason(shell.script, package.command, line))
    _check_options(package, line, strategy)
    editables = editable_words(package, line)
    if editables and strategy == "venv":
        raise FixRefused(_VENV_EDITABLE.format(line=line))
    projects = project_words(package, line) + editables
    check_extras(projects, line)
    if projects:
        check_project_site(shell, package, strategy)
    for word in package.packages:
        if any(word is project for project in projects):
            continue
        if not word.is_literal and variable_version_name(word.text) is None:
            raise FixRefused(
                f"`{word.text}` on line {line} is not a literal package name (only a "
                "version may be a variable: the builder's pip wheel sees the same value)"
            )
        if not word.is_literal or is_local_wheel(word.value):
            continue
        if not _REQUIREMENT.fullmatch(word.value):
            raise FixRefused(
                f"`{word.text}` on line {line} is a path, URL or file, not a package name: "
                "the final stage would have to build it again"
            )
    for word in package.option_values(
        "-r", "--requirement", "--requirements", "-c", "--constraint"
    ):
        if not word.is_literal:
            raise FixRefused(f"the requirement file `{word.text}` on line {line} is a variable")
    _check_requirement_files(package.requirement_files, read)
    return Site(shell, package, projects, editables=editables)


def _check_options(package: PackageCommand, line: int, strategy: str) -> None:
    for option in package.parsed_options:
        names = {option.flag, *option.names}
        unsupported = names & _UNSUPPORTED
        if unsupported:
            raise FixRefused(
                f"pip install {min(unsupported)} on line {line} cannot use built wheels"
            )
        if len(option.names) > 1 and names & INSTALL_ONLY:
            raise FixRefused(f"the option cluster `{option.word.text}` on line {line}")
        if strategy == "venv" and names & _VENV_INCOMPATIBLE:
            raise FixRefused(
                f"pip install {option.flag} on line {line} does not go into a virtualenv"
            )
    program = package.program_words[0].value if package.program_words else ""
    if strategy == "venv" and "/" in program:
        raise FixRefused(f"pip is run by path on line {line}, not the virtualenv's")


def _check_requirement_files(files: Sequence[str], read: Reader) -> None:
    """Requirement files must name packages only.

    The files are read as the install sees them: the build-context file the stage's
    COPY put there, through the model's view of the context.  One that cannot be read
    is not checked here (the full-image case then reports, see ``linked_libraries``).
    """
    for name, line in read_requirement_files(files, read).lines:
        for pattern, what in _REQUIREMENT_PROBLEMS:
            if pattern.search(line):
                text = line.strip()
                excerpt = text if len(text) <= 40 else text[:37] + "..."
                raise FixRefused(f"{name} uses {what} (`{excerpt}`): built wheels cannot serve it")


_GIT = re.compile(r"(?<![\w./+-])git(?![\w.+-])")


def keep_git(
    stage: Stage, installs: list[BuildInstall], moved: set[CommandKey], required: bool = False
) -> tuple[list[BuildInstall], bool]:
    """``git`` is a build package (it fetches sources) but no compiler: when another
    command of the stage (a RUN, CMD, ENTRYPOINT or HEALTHCHECK) uses it, or a package
    the stage installs runs it (``required``: GitPython, see ``programs``), the final
    stage keeps it installed instead of refusing the split.  A package manager's command
    (``apt-get purge git``) names the package, it does not use git."""
    used = required
    for instruction in stage.instructions:
        if instruction.cmd in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            used = used or bool(_GIT.search(instruction.text))
        shell = run_shell(instruction) if instruction.cmd == "RUN" else None
        if isinstance(shell, RunShell):
            for command in iter_simple_commands(shell.script):
                moved_here = command_key(instruction, command) in moved
                if not moved_here and not is_system_package_command(command):
                    text = " ".join(word.value for word in command_words(command))
                    used = used or bool(_GIT.search(text))
    if not used:
        return installs, False
    kept = []
    for install in installs:
        words = tuple(w for w in install.build_words if package_name(w.value) != "git")
        if words:
            kept.append(BuildInstall(install.shell, install.package, words))
    return kept, True


@dataclass(frozen=True)
class Replay:
    """A RUN whose only use of the build tools is a Node package manager's (``npm
    install`` compiles a native addon with ``node-gyp``): the builder runs it with the
    build tools, and the final stage unpacks the files it wrote there (see
    ``split.Split.replay_capture``) instead of running it."""

    instruction: Instruction
    #: Why the RUN needs the build tools: the refusal where it cannot be replayed.
    refusal: str


def check_other_runs(
    stage: Stage,
    moved: set[CommandKey],
    git_kept: bool = False,
    first: BuildInstall | None = None,
    replay_before: Instruction | None = None,
) -> list[Replay]:
    """No RUN but the installs being split may use the build tools: they leave the image
    (``git`` stays when ``git_kept``).  Commands that run before ``first``, the first
    install of build packages (None: the base image has them), cannot use them: the
    final stage runs them as the original did, before that install.

    Given ``replay_before`` (the last install), a RUN that uses them only through npm,
    yarn or pnpm, and runs nothing but those and a few shell builtins
    (``_REPLAYABLE``), is returned to be replayed; any other refuses."""
    replays: list[Replay] = []
    for instruction in stage.instructions:
        if instruction.cmd != "RUN":
            continue
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            if _plain_exec(instruction):
                continue
            raise FixRefused(_unread_run(instruction, shell))
        artifacts = artifact_dirs(stage, instruction)
        known = _known_setup_scripts(shell)
        needs: list[tuple[SimpleCommand, str]] = []
        for command in iter_simple_commands(shell.script):
            if command_key(instruction, command) in moved or _before(stage, shell, command, first):
                continue
            if id(command) in known:
                continue
            why = _needs_build_tools(command, artifacts)
            if why and not (git_kept and why == "runs `git`"):
                needs.append((command, why))
        if not needs:
            continue
        refusal = f"the RUN on line {instruction.line} {needs[0][1]}, which needs the build tools"
        node_only = all(command_name(command) in _NODE_MANAGERS for command, _ in needs)
        if node_only and _replayable(shell, moved, replay_before):
            replays.append(Replay(instruction, refusal))
            continue
        if node_only and replay_before is not None:
            refusal += (
                " (a Node install is replayed from the builder only in a RUN that runs "
                "nothing but npm, yarn, pnpm, npx, bower, cd, mkdir, set, export, echo, "
                "printf, with no redirection or command substitution)"
            )
        raise FixRefused(refusal)
    return replays


#: Scripts piped into a shell that are known to add a package repository and nothing
#: else: NodeSource's setup scripts (github.com/nodesource/distributions: "Script to
#: install the NodeSource Node.js repo onto a Debian or Ubuntu system"; they install
#: their own prerequisites, add the key and the source, and update the lists).  They
#: compile nothing, so they run in the final stage as in the original.
_REPOSITORY_SETUP = re.compile(r"^https?://(?:deb|rpm)\.nodesource\.com/setup(?:_[\w.]+)?$")


def _known_setup_scripts(shell: RunShell) -> set[int]:
    """The shells (their commands' ids) that ``curl``/``wget`` pipe a
    ``_REPOSITORY_SETUP`` script into."""
    known: set[int] = set()
    for node in iter_nodes(shell.script):
        if not isinstance(node, Pipeline):
            continue
        for left, right in zip(node.commands[:-1], node.commands[1:], strict=True):
            if not isinstance(left, SimpleCommand) or not isinstance(right, SimpleCommand):
                continue
            if command_name(left) not in ("curl", "wget") or command_name(right) not in _SHELLS:
                continue
            if any(_REPOSITORY_SETUP.match(word.value) for word in command_words(left)[1:]):
                known.add(id(right))
    return known


#: What a replayed RUN may run: the Node package managers and shell builtins that
#: change no file the replay would miss (a deletion is not replayed: no ``rm``).
_REPLAYABLE = frozenset({"npm", "yarn", "pnpm", "npx", "bower", "cd", "mkdir", "set"})
_REPLAYABLE_BUILTINS = frozenset({"export", "echo", "true", ":", "printf"})


def _replayable(shell: RunShell, moved: set[CommandKey], replay_before: Instruction | None) -> bool:
    """Replays are asked for (``replay_before``: the last install), and the RUN moves
    nothing (no install being split is in it) and runs only ``_REPLAYABLE`` commands.
    One after the last install makes the builder go on to it (see ``split``)."""
    if replay_before is None or shell.instruction.heredocs:
        return False
    text = shell.script.text
    if "$(" in text or "`" in text:
        return False  # a command substitution runs a command not read here
    for command in iter_simple_commands(shell.script):
        name = command_name(command) or ""
        if command_key(shell.instruction, command) in moved:
            return False
        if name not in _REPLAYABLE | _REPLAYABLE_BUILTINS:
            return False
        if command.redirects:
            return False
    return bool(shell.script.body.items)


#: Programs an exec-form RUN (``RUN ["chmod", "+x", "/app/run.sh"]``) may run without
#: being read further: they manage files and users, and neither compile, install nor
#: run Python (each a subset of ``_PACKAGE_FREE``'s).
_EXEC_PLAIN = frozenset(
    {
        *("chmod", "chown", "mkdir", "ln", "cp", "mv", "rm", "rmdir", "touch", "ls"),
        *("echo", "printf", "true", "useradd", "groupadd", "adduser", "addgroup"),
        *("usermod", "ldconfig", "sleep"),
    }
)


def _plain_exec(instruction: Instruction) -> bool:
    """An exec-form RUN (no shell: its words are the program and its arguments, exactly)
    whose program is one of ``_EXEC_PLAIN``: it cannot use the build tools, and runs
    the same in the final stage."""
    if not instruction.is_json or instruction.heredocs or not instruction.value:
        return False
    return posixpath.basename(instruction.value[0]) in _EXEC_PLAIN


def _unread_run(instruction: Instruction, parse_error: str | None) -> str:
    """Why a RUN's commands are not known, by its form."""
    line = instruction.line
    if instruction.is_json and instruction.value:
        program = posixpath.basename(instruction.value[0])
        return (
            f"the exec-form RUN on line {line} runs `{program}`, which may use the build "
            "tools (exec form is read only for file and user commands: `chmod`, `mkdir`...)"
        )
    if instruction.heredocs:
        return f"the RUN on line {line} runs a heredoc, whose script is not read"
    if parse_error:
        return f"the RUN on line {line} cannot be read as shell ({parse_error})"
    return f"the RUN on line {line} cannot be read (exec form, heredoc, or unparsed shell)"


def _before(
    stage: Stage, shell: RunShell, command: SimpleCommand, first: BuildInstall | None
) -> bool:
    """True when ``command`` runs before the first install of build packages: in an
    earlier RUN, or in its RUN as a top-level command ahead of it (not in a loop)."""
    if first is None:
        return False
    instructions = stage.instructions
    here, there = instructions.index(shell.instruction), instructions.index(first.shell.instruction)
    if here != there:
        return here < there
    top = any(item is command for item in shell.script.body.items)
    return top and command.end <= first.package.command.start


def _needs_build_tools(command: SimpleCommand, artifacts: set[str]) -> str:
    """Why ``command`` may use the build tools ("runs `make`", "runs a script (`x.sh`)"),
    or "" when it does not.  A script's contents are not known: it may compile."""
    package = classify(command)
    if package is not None and package.manager in SYSTEM_MANAGERS:
        return ""
    if package is not None and is_binary_only(package, artifacts):
        return ""
    name = command_name(command) or ""
    words = command_words(command)
    if is_conda_installer([word.value for word in words]):
        return ""
    if name in _NODE_MANAGERS and _node_action(words) in _NODE_NO_BUILD:
        return ""
    if name in BUILD_COMMANDS:
        return f"runs `{name}`"
    if name in _SHELLS:
        return _shell_needs(name, [word.value for word in words[1:]])
    if name == "su":  # ``su - -c 'make'``: the command text it runs
        return _su_needs([word.value for word in words[1:]])
    program = words[0].value if words else name
    if name.endswith(".py") and "/" in program:
        return _python_program_needs(program, [word.value for word in words[1:]])
    if name.endswith(".sh") or program.startswith("./"):
        return f"runs a script (`{program}`)"
    return ""


_NODE_MANAGERS = frozenset({"npm", "yarn", "pnpm"})
#: npm/yarn actions that install nothing, so build no native addon (``node-gyp``).
_NODE_NO_BUILD = frozenset(
    {"cache", "config", "set", "get", "view", "info", "ls", "list", "whoami", "version"}
)


def _node_action(words: Sequence[Word]) -> str:
    """The first operand of an npm/yarn command (``npm cache clean`` -> ``cache``)."""
    operands = [word.value for word in words[1:] if not word.value.startswith("-")]
    return operands[0] if operands else ""


def _su_needs(args: list[str]) -> str:
    """The build commands named in ``su``'s ``-c``/``--command`` text."""
    texts = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-c", "--command")]
    texts += [arg.split("=", 1)[1] for arg in args if arg.startswith("--command=")]
    match = _BUILD_WORD.search(" ".join(texts))
    return f"runs `{match.group(1)}`" if match else ""


def _shell_needs(name: str, args: list[str]) -> str:
    """``sh -c '...'`` and ``eval``: the build commands named in the text.  ``bash
    script.sh ARGS``: the script (the first operand, after the shell's options).  ``curl
    ... | bash``, ``bash -s --``, ``bash -``: a script read from standard input."""
    options: list[str] = []
    operand = None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            operand = args[index + 1] if index + 1 < len(args) else None
            break
        if arg in ("-o", "+o"):
            index += 2
            continue
        if arg.startswith(("-", "+")) and arg != "-":
            options.append(arg)
            index += 1
            continue
        operand = arg
        break
    inline = name == "eval" or any(
        not option.startswith("--") and "c" in option[1:] for option in options
    )
    if inline:
        match = _BUILD_WORD.search(" ".join(args))
        return f"runs `{match.group(1)}`" if match else ""
    if (
        operand is None
        or operand == "-"
        or any(not option.startswith("--") and "s" in option[1:] for option in options)
    ):
        return f"runs a script piped into `{name}`"
    return f"runs a script (`{operand}`)"


#: Arguments of a Python program run by path that build (``./setup.py install``).
_PYTHON_BUILD_ACTIONS = frozenset(
    {"build", "build_ext", "install", "develop", "bdist_wheel", "bdist_egg", "sdist"}
)


def _python_program_needs(program: str, args: list[str]) -> str:
    """A Python program run by its path (``./manage.py collectstatic``) is read as
    ``python manage.py collectstatic`` is: the application's own code, which the final
    image also runs without compilers (the unsafe reason says what then breaks).  One
    whose arguments build (``./setup.py install``, ``build``, a build tool's name) needs
    the build tools."""
    words = " ".join(args)
    match = _BUILD_WORD.search(words)
    if match is not None:
        return f"runs `{program}` with `{match.group(1)}`"
    if _PYTHON_BUILD_ACTIONS.intersection(args):
        action = next(arg for arg in args if arg in _PYTHON_BUILD_ACTIONS)
        return f"runs `{program} {action}`"
    return ""


#: Commands known not to use Python packages: the builder may run them between its
#: ``pip wheel`` steps, which install nothing.
_PACKAGE_FREE = frozenset(
    {
        *("cd", "mkdir", "cp", "mv", "rm", "ln", "chmod", "chown", "touch", "echo"),
        *("printf", "export", "true", "test", "[", "sed", "tar", "unzip", "gzip"),
        *("curl", "wget", "useradd", "groupadd", "adduser", "addgroup", "ls", "cat"),
        *("apt-get", "apt", "apk", "dpkg", "ldconfig", "locale-gen", "update-ca-certificates"),
        *("git", "set", "umask", "find", "xargs", "rmdir", "install", "tee"),
        *("chpasswd", "usermod", "passwd", "a2enmod", "add-apt-repository", "ssh-keygen"),
        *("localedef", "update-locale", "update-alternatives", "ssh-keyscan", "gpg"),
        *("ulimit", "source", ".", "env", "which", "sleep", "date", "id", "whoami"),
    }
)


def check_between_sites(stage: Stage, sites: Sequence[Site], strategy: str) -> set[CommandKey]:
    """With wheels, the builder builds and installs nothing: a command between its first
    and last pip build (in a RUN between them, or in theirs) that may use the packages
    installed before it would fail there, or do something else.  Commands known not to
    use them may run between (or a package manager, pip included).  So may a Python
    program that builds nothing (``python -m spacy download``, ``python manage.py
    collectstatic``): the final stage installs the wheels at the original places, so it
    sees the packages the original had; the builder installs its wheels of every
    install before it the same way (the ids of those installs' commands are returned).
    Anything else is refused."""
    if strategy != "wheels":
        return set()
    instructions = stage.instructions

    def position(site: Site) -> tuple[int, int]:
        return instructions.index(site.shell.instruction), site.command.start

    first, last = min(map(position, sites)), max(map(position, sites))
    skipped = {
        command_key(site.shell.instruction, command)
        for site in sites
        for command in (site.command, *site.dropped)
    }
    last_user: tuple[int, int] | None = None
    for index in range(first[0], last[0] + 1):
        instruction = instructions[index]
        shell = run_shell(instruction) if instruction.cmd == "RUN" else None
        if not isinstance(shell, RunShell):
            continue
        for command in iter_simple_commands(shell.script):
            here = (index, command.start)
            if not first < here < last or command_key(instruction, command) in skipped:
                continue
            name = command_name(command)
            package = classify(command)
            if name is None or name in _PACKAGE_FREE or package is not None:
                continue
            if name.startswith("python") and "get-pip.py" in _argument_names(command):
                continue  # pip's installer uses no package
            if _PYTHON.fullmatch(name):
                _check_python_builds_nothing(instruction, command)
                last_user = here
                continue
            raise FixRefused(
                f"the RUN on line {instruction.line} runs `{name}` between pip installs: it "
                "may use the packages installed before it, which the builder only builds"
            )
    if last_user is None:
        return set()
    return {
        command_key(site.shell.instruction, site.command)
        for site in sites
        if position(site) < last_user
    }


_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
#: Modules whose run builds, installs or makes an environment (``python -m build``).
_BUILD_MODULES = frozenset(
    {"build", "cython", "Cython", "numpy.f2py", "setuptools", "venv", "virtualenv", "ensurepip"}
)


def _check_python_builds_nothing(instruction: Instruction, command: SimpleCommand) -> None:
    """A Python program between installs runs in the final stage without the build
    tools: one that builds (``setup.py``, ``install``/``build`` arguments, a build
    tool's name, ``-m build``) may need them."""
    args = [word.value for word in command_words(command)[1:]]
    module = next((args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-m"), None)
    match = _BUILD_WORD.search(" ".join(args))
    action = next((arg for arg in args if arg in _PYTHON_BUILD_ACTIONS), None)
    setup = next((arg for arg in args if arg.rsplit("/", 1)[-1] == "setup.py"), None)
    why = (
        f"`-m {module}`"
        if module in _BUILD_MODULES
        else f"`{setup}`"
        if setup
        else f"`{action}`"
        if action
        else f"`{match.group(1)}`"
        if match
        else ""
    )
    if why:
        raise FixRefused(
            f"the RUN on line {instruction.line} runs `{command_name(command)}` with {why} "
            "between pip installs: it may build packages, which the final stage would do "
            "without the build tools"
        )


def _argument_names(command: SimpleCommand) -> set[str]:
    """The base names of a command's arguments (``/tmp/get-pip.py`` -> ``get-pip.py``)."""
    return {word.value.rsplit("/", 1)[-1] for word in command_words(command)[1:]}
