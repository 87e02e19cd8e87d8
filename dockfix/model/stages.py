"""Per-stage facts: lineage, base image, platform, and the state before each instruction.

``StageFacts`` is what every rule used to re-derive: which stage a ``FROM <alias>``
builds on, what the bottom image is, whether it is Linux or Windows, which shell runs
``RUN``, who the user is, which ENV/ARG values are in effect, the ``WORKDIR``, the
ONBUILD triggers, and the system packages the stage (and its parents) installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType

from dockfix.cached import Backlink
from dockfix.images.table import ImageTraits
from dockfix.lazy_dataclass import dataclass
from dockfix.model.platform import Platform
from dockfix.model.shells import ShellDialect
from dockfix.model.users import KNOWN_HOMES
from dockfix.syntax import Instruction, Stage
from dockfix.syntax.images import ImageRef

ROOT_NAMES = frozenset({"root", "0"})
#: Packages that bring a tool, by tool, across apt/apk/dnf names (each tool is a bool
#: field of ``ImageTraits`` that ``StageFacts.end_traits`` sets).
TOOL_PACKAGES = {
    "curl": ("curl",),
    "wget": ("wget",),
    "python": ("python3", "python", "python3-minimal", "python3.11", "python3.12"),
    "useradd": ("passwd", "shadow", "shadow-utils", "adduser"),
    "toolchain": ("build-essential", "gcc", "g++", "build-base", "make"),
}


def is_root_user(user: str | None) -> bool | None:
    """``root``, ``0``, ``root:root``, ``0:0``... -> True; None when unknown."""
    if user is None:
        return None
    return user.split(":", 1)[0].strip() in ROOT_NAMES


@dataclass(frozen=True)
class Step:
    """What is in effect when an instruction starts (after everything before it)."""

    #: The user as written (``app``, ``1000:0``), or None when it cannot be known.
    user: str | None
    env: Mapping[str, str | None]
    args: Mapping[str, str | None]
    #: The ``SHELL`` words in effect, or None for the platform's default.
    shell: tuple[str, ...] | None
    dialect: ShellDialect
    workdir: str | None
    #: Home folder of ``user`` (``HOME`` if set), or None when unknown.
    home: str | None

    @property
    def is_root(self) -> bool | None:
        return is_root_user(self.user)

    def value(self, name: str) -> str | None:
        """A variable's value as RUN sees it (ENV wins over ARG), None if unset/unknown."""
        if name in self.env:
            return self.env[name]
        return self.args.get(name)

    def defines(self, name: str) -> bool:
        return name in self.env or name in self.args

    @property
    def variables(self) -> Mapping[str, str | None]:
        merged = dict(self.args)
        merged.update(self.env)
        return merged


def home_of(
    user: str | None, env: Mapping[str, str | None], known: Mapping[str, str]
) -> str | None:
    if "HOME" in env:
        return env["HOME"]
    if user is None:
        return None
    name = user.split(":", 1)[0].strip()
    if name in ROOT_NAMES:
        return "/root"
    return known.get(name)


