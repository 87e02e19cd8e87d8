"""What a dependency install reads from the build context (the knowledge DF101 uses).

``COPY . .`` before ``RUN npm ci`` can only be split into "copy the manifests, install,
copy the rest" when the first COPY gives the install *everything* it reads.  That is
more than ``package.json``: ``.npmrc``, ``.yarnrc.yml`` and its ``yarnPath``, the
``.yarn`` folder (releases, plugins, patches, offline cache), workspace packages,
``file:``/``link:`` dependencies, requirement files included with ``-r``/``-c``, local
paths and wheels named in them, ``--find-links`` folders, ``go.mod`` ``replace``
targets...  Each reader below lists those files for one manager, reading the context
through the model's ``BuildContext`` (no file I/O of its own).  Anything it cannot see
or follow raises ``Unprovable`` with the reason, and the rule then reports instead of
fixing.  ``.dockerignore`` is honoured: a file it excludes was never in the context.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from typing import Any, TypeGuard

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass
from dockfix.model.context import BuildContext
from dockfix.shell import Manager, PackageCommand

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class Unprovable(Exception):
    """The install may read more than what can be copied first (the message says why)."""


class ReadsSource(Unprovable):
    """A command that may read the source: the broad COPY is where it belongs."""


# -- .dockerignore ------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern (Go ``filepath.Match`` plus ``**``) as a regex."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                raise Unprovable(f"cannot read the .dockerignore pattern {pattern!r}")
            body = pattern[i + 1 : close]
            if body.startswith("^"):
                body = "!" + body[1:]
            out.append("[" + body.replace("!", "^", 1) if body.startswith("!") else "[" + body)
            out.append("]")
            i = close
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class IgnoreFile:
    """The context's ``.dockerignore`` rules, in order (last match wins, ``!`` re-includes)."""

    rules: tuple[tuple[bool, re.Pattern[str]], ...] = ()

    @classmethod
    def of(cls, context: BuildContext, dockerfile_name: str | None) -> IgnoreFile:
        text = None
        if dockerfile_name:
            text = context.read_text(f"{dockerfile_name}.dockerignore")
        if text is None:
            text = context.read_text(".dockerignore")
        if text is None:
            return cls()
        rules = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            line = line[1:].strip() if keep else line
            line = posixpath.normpath(line.lstrip("/")) if line.lstrip("/") else "."
            rules.append((keep, _pattern_regex(line)))
        return cls(tuple(rules))

    def excluded(self, relative: str) -> bool:
        """True when ``relative`` (or a folder holding it) is excluded from the context."""
        parts = relative.split("/")
        candidates = ["/".join(parts[: k + 1]) for k in range(len(parts))]
        result = False
        for keep, regex in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                result = not keep
        return result


# -- what gets copied first ----------------------------------------------------------------


@dataclass
class Scope:
    """Where the broad COPY puts the context, where the install runs, what is on disk."""

    context: BuildContext
    ignore: IgnoreFile
    #: Absolute image folder the context root lands in.
    copy_dest: str
    #: The install's working directory (None: unknown).
    workdir: str | None
    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    #: The user's home folder at the install (``~`` paths), None when unknown.
    home: str | None = None
    #: The variables the install's environment has (ENV, ARG, ``export`` earlier in the
    #: RUN); a None value is unknown.
    env: dict[str, str | None] = field(default_factory=dict)

    @property
    def on_disk(self) -> bool:
        return self.context.present

    def image_path(self, path: str, base: str | None = None) -> str:
        """An install's path (relative to ``base``, default the workdir) in the image."""
        if "$" in path or "`" in path:
            raise Unprovable(f"`{path}` uses a variable")
        if path == "~" or path.startswith("~/"):
            if self.home is None:
                raise Unprovable(f"`{path}`: the home folder is unknown")
            path = self.home + path[1:]
        if path.startswith("/"):
            return posixpath.normpath(path)
        base = base if base is not None else self.workdir
        if base is None:
            raise Unprovable("working directory unknown")
        return posixpath.normpath(posixpath.join(base, path))

    def relative(self, image_path: str) -> str:
        """The context-relative name of an image path the broad COPY provides."""
        relative = posixpath.relpath(image_path, self.copy_dest)
        if relative == ".." or relative.startswith("../"):
            raise Unprovable(f"{image_path} is not copied by the broad COPY")
        return relative

    def in_copy(self, image_path: str) -> bool:
        relative = posixpath.relpath(image_path, self.copy_dest)
        return not (relative == ".." or relative.startswith("../"))

    def present(self, relative: str) -> bool:
        """On disk and not excluded by ``.dockerignore`` (the build sees it)."""
        return bool(self.context.exists(relative)) and not self.ignore.excluded(relative)

    def need_file(self, relative: str, *, required: bool = True) -> bool:
        """Copy ``relative`` first; a required file must be in the context."""
        if not self.on_disk:
            if required and relative not in self.files:
                self.files.append(relative)
            return required
        if not self.present(relative) or self.context.is_file(relative) is False:
            if required:
                raise Unprovable(f"{relative} is not in the build context")
            return False
        if relative not in self.files:
            self.files.append(relative)
        return True

    def need_dir(self, relative: str) -> None:
        """Copy the folder ``relative`` first (a local package, a wheel folder...)."""
        if relative in (".", ""):
            raise Unprovable("the install reads the whole project folder")
        if self.context.is_file(relative):
            self.need_file(relative)
            return
        if not self.present(relative):
            raise Unprovable(f"{relative} is not in the build context")
        if relative not in self.dirs:
            self.dirs.append(relative)

    def read(self, relative: str) -> str:
        text = self.context.read_text(relative)
        if text is None:
            raise Unprovable(f"{relative} cannot be read")
        return text


