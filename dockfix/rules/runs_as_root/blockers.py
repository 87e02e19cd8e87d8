"""Reasons DF201 reports without fixing (each a ``FixRefused`` with a kind), and the
risks its fix's reason names (``Risk``, from ``startup``)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping

from dockfix.images import Family
from dockfix.model.copied import inside
from dockfix.model.expand import expand
from dockfix.model.stages import ROOT_NAMES
from dockfix.rules.refusal import FixRefused
from dockfix.rules.runs_as_root.cwd import cwd_use
from dockfix.rules.runs_as_root.image import (
    Folders,
    Image,
    expanded_words,
    is_data_path,
    positionals,
    resolve,
    run_commands,
    runtime_scripts,
    under_any,
    volume_paths,
    writes_outside,
)
from dockfix.rules.runs_as_root.policy import (
    BUILD_ENV_PROGRAMS,
    CHOWN_VALUE_OPTIONS,
    INSTALL_TREES,
    MKDIR_VALUE_OPTIONS,
    PRIVILEGE_TOOLS,
    RAW_NETWORK_TOOLS,
    READ_ONLY_ACTIONS,
    ROOT_DAEMONS,
    ROOT_HOME,
    RUNTIME_TREES,
    SYSTEM_WIDE_MANAGERS,
    WORLD_WRITABLE,
    WRITE_OPTION,
)
from dockfix.rules.runs_as_root.process import inherits_a_server, is_wrapper_script, process_words
from dockfix.rules.runs_as_root.servers import command_refusals, env_port_refusals
from dockfix.rules.runs_as_root.startup import (
    Risk,
    entrypoint_findings,
    exposed_port_findings,
    root_tool_risks,
    volume_mount_risks,
)
from dockfix.rules.runs_as_root.user import Target, no_tool_text
from dockfix.shell import (
    Manager,
    SimpleCommand,
    classify,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Instruction


def _command_blockers(
    image: Image, folders: Folders, app: str | None
) -> Iterator[FixRefused | Risk]:
    """What the container's command shows: root tools, privileged ports (also through
    gunicorn's configuration file), a server changing user, writes elsewhere."""
    for script in runtime_scripts(image):
        for command in iter_simple_commands(script):
            yield from _root_tool_blockers(command)
            yield from command_refusals(image, folders, command)
            if app is not None:
                yield from _command_write_blockers(command, app, image.variables)


def _root_tool_blockers(command: SimpleCommand) -> Iterator[FixRefused]:
    real = command_words(command)
    leading = command.words[: len(command.words) - len(real) + 1]
    for word in leading:
        tool = posixpath.basename(word.value)
        if tool in PRIVILEGE_TOOLS:
            yield FixRefused(f"the command runs `{tool}`", kind="root-command")
            return
    name = command_name(command)
    if name in ROOT_DAEMONS:
        yield FixRefused(
            f"the command runs `{name}`, which expects to start as root", kind="root-command"
        )
        return
    if name in RAW_NETWORK_TOOLS:
        yield FixRefused(
            f"the command runs `{name}`, which needs root for raw sockets or packet capture",
            kind="root-command",
        )
        return
    package = classify(command)
    if (
        package is not None
        and package.manager in SYSTEM_WIDE_MANAGERS
        and package.action not in READ_ONLY_ACTIONS
    ):
        yield FixRefused(
            f"the command runs `{package.manager.value} {package.action}`", kind="root-command"
        )


def _command_write_blockers(
    command: SimpleCommand, app: str, variables: Mapping[str, str | None]
) -> Iterator[FixRefused]:
    """Log, pid and data paths outside the application folder among the arguments."""
    words = [word.value for word in command.words]
    for index in range(1, len(words)):
        option, equals, value = words[index].partition("=")
        if equals and option.startswith("-"):
            text, option_name = value, option
        else:
            text, option_name = words[index], words[index - 1]
        if not text.startswith(("/", "~", "$")):
            continue
        path = resolve(text, app, variables)
        if path is None or inside(path, app) or under_any(path, WORLD_WRITABLE):
            continue
        if inside(path, "/root"):
            yield FixRefused(f"the command uses `{path}` in root's home", kind="root-home")
            return
        names_data = option_name.startswith("-") and bool(WRITE_OPTION.search(option_name))
        if under_any(path, RUNTIME_TREES) or (names_data and not under_any(path, INSTALL_TREES)):
            yield FixRefused(
                f"the command writes to `{path}`, outside `{app}`", kind="writes-outside"
            )
            return
    if writes_outside(command, app, app, variables):
        yield FixRefused(f"the command writes to a file outside `{app}`", kind="writes-outside")


