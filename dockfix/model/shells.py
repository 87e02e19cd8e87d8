"""Which shell runs the shell form of ``RUN``/``CMD``/``ENTRYPOINT`` in a stage.

The default is ``/bin/sh -c`` on Linux and ``cmd /S /C`` on Windows; ``SHELL [...]``
changes it for the rest of the stage and for stages built on it.  Rules that join or
edit shell text need the dialect: PowerShell 5.1 has no ``&&``, ``cmd`` does not see
``setx`` PATH changes in the same process, and ``bash --login`` reads profile files
that a RUN earlier in the file may have changed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence


class ShellDialect(enum.Enum):
    POSIX = "sh"
    BASH = "bash"
    BASH_LOGIN = "bash --login"
    POWERSHELL = "powershell 5.1"
    PWSH = "pwsh 7"
    CMD = "cmd"
    OTHER = "other"
    #: No ``SHELL`` and the platform is not known: ``sh`` on Linux, ``cmd`` on Windows.
    UNKNOWN = "unknown"

    @property
    def is_posix(self) -> bool:
        """A POSIX shell (``sh``, ``bash``, ``bash --login``): ``&&``, ``$VAR``, quoting."""
        return self in (ShellDialect.POSIX, ShellDialect.BASH, ShellDialect.BASH_LOGIN)

    @property
    def is_windows(self) -> bool:
        return self in (ShellDialect.POWERSHELL, ShellDialect.CMD)


_POSIX_SHELLS = frozenset({"sh", "dash", "ash", "busybox"})


def _program(word: str) -> str:
    name = re.split(r"[/\\]", word)[-1].lower()
    return name.removesuffix(".exe")


def dialect_of(shell: Sequence[str]) -> ShellDialect:
    """The dialect of a ``SHELL`` instruction's words (``["/bin/bash", "-lc"]``...)."""
    if not shell:
        return ShellDialect.OTHER
    program = _program(shell[0])
    options = [word for word in shell[1:] if word.startswith("-")]
    if program in _POSIX_SHELLS:
        return ShellDialect.POSIX
    if program == "bash":
        login = any(
            word == "--login" or (re.fullmatch(r"-[a-z]+", word) and "l" in word)
            for word in options
        )
        return ShellDialect.BASH_LOGIN if login else ShellDialect.BASH
    if program == "powershell":
        return ShellDialect.POWERSHELL
    if program == "pwsh":
        return ShellDialect.PWSH
    if program == "cmd":
        return ShellDialect.CMD
    return ShellDialect.OTHER
