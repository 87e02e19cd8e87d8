"""The one parser of ``RUN --mount=...`` flags.

BuildKit reads a mount spec as one CSV record (``type=cache,target=/x,"id=a,b"``); the
keys ``target``/``dst``/``destination`` are synonyms, ``type`` defaults to ``bind``.
Rules ask "is this folder already mounted?", so the answer lives here once.
"""

from __future__ import annotations

import csv
import posixpath
from dataclasses import field

from dockfix.lazy_dataclass import dataclass
from dockfix.syntax import Instruction


@dataclass(frozen=True)
class Mount:
    """One ``--mount`` flag, its fields normalised (keys lower-case, target without ``/``)."""

    type: str
    target: str
    options: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def source(self) -> str | None:
        return self.options.get("source") or self.options.get("src")

    @property
    def from_stage(self) -> str | None:
        return self.options.get("from")

    def covers(self, path: str) -> bool:
        """True when ``path`` is the target or lies inside it."""
        return path_within(path, self.target)

    def overlaps(self, path: str) -> bool:
        """True when ``path`` and the target are the same folder or one holds the other."""
        return path_within(path, self.target) or path_within(self.target, path)


def normalise(path: str) -> str:
    """``/root/.cache/pip/`` -> ``/root/.cache/pip``; ``/`` stays ``/``."""
    path = path.strip().strip("\"'")
    if not path:
        return ""
    normal = posixpath.normpath(path)
    return "/" if normal in ("/", "//") else normal


def path_within(path: str, folder: str) -> bool:
    """``path`` equals ``folder`` or is inside it (both POSIX paths)."""
    path, folder = normalise(path), normalise(folder)
    if not path or not folder:
        return False
    return path == folder or folder == "/" or path.startswith(folder + "/")


def parse_mount(spec: str) -> Mount:
    """A mount spec (the flag's value) as a ``Mount``; unknown text is kept in options."""
    try:
        fields = next(csv.reader([spec], skipinitialspace=True), [])
    except csv.Error:
        fields = spec.split(",")
    options: dict[str, str] = {}
    for part in fields:
        key, equals, value = part.partition("=")
        options[key.strip().lower()] = value.strip() if equals else "true"
    target = options.get("target") or options.get("dst") or options.get("destination") or ""
    return Mount(options.get("type", "bind").lower(), normalise(target), options)


def mounts_of(instruction: Instruction) -> tuple[Mount, ...]:
    """The mounts of a ``RUN`` (empty for other instructions); read once per instruction."""
    cache = instruction.__dict__
    found: tuple[Mount, ...] | None = cache.get("_mounts")
    if found is None:
        found = cache["_mounts"] = _mounts_of(instruction)
    return found


def _mounts_of(instruction: Instruction) -> tuple[Mount, ...]:
    return tuple(
        parse_mount(flag.value)
        for flag in instruction.flags
        if flag.name == "mount" and flag.value is not None
    )


def has_mount_over(instruction: Instruction, *folders: str, types: tuple[str, ...] = ()) -> bool:
    """True when a mount (of one of ``types``, any type if empty) overlaps one of ``folders``."""
    for mount in mounts_of(instruction):
        if types and mount.type not in types:
            continue
        if any(mount.overlaps(folder) for folder in folders):
            return True
    return False
