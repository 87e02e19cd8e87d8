"""The final image as DF201 sees it: its stages, folders, users and commands."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import replace

from dockfix.cached import cached_property
from dockfix.images import ImageTraits
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, StageFacts, Step
from dockfix.model.copied import SEARCH_PATH, Origin, inside, origin_of
from dockfix.model.expand import expand
from dockfix.rules._shell import RunShell, parse_text, run_shell
from dockfix.rules.base import RuleContext
from dockfix.rules.runs_as_root.family import derived_traits
from dockfix.rules.runs_as_root.policy import (
    CHOWN_VALUE_OPTIONS,
    DATA_WORD,
    GROUP_VALUE_OPTIONS,
    ID_OPTIONS,
    INIT_WRAPPERS,
    INSTALL_TREES,
    MINUS_MODE,
    RUNTIME_TREES,
    SHELLS,
    SYSTEM_FOLDERS,
    SYSTEM_TREES,
    USER_VALUE_OPTIONS,
    USERADD_PACKAGES,
    WORLD_WRITABLE,
)
from dockfix.shell import (
    ShellScript,
    SimpleCommand,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction, Stage


@dataclass(frozen=True)
class CreatedUser:
    """A user that a RUN of the image's stages creates (name None: not readable)."""

    name: str | None
    group: str | None
    uid: str | None = None
    #: The home folder the command makes (owned by the user), if it makes one.
    home: str | None = None
    #: The RUN that creates the user.
    instruction: Instruction | None = None


@dataclass(frozen=True)
class Image:
    """The final image as this Dockerfile builds it: the final stage and its ancestors,
    as the stage model sees them."""

    document: Dockerfile
    facts: StageFacts
    traits: ImageTraits | None
    #: ENV and ARG values in effect at the end of the final stage (None: unknown).
    variables: Mapping[str, str | None]
    context: BuildContext
    #: Name and uid for a new user (``Settings.user_name``/``user_uid``).
    user_name: str = "app"
    user_uid: int = 10001
    #: How ``traits`` were found for an image the table does not know ("" if it does).
    derived: str = ""

    # ``stages`` and ``instructions`` are read thousands of times by the blockers' checks;
    # an ``Image`` and the model it reads never change, so each is computed once.
    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        """The final stage and the earlier stages it is built ``FROM``, oldest first."""
        return tuple(facts.stage for facts in reversed(self.facts.lineage))

    def step(self, instruction: Instruction) -> Step:
        """The model's state before ``instruction`` (user, ENV/ARG, WORKDIR)."""
        for facts in self.facts.lineage:
            if facts.contains(instruction):
                return facts.at(instruction)
        return self.facts.end

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    @cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(i for stage in self.stages for i in stage.instructions)

    @cached_property
    def run_commands(self) -> tuple[tuple[Instruction, SimpleCommand], ...]:
        """``run_commands``' answer: the checks walk the commands a dozen times."""
        return _run_commands(self)

    @cached_property
    def runtime_scripts(self) -> tuple[ShellScript, ...]:
        """``runtime_scripts``' answer (three checks ask for it)."""
        return _runtime_scripts(self)

    @property
    def has_shell(self) -> bool:
        return self.traits is None or self.traits.shell


@dataclass(frozen=True)
class Folders:
    """The working directory at each instruction, and the application folder."""

    at: dict[int, str | None]
    #: The last absolute WORKDIR (None when there is a ``problem``).
    app: str | None
    #: The WORKDIR instruction that names the application folder.
    app_workdir: Instruction | None
    problem: str
    #: No WORKDIR (or ``WORKDIR /``): the process runs in ``/``, which root owns.
    runs_in_root: bool = False


def image_of(context: RuleContext) -> Image:
    """The final stage as the model sees it, with the tools its lineage installs."""
    facts = context.model.stages[-1]
    traits, derived = facts.traits, ""
    if traits is None:
        traits, derived = derived_traits(facts, context.settings.image_aliases)
    if traits is not None and not traits.useradd and facts.installed & USERADD_PACKAGES:
        traits = replace(traits, useradd=True)  # e.g. ubi-minimal + shadow-utils
    settings = context.settings
    return Image(
        context.document,
        facts,
        traits,
        facts.end.variables,
        context.model.context,
        settings.user_name,
        settings.user_uid,
        derived,
    )


def user_of(spec: str) -> str:
    return spec.split(":", 1)[0]


