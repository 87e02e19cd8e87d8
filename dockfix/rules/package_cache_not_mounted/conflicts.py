"""What stops DF110 mounting a cache: removals, existing mounts, Go modules read."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.model import FileModel, StageFacts, Step, is_root_user, mounts_of, path_within
from dockfix.model.expand import expand
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.package_cache_not_mounted.caches import GO_MOUNTED, Cache, go_caches
from dockfix.rules.package_cache_not_mounted.state import Where, image_values, user_of, where_of
from dockfix.shell import Manager, classify, command_name, command_words, iter_simple_commands
from dockfix.syntax import Instruction

#: Commands that run ``go`` for the user (so they read the module cache).
_GO_DRIVERS = frozenset(
    [
        "go",
        "make",
        "gmake",
        "mage",
        "task",
        "goreleaser",
        "golangci-lint",
        "bazel",
        "bazelisk",
        "ko",
        "buf",
        "swag",
        "wire",
        "gqlgen",
        "air",
        "dlv",
        "gotestsum",
        "ginkgo",
        "templ",
        "sqlc",
        "gofmt",
        "staticcheck",
        "govulncheck",
    ]
)
#: ``go`` subcommands that do not read the module cache.
_GO_HARMLESS = frozenset(
    {"version", "env", "telemetry", "help", "fmt", "clean", "mod-init", "mod-edit"}
)
_GLOB = lazy_re.compile(r"[*?\[]")
_SEPARATORS = lazy_re.compile(r"[\s\"',;&|()\[\]]+")


def removed_paths(shell: RunShell, where: Where) -> Iterator[tuple[str | None, str]]:
    """Folders the RUN deletes as a whole (None: a path that cannot be known), with the command."""
    workdir = where.step.workdir
    changed_dir = False
    for command in iter_simple_commands(shell.script):
        name = command_name(command)
        words = command_words(command)
        if name == "cd":
            changed_dir = True
        elif name in ("rm", "rmdir"):
            for word in words[1:]:
                if word.value.startswith("-") and word.is_literal:
                    continue
                yield (
                    _resolve(word.text, word.value, word.is_literal, where, workdir, changed_dir),
                    word.text,
                )
        elif (
            name == "go"
            and any(w.value == "clean" for w in words)
            and any(w.value == "-modcache" for w in words)
        ):
            yield "<modcache>", "go clean -modcache"
        elif (
            name == "uv" and [w.value for w in words[1:3]] == ["cache", "clean"] and len(words) == 3
        ):
            yield "<uvcache>", "uv cache clean"


def _resolve(
    text: str, value: str, literal: bool, where: Where, workdir: str | None, changed_dir: bool
) -> str | None:
    """An ``rm`` operand as an absolute path (globs kept); None when it cannot be known."""
    path = value
    if not literal:
        if "`" in text or "$(" in text:
            return None
        expanded = expand(text.replace('"', ""), {**where.values, "HOME": where.home})
        if expanded is None:
            return None
        path = expanded
    if path.startswith("~"):
        if where.home is None or not (path == "~" or path.startswith("~/")):
            return None
        path = where.home + path[1:]
    if not path.startswith("/"):
        if changed_dir or workdir is None:
            return "<relative>"  # relative to a folder the RUN changed to: not a cache path
        path = posixpath.join(workdir, path)
    return path


def _removes(target: str, removed: str | None) -> bool:
    """True when deleting ``removed`` deletes the mount point ``target`` (or may)."""
    if removed is None:
        return True
    if removed.startswith("<"):
        return False
    match = _GLOB.search(removed)
    if match is None:
        return path_within(target, removed)
    prefix = posixpath.dirname(removed[: match.start()] + "x")
    # ``/root/.cache/pip/*`` empties the mount point; ``/root/.cache/*`` removes it.
    return path_within(target, prefix) and posixpath.normpath(target) != posixpath.normpath(prefix)


def removal(cache: Cache, removed: list[tuple[str | None, str]]) -> str:
    """The command of the RUN that would delete ``cache``'s mount point, or ''."""
    assert cache.path is not None
    for path, command in removed:
        if path == "<modcache>":
            if cache.modules:
                return command
        elif path == "<uvcache>":
            if cache.manager is Manager.UV:
                return command
        elif _removes(cache.path, path):
            return f"rm {command}" if path is not None else f"rm {command} (unknown path)"
    return ""