def _write_blockers(image: Image, folders: Folders, app: str | None) -> Iterator[FixRefused]:
    """Places outside the application folder (or the user's home, with no WORKDIR)
    that the Dockerfile shows being written."""
    if app is None:
        return
    for instruction in image.instructions:
        if instruction.cmd == "VOLUME":
            for word, path in zip(
                instruction.value, volume_paths(instruction, folders, image), strict=True
            ):
                if path is None or not (inside(path, app) or under_any(path, WORLD_WRITABLE)):
                    yield FixRefused(f"VOLUME `{word}` is outside `{app}`", kind="writes-outside")
        elif instruction.cmd == "ENV":
            yield from _env_blockers(instruction, image)
        elif instruction.cmd in ("COPY", "ADD") and instruction.value:
            # ``COPY --from=builder /root/.local/share/virtualenvs ...`` (DF202's split of
            # a pipenv virtualenv): the files stay in root's home, closed to the user.
            path = resolve(instruction.value[-1], folders.at.get(id(instruction)), image.variables)
            if path is not None and inside(path, "/root"):
                yield FixRefused(
                    f"line {instruction.line} copies files into `{path}` in root's home",
                    kind="root-home",
                )
    for instruction, command in run_commands(image):
        yield from _run_write_blockers(instruction, command, folders, app, image.variables)
    yield from _virtualenv_blockers(image)


def _virtualenv_blockers(image: Image) -> Iterator[FixRefused]:
    """Poetry and pipenv make their virtualenvs in root's home unless told otherwise."""
    settings = {name: (value or "").lower() for name, value in image.variables.items()}
    configured = " ".join(
        " ".join(word.value for word in command.words)
        for _, command in run_commands(image)
        if command_name(command) == "poetry"
    )
    for _, command in run_commands(image):
        package = classify(command)
        if package is None or package.action not in ("install", "sync"):
            continue
        if package.manager is Manager.POETRY and not (
            settings.get("POETRY_VIRTUALENVS_CREATE") in ("false", "0")
            or settings.get("POETRY_VIRTUALENVS_IN_PROJECT") in ("true", "1")
            or re.search(r"virtualenvs\.(create\s+false|in-project\s+true)", configured)
        ):
            yield FixRefused("poetry makes its virtualenv in root's home", kind="root-home")
            return
        if (
            package.manager is Manager.PIPENV
            and not package.has_option("--system")
            and settings.get("PIPENV_VENV_IN_PROJECT") in (None, "", "0", "false")
        ):
            yield FixRefused("pipenv makes its virtualenv in root's home", kind="root-home")
            return


def _env_blockers(instruction: Instruction, image: Image) -> Iterator[FixRefused]:
    """ENV values in root's home (``PATH=/root/.local/bin``): the user cannot read it."""
    for raw in instruction.value[1::2]:
        value = expand(raw, {"HOME": "/root", **image.variables}) or raw
        if ROOT_HOME.search(value):
            yield FixRefused(
                f"ENV `{raw}` points into root's home, closed to the user", kind="root-home"
            )
            return


def _run_write_blockers(
    instruction: Instruction,
    command: SimpleCommand,
    folders: Folders,
    app: str,
    variables: Mapping[str, str | None],
) -> Iterator[FixRefused]:
    """Folders a RUN makes for data outside the application folder, and root's home."""
    workdir = folders.at.get(id(instruction))
    words = [word.value for word in command_words(command)]
    targets = []
    if command_name(command) in ("mkdir", "touch"):
        targets = positionals(words[1:], MKDIR_VALUE_OPTIONS)
    targets += [
        r.target.value
        for r in command.redirects
        if r.target and r.operator.startswith(">") and "&" not in r.operator
    ]
    package = classify(command)
    if package is not None and package.manager is Manager.PIP and package.has_option("--user"):
        yield FixRefused("`pip install --user` installs into root's home", kind="root-home")
    for target in targets:
        path = resolve(target, workdir, variables)
        if path is None or inside(path, app):
            continue
        if inside(path, "/root"):
            yield FixRefused(
                f"line {instruction.line} writes `{path}` in root's home", kind="root-home"
            )
        elif is_data_path(path):
            yield FixRefused(
                f"line {instruction.line} makes `{path}`, outside `{app}`", kind="writes-outside"
            )


