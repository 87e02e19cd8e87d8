"""A read-only, cached view of the build context on disk.

Rules must not do file I/O of their own: they ask this view, which knows whether there
is a context at all (stdin has none), answers each question once per file, refuses
paths that leave the context, and says "unknown" (None) instead of guessing.
"""

from __future__ import annotations

import glob
import os
import posixpath
from pathlib import Path

#: Magic numbers of the formats ``ADD`` unpacks (BuildKit's archive detection).
_ARCHIVE_MAGIC = (
    (0, b"\x1f\x8b"),  # gzip
    (0, b"BZh"),  # bzip2
    (0, b"\xfd7zXZ\x00"),  # xz
    (0, b"\x28\xb5\x2f\xfd"),  # zstd
    (257, b"ustar"),  # tar
)
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
        """True when the file starts like something ``ADD`` unpacks; None if unknown."""
        if relative not in self._archives:
            path = self._resolve(relative)
            answer: bool | None = None
            if path is not None and path.is_file():
                try:
                    with path.open("rb") as handle:
                        head = handle.read(262)
                    answer = any(
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
        found: list[str] = []
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d not in (".git", "node_modules")]
            # One relpath a folder, not a file: it resolves both paths each call.
            inside = os.path.relpath(folder, self.root)
            for name in files:
                found.append(name if inside == os.curdir else os.path.join(inside, name))
                if len(found) >= limit:
                    return None
        return tuple(sorted(found))


#: The view for "no context on disk" (stdin, or a caller that has none).
NO_CONTEXT = BuildContext(None)
