"""A read-only, cached view of the build context on disk.

Rules must not do file I/O of their own: they ask this view, which knows whether there
is a context at all (stdin has none), answers each question once per file, refuses
paths that leave the context, and says "unknown" (None) instead of guessing.
"""

from __future__ import annotations

import glob
import os
import posixpath
import time
from pathlib import Path

from dockfix.lazy_dataclass import dataclass

#: Magic numbers of the formats ``ADD`` unpacks (BuildKit's archive detection).
_ARCHIVE_MAGIC = (
    (0, b"\x1f\x8b"),  # gzip
    (0, b"BZh"),  # bzip2
    (0, b"\xfd7zXZ\x00"),  # xz
    (0, b"\x28\xb5\x2f\xfd"),  # zstd
    (257, b"ustar"),  # tar
)
#: A tar header block: ``ADD`` unpacks any file Go's ``archive/tar`` reads a first header
#: from, magic or not (an old V7 tar has none), so the checksum is what tells.
TAR_BLOCK = 512
#: Files larger than this are not read as text (manifests are small).
MAX_TEXT_BYTES = 2_000_000


class BuildContext:
    """The folder ``docker build`` would send, or no folder (``root`` None)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root if root is not None and root.is_dir() else None
        self._texts: dict[str, str | None] = {}
        self._kinds: dict[str, str | None] = {}
        self._archives: dict[str, bool | None] = {}
        self._globs: dict[str, tuple[str, ...] | None] = {}
        self._trees: dict[tuple[str, int], tuple[str, ...] | None] = {}

    @property
    def present(self) -> bool:
        return self.root is not None

    def _resolve(self, relative: str) -> Path | None:
        """The path of a context-relative name, or None if it leaves the context."""
        if self.root is None or "$" in relative:
            return None
        normal = posixpath.normpath("/" + relative.replace("\\", "/")).lstrip("/")
        if normal.startswith(".."):
            return None
        return self.root / normal if normal not in ("", ".") else self.root

    def kind(self, relative: str) -> str | None:
        """``"file"``, ``"dir"``, ``"missing"``, or None when there is no context."""
        if relative not in self._kinds:
            path = self._resolve(relative)
            if path is None:
                self._kinds[relative] = None
            elif path.is_file():
                self._kinds[relative] = "file"
            elif path.is_dir():
                self._kinds[relative] = "dir"
            else:
                self._kinds[relative] = "missing"
        return self._kinds[relative]

    def exists(self, relative: str) -> bool | None:
        kind = self.kind(relative)
        return None if kind is None else kind != "missing"

    def is_file(self, relative: str) -> bool | None:
        kind = self.kind(relative)
        return None if kind is None else kind == "file"

    def is_dir(self, relative: str) -> bool | None:
        kind = self.kind(relative)
        return None if kind is None else kind == "dir"

    def read_text(self, relative: str) -> str | None:
        """The file's text (UTF-8, errors replaced), or None when it cannot be read."""
        if relative not in self._texts:
            path = self._resolve(relative)
            text = None
            if path is not None and path.is_file():
                try:
                    if path.stat().st_size <= MAX_TEXT_BYTES:
                        text = path.read_bytes().decode("utf-8", errors="replace")
                except OSError:
                    text = None
            self._texts[relative] = text
        return self._texts[relative]

    def is_archive(self, relative: str) -> bool | None:
        """True when the file starts like something ``ADD`` unpacks; None if unknown.

        Compressed files by their magic bytes; a tar by its ``ustar`` magic or, since
        BuildKit unpacks whatever Go's ``archive/tar`` reads a header from (an old V7 tar
        has no magic), by the header's checksum (``is_tar_header``)."""
        if relative not in self._archives:
            path = self._resolve(relative)
            answer: bool | None = None
            if path is not None and path.is_file():
                try:
                    with path.open("rb") as handle:
                        head = handle.read(TAR_BLOCK)
                    answer = is_tar_header(head) or any(
                        head[offset : offset + len(magic)] == magic
                        for offset, magic in _ARCHIVE_MAGIC
                    )
                except OSError:
                    answer = None
            self._archives[relative] = answer
        return self._archives[relative]

    def glob(self, pattern: str) -> tuple[str, ...] | None:
        """Context-relative names matching a COPY/ADD source pattern; None if unknown."""
        if pattern not in self._globs:
            base = self._resolve(pattern.lstrip("/") or ".")
            if base is None or self.root is None:
                self._globs[pattern] = None
            else:
                root = str(self.root)
                matches = sorted(glob.glob(str(base)))
                self._globs[pattern] = tuple(
                    os.path.relpath(match, root).replace(os.sep, "/") for match in matches
                )
        return self._globs[pattern]

    def files_under(self, relative: str, limit: int = 5000) -> tuple[str, ...] | None:
        """Files below a folder (context-relative), up to ``limit``; None if unknown."""
        key = (relative, limit)
        if key not in self._trees:
            self._trees[key] = self._walk(relative, limit)
        return self._trees[key]

    def _walk(self, relative: str, limit: int) -> tuple[str, ...] | None:
        path = self._resolve(relative)
        if path is None or not path.is_dir() or self.root is None:
            return None
        return shared_walk(str(self.root), str(path), limit)


