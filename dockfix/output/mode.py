"""The output mode: one value for the CLI, the printer and every output format (black's
``Mode``); a tiny module so the CLI can name it without importing the printers."""

from __future__ import annotations

import enum


class Mode(enum.Enum):
    """What to do with the fixed text."""

    REPORT = "report"
    DIFF = "diff"
    WRITE = "write"
    CHECK = "check"
