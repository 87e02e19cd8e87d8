"""Project configuration: ``[tool.dockfix]``, ``.dockfix.toml`` or ``dockfix.toml``.

A monorepo has teams with different needs, so configuration is found like ruff finds
its own: for each Dockerfile, the nearest configuration file in its folder or above wins
(``.dockfix.toml`` before ``dockfix.toml`` before a ``pyproject.toml`` that has a
``[tool.dockfix]`` table), and ``extend = "path"`` inherits another file.  ``--config``
uses one file for everything; ``--isolated`` none.  Every mistake (unknown key, wrong
type, unknown rule) is a :class:`ConfigError` naming the file and the key: a typo in a
configuration must never silently turn a rule off.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import field, fields, replace
from pathlib import Path
from typing import Any

from dockfix.globs import Glob, any_match
from dockfix.lazy_dataclass import dataclass
from dockfix.strategies import CacheStrategy, SplitStrategy, choices

__all__ = ["CONFIG_NAMES", "Config", "ConfigError", "load_config"]

#: File names searched in each folder, in order of precedence.
CONFIG_NAMES = (".dockfix.toml", "dockfix.toml", "pyproject.toml")

_STRATEGIES = {"cache-strategy": choices(CacheStrategy), "split-strategy": choices(SplitStrategy)}
# The patterns below are strings, compiled by ``re``'s cache on first use: most runs find
# no configuration file and never need them (start-up time).
#: What useradd/adduser accept on every distribution the rules know.
_USER_NAME = r"[a-z_][a-z0-9_-]{0,31}"
_IMAGE_NAME = r"[a-z0-9][a-z0-9._:/-]*"


class ConfigError(Exception):
    """A configuration file dockfix cannot use, as ``path: key: message``."""

    def __init__(self, path: Path | str, key: str | None, message: str) -> None:
        self.path, self.key, self.message = _shown(path), key, message
        where = self.path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


def _shown(path: Path | str) -> str:
    """*path* relative to the working folder when it is inside it (as the user sees it)."""
    text = str(path)
    if not os.path.isabs(text):
        return text
    relative = os.path.relpath(text)
    return text if relative.startswith("..") else relative


@dataclass(frozen=True)
class Config:
    """One configuration (after ``extend``); ``None`` means "not set here"."""

    #: The file it was read from (None: built-in defaults).
    path: str | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    per_file_ignores: tuple[tuple[Glob, tuple[str, ...]], ...] = ()
    exclude: tuple[Glob, ...] = ()
    extend_exclude: tuple[Glob, ...] = ()
    include: tuple[Glob, ...] = ()
    cache_strategy: str | None = None
    split_strategy: str | None = None
    user_name: str | None = None
    user_uid: int | None = None
    syntax_directive: bool | None = None
    healthcheck_path: str | None = None
    image_aliases: tuple[tuple[str, str], ...] = ()
    #: ``pins``: image name -> tag, ``tag@sha256:...`` or ``sha256:...`` (DF302's fixes).
    pins: tuple[tuple[str, str], ...] = ()
    #: ``checksums``: URL -> ``sha256:<hex>`` (DF304's ``ADD --checksum=`` fixes).
    checksums: tuple[tuple[str, str], ...] = ()
    #: Which keys the file set, so that ``extend`` knows what overrides the base.
    keys: frozenset[str] = field(default=frozenset(), compare=False)

    def excludes(self, path: str) -> bool:
        """Whether the file or folder at absolute POSIX *path*, met while searching, is excluded."""
        return any_match((*self.exclude, *self.extend_exclude), path, entry=True)

    def includes(self, path: str) -> bool:
        """Whether the absolute POSIX *path* matches an ``include`` pattern."""
        return any_match(self.include, path)

    def ignored_for(self, path: str) -> tuple[str, ...]:
        """Rule selectors ``per-file-ignores`` turns off for *path*."""
        codes: list[str] = []
        for glob, selectors in self.per_file_ignores:
            if glob.matches(path):
                codes.extend(selectors)
        return tuple(codes)


#: Keys that add to what ``extend`` inherits instead of replacing it.
_ACCUMULATE = frozenset(
    {"extend-select", "extend-exclude", "per-file-ignores", "image-aliases", "pins", "checksums"}
)
#: Table keys whose entries merge over the inherited table's (same key: the extending wins).
_TABLES = frozenset({"image-aliases", "pins", "checksums"})


def load_config(path: Path) -> Config:
    """Read one configuration file, following ``extend``; raises :class:`ConfigError`."""
    return _load(_absolute(path), ())


def _absolute(path: Path) -> Path:
    """Absolute and without ``..``, so globs and cycle checks compare like with like."""
    return Path(os.path.abspath(path))


def find_in(folder: Path) -> Path | None:
    """The configuration file in *folder* itself, if any (a pyproject needs the table)."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_symlink() and not candidate.exists():
            # Skipping it would apply the defaults where the user meant a configuration.
            raise ConfigError(candidate, None, "a symbolic link to nothing")
        if candidate.is_file() and (name != "pyproject.toml" or _has_table(candidate)):
            return candidate
    return None


