"""Which yarn runs (DF110): Yarn 1 (classic) or Yarn 2+ (berry), and berry's cache.

Yarn 1 copies packages out of its cache into ``node_modules``, so its cache can be a
build-time mount.  Yarn 2+ with Plug'n'Play (its default ``nodeLinker``) keeps the
installed packages *in* its cache (zip archives ``.pnp.cjs`` reads at run time): mounted,
they would be missing from the image ("Required package missing from disk").  Only
berry's ``node-modules`` linker copies them out; ``pnpm`` links from a store, and is
refused as well.

The project folder is read through the model (the COPY that put each file there):
``package.json`` (``packageManager``), ``.yarnrc.yml`` (there, in the folders above it
and in ``HOME``) and ``.yarnrc`` (Yarn 1's ``yarn-path``).  A file that cannot be read
(no build context, ``COPY --from``, an archive ``ADD`` unpacks), corepack without a
``packageManager`` naming Yarn 1, or a ``RUN`` that switches yarn or rewrites its
settings leaves the yarn that runs unknown, and nothing is mounted.
"""

from __future__ import annotations

import json
import posixpath
import re

from dockfix import lazy_re
from dockfix.images.install_reads import IgnoreFile, Unprovable
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext
from dockfix.model.copied import file_origin
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.package_cache_not_mounted.state import Where
from dockfix.shell import PackageCommand, command_name, iter_simple_commands

_TRUE = frozenset({"1", "true", "on", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "off", "no", "n", "f"})
#: Commands that switch the yarn release (to Yarn 2+ or to one that cannot be known).
_SWITCH = lazy_re.compile(
    r"\byarn\s+(set\s+version|policies\s+set-version|init\s+-2)\b"
    r"|\bcorepack\s+(prepare|use|install|up)\b(?![^;&|\n]*\byarn@1[.\s])[^;&|\n]*\byarn\b"
    r"|@yarnpkg/cli"
)
#: Commands that rewrite yarn's settings or the project's ``packageManager``.
_SETTINGS = lazy_re.compile(
    r"\.yarnrc|packageManager|\byarn\s+config\s+(set|unset|delete)\b|\bcorepack\s+use\b"
)
_COREPACK = lazy_re.compile(r"\bcorepack\b")
_RC_LINE = lazy_re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*:\s*(.*?)\s*$")
_YARN_PATH_V1 = lazy_re.compile(r"^\s*[\"']?yarn-path[\"']?\s", re.MULTILINE)
_MAJOR = lazy_re.compile(r"yarn@(\d+)")
_PNP = (
    "Yarn 2+ keeps installed packages in its cache with Plug'n'Play ({how}): "
    "mounted, they would be missing from the image"
)


@dataclass(frozen=True)
class Berry:
    """The cache Yarn 2+ fills (``path``), or the whole note why none is mounted."""

    path: str | None
    note: str = ""


@dataclass
class _Project:
    """What the project folder tells about the yarn that runs."""

    unknown: list[str]
    #: ``packageManager`` of package.json (None: no package.json, or no such field).
    manager: str | None
    #: ``.yarnrc.yml`` files that apply, nearest first: (folder, settings).
    rcs: list[tuple[str, dict[str, str | None]]]
    #: A ``.yarnrc`` that names a ``yarn-path`` (Yarn 1 hands over to that release).
    yarn_path: bool


def berry_cache(
    package: PackageCommand, where: Where, shell: RunShell, context: BuildContext
) -> Berry | None:
    """None when Yarn 1 runs (its cache is the classic one); else the berry verdict."""
    folder = _project_folder(package, where, shell)
    if folder is None:
        return Berry(None, "which yarn runs is not known: the project folder is not known")
    corepack, switched, rewritten = _run_signs(where, shell, package)
    project = _read_project(folder, where, context)
    major = _major(project.manager)
    linker_env = where.lookup("YARN_NODE_LINKER")
    signs = [
        major is not None and major >= 2,
        bool(project.rcs),
        project.yarn_path,
        switched,
        linker_env[0],
        where.lookup("YARN_YARN_PATH")[0],
    ]
    if not any(signs) and not project.unknown and not rewritten:
        if not corepack or major == 1:
            return None  # Yarn 1
        return Berry(
            None,
            "which yarn runs is not known: corepack runs the release `packageManager` "
            "names, and none names Yarn 1",
        )
    if project.unknown:
        return Berry(None, f"which yarn runs is not known: {project.unknown[0]}")
    if where.lookup("YARN_RC_FILENAME")[0]:
        return Berry(None, "which yarn runs is not known: `YARN_RC_FILENAME` is set")
    if rewritten and not linker_env[0]:
        return Berry(None, "which yarn runs is not known: a RUN changes yarn's settings")
    return _berry_verdict(where, folder, project, major, switched, context)