_LOCATION_OPTIONS = {
    Manager.NPM: ("--prefix", "--userconfig", "--globalconfig"),
    Manager.YARN: ("--cwd", "--modules-folder", "--use-yarnrc"),
    Manager.PNPM: ("-C", "--dir", "--modules-dir", "--config", "--virtual-store-dir"),
    Manager.POETRY: ("-C", "--directory", "-P", "--project"),
    Manager.UV: ("--directory", "--project", "--config-file", "--target", "--prefix"),
    Manager.PIP: ("-t", "--target", "--prefix", "--root", "--src"),
    Manager.GO: ("-C", "-modfile"),
    Manager.PIPENV: (),
}
_NODE = (Manager.NPM, Manager.YARN, Manager.PNPM)
_LOCKS = {
    Manager.NPM: ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock"),
    Manager.YARN: ("yarn.lock",),
    Manager.PNPM: ("pnpm-lock.yaml",),
}
#: Scripts an install runs on the project: npm runs ``preinstall`` to ``postinstall``,
#: ``preprepare``/``prepare``/``postprepare``, ``prepublish`` and ``dependencies`` (after
#: node_modules changed); yarn 1 and pnpm run the npm ones, pnpm also
#: ``pnpm:devPreinstall``; yarn berry runs ``postinstall`` (all are refused for every
#: manager).
_HOOKS = (
    "preinstall",
    "install",
    "postinstall",
    "preprepare",
    "prepare",
    "postprepare",
    "prepublish",
    "dependencies",
    "pnpm:devPreinstall",
)
_DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")
_OVERRIDE_FIELDS = ("resolutions", "overrides")


def _location_checked(package: PackageCommand, scope: Scope) -> None:
    """Options that move what the install reads or writes: refused (pip's ``--prefix``
    and ``--target`` only when they write into the copied folder)."""
    for name in _LOCATION_OPTIONS.get(package.manager, ()):
        if not package.has_option(name):
            continue
        if package.manager in (Manager.PIP, Manager.UV) and name in (
            "--prefix",
            "-t",
            "--target",
            "--root",
        ):
            values = [w.value for w in package.option_values(name)]
            if values and all(v.startswith("/") and not scope.in_copy(v) for v in values):
                continue
        raise Unprovable(f"`{name}` changes where the install reads or writes")


