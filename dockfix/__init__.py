"""dockfix: rewrite Dockerfiles to follow best practice, losslessly.

Public API: ``parse(text) -> Dockerfile`` and ``Dockerfile.to_string()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Dockerfile", "ParseError", "__version__", "parse"]

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile, ParseError, parse


def __getattr__(name: str) -> object:
    # Lazy, so that `dockfix --help` and `--version` do not pay for importing Lark.
    if name in ("Dockerfile", "ParseError", "parse"):
        from dockfix import syntax

        return getattr(syntax, name)
    raise AttributeError(name)
