"""Unified diffs for ``--diff`` that ``patch -p1`` and ``git apply`` accept as they are.

``difflib.unified_diff`` alone gets two things wrong for real files, both fixed here:

* A last line without a newline is glued to the next diff line. GNU diff and git instead end
  such a line and follow it with ``\\ No newline at end of file``; so do we.
* Lines are split at ``\\n`` only, as diff, patch and Docker do. ``str.splitlines`` would also
  split at ``\\r``, ``\\f``, ``\\v``, ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028`` and ``\\u2029``
  and produce hunks that patch cannot apply.

Line endings are not normalised: a CRLF file yields diff lines ending in ``\\r\\n``, which is
exactly what patch needs to reproduce the file.
"""

from __future__ import annotations

import re

__all__ = ["NO_NEWLINE_MARKER", "colorize", "unified_diff"]

NO_NEWLINE_MARKER = "\\ No newline at end of file\n"

_BOLD = "\x1b[1m"
_CYAN = "\x1b[36m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_RESET = "\x1b[0m"

#: Compiled by ``colorize`` (through ``re``'s cache): most runs print no colour.
_HUNK = r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@"


def unified_diff(old: str, new: str, path: str, *, created: bool = False) -> str:
    """Return the diff turning *old* into *new* with ``a/path``/``b/path`` headers, or ``""``.

    ``created``: *path* is a new file (*old* is empty), so the old side is ``/dev/null``
    as in ``git diff``.
    """
    if old == new:
        return ""
    import difflib  # only a changed file needs it (start-up time)

    lines: list[str] = []
    header = path.lstrip("/")  # `a//abs/path` would not apply with patch -p1
    fromfile = "/dev/null" if created else header_name("a/" + header)
    for line in difflib.unified_diff(
        split_lines(old), split_lines(new), fromfile=fromfile, tofile=header_name("b/" + header)
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:  # only a file's last line can lack its newline
            lines.append(line + "\n" + NO_NEWLINE_MARKER)
    return "".join(lines)


#: Characters git writes as escapes inside a quoted header name.
_GIT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def header_name(name: str) -> str:
    """A ``---``/``+++`` header name that ``git apply`` and ``patch -p1`` read back whole,
    written as git writes it: in double quotes with C escapes when it holds a quote, a
    backslash or a control character (a line end would end the header), followed by a
    tab when it holds a space (``patch`` otherwise stops the name at the space)."""
    if any(char in _GIT_ESCAPES or ord(char) < 0x20 or char == "\x7f" for char in name):
        escaped = "".join(
            _GIT_ESCAPES.get(char)
            or (f"\\{ord(char):03o}" if ord(char) < 0x20 or char == "\x7f" else char)
            for char in name
        )
        return f'"{escaped}"'
    return f"{name}\t" if " " in name else name


def colorize(diff: str) -> str:
    """Colour a unified diff for a terminal, the way ``git diff`` does.

    Hunk line counts are tracked so that a removed line reading ``-- x`` (shown as ``--- x``)
    is not mistaken for a file header. Colour codes go around the text of each line but not
    its line ending, so a ``\\r`` never separates a colour from its reset.
    """
    hunk = re.compile(_HUNK)
    out: list[str] = []
    old_left = new_left = 0
    for line in split_lines(diff):
        body, ending = _split_ending(line)
        color = ""
        if old_left > 0 or new_left > 0:
            if body.startswith("-"):
                color, old_left = _RED, old_left - 1
            elif body.startswith("+"):
                color, new_left = _GREEN, new_left - 1
            elif body.startswith(" ") or body == "":
                old_left, new_left = old_left - 1, new_left - 1
        elif match := hunk.match(body):
            color = _CYAN
            old_left, new_left = (int(n) if n is not None else 1 for n in match.groups())
        elif body.startswith(("--- ", "+++ ")):
            color = _BOLD
        out.append(f"{color}{body}{_RESET}{ending}" if color and body else line)
    return "".join(out)


def split_lines(text: str) -> list[str]:
    """Split after each ``\\n`` only, keeping the endings (see the module docstring)."""
    lines = text.split("\n")
    last = lines.pop()
    result = [line + "\n" for line in lines]
    if last:
        result.append(last)
    return result


def _split_ending(line: str) -> tuple[str, str]:
    for ending in ("\r\n", "\n"):
        if line.endswith(ending):
            return line[: -len(ending)], ending
    return line, ""