#: Variables whose value names a file or folder the install reads (or writes into):
#: pointing into the copied folder, the moved install would run before the COPY brought
#: it (a constraint file missing fails pip; a missing config file is silently ignored,
#: and a private index with it).  ``NPM_CONFIG_*`` names are matched case-insensitively
#: (npm reads ``npm_config_*`` so).
_PATH_SETTINGS: dict[Manager, tuple[str, ...]] = {
    Manager.PIP: (
        "PIP_CONSTRAINT",
        "PIP_REQUIREMENT",
        "PIP_BUILD_CONSTRAINT",
        "PIP_FIND_LINKS",
        "PIP_CONFIG_FILE",
        "PIP_CERT",
        "PIP_CLIENT_CERT",
        "PIP_EDITABLE",
        "PIP_SRC",
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_ROOT",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NETRC",
    ),
    Manager.UV: (
        "UV_CONSTRAINT",
        "UV_OVERRIDE",
        "UV_BUILD_CONSTRAINT",
        "UV_CONFIG_FILE",
        "UV_FIND_LINKS",
        "UV_PROJECT",
        "UV_WORKING_DIRECTORY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NETRC",
    ),
    Manager.NPM: (
        "NPM_CONFIG_USERCONFIG",
        "NPM_CONFIG_GLOBALCONFIG",
        "NPM_CONFIG_CAFILE",
        "NODE_EXTRA_CA_CERTS",
    ),
    Manager.YARN: (
        "NPM_CONFIG_USERCONFIG",
        "NPM_CONFIG_CAFILE",
        "YARN_RC_FILENAME",
        "YARN_CAFILE",
        "YARN_CA_FILE_PATH",
        "NODE_EXTRA_CA_CERTS",
    ),
    Manager.PNPM: (
        "NPM_CONFIG_USERCONFIG",
        "NPM_CONFIG_GLOBALCONFIG",
        "NPM_CONFIG_CAFILE",
        "NODE_EXTRA_CA_CERTS",
    ),
}
#: Index settings: URLs, which read nothing local unless they are paths or ``file:``.
_URL_SETTINGS: dict[Manager, tuple[str, ...]] = {
    Manager.PIP: ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"),
    Manager.UV: ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX"),
}
_ASSIGNMENT = lazy_re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def _command_env(package: PackageCommand, scope: Scope) -> dict[str, str | None]:
    """The variables the install sees: the scope's, then ``VAR=x`` prefixes and ``env
    VAR=x`` / ``sudo VAR=x`` wrapper words (a value that is not literal is unknown)."""
    env = dict(scope.env)
    command = package.command
    start = package.program_words[0].start if package.program_words else command.end
    words = [*command.assignments, *(w for w in command.words if w.start < start)]
    for word in words:
        match = _ASSIGNMENT.match(word.value)
        if match is not None:
            env[match.group(1)] = match.group(2) if word.is_literal else None
    return env


def _setting(env: Mapping[str, str | None], name: str) -> tuple[str, str | None] | None:
    """``(name as set, value)`` of a variable in effect, npm's names case-insensitively."""
    if name in env:
        return name, env[name]
    if name.startswith("NPM_CONFIG_"):
        for key, value in env.items():
            if key.upper() == name:
                return key, value
    return None


def _settings_checked(package: PackageCommand, scope: Scope) -> None:
    """Refuse a path-valued setting in effect that the moved COPY may be the one to bring:
    a relative path, one inside the copied folder, a variable, or an unknown value.  A
    path clearly outside it (``/etc/pip.conf`` an earlier RUN wrote) is left alone."""
    env = _command_env(package, scope)
    for name in _PATH_SETTINGS.get(package.manager, ()):
        found = _setting(env, name)
        if found is not None:
            _setting_path(found[0], found[1], scope, urls=False)
    for name in _URL_SETTINGS.get(package.manager, ()):
        found = _setting(env, name)
        if found is not None and found[1] is not None:
            _setting_path(found[0], found[1], scope, urls=True)


def _setting_path(name: str, value: str | None, scope: Scope, *, urls: bool) -> None:
    if value is None:
        raise Unprovable(f"{name} is set to a value dockfix cannot know")
    for item in re.split(r"[\s,]+", value.strip()):
        if urls:
            item = re.sub(r"^[A-Za-z0-9_.-]+=(?=\S)", "", item)  # uv's ``name=url``
        if not item or (_URL.match(item) and not item.lower().startswith("file:")):
            continue  # a remote URL (find-links, a requirement file, an index)
        path = re.sub(r"^file:(//)?", "", item, flags=re.IGNORECASE)
        if "$" in path or "`" in path:
            raise Unprovable(f"{name}={value} uses a variable dockfix cannot resolve")
        if path.startswith("~") and scope.home is not None and (path == "~" or path[1] == "/"):
            path = scope.home + path[1:]
        if not path.startswith("/"):
            raise Unprovable(f"{name}={value} is a relative path (the source may bring it)")
        image = posixpath.normpath(path)
        if scope.in_copy(image) or _within(scope.copy_dest, image):
            raise Unprovable(f"{name}={value} is in the copied folder {scope.copy_dest}")


def reads_of(package: PackageCommand, scope: Scope) -> str:
    """Record in ``scope`` what ``package`` reads; return what stays unchecked ('' if
    nothing: with the context on disk everything is checked)."""
    _location_checked(package, scope)
    _settings_checked(package, scope)
    manager, action = package.manager, package.action
    if manager in (Manager.PIP, Manager.UV) and action in ("install", "sync"):
        return _pip(package, scope)
    if manager in _NODE and action in ("install", "ci"):
        return _node(package, scope)
    if manager is Manager.GO and action == "mod-download":
        return _go(scope)
    if manager is Manager.PIPENV and action in ("install", "sync"):
        return _pipenv(package, scope)
    if manager is Manager.POETRY and action == "install":
        return _poetry(package, scope)
    raise ReadsSource(f"`{manager.value} {action}` may read the source")


