"""Facts about a built image, in one shape whatever tool produced them.

Why: a rewrite is verified by comparing two images. Docker, podman and buildah each print image
configuration differently (podman keeps the healthcheck outside `Config`, buildah has no size);
turning each output into the same frozen `ImageFacts` keeps every comparison tool-agnostic.
The same goes for files: a tar stream of one folder becomes a `FileTree` keyed by path.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import stat
import tarfile
from collections.abc import Mapping
from dataclasses import field
from typing import Any, NamedTuple

from dockfix.lazy_dataclass import dataclass

__all__ = [
    "FileEntry",
    "FileTree",
    "ImageFacts",
    "facts_from_buildah",
    "facts_from_inspect",
    "tree_from_tar",
]


@dataclass(frozen=True)
class ImageFacts:
    """What an image promises to whoever runs it, plus its cost (size, layers).

    Sequences are tuples and absent values are None or empty, so that two facts compare equal
    exactly when the images are configured the same.
    """

    tag: str
    image_id: str
    #: "KEY=value" strings in image order (later duplicates win, as in a container).
    env: tuple[str, ...]
    #: "" means root, as Docker reports it.
    user: str
    working_dir: str
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    #: Sorted "8000/tcp" style keys.
    exposed_ports: tuple[str, ...]
    #: Docker's Healthcheck object (Test, Interval, ...), or None if the image has none.
    healthcheck: Mapping[str, Any] | None = field(hash=False)
    labels: Mapping[str, str] = field(hash=False)
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""
    #: Bytes as the tool reports them, or None when it cannot (buildah alone).
    size_bytes: int | None = None
    layers: int = 0

    @property
    def env_map(self) -> dict[str, str]:
        """Env as a mapping; a variable set twice keeps its last value, as at run time."""
        out: dict[str, str] = {}
        for item in self.env:
            key, _, value = item.partition("=")
            out[key] = value
        return out

    @property
    def size_mb(self) -> float | None:
        """Size in MB (10^6 bytes, as `docker images` prints it)."""
        return None if self.size_bytes is None else round(self.size_bytes / 1e6, 1)


def _tuple_or_none(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):  # some tools print a shell-form string
        return (value,)
    return tuple(str(v) for v in value)


def _facts(
    tag: str,
    image_id: str,
    config: Mapping[str, Any],
    *,
    healthcheck: Mapping[str, Any] | None,
    size: int | None,
    layers: int,
) -> ImageFacts:
    health = healthcheck if healthcheck is not None else config.get("Healthcheck")
    return ImageFacts(
        tag=tag,
        image_id=image_id,
        env=tuple(config.get("Env") or ()),
        user=str(config.get("User") or ""),
        working_dir=str(config.get("WorkingDir") or ""),
        entrypoint=_tuple_or_none(config.get("Entrypoint")),
        cmd=_tuple_or_none(config.get("Cmd")),
        exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
        healthcheck=dict(health) if health else None,
        labels=dict(config.get("Labels") or {}),
        volumes=tuple(sorted(config.get("Volumes") or {})),
        stop_signal=str(config.get("StopSignal") or ""),
        size_bytes=size,
        layers=layers,
    )


def facts_from_inspect(tag: str, output: str) -> ImageFacts:
    """Parse `podman image inspect` or `docker image inspect` JSON (a one-element list)."""
    data = json.loads(output)
    if isinstance(data, list):
        if len(data) != 1:
            raise ValueError(f"expected one image for {tag!r}, got {len(data)}")
        data = data[0]
    config = data.get("Config") or {}
    # podman puts a docker-format HEALTHCHECK beside Config, docker inside it.
    health = data.get("Healthcheck") or data.get("HealthCheck")
    layers = len((data.get("RootFS") or {}).get("Layers") or ())
    size = data.get("Size")
    return _facts(
        tag,
        str(data.get("Id", "")),
        config,
        healthcheck=health,
        size=int(size) if size is not None else None,
        layers=layers,
    )


def facts_from_buildah(tag: str, output: str) -> ImageFacts:
    """Parse `buildah inspect --type image` JSON (used only when podman is missing)."""
    data = json.loads(output)
    docker = data.get("Docker") or {}
    config = docker.get("config") or (data.get("OCIv1") or {}).get("config") or {}
    diff_ids = (docker.get("rootfs") or {}).get("diff_ids") or ()
    return _facts(
        tag,
        str(data.get("FromImageID", "")),
        config,
        healthcheck=None,
        size=None,
        layers=len(diff_ids),
    )


class FileEntry(NamedTuple):
    """One path of a file tree. A tuple so that `(mode, uid, gid, size, sha256)` unpacks.

    `mode` carries the file type bits too (a file replaced by a symlink is a change). `sha256`
    hashes a regular file's content, "->target" for a symlink, and is "" for other types.
    Modification times are left out on purpose: every build stamps new ones.
    """

    mode: int
    uid: int
    gid: int
    size: int
    sha256: str


#: Relative POSIX path ("." is the folder itself) -> entry.
FileTree = dict[str, FileEntry]

_TYPE_BITS = {
    tarfile.REGTYPE: stat.S_IFREG,
    tarfile.AREGTYPE: stat.S_IFREG,
    tarfile.CONTTYPE: stat.S_IFREG,
    tarfile.LNKTYPE: stat.S_IFREG,
    tarfile.DIRTYPE: stat.S_IFDIR,
    tarfile.SYMTYPE: stat.S_IFLNK,
    tarfile.CHRTYPE: stat.S_IFCHR,
    tarfile.BLKTYPE: stat.S_IFBLK,
    tarfile.FIFOTYPE: stat.S_IFIFO,
}


def _relative(name: str) -> str:
    """Strip the archive's top folder: "app/x/y.py" -> "x/y.py", "app" -> "."."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts[1:]) or "."


def tree_from_tar(data: bytes) -> FileTree:
    """Turn a tar stream of one folder (as `podman cp CONTAINER:/folder -` writes it) into a
    tree keyed by path relative to that folder."""
    tree: FileTree = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive:
            path = _relative(member.name)
            mode = _TYPE_BITS.get(member.type, 0) | stat.S_IMODE(member.mode)
            digest = ""
            size = member.size
            if member.issym():
                digest = "->" + member.linkname
            elif member.islnk():
                # A hard link's data lives with its first name; reuse that entry's hash.
                target = tree.get(_relative(member.linkname))
                digest = target.sha256 if target else "hardlink->" + member.linkname
                size = target.size if target else 0
            elif member.isfile():
                handle = archive.extractfile(member)
                hasher = hashlib.sha256()
                if handle is not None:
                    for chunk in iter(functools.partial(handle.read, 1 << 20), b""):
                        hasher.update(chunk)
                digest = hasher.hexdigest()
            tree[path] = FileEntry(mode, member.uid, member.gid, size, digest)
    return tree