def is_tar_header(block: bytes) -> bool:
    """Whether ``block`` is a tar header Go's ``archive/tar`` accepts by checksum: the
    octal field at bytes 148-155 (NULs and spaces around it, cut at a NUL) equals the sum
    of the block's bytes with that field counted as spaces, unsigned or signed.  Fewer than
    512 bytes, or an all-zero block (the end-of-archive marker), is no header."""
    if len(block) < TAR_BLOCK or not any(block[:TAR_BLOCK]):
        return False
    block = block[:TAR_BLOCK]
    digits = block[148:156].strip(b" \x00").split(b"\x00", 1)[0]
    if digits and not all(0x30 <= byte <= 0x37 for byte in digits):
        return False
    stored = int(digits, 8) if digits else 0
    body = block[:148] + b" " * 8 + block[156:]
    unsigned = sum(body)
    signed = sum(byte - 256 if byte > 127 else byte for byte in body)
    return stored in (unsigned, signed)


@dataclass(frozen=True)
class _Walk:
    """A finished walk, and what proves it still holds: the change time of every folder it
    read, taken before the folder was listed (any entry added, removed or renamed in a
    folder moves its modification time)."""

    files: tuple[str, ...] | None
    folders: tuple[tuple[str, int], ...]


#: Walks of this process by ``(root, folder, limit)``, the latest last: every Dockerfile of a
#: folder of many has that folder as its build context, and listing it for each one costs
#: per file what the folder holds.
_WALKS: dict[tuple[str, str, int], _Walk] = {}
#: How many walks ``_WALKS`` keeps (files come folder by folder).
_KEPT_WALKS = 8
#: How long before a walk a folder must have last changed for the walk to be reused: a
#: change in the same tick of the file system's clock as the listing (or a clock that is
#: coarse, as FAT's two seconds) would leave the time as it was.
_SETTLED_NS = 5_000_000_000


def shared_walk(root: str, folder: str, limit: int) -> tuple[str, ...] | None:
    """``_walk_folder``'s answer, reused while every folder it read is unchanged."""
    key = (root, folder, limit)
    known = _WALKS.get(key)
    if known is not None and _still_holds(known):
        return known.files
    _WALKS.pop(key, None)
    walk = _walk_folder(root, folder, limit)
    if walk.folders:
        while len(_WALKS) >= _KEPT_WALKS:
            del _WALKS[next(iter(_WALKS))]
        _WALKS[key] = walk
    return walk.files


def _still_holds(walk: _Walk) -> bool:
    """Whether no folder the walk read has changed since (or shortly before) it ran."""
    for folder, stamp in walk.folders:
        try:
            if os.stat(folder).st_mtime_ns != stamp:
                return False
        except OSError:
            return False
    return True


def _walk_folder(root: str, top: str, limit: int) -> _Walk:
    """Files below ``top`` relative to ``root`` (sorted; None past ``limit``), as
    ``os.walk`` lists them (symlinked folders are listed, not entered; ``.git`` and
    ``node_modules`` are skipped), with the folders' times when the walk may be reused:
    none when a folder changed lately, could not be read, or holds a symbolic link
    (whose target may change without its folder)."""
    started = time.time_ns()
    found: list[str] = []
    folders: list[tuple[str, int]] | None = []
    pending = [top]
    while pending:
        folder = pending.pop()
        stamp = _settled_time(folder, started)
        if stamp is None:
            folders = None
        elif folders is not None:
            folders.append((folder, stamp))
        entries, linked = _list_folder(folder)
        if linked:
            folders = None
        # One relpath a folder, not a file: it resolves both paths each call.
        inside = os.path.relpath(folder, root)
        for name, is_dir, is_link in entries:
            if is_dir:
                if not is_link and name not in (".git", "node_modules"):
                    pending.append(os.path.join(folder, name))
                continue
            found.append(name if inside == os.curdir else os.path.join(inside, name))
            if len(found) >= limit:
                return _Walk(None, tuple(folders or ()))
    return _Walk(tuple(sorted(found)), tuple(folders or ()))


def _settled_time(folder: str, now: int) -> int | None:
    """The folder's modification time, or None if unreadable or too recent to trust."""
    try:
        stamp = os.stat(folder).st_mtime_ns
    except OSError:
        return None
    return stamp if now - stamp > _SETTLED_NS else None


def _list_folder(folder: str) -> tuple[list[tuple[str, bool, bool]], bool]:
    """``(name, is a folder, is a link)`` of each entry as ``os.walk`` reads them (a link to
    a folder counts as a folder; a folder that fails to list gives nothing), and whether
    the listing may differ next time (it failed, or holds a link)."""
    entries: list[tuple[str, bool, bool]] = []
    unsure = False
    try:
        scan = os.scandir(folder)
    except OSError:
        return entries, True
    with scan:
        while True:
            try:
                entry = next(scan)
            except StopIteration:
                break
            except OSError:
                return [], True  # os.walk then lists nothing of the folder
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir, unsure = False, True
            try:
                is_link = entry.is_symlink()
            except OSError:  # pragma: no cover - d_type or lstat failing after scandir
                is_link, unsure = True, True
            unsure = unsure or is_link
            entries.append((entry.name, is_dir, is_link))
    return entries, unsure


#: The view for "no context on disk" (stdin, or a caller that has none).
NO_CONTEXT = BuildContext(None)
