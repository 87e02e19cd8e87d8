"""DF110 package-cache-not-mounted: package downloads cached in the layer, or not at all.

What it does
    Adds a BuildKit cache mount to ``RUN`` steps that install packages with pip, uv,
    poetry, npm, yarn or go, so downloads are kept on the build host between builds
    and never end up in the image::

        RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

    and adds ``# syntax=docker/dockerfile:1`` when the file has no syntax directive
    (unless the configuration forbids it: ``syntax-directive = false``).
    With ``cache_strategy = "no-cache"`` (for builders without BuildKit) it adds
    ``--no-cache-dir`` to pip instead.

    The mounted folder is the one the tool really uses at that step, read from the
    stage model: the user (root's home is ``/root``), ``HOME``, ``XDG_CACHE_HOME`` and
    the tools' own variables (``PIP_CACHE_DIR``, ``UV_CACHE_DIR``, ``POETRY_CACHE_DIR``,
    ``npm_config_cache``, ``YARN_CACHE_FOLDER``, ``GOPATH``, ``GOMODCACHE``,
    ``GOCACHE``), options such as ``--cache-dir``, and the base image of the stage's
    lineage (``golang`` images keep modules in ``/go/pkg/mod``).

Why is this bad?
    Without a mount, pip and npm leave their download caches in the layer (bigger
    images) or, with ``--no-cache-dir``, download everything again on every rebuild.
    Practice 7 of the source article.

Fix safety
    Safe: the mount is a build-time folder only; the image's files and configuration
    are those of the original minus the package manager's cache.  Not fixed (reported,
    with the reason):

    * Windows stages, and stages whose RUN shell is not POSIX (preconditions);
    * a frontend pinned without ``RUN --mount`` (``# syntax=docker/dockerfile:1.0``);
    * a cache that belongs to a non-root user (the mount would be root-owned), or a
      cache folder named by a variable whose value cannot be known;
    * a RUN that removes the cache folder (``rm -rf /root/.cache``: a mount point cannot
      be removed, so the RUN would fail);
    * a folder an existing mount already covers (``target=/root/.cache`` holds pip's);
    * Go's module cache when something reads it from the image: ``COPY --from=... /go/pkg/mod``,
      a later ``go test``/``go mod vendor``/``make`` without the mount, ``go`` run by the
      container, or a Go image shipped without CMD (only the build cache is mounted then);
    * Poetry's whole cache folder when it may hold the project's virtualenv (only its
      ``cache`` and ``artifacts`` subfolders are mounted then).

    Unsafe, with the reason: the user of the stage is not known (the folders assume
    root; an unknown image counts as root once one of its steps ran apt/apk/dnf without
    sudo, which only root can), or the file has no syntax directive and may not get one
    (``syntax-directive = false``, or the first stage is not a known Linux stage, so the
    line cannot go above it).  Commands that opt
    out of caching (``--no-cache-dir``, ``PIP_NO_CACHE_DIR``) are left alone: removing
    that opt-out is the user's call (hadolint DL3042 would then flag the command).
    apt and apk caches are not mounted by this rule: apt needs the image's
    ``docker-clean`` hook removed, which changes the image, and the apk rule (DF108)
    covers apk with ``--no-cache``.

References
    practices.md row 7; Docker docs "Optimize cache usage in builds"; hadolint DL3042.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockfix.images.table import TABLE
from dockfix.model import FileModel, StageFacts, Step, is_root_user, mounts_of, path_within
from dockfix.model.expand import expand
from dockfix.model.preconditions import Precondition, evaluate
from dockfix.model.stages import home_of
from dockfix.model.users import default_user_of
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import (
    Manager,
    PackageCommand,
    SimpleCommand,
    classify,
    command_name,
    command_words,
    iter_simple_commands,
)
from dockfix.syntax import Dockerfile, Instruction

_TRUE = frozenset({"1", "true", "on", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "off", "no", "n", "f"})
#: Go subcommands whose RUN this rule mounts the caches on.
_GO_MOUNTED = frozenset({"mod-download", "build", "install"})
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
#: Package managers only root can run (a build that got past one ran it as root).
_SYSTEM_MANAGERS = frozenset(
    {Manager.APT_GET, Manager.APT, Manager.APK, Manager.YUM, Manager.DNF, Manager.MICRODNF}
)
_ROOT_ACTIONS = frozenset(
    {"install", "add", "update", "upgrade", "dist-upgrade", "remove", "purge", "del", "erase"}
)
_GLOB = re.compile(r"[*?\[]")
_SEPARATORS = re.compile(r"[\s\"',;&|()\[\]]+")
#: Variables whose value decides a cache folder (set in the RUN itself: not modelled).
_CACHE_VARIABLES = frozenset(
    [
        "HOME",
        "XDG_CACHE_HOME",
        "PIP_CACHE_DIR",
        "PIP_NO_CACHE_DIR",
        "UV_CACHE_DIR",
        "UV_NO_CACHE",
        "POETRY_CACHE_DIR",
        "npm_config_cache",
        "NPM_CONFIG_CACHE",
        "YARN_CACHE_FOLDER",
        "GOPATH",
        "GOMODCACHE",
        "GOCACHE",
        "POETRY_VIRTUALENVS_CREATE",
        "POETRY_VIRTUALENVS_IN_PROJECT",
        "POETRY_VIRTUALENVS_PATH",
        "VIRTUAL_ENV",
    ]
)


@dataclass(frozen=True)
class Cache:
    """A folder a package command fills; ``path`` None when it cannot be known (``why``)."""

    manager: Manager
    path: str | None
    why: str = ""
    #: Go's module cache: mounting it empties it from the image (see ``_module_readers``).
    modules: bool = False


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


@dataclass
class Plan:
    """What the rule would do to one RUN, before the directive carrier is chosen."""

    instruction: Instruction
    facts: StageFacts
    message: str
    targets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)


# -- where the caches are ---------------------------------------------------------------


def _folder(
    where: Where, manager: Manager, chain: tuple[tuple[str, str], ...], home_suffix: str
) -> Cache:
    """The first of ``chain`` (variable, subfolder) that is set, else ``$HOME/home_suffix``."""
    for name, sub in chain:
        defined, value = where.lookup(name)
        if not defined or value == "":
            continue
        if value is None:
            return Cache(manager, None, f"`{name}` is not known at this step")
        base = value.split(":", 1)[0] if name == "GOPATH" else value
        if not base.startswith("/"):
            return Cache(manager, None, f"`{name}={value}` is not an absolute folder")
        return Cache(
            manager,
            posixpath.normpath(posixpath.join(base, sub)) if sub else posixpath.normpath(base),
        )
    if where.home is None:
        return Cache(manager, None, "the home folder of the user is not known (`HOME`)")
    return Cache(manager, posixpath.normpath(posixpath.join(where.home, home_suffix)))


def _option_folder(package: PackageCommand, manager: Manager, *names: str) -> Cache | None:
    """A cache folder given on the command line (``--cache-dir X``), if any."""
    values = package.option_values(*names)
    if not values:
        return None
    word = values[-1]
    if not word.is_literal or not word.value.startswith("/"):
        return Cache(manager, None, f"`{names[0]} {word.text}` is not a known absolute folder")
    return Cache(manager, posixpath.normpath(word.value))


def _pip(package: PackageCommand, where: Where) -> list[Cache]:
    if package.action not in ("install", "wheel", "download"):
        return []
    if package.has_option("--no-cache-dir", "--no-cache") or where.lookup("PIP_NO_CACHE_DIR")[0]:
        return []  # pip disables its cache for any value of PIP_NO_CACHE_DIR
    explicit = _option_folder(package, Manager.PIP, "--cache-dir")
    chain = (("PIP_CACHE_DIR", ""), ("XDG_CACHE_HOME", "pip"))
    return [explicit or _folder(where, Manager.PIP, chain, ".cache/pip")]


def _uv(package: PackageCommand, where: Where) -> list[Cache]:
    if package.action not in ("install", "sync", "add", "pip-install"):
        return []
    if package.has_option("--no-cache", "-n") or where.flag("UV_NO_CACHE", _TRUE):
        return []
    explicit = _option_folder(package, Manager.UV, "--cache-dir")
    chain = (("UV_CACHE_DIR", ""), ("XDG_CACHE_HOME", "uv"))
    return [explicit or _folder(where, Manager.UV, chain, ".cache/uv")]


def _npm(package: PackageCommand, where: Where) -> list[Cache]:
    if package.action not in ("install", "ci"):
        return []
    explicit = _option_folder(package, Manager.NPM, "--cache")
    return [explicit or _folder(where, Manager.NPM, (("npm_config_cache", ""),), ".npm")]


def _yarn(package: PackageCommand, where: Where) -> list[Cache]:
    if package.action not in ("install", "add"):
        return []
    if not package.packages and package.has_option("--version", "-v", "--help", "-h"):
        return []  # ``yarn --version``
    explicit = _option_folder(package, Manager.YARN, "--cache-folder")
    if explicit is not None:
        return [explicit]
    chain = (("YARN_CACHE_FOLDER", ""), ("XDG_CACHE_HOME", "yarn"))
    if where.is_root is not False and not any(where.is_set(name) for name, _ in chain):
        # Yarn 1 keeps root's cache outside HOME.
        return [Cache(Manager.YARN, "/usr/local/share/.cache/yarn")]
    return [_folder(where, Manager.YARN, chain, ".cache/yarn")]


def _go(package: PackageCommand, where: Where) -> list[Cache]:
    if package.action not in _GO_MOUNTED:
        return []
    build = _folder(
        where, Manager.GO, (("GOCACHE", ""), ("XDG_CACHE_HOME", "go-build")), ".cache/go-build"
    )
    if build.path == "off":
        build = Cache(Manager.GO, None, "GOCACHE=off")
    modules = _folder(where, Manager.GO, (("GOMODCACHE", ""), ("GOPATH", "pkg/mod")), "go/pkg/mod")
    return [build, Cache(Manager.GO, modules.path, modules.why, modules=True)]


def _poetry(package: PackageCommand, where: Where, shell: RunShell) -> list[Cache]:
    if package.action not in ("install", "add", "update"):
        return []
    chain = (("POETRY_CACHE_DIR", ""), ("XDG_CACHE_HOME", "pypoetry"))
    folder = _folder(where, Manager.POETRY, chain, ".cache/pypoetry")
    if folder.path is None or _venv_elsewhere(where, folder.path, shell, package):
        return [folder]
    # The cache folder holds Poetry's virtualenvs (``virtualenvs/``): never mount those.
    return [
        Cache(Manager.POETRY, posixpath.join(folder.path, "cache")),
        Cache(Manager.POETRY, posixpath.join(folder.path, "artifacts")),
    ]


def _venv_elsewhere(where: Where, cache: str, shell: RunShell, package: PackageCommand) -> bool:
    """True when Poetry provably installs outside ``<cache>/virtualenvs``."""
    if where.flag("POETRY_VIRTUALENVS_CREATE", _FALSE):
        return True
    if where.flag("POETRY_VIRTUALENVS_IN_PROJECT", _TRUE):
        return True
    for name in ("POETRY_VIRTUALENVS_PATH", "VIRTUAL_ENV"):
        defined, value = where.lookup(name)
        if defined and value and value.startswith("/") and not path_within(value, cache):
            return True  # a set VIRTUAL_ENV is the venv Poetry installs into
    return _poetry_configured(where, shell, package)


def _poetry_configured(where: Where, shell: RunShell, package: PackageCommand) -> bool:
    """``poetry config virtualenvs.create false`` (or ``in-project true``) ran before."""
    earlier: list[RunShell] = []
    for facts in reversed(where.facts.lineage):
        for instruction in facts.stage.instructions:
            if instruction is where.instruction:
                break
            parsed = run_shell(instruction)
            if isinstance(parsed, RunShell):
                earlier.append(parsed)
    for run in (*earlier, shell):
        for command in iter_simple_commands(run.script):
            if run is shell and command.start >= package.command.start:
                break
            words = [word.value for word in command_words(command)]
            if len(words) < 2 or posixpath.basename(words[0]) != "poetry" or "config" not in words:
                continue
            rest = words[words.index("config") + 1 :]
            settings = dict(itertools.pairwise(rest))
            if settings.get("virtualenvs.create", "").lower() in _FALSE:
                return True
            if settings.get("virtualenvs.in-project", "").lower() in _TRUE:
                return True
    return False


def caches_of(package: PackageCommand, where: Where, shell: RunShell) -> list[Cache]:
    """The cache folders ``package`` fills at ``where`` (empty when it keeps none)."""
    manager = package.manager
    if manager is Manager.PIP:
        return _pip(package, where)
    if manager is Manager.UV:
        return _uv(package, where)
    if manager is Manager.POETRY:
        return _poetry(package, where, shell)
    if manager is Manager.NPM:
        return _npm(package, where)
    if manager is Manager.YARN:
        return _yarn(package, where)
    if manager is Manager.GO:
        return _go(package, where)
    return []


# -- the state a command runs in --------------------------------------------------------

_GOLANG = re.compile(r"((docker\.io|mirror\.gcr\.io)/)?(library/)?golang")


def _image_values(facts: StageFacts) -> dict[str, str]:
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
    if _unknown_user(facts, instruction) is not None:
        return None
    image = facts.root.stage.image
    if "$" not in image.name and "$" not in (image.registry or ""):
        name = f"{image.registry}/{image.name}" if image.registry else image.name
        known = default_user_of(name)
        if known is not None:
            return known.name
        name = name.lower().removeprefix("docker.io/").removeprefix("library/")
        users = {row.traits.default_user for row in TABLE if re.fullmatch(row.repository, name)}
        if len(users) == 1:
            return users.pop()
    return "root" if _ran_as_root(facts, instruction) else None


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


def _unknown_user(facts: StageFacts, instruction: Instruction) -> Instruction | None:
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
    values: dict[str, str | None] = dict(_image_values(facts))
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


def _runs_as_other_user(command: SimpleCommand) -> str:
    """``sudo -u app pip ...``: the command runs as someone else (whose home is not known)."""
    words = [word.value for word in command.words]
    if words and posixpath.basename(words[0]) == "sudo":
        for word in words[1:]:
            if word in ("-u", "--user") or word.startswith("--user="):
                return f"`sudo {word} ...` runs the command as another user"
            if not word.startswith("-"):
                break
    return ""


# -- what the RUN does to the folders ---------------------------------------------------


def _removed_paths(shell: RunShell, where: Where) -> Iterator[tuple[str | None, str]]:
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


def _removal(cache: Cache, removed: list[tuple[str | None, str]]) -> str:
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


# -- Go modules read from the image -----------------------------------------------------


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
        facts = model.stage_of(instruction)
        values = {**_image_values(facts), **facts.at(instruction).variables} if facts else {}
        for source in sources:
            resolved = expand(source, values)
            path = posixpath.join("/", resolved) if resolved is not None else None
            if path is None or path_within(path, folder) or path_within(folder, path):
                return f"line {instruction.line} reads {source} from the stage"
    return ""


def _mounted_over(instruction: Instruction, step: Step, folder: str) -> bool | None:
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


def _module_readers(model: FileModel, facts: StageFacts, folder: str, mounted: set[int]) -> str:
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
    destination = expand(instruction.value[-1], {**_image_values(facts), **step.variables})
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
    if _image_values(facts):
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


def _module_mounts(
    model: FileModel, facts: StageFacts, folder: str, is_root: bool | None
) -> set[int]:
    """RUNs of ``facts``'s tree with a mount over ``folder``, or that this rule mounts it on."""
    found: set[int] = set()
    for member in _tree(facts):
        for instruction in member.stage.instructions:
            if instruction.cmd != "RUN":
                continue
            step = member.at(instruction)
            if _mounted_over(instruction, step, folder):
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
        if package is None or package.action not in _GO_MOUNTED:
            continue
        where = where_of(facts, instruction, shell, command, user)
        modules = [c for c in _go(package, where) if c.modules]
        if modules and modules[0].path == folder:
            return not _removal(modules[0], list(_removed_paths(shell, where)))
    return False