def _berry_verdict(
    where: Where,
    folder: str,
    project: _Project,
    major: int | None,
    switched: bool,
    context: BuildContext,
) -> Berry:
    """Yarn 2+ runs: mount its cache only with the ``node-modules`` linker."""
    defined, linker = where.lookup("YARN_NODE_LINKER")
    how = f"`YARN_NODE_LINKER={linker}`"
    from_rc = False
    if not defined:
        linker, how, from_rc = "pnp", "the default `nodeLinker`", False
        for rc_folder, settings in project.rcs:
            if "nodeLinker" in settings:
                linker, from_rc = settings["nodeLinker"], True
                how = f"`nodeLinker: {linker}` in {posixpath.join(rc_folder, '.yarnrc.yml')}"
                break
    if linker is None or "$" in linker:
        return Berry(None, "which linker Yarn 2+ uses is not known (`nodeLinker`)")
    if linker.strip() != "node-modules":
        if linker.strip() in ("pnp", ""):
            return Berry(None, _PNP.format(how=how))
        return Berry(
            None,
            f"Yarn 2+ with `nodeLinker: {linker}` may link installed packages from its "
            "cache: mounted, they could be missing from the image",
        )
    if from_rc and _ignored(context, ".yarnrc.yml"):
        note = "which linker Yarn 2+ uses is not known: .dockerignore may leave out .yarnrc.yml"
        return Berry(None, note)
    version = None if switched or project.yarn_path or _setting(project, "yarnPath") else major
    return _berry_folder(where, folder, project, version)


def _berry_folder(where: Where, folder: str, project: _Project, major: int | None) -> Berry:
    """Berry's cache: ``<globalFolder>/cache`` with the global cache (Yarn 4's default),
    else ``cacheFolder`` (``./.yarn/cache`` of the project by default)."""
    enabled = _value(where, project, folder, "YARN_ENABLE_GLOBAL_CACHE", "enableGlobalCache")
    if enabled is _UNKNOWN:
        return Berry(None, "yarn cache folder: `enableGlobalCache` is not known")
    if enabled is None:
        if major is None:
            return Berry(
                None,
                "yarn cache folder: which Yarn 2+ release runs is not known "
                "(Yarn 4 uses a global cache by default, Yarn 2 and 3 the project's)",
            )
        use_global = major >= 4
    elif enabled[1].lower() in _TRUE | _FALSE:
        use_global = enabled[1].lower() in _TRUE
    else:
        return Berry(None, f"yarn cache folder: `enableGlobalCache: {enabled[1]}` is not known")
    if use_global:
        chosen = _value(where, project, folder, "YARN_GLOBAL_FOLDER", "globalFolder")
        if chosen is None:
            data = where.lookup("XDG_DATA_HOME")
            if data[0] and data[1] and data[1].startswith("/"):
                chosen = ("/", posixpath.join(data[1], "yarn/berry"))
            elif data[0] and data[1] != "":
                return Berry(None, "yarn cache folder: `XDG_DATA_HOME` is not known")
            elif where.home is None:
                return Berry(None, "yarn cache folder: the home folder is not known (`HOME`)")
            else:
                chosen = ("/", posixpath.join(where.home, ".yarn/berry"))
        sub = "cache"
    else:
        chosen = _value(where, project, folder, "YARN_CACHE_FOLDER", "cacheFolder")
        if chosen is None:
            chosen = (folder, "./.yarn/cache")
        sub = ""
    if chosen is _UNKNOWN or "$" in chosen[1] or chosen[1].startswith("~"):
        return Berry(None, "yarn cache folder: its setting is not known")
    base, value = chosen
    path = posixpath.normpath(posixpath.join(base, value, sub))
    if not use_global and (path == folder or path.startswith(folder.rstrip("/") + "/")):
        return Berry(
            None,
            f"the Yarn 2+ cache {path} is inside the project folder, where COPY may have "
            "put packages (zero-installs)",
        )
    return Berry(path)


#: A setting whose value cannot be known (a variable without a value).
_UNKNOWN: tuple[str, str] = ("", "$")


def _value(
    where: Where, project: _Project, folder: str, variable: str, setting: str
) -> tuple[str, str] | None:
    """(folder relative paths start from, value) of a berry setting: the variable wins,
    then the nearest ``.yarnrc.yml``; None when unset, ``_UNKNOWN`` when not known."""
    defined, value = where.lookup(variable)
    if defined:
        if value is None:
            return _UNKNOWN
        if value != "":
            return (folder, value)
    for folder, settings in project.rcs:
        if setting in settings:
            found = settings[setting]
            return _UNKNOWN if found is None else (folder, found)
    return None


def _setting(project: _Project, name: str) -> bool:
    return any(name in settings for _, settings in project.rcs)