def _tree(facts: StageFacts) -> tuple[StageFacts, ...]:
    root = facts.root
    return (root, *root.descendants)


def _stage_names(tree: tuple[StageFacts, ...]) -> set[str]:
    names = set()
    for facts in tree:
        names.add(str(facts.index))
        if facts.alias:
            names.add(facts.alias.lower())
    return names


def _copied_from(model: FileModel, names: set[str], folder: str) -> str:
    """A ``COPY --from``/``RUN --mount=from=`` that reads ``folder`` of one of ``names``."""
    for instruction in model.document.instructions:
        sources: list[str] = []
        origin = instruction.flag("from") if instruction.cmd in ("COPY", "ADD") else None
        if origin is not None and (origin.value or "").lower() in names:
            sources = list(instruction.value[:-1])
        for mount in mounts_of(instruction):
            if mount.from_stage and mount.from_stage.lower() in names:
                sources.append(mount.source or "/")
        if not sources:
            continue  # (most instructions: the variables below are read only when needed)
        facts = model.stage_of(instruction)
        values = {**image_values(facts), **facts.at(instruction).variables} if facts else {}
        for source in sources:
            resolved = expand(source, values)
            path = posixpath.join("/", resolved) if resolved is not None else None
            if path is None or path_within(path, folder) or path_within(folder, path):
                return f"line {instruction.line} reads {source} from the stage"
    return ""


def mounted_over(instruction: Instruction, step: Step, folder: str) -> bool | None:
    """An existing mount of ``instruction`` overlaps ``folder`` (None: a target is unknown)."""
    unknown = False
    for mount in mounts_of(instruction):
        target = mount.target
        if "$" in target:
            expanded = expand(target, step.variables)
            if expanded is None:
                unknown = True
                continue
            target = posixpath.normpath(expanded)
        if target and (path_within(folder, target) or path_within(target, folder)):
            return True
    return None if unknown else False


def _reads_modules(instruction: Instruction, folder: str, mounted: set[int]) -> str:
    """Why ``instruction`` reads Go modules from the image, or ''."""
    if instruction.cmd not in ("RUN", "CMD", "ENTRYPOINT", "ONBUILD"):
        return ""
    if instruction.cmd == "RUN":
        if id(instruction) in mounted:
            return ""
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            return _shell_reads_modules(shell, folder)
    # Exec form, heredocs, CMD, ONBUILD: read as text.
    if _tokens(instruction) & _GO_DRIVERS or folder in " ".join(instruction.value):
        return f"{instruction.cmd} (line {instruction.line}) runs Go tools"
    return ""


def _tokens(instruction: Instruction) -> set[str]:
    """Command-like words of an instruction's text (``/usr/local/go/bin/go`` -> ``go``)."""
    text = " ".join(instruction.value)
    return {posixpath.basename(word) for word in _SEPARATORS.split(text) if word}


def _shell_reads_modules(shell: RunShell, folder: str) -> str:
    for command in iter_simple_commands(shell.script):
        words = command_words(command)
        if not words:
            continue
        name = posixpath.basename(words[0].value)
        line = shell.instruction.line
        if name == "go":
            package = classify(command)
            action = package.action if package is not None else "?"
            if action in _GO_HARMLESS:
                continue
            return f"`go {action.replace('mod-', 'mod ')}` (line {line}) runs without the mount"
        if name in _GO_DRIVERS or name.endswith(".sh") or words[0].value.startswith("./"):
            return f"`{words[0].value}` (line {line}) may run Go without the mount"
        if name in ("sh", "bash") and len(words) > 1 and not words[1].value.startswith("-"):
            return f"`{name} {words[1].value}` (line {line}) may run Go without the mount"
        if any(word.is_literal and path_within(word.value, folder) for word in words[1:]):
            return f"`{name}` (line {line}) reads {folder}"
    return ""