# -- the rule ---------------------------------------------------------------------------


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    model = context.model
    settings = context.settings
    no_cache = settings.cache_strategy == "no-cache"
    syntax = evaluate(
        Precondition.RUN_MOUNTS, model, None, None, may_add_syntax=settings.syntax_directive
    )
    plans: list[Plan] = []
    for facts in model.stages:
        for instruction in facts.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            if no_cache:
                finding = _no_cache_check(rule, context.document, model, facts, instruction, shell)
                if finding is not None:
                    yield finding
                continue
            plan = _plan(model, facts, instruction, shell)
            if plan is not None:
                plans.append(plan)
    if no_cache:
        return
    directive = not model.syntax.present and settings.syntax_directive
    yield from _findings(
        rule, context.document, model, plans, syntax.holds, syntax.reason, directive
    )


def _wanted(
    model: FileModel, facts: StageFacts, instruction: Instruction, shell: RunShell
) -> tuple[list[tuple[PackageCommand, Where, Cache]], list[str]]:
    """(package, state, cache) the RUN leaves unmounted, and notes on the others."""
    wanted: list[tuple[PackageCommand, Where, Cache]] = []
    notes: list[str] = []
    step = facts.at(instruction)
    user = user_of(facts, instruction)
    for package in shell.packages():
        where = where_of(facts, instruction, shell, package.command, user)
        for cache in caches_of(package, where, shell):
            if cache.path is None:
                wanted.append((package, where, cache))
                continue
            covered = _mounted_over(instruction, step, cache.path)
            if covered is None:
                notes.append(f"an existing mount's target is not known; {cache.path} left alone")
            elif not covered:
                wanted.append((package, where, cache))
    return wanted, notes