def _major(manager: str | None) -> int | None:
    """The major version ``packageManager`` names for yarn (``yarn@4.1.0`` -> 4)."""
    if manager is None or not manager.startswith("yarn@"):
        return None
    match = _MAJOR.match(manager)
    return int(match.group(1)) if match else 2  # ``yarn@berry``, ``yarn@stable``: not 1


def _project_folder(package: PackageCommand, where: Where, shell: RunShell) -> str | None:
    """The folder yarn runs in: the WORKDIR, moved by literal top-level ``cd`` commands
    before it and by ``--cwd``; None when not known."""
    folder = where.step.workdir or "/"
    top = shell.script.body.items
    for command in iter_simple_commands(shell.script):
        if command.end > package.command.start:
            break
        if command_name(command) not in ("cd", "pushd", "popd"):
            continue
        words = command.words[1:]
        if command_name(command) == "popd" or len(words) != 1 or not words[0].is_literal:
            return None
        if not any(item is command for item in top):
            return None
        folder = posixpath.normpath(posixpath.join(folder, words[0].value))
    values = package.option_values("--cwd")
    if values:
        if not values[-1].is_literal:
            return None
        folder = posixpath.normpath(posixpath.join(folder, values[-1].value))
    return folder


def _run_signs(where: Where, shell: RunShell, package: PackageCommand) -> tuple[bool, bool, bool]:
    """(corepack used, yarn switched, yarn's settings rewritten) by a RUN of the lineage
    before the command (or by the command's own RUN, before it)."""
    texts: list[str] = []
    for earlier in where.instructions_before():
        parsed = run_shell(earlier)
        if isinstance(parsed, RunShell):
            texts.append(parsed.script.text)
        elif earlier.cmd == "RUN":
            texts.append(earlier.logical)  # unparsable: its text still tells
    texts.append(shell.script.text[: package.command.start])
    text = "\n".join(texts)
    return (
        bool(_COREPACK.search(text)),
        bool(_SWITCH.search(text)),
        bool(_SETTINGS.search(text)),
    )


def _read_project(folder: str, where: Where, context: BuildContext) -> _Project:
    project = _Project([], None, [], False)
    text = _read(folder, "package.json", where, context, project)
    if text is not None:
        try:
            data = json.loads(text)
        except ValueError:
            project.unknown.append("package.json cannot be parsed")
        else:
            manager = data.get("packageManager") if isinstance(data, dict) else None
            if manager is not None and not isinstance(manager, str):
                project.unknown.append("the `packageManager` of package.json is not a string")
            else:
                project.manager = manager
    folders = [folder]
    while folders[-1] != "/":
        folders.append(posixpath.dirname(folders[-1]))
    if where.home is not None and where.home not in folders:
        folders.append(where.home)
    elif where.home is None:
        project.unknown.append("the home folder (its .yarnrc.yml) is not known")
    for each in folders:
        rc = _read(each, ".yarnrc.yml", where, context, project)
        if rc is not None:
            project.rcs.append((each, _rc_settings(rc)))
        classic = _read(each, ".yarnrc", where, context, project)
        if classic is not None and _YARN_PATH_V1.search(classic):
            project.yarn_path = True
    return project


def _read(
    folder: str, name: str, where: Where, context: BuildContext, project: _Project
) -> str | None:
    """The text of ``folder/name`` as the COPYs before the RUN leave it (None: absent,
    or not known, which ``project.unknown`` then says)."""
    path = posixpath.join(folder, name)
    origin = file_origin(where.facts, where.instruction, path, context)
    if origin is None or origin.missing:
        return None
    if origin.text is None:
        why = origin.why.split(", so ", 1)[0]  # (the rest speaks of scripts)
        project.unknown.append(f"{path} {why}")
    return origin.text


def _rc_settings(text: str) -> dict[str, str | None]:
    """The top-level scalar settings of a ``.yarnrc.yml`` (None: a value not known)."""
    found: dict[str, str | None] = {}
    for line in text.splitlines():
        match = _RC_LINE.match(line)
        if match is None:
            continue
        key, value = match.group(1), match.group(2)
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            found[key] = value[1:end] if end > 0 else None
            continue
        value = value.split(" #", 1)[0].strip()
        found[key] = value if value and "${" not in value else None
    return found


def _ignored(context: BuildContext, name: str) -> bool:
    """Whether an ignore file of the context (``.dockerignore`` or ``<x>.dockerignore``)
    may exclude a ``name`` file (then the image may not have what was read)."""
    if not context.present:
        return False
    names = [".dockerignore", *(context.glob("*.dockerignore") or ())]
    for each in dict.fromkeys(names):
        try:
            ignore = IgnoreFile.of(context, each.removesuffix(".dockerignore") or None)
        except Unprovable:
            return True
        if any(ignore.excluded(path) for path in (name, f"a/{name}", f"a/b/{name}")):
            return True
    return False