def _has_table(pyproject: Path) -> bool:
    """Whether a ``pyproject.toml`` configures dockfix.

    A monorepo holds many pyproject files; one that never says "dockfix" is passed over
    without parsing (faster, and a broken one of another tool is not our error).
    """
    try:
        if b"dockfix" not in pyproject.read_bytes():
            return False
    except OSError as error:
        # Whether it configures dockfix (and excludes files) cannot be told: never guess.
        raise ConfigError(pyproject, None, f"cannot read: {error.strerror or error}") from None
    data = _read_toml(pyproject)
    tool = data.get("tool")
    return isinstance(tool, dict) and "dockfix" in tool


def _read_toml(path: Path) -> dict[str, Any]:
    # Imported here: only a run that finds a configuration file reads TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, None, f"invalid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "invalid TOML: not UTF-8") from None
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except OSError as error:
        raise ConfigError(path, None, f"cannot read: {error.strerror or error}") from None
    return data


def _load(path: Path, seen: tuple[Path, ...]) -> Config:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ConfigError(seen[-1], "extend", f"circular extend: {chain}")
    data = _read_toml(path)
    prefix = ""
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("dockfix", {}) if isinstance(tool, dict) else {}
        prefix = "tool.dockfix."
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(path, prefix.rstrip(".") or None, "expected a table")
    own = _parse(path, table, prefix)
    base_name = table.get("extend")
    if base_name is None:
        return own
    if not isinstance(base_name, str) or not base_name:
        raise ConfigError(path, f"{prefix}extend", "expected a path (string)")
    base_path = Path(base_name).expanduser()
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise ConfigError(path, f"{prefix}extend", f"file not found: {base_name}")
    base = _load(_absolute(base_path), (*seen, path))
    return _merge(base, own)


def _merge(base: Config, own: Config) -> Config:
    """*own* over *base*: set keys replace, the ``extend-*``-like keys add up."""
    changes: dict[str, Any] = {"path": own.path, "keys": base.keys | own.keys}
    for item in fields(Config):
        key = item.name.replace("_", "-")
        if key not in own.keys:
            continue
        value = getattr(own, item.name)
        if key in _TABLES:
            merged = dict(getattr(base, item.name))
            merged.update(dict(value))
            value = tuple(merged.items())
        elif key in _ACCUMULATE:
            value = (*getattr(base, item.name), *value)
        changes[item.name] = value
    return replace(base, **changes)


# --- parsing and checking one table --------------------------------------------------------