def _plan(
    model: FileModel, facts: StageFacts, instruction: Instruction, shell: RunShell
) -> Plan | None:
    wanted, notes = _wanted(model, facts, instruction, shell)
    if not wanted:
        return None
    names = ", ".join(sorted({package.manager.value for package, _, _ in wanted}))
    plan = Plan(
        instruction,
        facts,
        f"{names} downloads are cached in the image layer or not kept between builds",
        notes=notes,
    )
    user = user_of(facts, instruction)
    if is_root_user(user) is False:
        plan.notes.append(f"runs as USER {user} (a cache mount is owned by root)")
        return plan
    unknown = _unknown_user(facts, instruction)
    if unknown is not None:
        value = " ".join(unknown.value)
        plan.notes.append(f"the user of `USER {value}` (line {unknown.line}) is not known")
        return plan
    removed: dict[int, list[tuple[str | None, str]]] = {}
    decided: set[str] = set()
    for package, where, cache in wanted:
        other = _runs_as_other_user(package.command)
        if other:
            plan.notes.append(other)
            continue
        if cache.path is None:
            plan.notes.append(f"{package.manager.value} cache folder: {cache.why}")
            continue
        if cache.path in decided:
            continue  # another command of the RUN fills the same folder
        decided.add(cache.path)
        if id(where) not in removed:
            removed[id(where)] = list(_removed_paths(shell, where))
        gone = _removal(cache, removed[id(where)])
        if gone:
            plan.notes.append(
                f"the RUN removes {cache.path} (`{gone}`); a mount point cannot be removed"
            )
            continue
        if cache.modules:
            mounted = _module_mounts(model, facts, cache.path, where.is_root)
            mounted.add(id(instruction))
            readers = _module_readers(model, facts, cache.path, mounted)
            if readers:
                plan.notes.append(f"Go modules stay in the image ({cache.path}): {readers}")
                continue
        if where.assumed_root and not plan.unsafe:
            image = facts.image.text if facts.image else facts.stage.image.text
            plan.unsafe.append(
                f"the user of `{image}` is not known; the mount assumes root ({cache.path})"
            )
        if cache.path not in plan.targets:
            plan.targets.append(cache.path)
    return plan


