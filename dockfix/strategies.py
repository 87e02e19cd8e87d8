"""The rewrite strategies a user picks (``--cache-strategy``, ``--split-strategy``).

String-valued enums: configuration and the command line give the same strings as
before, rules compare against the members, and this module is light enough for the CLI
to read the choices at import time.
"""

from __future__ import annotations

import enum


class CacheStrategy(str, enum.Enum):
    """How package caches are kept out of layers (``Settings.cache_strategy``)."""

    MOUNT = "mount"
    NO_CACHE = "no-cache"

    def __str__(self) -> str:
        return self.value


class SplitStrategy(str, enum.Enum):
    """How DF202 hands built packages to the final stage (``Settings.split_strategy``)."""

    WHEELS = "wheels"
    VENV = "venv"

    def __str__(self) -> str:
        return self.value


def choices(strategy: type[CacheStrategy] | type[SplitStrategy]) -> tuple[str, ...]:
    """The strings a user may give for ``strategy``."""
    return tuple(member.value for member in strategy)