# -- pip / uv -------------------------------------------------------------------------------

_URL = lazy_re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_LOCAL_ARCHIVE = (".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2")


def _is_local(value: str) -> bool:
    """A requirement naming a path (``./libs/x``, ``/wheels/a.whl``, ``x.whl``)."""
    return (
        value.startswith((".", "/", "~"))
        or value.lower().endswith(_LOCAL_ARCHIVE)
        or ("/" in value and not _URL.match(value) and "@" not in value)
    )


def _pip(package: PackageCommand, scope: Scope) -> str:
    if package.has_option("-e", "--editable"):
        raise Unprovable("an editable install needs the source")
    for word in package.packages:
        if word.value.startswith("file:") or _is_local(word.value):
            raise Unprovable(f"`{word.text}` installs from the source tree")
    if package.manager is Manager.UV and package.action == "sync":
        raise Unprovable("uv sync installs the project itself")
    for word in package.option_values("-f", "--find-links"):
        _find_links(word.value, scope, None)
    if package.manager is Manager.UV and scope.on_disk:
        _uv_settings(scope)
    files = [scope.image_path(name) for name in package.requirement_files]
    if not files:
        return ""
    if package.manager is Manager.UV:
        for path in files:
            _uv_source_checked(path, scope)
    if not scope.on_disk:
        for path in files:
            scope.need_file(scope.relative(path))
        return (
            "requirement files were not read: their -r/-c includes, local paths and "
            "--find-links folders are not copied"
        )
    seen: list[str] = []
    queue = list(files)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.append(path)
        relative = scope.relative(path)
        scope.need_file(relative)
        if package.manager is Manager.UV:
            _uv_source_checked(path, scope)
            if posixpath.basename(path) == "pyproject.toml":
                _uv_pyproject(relative, scope)
                continue
        queue.extend(_requirement_lines(scope.read(relative), path, scope))
    return ""


def _uv_settings(scope: Scope) -> None:
    """uv's settings: ``uv.toml``/``pyproject.toml`` (and ``.python-version``) of the
    working folder and the folders above it up to the copied one (uv looks upwards), and
    the local paths they name (a ``find-links`` folder, a path index)."""
    folder = scope.image_path(".")
    scope.relative(folder)  # the working folder must be one the broad COPY fills
    while scope.in_copy(folder):
        for name in ("uv.toml", "pyproject.toml", ".python-version"):
            relative = scope.relative(posixpath.join(folder, name))
            if not scope.need_file(relative, required=False) or name == ".python-version":
                continue
            try:
                data = tomllib.loads(scope.read(relative))
            except tomllib.TOMLDecodeError:
                raise Unprovable(f"{relative} is not valid TOML") from None
            tool = data.get("tool") if name == "pyproject.toml" else {"uv": data}
            uv = tool.get("uv") if isinstance(tool, dict) else None
            if isinstance(uv, dict):
                for table in (uv, uv.get("pip")):
                    if isinstance(table, dict):
                        _uv_index_paths(table, relative, scope)
        if folder == scope.copy_dest or folder == "/":
            break
        folder = posixpath.dirname(folder)


def _uv_index_paths(table: dict[str, Any], what: str, scope: Scope) -> None:
    """Refuse an index or ``find-links`` setting of a uv config file that names a local
    path the broad COPY may bring (relative, or inside the copied folder)."""
    for key in ("find-links", "index-url", "extra-index-url", "index"):
        value = table.get(key)
        for item in value if isinstance(value, list) else [value]:
            url = item.get("url") if isinstance(item, dict) else item
            if url is None:
                continue
            if not isinstance(url, str):
                raise Unprovable(f"{what} has a `{key}` dockfix does not read")
            _setting_path(f"{what} {key}", url, scope, urls=True)


#: uv reads these as requirement sources by building the project (PEP 517): the
#: build backend runs on the whole source.
_BUILT_SOURCES = ("setup.py", "setup.cfg")
_BUILDS = "uv builds the project's metadata, which needs the whole source"


def _uv_source_checked(path: str, scope: Scope) -> None:
    name = posixpath.basename(path)
    if name in _BUILT_SOURCES:
        raise Unprovable(f"`-r {name}`: {_BUILDS}")
    if name == "pyproject.toml" and not scope.on_disk:
        raise Unprovable(f"`-r {name}` cannot be read to rule out dynamic dependencies")