def _findings(
    rule: Rule,
    document: Dockerfile,
    model: FileModel,
    plans: list[Plan],
    mounts_supported: bool | None,
    syntax_reason: str,
    add_directive: bool,
) -> Iterator[Finding]:
    for plan in plans:
        if plan.targets and mounts_supported is False:
            plan.notes.append(syntax_reason)
            plan.targets = []
        if plan.targets and mounts_supported is None:
            plan.unsafe.append(syntax_reason)
    carrier = _carrier(model, plans) if add_directive and mounts_supported else None
    if carrier is not None:
        above = _directive_site(model, document)
        for plan in plans:
            if above and plan.targets:
                plan.unsafe.append(above)
        if above.startswith("Windows"):
            carrier = None  # the engine would withdraw it: no fix may carry the line
    for plan in plans:
        note = "; ".join(dict.fromkeys(plan.notes))
        if not plan.targets:
            yield rule.finding(plan.message, plan.instruction, note=note)
            continue
        new = plan.instruction
        for target in plan.targets:
            new = document.add_flag(new, f"--mount=type=cache,target={target}")
        edits = [Edit(plan.instruction, (new,))]
        if plan is carrier:
            first = document.nodes[0]
            directive = document.make_directive("syntax", "docker/dockerfile:1")
            if first is plan.instruction:
                edits = [Edit(plan.instruction, (directive, new))]
            else:
                edits.append(Edit(first, (directive, first)))
        applicability = Applicability.UNSAFE if plan.unsafe else Applicability.SAFE
        yield rule.finding(
            plan.message,
            plan.instruction,
            edits=edits,
            applicability=applicability,
            reason="; ".join(dict.fromkeys(plan.unsafe)),
            note=note,
        )