def module_readers(model: FileModel, facts: StageFacts, folder: str, mounted: set[int]) -> str:
    """Why Go's module cache ``folder`` must stay in the image of ``facts``'s stages, or ''.

    ``mounted``: RUNs that have (or will get) a mount over ``folder``.
    """
    tree = _tree(facts)
    copied = _copied_from(model, _stage_names(tree), folder)
    if copied:
        return copied
    for member in tree:
        for instruction in member.stage.instructions:
            why = _reads_modules(instruction, folder, mounted) or _copies_into(
                model, member, instruction, folder
            )
            if why:
                return why
    final = model.final
    if final is not None and final in tree and not _has_command(final):
        return "the image is shipped with Go and no CMD: `go` run in it reads the modules"
    return ""


def _copies_into(model: FileModel, facts: StageFacts, instruction: Instruction, folder: str) -> str:
    """A ``COPY``/``ADD`` that puts files in ``folder`` (a mount there would hide them)."""
    if instruction.cmd not in ("COPY", "ADD") or len(instruction.value) < 2:
        return ""
    step = facts.at(instruction)
    destination = expand(instruction.value[-1], {**image_values(facts), **step.variables})
    if destination is not None and not destination.startswith("/"):
        destination = posixpath.join(step.workdir, destination) if step.workdir else None
    # A folder above ``folder`` gets a module cache only from a stage of the file
    # (``COPY --from=tools / /``); a build context or an image holding one is not assumed.
    origin = instruction.flag("from")
    source = _stage_named(model, origin.value or "") if origin is not None else None
    above = source is not None and _may_hold_modules(source)
    if destination is None or path_within(destination, folder):
        return f"{instruction.cmd} (line {instruction.line}) puts files in {folder}"
    if above and path_within(folder, destination):
        return f"{instruction.cmd} (line {instruction.line}) may put files in {folder}"
    return ""


def _stage_named(model: FileModel, name: str) -> StageFacts | None:
    for facts in model.stages:
        if name.lower() in (str(facts.index), (facts.alias or "").lower()):
            return facts
    return None


def _may_hold_modules(facts: StageFacts) -> bool:
    """The stage may have a Go module cache: a Go image, or Go tools run or copied in."""
    if image_values(facts):
        return True
    for member in facts.lineage:
        for instruction in member.stage.instructions:
            if instruction.cmd in ("COPY", "ADD") and instruction.flag("from") is not None:
                return True
            if instruction.cmd == "RUN" and _tokens(instruction) & _GO_DRIVERS:
                return True
    return False


def _has_command(facts: StageFacts) -> bool:
    """The stage (or one it builds on) sets CMD or ENTRYPOINT."""
    return any(
        i.cmd in ("CMD", "ENTRYPOINT")
        for member in facts.lineage
        for i in member.stage.instructions
    )


def module_mounts(
    model: FileModel, facts: StageFacts, folder: str, is_root: bool | None
) -> set[int]:
    """RUNs of ``facts``'s tree with a mount over ``folder``, or that this rule mounts it on."""
    found: set[int] = set()
    for member in _tree(facts):
        for instruction in member.stage.instructions:
            if instruction.cmd != "RUN":
                continue
            step = member.at(instruction)
            if mounted_over(instruction, step, folder):
                found.add(id(instruction))
                continue
            shell = run_shell(instruction)
            if (
                not isinstance(shell, RunShell)
                or is_root_user(user_of(member, instruction)) != is_root
            ):
                continue
            if _mounts_modules(model, member, instruction, shell, folder):
                found.add(id(instruction))
    return found


def _mounts_modules(
    model: FileModel, facts: StageFacts, instruction: Instruction, shell: RunShell, folder: str
) -> bool:
    """This rule mounts ``folder`` on the RUN (for one of its ``go`` commands); the mount
    then serves every command of the RUN, ``go mod vendor`` or ``go test`` included."""
    user = user_of(facts, instruction)
    for command in iter_simple_commands(shell.script):
        package = classify(command) if command_name(command) == "go" else None
        if package is None or package.action not in GO_MOUNTED:
            continue
        where = where_of(facts, instruction, shell, command, user)
        modules = [c for c in go_caches(package, where) if c.modules]
        if modules and modules[0].path == folder:
            return not removal(modules[0], list(removed_paths(shell, where)))
    return False