def chown_blockers(image: Image, target: Target) -> Iterator[FixRefused]:
    """A ``chown`` to someone else: the files are meant for another user."""
    for instruction, command in run_commands(image):
        if command_name(command) != "chown":
            continue
        values = expanded_words(command, image.variables)
        operands = positionals(values[1:], CHOWN_VALUE_OPTIONS) if values else []
        owner = re.split("[:.]", operands[0])[0] if operands else None
        if owner is None:
            yield FixRefused(
                f"line {instruction.line} gives files to an unknown user", kind="other-owner"
            )
            return
        if owner and owner not in ROOT_NAMES and owner not in (target.user, target.uid):
            yield FixRefused(
                f"line {instruction.line} gives files to `{owner}`", kind="other-owner"
            )
            return


def _onbuild_blockers(image: Image) -> Iterator[FixRefused]:
    """ONBUILD triggers run in every image built FROM this one, as its last USER."""
    triggers = sorted(image.facts.onbuild, key=lambda trigger: trigger.sub_cmd != "RUN")
    for trigger in triggers:
        if trigger.sub_cmd in ("RUN", "ADD", "COPY"):
            yield FixRefused(
                f"ONBUILD {trigger.sub_cmd} (line {trigger.line}) runs in child builds as "
                "the image's last USER and may need root",
                kind="onbuild",
            )
            return


def _build_environment_blockers(image: Image) -> Iterator[FixRefused]:
    """An image with no command of its own, or one that starts a shell or a build tool,
    is a base or a build environment (toolchain, CI): its users install into it."""
    if not any(i.cmd in ("CMD", "ENTRYPOINT") and i.value for i in image.instructions):
        if inherits_a_server(image):
            yield FixRefused(
                "no CMD or ENTRYPOINT: the base image's own command starts a server, which "
                "the Dockerfile does not show",
                kind="build-environment",
            )
            return
        yield FixRefused(
            "no CMD or ENTRYPOINT: the image looks like a base or build environment "
            "(toolchain, CI) whose users install into it as root",
            kind="build-environment",
        )
        return
    scripts = runtime_scripts(image)
    commands = list(iter_simple_commands(scripts[0])) if scripts else []
    if len(commands) != 1:
        return
    words = [word.value for word in command_words(commands[0])]
    whole = process_words(image) or []
    if len(whole) > 1 and is_wrapper_script(whole[0]) and whole[0] == (words or [""])[0]:
        words = whole[1:]  # `mvn-entrypoint.sh` in front of `mvn`: the tool is the command
    program = posixpath.basename(words[0]) if words else ""
    if program in BUILD_ENV_PROGRAMS and "-c" not in words:
        yield FixRefused(
            f"the image starts `{program}`: a shell or build tool, as build and CI "
            "environments do, whose users install into it as root",
            kind="build-environment",
        )


def home_of_user(image: Image) -> str:
    """The home of the user the fix switches to: the image's own, or the new one's."""
    traits = image.traits
    name = traits.nonroot_user if traits is not None and traits.nonroot_user else None
    return image.facts.known_homes.get(name or "", f"/home/{name or image.user_name}")


def find_blockers(image: Image, folders: Folders) -> list[FixRefused | Risk]:
    """Every reason not to fix (``FixRefused``), and every risk the fix's reason must
    name (``Risk``: what cannot be read and matters only to the running container)."""
    traits = image.traits
    found: list[FixRefused | Risk] = []
    if traits is None:
        found.append(FixRefused("the base image is not known", kind="unknown-image"))
    elif traits.family in (Family.WINDOWS, Family.SCRATCH):
        found.append(FixRefused(no_tool_text(traits), kind="user-tool"))
    found.extend(_onbuild_blockers(image))
    found.extend(_build_environment_blockers(image))
    writable, silent = folders.app, False
    if folders.runs_in_root:
        # A program not known to write there gets the fix, whose reason says that
        # relative writes fail; one shown to write there does not (one that changes user
        # itself, `gunicorn --user`, is refused by the command's own check, ``servers``).
        use = cwd_use(image, folders)
        if use.writes:
            found.append(FixRefused(f"{folders.problem}, and {use.why}", kind="workdir"))
        else:
            writable, silent = home_of_user(image), use.silent
    elif folders.problem:
        found.append(FixRefused(folders.problem, kind="workdir"))
    found.extend(exposed_port_findings(image))
    found.extend(_command_blockers(image, folders, None if silent else writable))
    found.extend(env_port_refusals(image))
    found.extend(_write_blockers(image, folders, writable))
    found.extend(entrypoint_findings(image, folders))
    found.extend(root_tool_risks(image))
    found.extend(volume_mount_risks(image, folders))
    return found