def positionals(words: list[str], value_options: frozenset[str]) -> list[str]:
    """Operands of a command, skipping options and the values they take."""
    found: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            found.extend(words[index:])
            break
        if not word.startswith("-") or word == "-":
            found.append(word)
        elif word.startswith("--"):
            if "=" not in word and word in value_options:
                index += 1
        else:
            # A short option cluster: a value option takes the rest of the word, or
            # the next word when it comes last.
            for position, letter in enumerate(word[1:], start=1):
                if f"-{letter}" in value_options:
                    index += 1 if position == len(word) - 1 else 0
                    break
    return found


def is_recursive(options: list[str]) -> bool:
    """``-R`` (alone or in a cluster) or ``--recursive`` among chown/chgrp/chmod words."""
    return any(
        word == "--recursive"
        or (word.startswith("-") and not word.startswith("--") and "R" in word)
        for word in options
    )


def chmod_arguments(words: list[str]) -> tuple[str | None, list[str]]:
    """The mode and the paths of a ``chmod`` (its words after the name); the mode None
    when it comes from another file (``--reference``).  ``chmod -x file``: a mode that
    looks like an option is the mode."""
    modes = [word for word in words if MINUS_MODE.fullmatch(word)]
    operands = positionals(
        [word for word in words if not MINUS_MODE.fullmatch(word)], CHOWN_VALUE_OPTIONS
    )
    if any(word.startswith("--reference") for word in words):
        return None, operands
    if modes:
        return modes[0], operands
    return (operands[0], operands[1:]) if operands else (None, [])


def _option_value(words: list[str], *names: str) -> str | None:
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def run_commands(image: Image) -> tuple[tuple[Instruction, SimpleCommand], ...]:
    """Every simple command of every readable shell-form RUN of the image."""
    return image.run_commands


def _run_commands(image: Image) -> tuple[tuple[Instruction, SimpleCommand], ...]:
    found = []
    for instruction in image.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for command in iter_simple_commands(shell.script):
                found.append((instruction, command))
    return tuple(found)


def expanded_words(command: SimpleCommand, variables: Mapping[str, str | None]) -> list[str] | None:
    """The command's words (wrappers skipped), variables expanded; None if one is unset."""
    values = []
    for word in command_words(command):
        value = expand(word.value, variables) if "$" in word.value else word.value
        if value is None:
            return None
        values.append(value)
    return values


def created_user(name: str, words: list[str]) -> CreatedUser | None:
    """The user a ``useradd``/``adduser`` command creates: name, group, uid, home."""
    operands = positionals(words[1:], USER_VALUE_OPTIONS)
    options = {word for word in words[1:] if word.startswith("-")}
    if not operands:
        return None
    if name == "adduser" and len(operands) == 2 and not options:
        return None  # `adduser user group` adds an existing user to a group
    user = operands[0]
    uid = _option_value(words, "-u", "--uid")
    uid = uid if uid is not None and uid.isdigit() else None
    explicit_home = _option_value(words, "-d", "--home-dir", "--home", "-h")
    home = explicit_home or f"/home/{user}"
    if name == "useradd":
        group = _option_value(words, "-g", "--gid")
        if group is None and not options & {"-N", "--no-user-group"}:
            group = user  # USERGROUPS_ENAB: a group of the user's name
        makes_home = bool(options & {"-m", "--create-home"}) or any(
            o.startswith("-") and not o.startswith("--") and "m" in o for o in options
        )
        return CreatedUser(user, group, uid, home if makes_home else None)
    group = _option_value(words, "-G", "--ingroup", "--gid")
    system = bool(options & {"-S", "--system"})
    if group is None and ("--group" in options or not system):
        group = user  # without --system (or with --group) adduser makes a group too
    # BusyBox makes the home unless -H; Debian's adduser --system only with --home.
    no_home = options & {"-H", "--no-create-home"} or ("--system" in options and not explicit_home)
    return CreatedUser(user, group, uid, None if no_home else home)


def created_users(image: Image) -> list[CreatedUser]:
    """Users made by the image's RUNs (name None: a RUN we cannot read makes one)."""
    found = []
    for instruction in image.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            if instruction.cmd == "RUN" and re.search(r"\b(useradd|adduser)\b", instruction.text):
                found.append(CreatedUser(None, None, instruction=instruction))
            continue
        for command in iter_simple_commands(shell.script):
            name = command_name(command)
            if name not in ("useradd", "adduser"):
                continue
            values = expanded_words(command, image.variables)
            created = CreatedUser(None, None) if values is None else created_user(name, values)
            if created is not None:
                found.append(replace(created, instruction=instruction))
    return found