def _directive_site(model: FileModel, document: Dockerfile) -> str:
    """Why ``# syntax=`` cannot safely go above the file's first node, or ''.

    The line is added by editing that node: when it is the ``FROM`` of a Windows stage
    (or one of unknown platform), the fix carrying it is withdrawn (or made unsafe), and
    mounts elsewhere would then go in without the directive.
    """
    first = document.nodes[0]
    facts = model.stage_of(first) if isinstance(first, Instruction) else None
    if facts is None or not isinstance(first, Instruction):
        return ""
    for precondition in (Precondition.LINUX, Precondition.POSIX_SHELL):
        verdict = evaluate(precondition, model, facts, first)
        if verdict.holds is not True:
            where = "Windows" if verdict.holds is False else "unknown"
            return (
                f"{where} stage at line {first.line}: `# syntax=docker/dockerfile:1` "
                f"cannot be added above it ({verdict.reason})"
            )
    return ""


def _carrier(model: FileModel, plans: list[Plan]) -> Plan | None:
    """The fix that adds the syntax directive: the first safe one the engine keeps."""
    usable = [
        plan
        for plan in plans
        if plan.targets
        and all(
            evaluate(p, model, plan.facts, plan.instruction).holds is not False
            for p in (Precondition.LINUX, Precondition.POSIX_SHELL)
        )
    ]
    for plan in usable:
        if not plan.unsafe and all(
            evaluate(p, model, plan.facts, plan.instruction).holds
            for p in (Precondition.LINUX, Precondition.POSIX_SHELL)
        ):
            return plan
    return usable[0] if usable else None


