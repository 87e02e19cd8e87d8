"""The state a package command runs in for DF110: user, home and variables."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.images.table import TABLE
from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts, Step, is_root_user
from dockfix.model.stages import home_of
from dockfix.model.users import default_user_of
from dockfix.rules._shell import RunShell, run_shell
from dockfix.shell import Manager, SimpleCommand, command_words, iter_simple_commands
from dockfix.syntax import Instruction

#: Package managers only root can run (a build that got past one ran it as root).
_SYSTEM_MANAGERS = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)
_ROOT_ACTIONS = frozenset(
    {"install", "add", "update", "upgrade", "dist-upgrade", "remove", "purge", "del", "erase"}
)
#: Variables whose value decides a cache folder, or whether it may be mounted (uv's
#: link mode), read from ``export X=...`` of the RUN itself (the model has ENV/ARG).
_CACHE_VARIABLES = frozenset(
    [
        "HOME",
        "XDG_CACHE_HOME",
        "PIP_CACHE_DIR",
        "PIP_NO_CACHE_DIR",
        "UV_CACHE_DIR",
        "UV_NO_CACHE",
        "UV_LINK_MODE",
        "POETRY_CACHE_DIR",
        "npm_config_cache",
        "NPM_CONFIG_CACHE",
        "YARN_CACHE_FOLDER",
        "YARN_NODE_LINKER",
        "YARN_ENABLE_GLOBAL_CACHE",
        "YARN_GLOBAL_FOLDER",
        "YARN_YARN_PATH",
        "YARN_RC_FILENAME",
        "XDG_DATA_HOME",
        "GOPATH",
        "GOMODCACHE",
        "GOCACHE",
        "POETRY_VIRTUALENVS_CREATE",
        "POETRY_VIRTUALENVS_IN_PROJECT",
        "POETRY_VIRTUALENVS_PATH",
        "VIRTUAL_ENV",
    ]
)


@dataclass
class Where:
    """The state a command runs in: the stage, the step, and the variables it sees."""

    facts: StageFacts
    instruction: Instruction
    step: Step
    values: dict[str, str | None]
    #: The home folder (None: unknown), and whether it was assumed (unknown user).
    home: str | None
    #: The user (None: unknown); ``assumed_root`` when folders assume root's.
    user: str | None = None
    assumed_root: bool = False

    @property
    def is_root(self) -> bool | None:
        return is_root_user(self.user)

    def instructions_before(self) -> Iterator[Instruction]:
        """Every instruction of the stage's lineage, base stage first, up to this one."""
        for member in reversed(self.facts.lineage):
            for earlier in member.stage.instructions:
                if earlier is self.instruction:
                    return
                yield earlier

    def lookup(self, name: str) -> tuple[bool, str | None]:
        """(defined, value) of a variable; npm reads its ``npm_config_*`` in any case."""
        if name in self.values:
            return True, self.values[name]
        if name.lower().startswith("npm_config_"):
            for key, value in self.values.items():
                if key.lower() == name.lower():
                    return True, value
        return False, None

    def is_set(self, name: str) -> bool:
        defined, value = self.lookup(name)
        return defined and value != ""

    def flag(self, name: str, truthy: frozenset[str]) -> bool:
        defined, value = self.lookup(name)
        return defined and value is not None and value.strip().lower() in truthy


_GOLANG = lazy_re.compile(r"((docker\.io|mirror\.gcr\.io)/)?(library/)?golang")


def image_values(facts: StageFacts) -> dict[str, str]:
    """Variables the lineage's base image sets (``golang`` images: ``GOPATH=/go``)."""
    image = facts.root.image
    if image is None:
        return {}
    name = f"{image.registry}/{image.name}" if image.registry else image.name
    if _GOLANG.fullmatch(name.lower()):
        return {"GOPATH": "/go"}
    return {}