def names_in_use(document: Dockerfile) -> set[str]:
    """User and group names anywhere in the file: USER, --chown, user tools, chown."""
    names: set[str] = set()
    for instruction in document.instructions:
        if instruction.cmd == "USER" and instruction.value:
            names.update(instruction.value[0].split(":"))
        chown = instruction.flag("chown")
        if chown is not None and chown.value:
            names.update(chown.value.split(":"))
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for command in iter_simple_commands(shell.script):
                names.update(_names_of_command(command))
    return names


def _names_of_command(command: SimpleCommand) -> set[str]:
    name = command_name(command)
    words = [word.value for word in command_words(command)]
    if name in ("useradd", "adduser", "usermod", "userdel"):
        ids = [_option_value(words, *names) for names in ID_OPTIONS]
        found = set(positionals(words[1:], USER_VALUE_OPTIONS))
        return found | {value for value in ids if value}
    if name in ("groupadd", "addgroup", "groupmod", "groupdel"):
        gid = _option_value(words, "-g", "--gid")
        return set(positionals(words[1:], GROUP_VALUE_OPTIONS)) | ({gid} if gid else set())
    if name in ("chown", "chgrp"):
        operands = positionals(words[1:], CHOWN_VALUE_OPTIONS)
        return set(re.split("[:.]", operands[0])) if operands else set()
    return set()


# -- folders -------------------------------------------------------------------------------


def under_any(path: str, trees: Iterable[str]) -> bool:
    return any(inside(path, tree) for tree in trees)


def resolve(path: str, workdir: str | None, variables: Mapping[str, str | None]) -> str | None:
    """An image path made absolute; ``~`` and ``$HOME`` are root's home during the build."""
    if path.startswith("~"):
        path = "/root" + path[1:]
    expanded = expand(path, {"HOME": "/root", **variables})
    if not expanded:
        return None
    if expanded.startswith("/"):
        return posixpath.normpath(expanded)
    if workdir is None:
        return None
    return posixpath.normpath(posixpath.join(workdir, expanded))


def volume_paths(instruction: Instruction, folders: Folders, image: Image) -> list[str | None]:
    """Each folder a VOLUME declares, made absolute (None: a variable not known)."""
    workdir = folders.at.get(id(instruction))
    return [resolve(word, workdir, image.variables) for word in instruction.value]


def folders_of(image: Image) -> Folders:
    """Resolve each WORKDIR; the last absolute one is the application folder.

    A relative WORKDIR before any absolute one starts from the base image's own working
    directory, when the image table knows it (``/`` for ``python``, ``debian``...,
    ``/go`` for ``golang``): it then makes the application folder as an absolute one
    would.  An image whose traits are derived from the stage's contents gives none.
    """
    at: dict[int, str | None] = {}
    base = image.traits.workdir if image.traits is not None and not image.derived else None
    current: str | None = base
    app_workdir: Instruction | None = None
    problem = ""
    for instruction in image.instructions:
        if instruction.cmd == "WORKDIR" and instruction.value:
            raw = instruction.value[0]
            quoted = len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "\"'"
            expanded = expand(raw[1:-1] if quoted else raw, image.step(instruction).variables)
            if expanded is None:
                current, app_workdir = None, None
                problem = f"the WORKDIR `{raw}` uses a variable the Dockerfile does not set"
            elif expanded.startswith("/"):
                current, app_workdir, problem = posixpath.normpath(expanded), instruction, ""
            elif current is not None:
                current = posixpath.normpath(posixpath.join(current, expanded))
                if app_workdir is None:
                    app_workdir = instruction  # the first, from the base image's folder
            else:
                problem = f"the relative WORKDIR `{raw}` depends on the base image's"
        at[id(instruction)] = current
    app = at[id(app_workdir)] if app_workdir is not None else None
    if not problem and app is None:
        problem = "no WORKDIR: the app would run in `/`, which is owned by root"
    elif not problem and app == "/":
        problem = "WORKDIR `/`: the app would run in `/`, which is owned by root"
    elif not problem and app is not None and _is_system_folder(app):
        problem = f"the WORKDIR `{app}` is a system folder that the app cannot own"
    in_root = problem.endswith("the app would run in `/`, which is owned by root")
    return Folders(at, None if problem else app, app_workdir, problem, in_root)


