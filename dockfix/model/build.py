"""Builds the ``FileModel`` of a tree: one pass over the stages, in file order."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from dockfix import lazy_re
from dockfix.cached import Backlink
from dockfix.images.table import ImageTraits, lookup
from dockfix.model.context import BuildContext
from dockfix.model.expand import expand
from dockfix.model.platform import (
    LINUX_COMMANDS,
    WINDOWS_COMMANDS,
    Platform,
    has_windows_path,
    image_platform,
)
from dockfix.model.runs import RunShell, run_shell, text_packages
from dockfix.model.shells import ShellDialect, dialect_of
from dockfix.model.stages import StageFacts, Step, home_of
from dockfix.model.users import default_user_of
from dockfix.shell import Manager, command_words, iter_simple_commands
from dockfix.syntax import Dockerfile, Instruction, Stage
from dockfix.syntax.images import ImageRef, parse_image_ref

_SYSTEM_MANAGERS = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)
_FROZEN_EMPTY: Mapping[str, str | None] = MappingProxyType({})
_VERSION_SUFFIX = lazy_re.compile(r"[=<>~]")


@functools.lru_cache(maxsize=1024)
def _lookup(name: str, tag: str | None, aliases: tuple[tuple[str, str], ...]) -> ImageTraits | None:
    # The table is fixed: every round of every file asks about the same few images.
    return lookup(name, tag, aliases)


def image_traits(image: ImageRef, aliases: tuple[tuple[str, str], ...] = ()) -> ImageTraits | None:
    """The table's traits for an image reference (None: unknown or has variables)."""
    if image.has_variables:
        return None
    if image.text.lower() == "scratch":
        return _lookup("scratch", None, ())
    name = f"{image.registry}/{image.name}" if image.registry else image.name
    return _lookup(name, image.tag, tuple(aliases))


def global_args(document: Dockerfile) -> dict[str, str | None]:
    """ARGs declared before the first FROM, with their defaults (for FROM lines)."""
    values: dict[str, str | None] = {}
    for instruction in document.instructions:
        if instruction.cmd == "FROM":
            break
        if instruction.cmd == "ARG":
            for word in instruction.value:
                name, equals, default = word.partition("=")
                values[name] = expand(default, values) if equals else None
    return values


def _resolved_image(stage: Stage, arguments: Mapping[str, str | None]) -> ImageRef | None:
    words = stage.from_instruction.value
    text = expand(words[0], arguments) if words else None
    return parse_image_ref(text) if text else None


_PATH_INSTRUCTIONS = frozenset(
    {"WORKDIR", "COPY", "ADD", "ENV", "RUN", "VOLUME", "ENTRYPOINT", "CMD"}
)


def _platform_evidence(stage: Stage, escape: str) -> tuple[Platform, str]:
    """What the stage's own instructions say about the platform (Windows evidence wins)."""
    if escape == "`":
        return Platform.WINDOWS, "the file's `# escape=`` directive"
    linux_reason = ""
    for instruction in stage.instructions:
        windows, linux = _instruction_evidence(instruction)
        if windows:
            return Platform.WINDOWS, windows
        if linux and not linux_reason:
            linux_reason = linux
    if linux_reason:
        return Platform.LINUX, linux_reason
    return Platform.UNKNOWN, ""


def _instruction_evidence(instruction: Instruction) -> tuple[str, str]:
    """``(windows reason, linux reason)`` of one instruction ("" for none), computed once
    per instruction: the model is built again every round of the engine, and a node
    (its line included) never changes, so an unedited instruction keeps its answer."""
    cache = instruction.__dict__
    try:
        return cache["_platform_evidence"]  # type: ignore[no-any-return]
    except KeyError:
        pass
    found = cache["_platform_evidence"] = _read_evidence(instruction)
    return found


