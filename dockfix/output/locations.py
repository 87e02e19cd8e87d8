"""Where a reported file is, for tools that read the output from the repository root.

``git apply``, GitHub annotations and SARIF uploads all resolve paths from the root of the
work tree, while users run dockfix from anywhere inside it. So diff headers, annotations and
SARIF locations use the path relative to the enclosing git work tree, found by looking for
``.git`` upwards (a folder, or a file in worktrees and submodules) with one answer cached per
folder: a monorepo has thousands of folders and a ``git`` process per folder would cost
seconds. Text reports keep the path as the user gave it, like ruff.
"""

from __future__ import annotations

import os
from pathlib import PurePath

__all__ = ["STDIN_NAME", "RepoPaths", "rehead"]

#: What a diff header or location says for standard input without ``--stdin-filename``
#: (``a/-`` would make ``git apply`` look for a file called ``-``).
STDIN_NAME = "Dockerfile"


class RepoPaths:
    """Maps displayed paths to repository-relative ones, caching the root of each folder."""

    def __init__(self) -> None:
        self._roots: dict[str, str | None] = {}

    def root_of(self, folder: str) -> str | None:
        """The work tree root containing the absolute *folder*, or None outside git."""
        visited: list[str] = []
        current = folder
        root: str | None = None
        while True:
            if current in self._roots:
                root = self._roots[current]
                break
            visited.append(current)
            if os.path.lexists(os.path.join(current, ".git")):
                root = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for seen in visited:
            self._roots[seen] = root
        return root

    def relative(self, path: str) -> tuple[str, bool]:
        """``(posix path, in_repo)``: relative to the work tree root when in one, else as given.

        ``-`` (standard input) becomes :data:`STDIN_NAME`.
        """
        if path == "-":
            return STDIN_NAME, False
        absolute = os.path.abspath(path)
        root = self.root_of(os.path.dirname(absolute))
        if root is None:
            return PurePath(path).as_posix(), False
        return PurePath(os.path.relpath(absolute, root)).as_posix(), True


def rehead(diff: str, path: str) -> str:
    """*diff* with its ``--- a/...``/``+++ b/...`` headers naming *path* instead."""
    if not diff.startswith("--- "):
        return diff
    first = diff.find("\n") + 1
    second = diff.find("\n", first) + 1
    if first == 0 or second == 0 or not diff.startswith("+++ ", first):
        return diff
    from dockfix.output.diff import header_name

    header = path.lstrip("/")
    return f"--- {header_name('a/' + header)}\n+++ {header_name('b/' + header)}\n{diff[second:]}"