_DIRECT_REFERENCE = lazy_re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@\s*(\S+)")


def _uv_pyproject(relative: str, scope: Scope) -> None:
    """``uv pip install -r pyproject.toml``: uv reads the ``[project]`` dependencies from
    the file only when they are static; otherwise (``dynamic``, no ``[project]`` table, a
    Poetry or setup.py project) it builds the project's metadata from the whole source.
    Local paths it names (``file:`` references, ``[tool.uv.sources]`` paths) are copied
    first; a uv workspace is refused."""
    try:
        data = tomllib.loads(scope.read(relative))
    except tomllib.TOMLDecodeError:
        raise Unprovable(f"{relative} is not valid TOML") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise Unprovable(f"{relative} has no [project] table: {_BUILDS}")
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise Unprovable(f"{relative}: [project] dynamic is not a list")
    for name in ("dependencies", "optional-dependencies"):
        if name in dynamic:
            raise Unprovable(f"{relative} declares its {name} dynamic: {_BUILDS}")
    dependencies = project.get("dependencies")
    if not isinstance(project.get("name"), str) or not _strings(dependencies):
        raise Unprovable(f"{relative} lists no static [project] dependencies: {_BUILDS}")
    specs: list[str] = list(dependencies)
    for table in (project.get("optional-dependencies"), data.get("dependency-groups")):
        if table is None:
            continue
        if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
            raise Unprovable(f"{relative} has extras or groups in a form dockfix does not read")
        for group in table.values():
            specs.extend(item for item in group if isinstance(item, str))
    base = posixpath.normpath(posixpath.join(scope.copy_dest, posixpath.dirname(relative)))
    for spec in specs:
        reference = _DIRECT_REFERENCE.match(spec.split(";", 1)[0])
        if reference is not None:
            _local_requirement(reference.group(1), scope, base)
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    if not isinstance(uv, dict):
        return
    if uv.get("workspace") is not None:
        raise Unprovable(f"{relative} defines a uv workspace")
    sources = uv.get("sources") or {}
    if not isinstance(sources, dict):
        raise Unprovable(f"{relative} has [tool.uv.sources] in a form dockfix does not read")
    for name, source in sources.items():
        for entry in source if isinstance(source, list) else [source]:
            if not isinstance(entry, dict):
                raise Unprovable(f"{relative}: the uv source of `{name}` cannot be read")
            if "workspace" in entry:
                raise Unprovable(f"{relative}: `{name}` comes from the uv workspace")
            if "path" in entry:
                path = entry["path"]
                if not isinstance(path, str):
                    raise Unprovable(f"{relative}: the uv source of `{name}` cannot be read")
                _local_requirement(path, scope, base)


