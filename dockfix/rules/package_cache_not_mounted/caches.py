"""Where each package manager keeps its download cache at a step (DF110)."""

from __future__ import annotations

import itertools
import posixpath

from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, path_within
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.package_cache_not_mounted.state import Where
from dockfix.rules.package_cache_not_mounted.yarn import berry_cache
from dockfix.shell import Manager, PackageCommand, command_words, iter_simple_commands

_TRUE = frozenset({"1", "true", "on", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "off", "no", "n", "f"})
#: Go subcommands whose RUN this rule mounts the caches on.
GO_MOUNTED = frozenset({"mod-download", "build", "install"})


@dataclass(frozen=True)
class Cache:
    """A folder a package command fills; ``path`` None when it cannot be known (``why``)."""

    manager: Manager
    path: str | None
    why: str = ""
    #: Go's module cache: mounting it empties it from the image (see ``module_readers``).
    modules: bool = False
    #: The whole note when ``path`` is None for a reason other than the folder (Yarn 2+).
    note: str = ""


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


def _yarn(
    package: PackageCommand, where: Where, shell: RunShell, context: BuildContext
) -> list[Cache]:
    if package.action not in ("install", "add"):
        return []
    if not package.packages and package.has_option("--version", "-v", "--help", "-h"):
        return []  # ``yarn --version``
    berry = berry_cache(package, where, shell, context)
    if berry is not None:  # Yarn 2+, or a yarn that is not known
        return [Cache(Manager.YARN, berry.path, note=berry.note)]
    explicit = _option_folder(package, Manager.YARN, "--cache-folder")
    if explicit is not None:
        return [explicit]
    chain = (("YARN_CACHE_FOLDER", ""), ("XDG_CACHE_HOME", "yarn"))
    if where.is_root is not False and not any(where.is_set(name) for name, _ in chain):
        # Yarn 1 keeps root's cache outside HOME.
        return [Cache(Manager.YARN, "/usr/local/share/.cache/yarn")]
    return [_folder(where, Manager.YARN, chain, ".cache/yarn")]


def go_caches(package: PackageCommand, where: Where) -> list[Cache]:
    if package.action not in GO_MOUNTED:
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
    for instruction in where.instructions_before():
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


#: The managers ``caches_of`` knows a cache folder of: for any other it returns nothing, so
#: a RUN without one of these has nothing to mount (and its state need not be read).
CACHING_MANAGERS = frozenset(
    {Manager.PIP, Manager.UV, Manager.POETRY, Manager.NPM, Manager.YARN, Manager.GO}
)


def caches_of(
    package: PackageCommand, where: Where, shell: RunShell, context: BuildContext
) -> list[Cache]:
    """The cache folders ``package`` fills at ``where`` (empty when it keeps none);
    ``context`` is read for yarn (which release runs, and its settings)."""
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
        return _yarn(package, where, shell, context)
    if manager is Manager.GO:
        return go_caches(package, where)
    return []