def _no_cache_check(
    rule: Rule,
    document: Dockerfile,
    model: FileModel,
    facts: StageFacts,
    instruction: Instruction,
    shell: RunShell,
) -> Finding | None:
    """``cache_strategy = "no-cache"``: pip gets ``--no-cache-dir`` (any user, any folder)."""
    wanted, _ = _wanted(model, facts, instruction, shell)
    if not wanted:
        return None
    packages = list(dict.fromkeys(package for package, _, _ in wanted))
    names = ", ".join(sorted({package.manager.value for package in packages}))
    message = f"{names} downloads are cached in the image layer or not kept between builds"
    edits = []
    for package in packages:
        if package.manager is Manager.PIP and package.subcommand_word is not None:
            at = shell.base + package.subcommand_word.end
            edits.append((at, at, " --no-cache-dir"))
    if not edits:
        return rule.finding(message, instruction, note="no no-cache flag for this manager")
    new = document.edit_logical(instruction, edits)
    return rule.finding(message, instruction, edits=[Edit(instruction, (new,))])


RULE = Rule(
    code="DF110",
    name="package-cache-not-mounted",
    summary="Use BuildKit cache mounts for pip, uv, poetry, npm, yarn and go downloads",
    applicability=Applicability.SAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX, Precondition.POSIX_SHELL),
    fix_kinds=(Applicability.SAFE, Applicability.UNSAFE),
)