def _strings(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _logical_lines(text: str) -> Iterable[str]:
    """Requirement-file lines, continuations joined and comments dropped (pip's reading)."""
    pending = ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = re.sub(r"(^|\s)#.*$", "", pending + raw).strip()
        pending = ""
        if line:
            yield line


_OPTION = lazy_re.compile(r"^(-[a-zA-Z]|--[a-z-]+)(?:[=\s]\s*(\S+))?\s*(.*)$")


def _requirement_lines(text: str, path: str, scope: Scope) -> list[str]:
    """Follow one requirement file: record local paths, return the files it includes."""
    folder = posixpath.dirname(path)
    includes: list[str] = []
    for line in _logical_lines(text):
        option = _OPTION.match(line)
        if option:
            name, value = option.group(1), option.group(2) or ""
            if name in ("-r", "--requirement", "-c", "--constraint"):
                includes.append(scope.image_path(value, folder))
            elif name in ("-e", "--editable"):
                _local_requirement(value, scope)
            elif name in ("-f", "--find-links"):
                _find_links(value, scope, folder)
            continue
        requirement = (
            line.split(" ;", 1)[0].split(";", 1)[0].strip() if not _URL.match(line) else line
        )
        if " @ " in requirement or requirement.startswith("file:"):
            url = requirement.split(" @ ", 1)[-1].strip()
            if url.startswith("file:"):
                _local_requirement(url, scope)
            continue
        if _is_local(requirement):
            _local_requirement(requirement, scope)
    return includes


def _local_requirement(value: str, scope: Scope, base: str | None = None) -> None:
    """A local path or ``file:`` URL named by a requirement (relative to ``base``, by
    default the cwd)."""
    if _URL.match(value) and not value.startswith("file:"):
        return  # git+https://... and other remote sources read nothing local
    value = re.sub(r"^file:(//)?", "", value).split("#", 1)[0].split("[", 1)[0]
    image = scope.image_path(value, base)
    if _within(scope.copy_dest, image):
        raise Unprovable(f"`{value}` installs the project itself")
    if not scope.in_copy(image):
        return  # made by an earlier step (COPY --from, a download): still there
    scope.need_dir(scope.relative(image))


def _within(path: str, folder: str) -> bool:
    return path == folder or folder == "/" or path.startswith(folder.rstrip("/") + "/")


def _find_links(value: str, scope: Scope, folder: str | None) -> None:
    """``--find-links DIR``: a local folder of archives the install reads."""
    if _URL.match(value) and not value.startswith("file:"):
        return
    value = re.sub(r"^file:(//)?", "", value)
    image = scope.image_path(value)
    if folder is not None and not value.startswith("/"):
        # pip tries the requirement file's folder first, then the working directory.
        beside = scope.image_path(value, folder)
        if scope.in_copy(beside) and scope.present(scope.relative(beside)):
            image = beside
    if not scope.in_copy(image):
        return  # an image folder made by an earlier step, not by the broad COPY
    if not scope.on_disk:
        raise Unprovable(f"--find-links {value}: the build context is not on disk")
    scope.need_dir(scope.relative(image))


# -- npm / yarn / pnpm ------------------------------------------------------------------------


def _node(package: PackageCommand, scope: Scope) -> str:
    manager = package.manager
    if package.packages:
        if package.has_option("-g", "--global"):
            return ""  # global named packages: nothing of the project is read
        raise Unprovable(
            f"`{manager.value} {package.action} <package>` changes the project's package.json"
        )
    project = scope.relative(scope.image_path("."))
    join = _joiner(project)
    if not scope.on_disk:
        scope.need_file(join("package.json"))
        frozen = package.action == "ci" or package.has_option(
            "--frozen-lockfile", "--immutable", "--pure-lockfile"
        )
        if not frozen:
            raise Unprovable(
                "no build context on disk: the lock and config files the install reads are unknown"
            )
        lock = {
            Manager.NPM: "package-lock.json",
            Manager.YARN: "yarn.lock",
            Manager.PNPM: "pnpm-lock.yaml",
        }[manager]
        scope.need_file(join(lock))
        return (
            "package.json was not read: .npmrc, .yarnrc/.yarn, workspaces and file:/link: "
            "dependencies are not copied"
        )
    _node_package(join("package.json"), scope, root=True)
    for lock in _LOCKS[manager]:
        scope.need_file(join(lock), required=False)
    scope.need_file(join(".npmrc"), required=False)
    if manager is Manager.YARN:
        _yarn_files(project, scope)
    if manager is Manager.PNPM:
        _pnpm_files(project, scope)
    return ""


def _joiner(folder: str) -> Callable[[str], str]:
    return lambda name: posixpath.normpath(posixpath.join(folder, name))


def _load_json(scope: Scope, relative: str) -> dict[str, Any]:
    try:
        data = json.loads(scope.read(relative))
    except ValueError as error:
        raise Unprovable(f"{relative} is not valid JSON ({error.args[0][:40]})") from None
    if not isinstance(data, dict):
        raise Unprovable(f"{relative} is not a JSON object")
    return data


def _node_package(relative: str, scope: Scope, *, root: bool) -> None:
    """A package.json the install reads: copy it, refuse install hooks, follow workspaces
    and local dependencies."""
    scope.need_file(relative)
    data = _load_json(scope, relative)
    folder = posixpath.dirname(relative) or "."
    _refuse_hooks(data, relative)
    if not root and data.get("bin"):
        raise Unprovable(f"workspace {relative} links bin files that are not copied yet")
    modules = posixpath.normpath(posixpath.join(folder, "node_modules"))
    if scope.present(modules):
        raise Unprovable(f"the context's {modules} would overwrite the installed packages")
    for specs in _dependency_specs(data):
        _node_spec(specs, folder, scope)
    if root:
        for pattern in _workspace_patterns(data):
            for found in _workspace_manifests(folder, pattern, scope):
                _node_package(found, scope, root=False)


def _dependency_specs(data: dict[str, Any]) -> list[str]:
    specs: list[str] = []
    for name in (*_DEPENDENCY_FIELDS, *_OVERRIDE_FIELDS):
        value = data.get(name)
        if isinstance(value, dict):
            specs.extend(v for v in value.values() if isinstance(v, str))
    pnpm = data.get("pnpm")
    if isinstance(pnpm, dict):
        for name in ("overrides", "patchedDependencies"):
            value = pnpm.get(name)
            if isinstance(value, dict):
                prefix = "patch-file:" if name == "patchedDependencies" else ""
                specs.extend(prefix + v for v in value.values() if isinstance(v, str))
    return specs


def _patch_path(spec: str) -> str | None:
    """The local file a patch specifier names (pnpm ``patchedDependencies``, yarn ``patch:``)."""
    if spec.startswith("patch-file:"):
        return spec.removeprefix("patch-file:")
    path = spec.rpartition("#")[2].split("::", 1)[0]
    if path.startswith("~/"):
        return path[2:]
    return path if path.startswith(("./", "../")) else None


def _node_spec(spec: str, folder: str, scope: Scope) -> None:
    """One dependency specifier: local ones (``file:``, ``link:``, ``portal:``, patches)."""
    if spec.startswith("exec:"):
        raise Unprovable(f"`{spec}` runs a local script")
    base = posixpath.normpath(posixpath.join(scope.copy_dest, folder))
    if spec.startswith(("patch-file:", "patch:")):
        path = _patch_path(spec)
        if path is not None:
            scope.need_file(scope.relative(scope.image_path(path, base)))
        return
    for prefix in ("file:", "link:", "portal:"):
        if not spec.startswith(prefix):
            continue
        relative = scope.relative(scope.image_path(spec.removeprefix(prefix), base))
        if scope.context.is_file(relative):
            scope.need_file(relative)
            return
        nested = posixpath.join(relative, "package.json")
        if scope.context.is_file(nested):
            _refuse_hooks(_load_json(scope, nested), f"local dependency {nested}")
        scope.need_dir(relative)
        return


def _refuse_hooks(data: dict[str, Any], what: str) -> None:
    scripts = data.get("scripts") or {}
    for hook in _HOOKS:
        if isinstance(scripts, dict) and hook in scripts:
            raise Unprovable(f"{what} has a {hook} script")


def _workspace_patterns(data: dict[str, Any]) -> list[str]:
    workspaces = data.get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if workspaces is None:
        return []
    if not isinstance(workspaces, list) or not all(isinstance(p, str) for p in workspaces):
        raise Unprovable("package.json has workspaces in a form dockfix does not read")
    return list(workspaces)


def _workspace_manifests(folder: str, pattern: str, scope: Scope) -> list[str]:
    """package.json files of the workspace folders a pattern names (a superset is fine:
    an extra package.json copied early is read by nothing)."""
    if pattern.startswith("!"):
        return []
    pattern = pattern.strip().rstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if "$" in pattern or "{" in pattern:
        raise Unprovable(f"workspace pattern {pattern!r} cannot be expanded")
    base = posixpath.normpath(posixpath.join(folder, pattern))
    if base.startswith(".."):
        raise Unprovable(f"workspace {pattern} is outside the copied folder")
    if "**" in base:
        prefix = base.split("**", 1)[0].rstrip("/") or "."
        files = scope.context.files_under(prefix)
        if files is None:
            raise Unprovable(f"workspace pattern {pattern!r} cannot be expanded")
        root = posixpath.normpath(posixpath.join(folder, "package.json"))
        return [
            f
            for f in files
            if posixpath.basename(f) == "package.json"
            and "/node_modules/" not in "/" + f
            and f != root
            and not scope.ignore.excluded(f)
        ]
    matches = scope.context.glob(posixpath.join(base, "package.json"))
    if matches is None:
        raise Unprovable(f"workspace pattern {pattern!r} cannot be expanded")
    return [m for m in matches if not scope.ignore.excluded(m)]


_YARN_PATH = lazy_re.compile(r"""^\s*yarnPath:\s*["']?([^"'\s#]+)""", re.MULTILINE)
_YARN1_PATH = lazy_re.compile(r"""^\s*yarn-path\s+["']?([^"'\s#]+)""", re.MULTILINE)
_YAML_ITEM = lazy_re.compile(r"""^\s*-\s*(?:path:\s*)?["']?([^"'\s#]+)""")


def _yarn_files(project: str, scope: Scope) -> None:
    """``.yarnrc``/``.yarnrc.yml``, the release ``yarnPath`` names, and ``.yarn`` itself
    (plugins, patches, releases, the offline cache: yarn reads all of it)."""
    join = _joiner(project)
    for name in (".yarnrc", ".yarnrc.yml"):
        if not scope.need_file(join(name), required=False):
            continue
        text = scope.read(join(name))
        for regex in (_YARN_PATH, _YARN1_PATH):
            for match in regex.finditer(text):
                relative = scope.relative(scope.image_path(match.group(1)))
                if not relative.startswith(join(".yarn") + "/"):
                    scope.need_file(relative)
    if scope.present(join(".yarn")):
        scope.need_dir(join(".yarn"))


def _pnpm_files(project: str, scope: Scope) -> None:
    """``pnpm-workspace.yaml`` and its packages, ``.pnpmfile.cjs`` hooks, ``patches``."""
    join = _joiner(project)
    scope.need_file(join(".pnpmfile.cjs"), required=False)
    if scope.present(join("patches")):
        scope.need_dir(join("patches"))
    if not scope.need_file(join("pnpm-workspace.yaml"), required=False):
        return
    text = scope.read(join("pnpm-workspace.yaml"))
    section = ""
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            section = raw.split(":", 1)[0].strip()
            if section == "patchedDependencies":
                raise Unprovable("pnpm-workspace.yaml patches dependencies from files")
            continue
        if section != "packages":
            continue
        item = _YAML_ITEM.match(raw)
        if item is None:
            raise Unprovable("pnpm-workspace.yaml has packages in a form dockfix does not read")
        for found in _workspace_manifests(project, item.group(1), scope):
            _node_package(found, scope, root=False)


# -- go --------------------------------------------------------------------------------------

_REPLACE = lazy_re.compile(r"=>\s*(\S+)(?:\s+v\S+)?\s*$")


def _manifest_and_lock(
    scope: Scope, manifest: str, lock: str, *, lock_required: bool = False
) -> Callable[[str], str]:
    """Copy the project's manifest and its lock file (named blindly without a context:
    the install then fails loudly if it is missing); return the path joiner."""
    join = _joiner(scope.relative(scope.image_path(".")))
    scope.need_file(join(manifest))
    scope.need_file(join(lock), required=lock_required or not scope.on_disk)
    return join


def _go(scope: Scope) -> str:
    join = _manifest_and_lock(scope, "go.mod", "go.sum")
    if not scope.on_disk:
        return "go.mod was not read: local `replace` targets and go.work are not copied"
    for name in ("go.work", "go.work.sum"):
        if scope.present(join(name)):
            raise Unprovable(f"{name} makes the install read other modules")
    in_replace = False
    for raw in scope.read(join("go.mod")).splitlines():
        line = raw.split("//", 1)[0].strip()
        if line.startswith("replace ("):
            in_replace = True
            continue
        if in_replace and line == ")":
            in_replace = False
            continue
        if not (in_replace or line.startswith("replace ")):
            continue
        target = _REPLACE.search(line)
        if target is None:
            continue
        path = target.group(1)
        if not path.startswith(("./", "../", "/")) and path not in (".", ".."):
            continue  # another module version: downloaded, nothing local
        module = scope.relative(scope.image_path(path, scope.image_path(".")))
        scope.need_file(posixpath.join(module, "go.mod"))
        scope.need_file(posixpath.join(module, "go.sum"), required=False)
    return ""


# -- pipenv / poetry -------------------------------------------------------------------------

_PATH_DEPENDENCY = lazy_re.compile(r"""\bpath\s*=\s*["']([^"']+)["']""")


def _path_dependencies(text: str, scope: Scope) -> None:
    for match in _PATH_DEPENDENCY.finditer(text):
        image = scope.image_path(match.group(1))
        if image == scope.copy_dest:
            raise Unprovable(f"path dependency `{match.group(1)}` is the project itself")
        scope.need_dir(scope.relative(image))


def _pipenv(package: PackageCommand, scope: Scope) -> str:
    if package.packages:
        raise Unprovable("`pipenv install <package>` changes the project's Pipfile")
    join = _manifest_and_lock(
        scope, "Pipfile", "Pipfile.lock", lock_required=package.has_option("--deploy")
    )
    for path in package.requirement_files:
        scope.need_file(scope.relative(scope.image_path(path)))
    if not scope.on_disk:
        return "Pipfile was not read: path dependencies and .env are not copied"
    scope.need_file(join(".env"), required=False)  # pipenv loads it for the install
    _path_dependencies(scope.read(join("Pipfile")), scope)
    return ""


def _poetry(package: PackageCommand, scope: Scope) -> str:
    if not package.has_option("--no-root"):
        raise Unprovable("poetry install without --no-root installs the project itself")
    join = _manifest_and_lock(scope, "pyproject.toml", "poetry.lock")
    if not scope.on_disk:
        return "pyproject.toml was not read: path dependencies and poetry.toml are not copied"
    scope.need_file(join("poetry.toml"), required=False)
    if scope.present(join(".venv")):
        raise Unprovable(f"the context's {join('.venv')} would overwrite an in-project virtualenv")
    _path_dependencies(scope.read(join("pyproject.toml")), scope)
    return ""