def _read_evidence(instruction: Instruction) -> tuple[str, str]:
    """The first Windows and the first Linux evidence of ``instruction``, in the order
    ``_platform_evidence`` weighs them (a Windows reason ends the search)."""
    linux_reason = ""
    cmd = instruction.cmd
    if cmd == "SHELL" and instruction.value:
        dialect = dialect_of(instruction.value)
        if dialect.is_windows or dialect is ShellDialect.PWSH:
            return f"SHELL {instruction.value[0]}", linux_reason
        if instruction.value[0].startswith("/"):
            linux_reason = f"SHELL {instruction.value[0]}"
    if cmd in _PATH_INSTRUCTIONS and any(map(has_windows_path, instruction.value)):
        return f"Windows path in {cmd} (line {instruction.line})", linux_reason
    if cmd != "RUN":
        return "", linux_reason
    if instruction.is_json and instruction.value:
        first = instruction.value[0]
        name = first.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if name in WINDOWS_COMMANDS:
            return f"RUN {first} (line {instruction.line})", linux_reason
        if first.startswith("/"):
            linux_reason = f"RUN {first} (line {instruction.line})"
        return "", linux_reason
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return "", linux_reason
    for command in iter_simple_commands(shell.script):
        words = command_words(command)
        if not words or not words[0].is_literal:
            continue
        name = words[0].value.lower()
        if name in WINDOWS_COMMANDS:
            return f"RUN {words[0].value} (line {instruction.line})", linux_reason
        if not linux_reason and (name in LINUX_COMMANDS or name.startswith("/")):
            linux_reason = f"RUN {words[0].value} (line {instruction.line})"
    return "", linux_reason


_DEFAULT_DIALECTS = {Platform.LINUX: ShellDialect.POSIX, Platform.WINDOWS: ShellDialect.CMD}


def _default_dialect(platform: Platform) -> ShellDialect:
    return _DEFAULT_DIALECTS.get(platform, ShellDialect.UNKNOWN)


def _installed_by(stage: Stage) -> tuple[set[str], set[str]]:
    """System packages a stage installs and removes (literal names, versions dropped)."""
    added: set[str] = set()
    removed: set[str] = set()
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for installs, names in _package_changes(shell.script.text):
            if installs:
                added |= names
                removed -= names
            else:
                removed |= names
                added -= names
    return added, removed


@functools.lru_cache(maxsize=8192)
def _package_changes(text: str) -> tuple[tuple[bool, frozenset[str]], ...]:
    """``(installs, names)`` of each system package install or removal of a RUN's shell
    text, in order: a function of the text alone, so each distinct text is read once
    (the model is built again every round of the engine)."""
    changes: list[tuple[bool, frozenset[str]]] = []
    for package in text_packages(text):
        if package.manager not in _SYSTEM_MANAGERS:
            continue
        names = frozenset(
            _VERSION_SUFFIX.split(word.value, maxsplit=1)[0]
            for word in package.packages
            if word.is_literal and not word.value.startswith("-")
        )
        if package.action in ("install", "add"):
            changes.append((True, names))
        elif package.action in ("remove", "purge", "del", "autoremove", "erase"):
            changes.append((False, names))
    return tuple(changes)


def _join_workdir(current: str | None, target: str | None) -> str | None:
    """The WORKDIR after ``WORKDIR target`` (relative targets join the current one)."""
    if target is None:
        return None
    if target.startswith("/"):
        return target
    if current is None:
        return None
    return current.rstrip("/") + "/" + target


class _StageWalker:
    """Walks one stage's instructions, recording the ``Step`` before each."""

    def __init__(self, facts: StageFacts, globals_: Mapping[str, str | None]) -> None:
        self.facts = facts
        self.globals = globals_

    def walk(self) -> None:
        facts = self.facts
        step = facts.start
        env = dict(step.env)
        args: dict[str, str | None] = {}
        user, shell, workdir = step.user, step.shell, step.workdir
        for instruction in facts.stage.instructions:
            facts.steps[id(instruction)] = step
            cmd = instruction.cmd
            if cmd == "ENV":
                values = instruction.value
                for key, value in zip(values[0::2], values[1::2], strict=False):
                    env[key] = expand(value, {**args, **env})
            elif cmd == "ARG":
                variables = {**args, **env}  # as the instruction starts
                for word in instruction.value:
                    name, equals, default = word.partition("=")
                    if equals:
                        args[name] = expand(default, variables)
                    else:
                        args[name] = self.globals.get(name)
            elif cmd == "USER" and instruction.value:
                user = expand(instruction.value[0], {**args, **env})
            elif cmd == "SHELL":
                shell = tuple(instruction.value)
            elif cmd == "WORKDIR" and instruction.value:
                workdir = _join_workdir(workdir, expand(instruction.value[0], {**args, **env}))
            else:
                continue
            step = Step(
                user=user,
                env=MappingProxyType(dict(env)),
                args=MappingProxyType(dict(args)),
                shell=shell,
                dialect=dialect_of(shell) if shell else _default_dialect(facts.platform),
                workdir=workdir,
                home=home_of(user, env, facts.known_homes),
            )
        facts.end = step