def _is_system_folder(path: str) -> bool:
    return path in SYSTEM_FOLDERS or under_any(path, SYSTEM_TREES)


def is_data_path(path: str) -> bool:
    """A path outside install trees that looks like a place for data, logs or sockets."""
    if under_any(path, INSTALL_TREES) or under_any(path, WORLD_WRITABLE):
        return False
    if under_any(path, RUNTIME_TREES):
        return True
    return any(DATA_WORD.search(part) for part in path.split("/") if part)


def writes_outside(
    command: SimpleCommand, workdir: str | None, app: str, variables: Mapping[str, str | None]
) -> bool:
    """A redirection into a file outside the application folder."""
    for redirect in command.redirects:
        target = redirect.target.value if redirect.target else ""
        if not redirect.operator.startswith(">") or not target or "&" in redirect.operator:
            continue
        path = resolve(target, workdir, variables)
        if path is None or not (inside(path, app) or under_any(path, WORLD_WRITABLE)):
            return True
    return False


# -- what the container runs ---------------------------------------------------------------


def runtime_scripts(image: Image) -> list[ShellScript]:
    """The effective ENTRYPOINT and CMD as shell scripts (exec form quoted back)."""
    return list(image.runtime_scripts)


def _runtime_scripts(image: Image) -> tuple[ShellScript, ...]:
    scripts = []
    for cmd in ("ENTRYPOINT", "CMD"):
        found = [i for i in image.instructions if i.cmd == cmd and i.value]
        if found:
            last = found[-1]
            text = shlex.join(last.value) if last.is_json else last.value[0]
            scripts.extend(_parse_nested(text, depth=2))
    return tuple(scripts)


def _parse_nested(text: str, depth: int) -> list[ShellScript]:
    """The script, and the scripts it hands to ``sh -c``."""
    parsed = parse_text(text)
    if isinstance(parsed, str):
        return []
    scripts = [parsed]
    if depth == 0:
        return scripts
    for command in iter_simple_commands(parsed):
        words = [word.value for word in command_words(command)]
        if words and posixpath.basename(words[0]) in SHELLS and "-c" in words[1:-1]:
            scripts.extend(_parse_nested(words[words.index("-c", 1) + 1], depth - 1))
    return scripts


def script_path(words: list[str]) -> str | None:
    """The script a command runs (``./start.sh``, ``sh run.sh``, ``tini -- x.sh``), or a
    program outside the ``bin`` folders (``/dind``, ``/opt/env.init``): often a script."""
    if not words:
        return None
    program = posixpath.basename(words[0])
    if program in INIT_WRAPPERS:
        rest = words[1:]
        rest = rest[rest.index("--") + 1 :] if "--" in rest else rest
        return script_path([word for word in rest if not word.startswith("-")])
    if program in SHELLS:
        operands = [word for word in words[1:] if not word.startswith("-")]
        if "-c" in words[1:] or not operands:
            return None
        return script_path(operands[:1])
    path = words[0]
    if path.endswith((".sh", ".bash")):
        return path
    folders = path.split("/")[:-1]
    unusual = path.startswith("/") and not {"bin", "sbin"} & set(folders)
    return path if unusual and len(path) > 1 else None


def candidates(path: str, workdir: str | None, variables: Mapping[str, str | None]) -> list[str]:
    """Where the program may be: a bare name is looked up on the usual PATH."""
    if "/" not in path:
        return [posixpath.join(folder, path) for folder in SEARCH_PATH]
    resolved = resolve(path, workdir, variables)
    return [resolved] if resolved else []


def workdir_at_end(image: Image, folders: Folders) -> str | None:
    """The working directory the container's process starts in (None: not known)."""
    return folders.at.get(id(image.instructions[-1])) if image.instructions else None


def origin_at(image: Image, folders: Folders, path: str) -> Origin | None:
    """The file at ``path`` as the image's last COPY/ADD to it leaves it (None: none)."""

    def destination(instruction: Instruction) -> str | None:
        workdir = folders.at.get(id(instruction))
        return resolve(instruction.value[-1], workdir, image.variables)

    return origin_of(path, image.instructions, destination, image.context)
