"""Path globs for configuration (``exclude``, ``include``, ``per-file-ignores``).

``fnmatch`` lets ``*`` cross ``/``, so ``services/*`` would also match files deep below
``services``; ``PurePath.full_match`` (which does not) only exists from Python 3.13.  These
are the gitignore-like rules users know from ruff: ``*`` and ``?`` stay inside one path
component, ``**`` spans any number of them, and a pattern without ``/`` matches a name
at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from dockfix.lazy_dataclass import dataclass

__all__ = ["Glob", "compile_glob", "matches_path"]


@dataclass(frozen=True)
class Glob:
    """A pattern and the folder (absolute, POSIX form) it is relative to."""

    pattern: str
    root: str

    def matches(self, path: str, *, entry: bool = False) -> bool:
        """Whether the absolute POSIX *path* matches (see :func:`matches_path`)."""
        root = self.root.rstrip("/")
        if not path.startswith(root + "/"):
            return False
        return matches_path(self.pattern, path[len(root) + 1 :], entry=entry)


def matches_path(pattern: str, relative: str, *, entry: bool = False) -> bool:
    """Whether *relative* (POSIX, no leading ``/``) matches *pattern*.

    A pattern with ``/`` must match the whole relative path.  One without ``/`` matches
    any name in the path, or with *entry* only the last one: discovery asks about each
    file and folder as it meets them and never enters an excluded folder, so a folder
    named on the command line is searched even if its name is excluded.
    """
    cleaned = pattern.strip("/").removeprefix("./")
    regex = compile_glob(cleaned)
    if "/" in cleaned:
        return regex.fullmatch(relative) is not None
    names = relative.split("/")
    return any(regex.fullmatch(name) for name in (names[-1:] if entry else names))


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression for one glob (``*``, ``?``, ``[...]``, ``**``)."""
    return re.compile(_translate(pattern))


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(re.escape(char))
                i += 1
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                out.append(f"[{'^' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the class opened at *start*, or -1."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "!":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    end = pattern.find("]", i)
    return end


def any_match(globs: Sequence[Glob], path: str, *, entry: bool = False) -> bool:
    return any(glob.matches(path, entry=entry) for glob in globs)