@dataclass
class StageFacts:
    """Everything the model knows about one stage."""

    stage: Stage
    parent: StageFacts | None
    #: The FROM image with global ARG defaults substituted (None: unresolved variable).
    image: ImageRef | None
    #: Traits of the image at the bottom of the lineage (None: unknown to the table).
    traits: ImageTraits | None
    platform: Platform
    #: Why the platform is what it is (``image python:3.12-windowsservercore``...).
    platform_reason: str
    start: Step
    end: Step = field(init=False)
    steps: dict[int, Step] = field(default_factory=dict, repr=False)
    #: ``ONBUILD`` instructions declared in this stage (they run in child builds).
    onbuild: tuple[Instruction, ...] = ()
    #: System packages installed (apt/apk/dnf/yum/microdnf) here and in the lineage.
    installed: frozenset[str] = frozenset()
    #: Later stages built directly on this one; they refer to it as ``parent``, so these
    #: point back weakly (``Backlink``: no reference cycle between a file's stages).
    children: list[Backlink[StageFacts]] = field(default_factory=list, repr=False)
    #: Homes of users the stage's image knows (``node`` -> ``/home/node``).
    known_homes: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(KNOWN_HOMES))
    )

    @property
    def index(self) -> int:
        return self.stage.index

    @property
    def alias(self) -> str | None:
        return self.stage.alias

    @property
    def lineage(self) -> tuple[StageFacts, ...]:
        """This stage, the stage it builds on, ... down to one built on an image."""
        chain: list[StageFacts] = [self]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)
        return tuple(chain)

    @property
    def root(self) -> StageFacts:
        return self.lineage[-1]

    @property
    def descendants(self) -> tuple[StageFacts, ...]:
        """Later stages built on this one, directly or through others."""
        found: list[StageFacts] = []
        pending = [link() for link in self.children]
        while pending:
            child = pending.pop(0)
            found.append(child)
            pending.extend(link() for link in child.children)
        return tuple(sorted(found, key=lambda facts: facts.index))

    @property
    def onbuild_builds(self) -> tuple[Instruction, ...]:
        """This stage's ``ONBUILD RUN`` triggers that may need what the image has
        (compilers, tools): every image built FROM it runs them on it.  Only a trigger
        that can be read and runs nothing but file housekeeping (``chmod``, ``mkdir``...)
        does not count."""
        return tuple(
            trigger
            for trigger in self.onbuild
            if trigger.sub_cmd == "RUN" and not _housekeeping_only(trigger)
        )

    @property
    def inherited_onbuild(self) -> tuple[Instruction, ...]:
        """Triggers of in-file parent stages, run when this stage starts."""
        return self.parent.onbuild if self.parent is not None else ()

    @property
    def end_traits(self) -> ImageTraits | None:
        """The base image's traits plus the tools the stage (and lineage) installed:
        what the stage's image has at its end (None: the base is unknown)."""
        from dataclasses import replace

        if self.traits is None:
            return None
        traits = self.traits
        added = {
            tool for tool, names in TOOL_PACKAGES.items() if self.installed.intersection(names)
        }
        if not added:
            return traits
        return replace(
            traits,
            curl=traits.curl or "curl" in added,
            wget=traits.wget or "wget" in added,
            python=traits.python or "python" in added,
            useradd=traits.useradd or "useradd" in added,
            toolchain=traits.toolchain or "toolchain" in added,
        )

    def at(self, instruction: Instruction) -> Step:
        """The state when ``instruction`` starts (``end`` for instructions not in the stage)."""
        return self.steps.get(id(instruction), self.end)

    def contains(self, instruction: Instruction) -> bool:
        return instruction is self.stage.from_instruction or id(instruction) in self.steps

    def instructions_after(self, instruction: Instruction) -> tuple[Instruction, ...]:
        """What runs on top of ``instruction``'s layer: the rest of the stage and of every
        stage built on it."""
        own = self.stage.instructions
        index = next((i for i, c in enumerate(own) if c is instruction), -1)
        later = list(own[index + 1 :])
        for child in self.descendants:
            later.extend(child.stage.instructions)
        return tuple(later)


#: Commands that only move, make or mark files: an ONBUILD RUN of nothing else needs no
#: compiler or tool of the image.
_HOUSEKEEPING = """chmod chown chgrp mkdir ln cp mv rm touch echo printf true false test [ cd
exit : export set"""
HOUSEKEEPING_COMMANDS = frozenset(_HOUSEKEEPING.split())


def _housekeeping_only(trigger: Instruction) -> bool:
    """The ``ONBUILD RUN`` trigger can be read and runs only ``HOUSEKEEPING_COMMANDS``."""
    from dockfix.model.runs import parse_text
    from dockfix.shell import command_name, iter_simple_commands

    if trigger.is_json:
        program = trigger.value[0].rsplit("/", 1)[-1] if trigger.value else ""
        return program in HOUSEKEEPING_COMMANDS
    if trigger.heredocs or not trigger.value:
        return False
    script = parse_text(trigger.value[0])
    if isinstance(script, str):
        return False
    names = [command_name(command) for command in iter_simple_commands(script)]
    return bool(names) and all(name in HOUSEKEEPING_COMMANDS for name in names)