class FileModel:
    """Facts about a whole file: its stages, its syntax directive, its build context."""

    def __init__(
        self,
        document: Dockerfile,
        context: BuildContext,
        aliases: tuple[tuple[str, str], ...] = (),
    ) -> None:
        from dockfix.model.syntax_version import syntax_info

        self.document = document
        self.context = context
        self.syntax = syntax_info(document)
        self.global_args = global_args(document)
        self.stages: tuple[StageFacts, ...] = ()
        self._by_instruction: dict[int, StageFacts] = {}
        self._build(aliases)

    def _build(self, aliases: tuple[tuple[str, str], ...]) -> None:
        built: list[StageFacts] = []
        escape = self.document.escape
        for stage in self.document.stages:
            facts = self._stage(stage, built, aliases, escape)
            built.append(facts)
            self._by_instruction[id(stage.from_instruction)] = facts
            for instruction in stage.instructions:
                self._by_instruction[id(instruction)] = facts
        self.stages = tuple(built)

    def _stage(
        self,
        stage: Stage,
        earlier: list[StageFacts],
        aliases: tuple[tuple[str, str], ...],
        escape: str,
    ) -> StageFacts:
        image = _resolved_image(stage, self.global_args)
        parent = None
        reference = (
            (image.text if image else stage.from_instruction.value[0]).lower()
            if stage.from_instruction.value
            else ""
        )
        for candidate in reversed(earlier):
            if candidate.alias and candidate.alias.lower() == reference:
                parent = candidate
                break
        if parent is not None:
            traits = parent.traits
            platform, reason = parent.platform, parent.platform_reason
            start = parent.end
            installed_before = parent.installed
            homes = parent.known_homes
        else:
            traits = image_traits(image, aliases) if image is not None else None
            if image is not None and stage.image.has_variables:
                # Known only through ARG defaults, which a build may override.
                traits = None
            platform, reason = image_platform(
                image.text if image else stage.image.text, stage.platform, traits
            )
            user, homes = self._base_user(image, traits)
            start = Step(
                user=user,
                env=_FROZEN_EMPTY,
                args=_FROZEN_EMPTY,
                shell=None,
                dialect=ShellDialect.UNKNOWN,
                workdir="/",
                home=home_of(user, {}, homes),
            )
            installed_before = frozenset()
        if platform is Platform.UNKNOWN:
            platform, reason = _platform_evidence(stage, escape)
        if start.shell is None:
            start = replace(start, dialect=_default_dialect(platform))
        added, removed = _installed_by(stage)
        facts = StageFacts(
            stage=stage,
            parent=parent,
            image=image if parent is None else parent.image,
            traits=traits,
            platform=platform,
            platform_reason=reason,
            start=start,
            onbuild=tuple(i for i in stage.instructions if i.cmd == "ONBUILD"),
            installed=frozenset((installed_before - removed) | added),
            known_homes=homes,
        )
        _StageWalker(facts, self.global_args).walk()
        if parent is not None:
            parent.children.append(Backlink(facts))
        return facts

    @staticmethod
    def _base_user(
        image: ImageRef | None, traits: ImageTraits | None
    ) -> tuple[str | None, Mapping[str, str]]:
        """The user the base image runs as (None: unknown) and the homes it knows."""
        from dockfix.model.users import KNOWN_HOMES

        homes = dict(KNOWN_HOMES)
        if image is None:
            return None, MappingProxyType(homes)
        name = f"{image.registry}/{image.name}" if image.registry else image.name
        known = default_user_of(name)
        if known is not None:
            if known.home:
                homes[known.name] = known.home
            return known.name, MappingProxyType(homes)
        if traits is not None:
            return traits.default_user, MappingProxyType(homes)
        return None, MappingProxyType(homes)

    # -- questions rules ask ---------------------------------------------------------------

    def stage_of(self, instruction: Instruction) -> StageFacts | None:
        """The stage holding ``instruction`` (None before the first FROM)."""
        return self._by_instruction.get(id(instruction))

    def facts_of(self, stage: Stage) -> StageFacts:
        return self.stages[stage.index]

    def step_at(self, instruction: Instruction) -> Step | None:
        facts = self.stage_of(instruction)
        return facts.at(instruction) if facts is not None else None

    def instruction_at_line(self, line: int) -> Instruction | None:
        for instruction in self.document.instructions:
            if instruction.start_line <= line <= max(instruction.end_line, instruction.start_line):
                return instruction
        return None

    @property
    def final(self) -> StageFacts | None:
        return self.stages[-1] if self.stages else None