def _script_values(shell: RunShell, before: int) -> dict[str, str | None]:
    """Cache variables the RUN sets itself before offset ``before`` (``export X=...``)."""
    found: dict[str, str | None] = {}
    for command in iter_simple_commands(shell.script):
        if command.start >= before:
            break
        words = command_words(command)
        assignments = list(command.assignments) if not words else []
        if words and words[0].value in ("export", "declare", "typeset", "readonly"):
            assignments = [word for word in words[1:] if "=" in word.text]
        for word in assignments:
            name, _, value = word.text.partition("=")
            if name in _CACHE_VARIABLES:
                found[name] = value if word.is_literal and "$" not in value else None
    return found


def user_of(facts: StageFacts, instruction: Instruction) -> str | None:
    """The user at ``instruction`` (None: unknown).

    Beyond the model: when the base image's tag has variables (``python:${V}-alpine``),
    the user every tag of that repository runs as; when the image is unknown, ``root``
    if a system package manager ran (without sudo) earlier in the image's own steps,
    which only root can do.
    """
    step = facts.at(instruction)
    if step.user is not None:
        return step.user
    if unknown_user(facts, instruction) is not None:
        return None
    image = facts.root.stage.image
    if "$" not in image.name and "$" not in (image.registry or ""):
        name = f"{image.registry}/{image.name}" if image.registry else image.name
        known = default_user_of(name)
        if known is not None:
            return known.name
        name = name.lower().removeprefix("docker.io/").removeprefix("library/")
        users = _table_users(name)
        if len(users) == 1:
            return next(iter(users))
    return "root" if _ran_as_root(facts, instruction) else None


@functools.lru_cache(maxsize=256)
def _table_users(name: str) -> frozenset[str | None]:
    """The users the table's rows for repository ``name`` run as (once per name: the
    table is fixed, and every RUN of every round asks)."""
    return frozenset(
        row.traits.default_user if row.traits is not None else None
        for row in TABLE
        if re.fullmatch(row.repository, name)
    )


def _ran_as_root(facts: StageFacts, instruction: Instruction) -> bool:
    """An earlier step (or this RUN) of the lineage ran apt/apk/dnf/yum without sudo."""
    for member in reversed(facts.lineage):
        for earlier in member.stage.instructions:
            shell = run_shell(earlier)
            if isinstance(shell, RunShell) and any(
                package.manager in _SYSTEM_MANAGERS
                and package.action in _ROOT_ACTIONS
                and posixpath.basename(package.command.words[0].value) not in ("sudo", "doas")
                for package in shell.packages()
            ):
                return True
            if earlier is instruction:
                return False
    return False


def unknown_user(facts: StageFacts, instruction: Instruction) -> Instruction | None:
    """The ``USER`` in effect at ``instruction`` when the model cannot know its value."""
    if facts.at(instruction).user is not None:
        return None
    for member in facts.lineage:
        users = []
        for earlier in member.stage.instructions:
            if earlier is instruction:
                break
            if earlier.cmd == "USER":
                users.append(earlier)
        if users:
            return users[-1]
    return None


def where_of(
    facts: StageFacts,
    instruction: Instruction,
    shell: RunShell,
    command: SimpleCommand,
    user: str | None,
) -> Where:
    """The variables and home ``command`` sees (image defaults, ENV/ARG, the RUN's own)."""
    step = facts.at(instruction)
    values: dict[str, str | None] = dict(image_values(facts))
    values.update(step.variables)
    values.update(_script_values(shell, command.start))
    for word in command.assignments:
        name = word.text.partition("=")[0]
        values[name] = word.value.partition("=")[2] if word.is_literal else None
    home, assumed = step.home, False
    if "HOME" in values:
        home = values["HOME"]
    elif home is None and user is not None:
        home = home_of(user, {}, facts.known_homes)
    elif home is None and user is None:
        home, assumed = "/root", True  # unknown user: assume root, and say so (unsafe)
    return Where(facts, instruction, step, values, home, user, assumed)


def runs_as_other_user(command: SimpleCommand) -> str:
    """``sudo -u app pip ...``: the command runs as someone else (whose home is not known)."""
    words = [word.value for word in command.words]
    if words and posixpath.basename(words[0]) == "sudo":
        for word in words[1:]:
            if word in ("-u", "--user") or word.startswith("--user="):
                return f"`sudo {word} ...` runs the command as another user"
            if not word.startswith("-"):
                break
    return ""