def _parse(path: Path, table: Mapping[str, Any], prefix: str) -> Config:
    root = path.parent.as_posix()
    #: Field name -> value; each of _PARSERS returns its field's type, checked at run time.
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if key == "extend":
            continue
        parser = _PARSERS.get(key)
        if parser is None:
            import difflib

            close = difflib.get_close_matches(key, [*_PARSERS, "extend"], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(path, name, f"unknown key{hint}")
        values[key.replace("-", "_")] = parser(path, name, value, root)
    return Config(path=str(path), keys=frozenset(table) - {"extend"}, **values)


_Parser = Callable[[Path, str, Any, str], object]


def _strings(path: Path, name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, name, f"expected a list of strings, got {_type(value)}")
    return tuple(value)


def _selectors(path: Path, name: str, value: Any, _root: str = "") -> tuple[str, ...]:
    from dockfix.rules import select_rules

    selectors = _strings(path, name, value)
    try:
        select_rules(selectors)
    except ValueError as error:
        raise ConfigError(path, name, str(error)) from None
    return selectors


def _globs(path: Path, name: str, value: Any, root: str) -> tuple[Glob, ...]:
    patterns = _strings(path, name, value)
    for pattern in patterns:
        if not pattern.strip():
            raise ConfigError(path, name, "empty pattern")
    return tuple(Glob(pattern, root) for pattern in patterns)


def _per_file_ignores(
    path: Path, name: str, value: Any, root: str
) -> tuple[tuple[Glob, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(path, name, f"expected a table of glob = [codes], got {_type(value)}")
    return tuple(
        (Glob(pattern, root), _selectors(path, f"{name}.{pattern}", codes))
        for pattern, codes in value.items()
    )


def _bool(path: Path, name: str, value: Any, _root: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, name, f"expected true or false, got {_type(value)}")
    return value


def _choice(path: Path, name: str, value: Any, _root: str) -> str:
    allowed = _STRATEGIES[name.rsplit(".", 1)[-1]]
    if value not in allowed:
        choices = " or ".join(repr(choice) for choice in allowed)
        raise ConfigError(path, name, f"expected {choices}, got {value!r}")
    return str(value)


def _user_name(path: Path, name: str, value: Any, _root: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(_USER_NAME, value) or value == "root":
        raise ConfigError(path, name, f"expected a user name like 'app' (not root), got {value!r}")
    return value


def _user_uid(path: Path, name: str, value: Any, _root: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise ConfigError(path, name, f"expected a uid from 1 to 2147483647, got {value!r}")
    return value


def _healthcheck_path(path: Path, name: str, value: Any, _root: str) -> str:
    from dockfix.rules.missing_healthcheck import PATH_PATTERN

    if not isinstance(value, str) or not PATH_PATTERN.fullmatch(value):
        raise ConfigError(
            path, name, f"expected a URL path like '/health' (no quotes or spaces), got {value!r}"
        )
    return value


def _image_aliases(path: Path, name: str, value: Any, _root: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError(path, name, f"expected a table of image = image, got {_type(value)}")
    pairs = []
    for alias, canonical in value.items():
        key = f"{name}.{alias}"
        if not isinstance(canonical, str):
            raise ConfigError(path, key, f"expected an image name, got {_type(canonical)}")
        for text in (alias, canonical):
            if not re.fullmatch(_IMAGE_NAME, text.lower()):
                raise ConfigError(path, key, f"not an image name: {text!r}")
        pairs.append((alias.lower().rstrip("/"), canonical.lower().rstrip("/")))
    return tuple(pairs)


_PIN = r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?|sha256:[0-9a-f]{64})"
_SHA256 = r"sha256:[0-9a-f]{64}"


def _pins(path: Path, name: str, value: Any, _root: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError(path, name, f"expected a table of image = tag, got {_type(value)}")
    pairs = []
    for image, pin in value.items():
        key = f"{name}.{image}"
        if not re.fullmatch(_IMAGE_NAME, image.lower()) or ":" in image.rpartition("/")[2]:
            raise ConfigError(path, key, f"not an image name without a tag: {image!r}")
        if not isinstance(pin, str) or not re.fullmatch(_PIN, pin) or pin == "latest":
            raise ConfigError(
                path,
                key,
                "expected a tag ('3.12-slim'), 'tag@sha256:<64 hex>' or 'sha256:<64 hex>', "
                f"got {pin!r}",
            )
        pairs.append((image.lower().rstrip("/"), pin))
    return tuple(pairs)


def _checksums(path: Path, name: str, value: Any, _root: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError(path, name, f"expected a table of URL = checksum, got {_type(value)}")
    pairs = []
    for url, checksum in value.items():
        key = f"{name}.{url}"
        if not url.startswith(("https://", "http://")):
            raise ConfigError(path, key, f"expected an http(s) URL, got {url!r}")
        if not isinstance(checksum, str) or not re.fullmatch(_SHA256, checksum.lower()):
            raise ConfigError(path, key, f"expected 'sha256:<64 hex digits>', got {checksum!r}")
        pairs.append((url, checksum.lower()))
    return tuple(pairs)


def _type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    names.update({list: "a list", dict: "a table"})
    return names.get(type(value), type(value).__name__)


_PARSERS: dict[str, _Parser] = {
    "select": _selectors,
    "extend-select": _selectors,
    "ignore": _selectors,
    "unsafe-fixes": _bool,
    "per-file-ignores": _per_file_ignores,
    "exclude": _globs,
    "extend-exclude": _globs,
    "include": _globs,
    "cache-strategy": _choice,
    "split-strategy": _choice,
    "user-name": _user_name,
    "user-uid": _user_uid,
    "syntax-directive": _bool,
    "healthcheck-path": _healthcheck_path,
    "image-aliases": _image_aliases,
    "pins": _pins,
    "checksums": _checksums,
}
