"""What the ``# syntax=`` parser directive lets a Dockerfile use.

A fix that adds ``RUN --mount`` must know the frontend: ``docker/dockerfile:1.0`` and
``1.1`` have no RUN mounts (only their ``-experimental`` variants do), other frontends
are unknown.  Without a directive the builder's built-in frontend decides, which is why
rules that add mounts also add ``# syntax=docker/dockerfile:1``.
"""

from __future__ import annotations

import re

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass
from dockfix.syntax import Dockerfile

_DOCKERFILE_FRONTEND = lazy_re.compile(
    r"(?:(?:docker\.io/)?docker/dockerfile(?:-upstream)?)(?::(?P<tag>[^@\s]+))?(?:@\S+)?"
)


@dataclass(frozen=True)
class SyntaxInfo:
    """The directive's frontend and version; ``present`` False when there is none."""

    present: bool
    frontend: str = ""
    #: ``(major, minor)``; ``None`` for floating tags (``1``, ``labs``, ``latest``) or unknown.
    version: tuple[int, int] | None = None
    experimental: bool = False
    #: The frontend is Docker's own Dockerfile frontend (else: unknown features).
    known_frontend: bool = True

    def supports(
        self, minimum: tuple[int, int], *, experimental_from: tuple[int, int] | None = None
    ) -> bool | None:
        """True/False when the pinned frontend has a feature added in ``minimum``; None if unknown.

        Without a directive the answer is None too: it depends on the builder.
        """
        if not self.present or not self.known_frontend:
            return None
        if self.version is None:
            return True  # a floating tag: the newest release of the major version
        if (
            self.experimental
            and experimental_from is not None
            and self.version >= experimental_from
        ):
            return True
        return self.version >= minimum

    @property
    def run_mounts(self) -> bool | None:
        """``RUN --mount``: stable in 1.2, in ``1.0-experimental`` before that."""
        return self.supports((1, 2), experimental_from=(1, 0))

    @property
    def heredocs(self) -> bool | None:
        return self.supports((1, 4), experimental_from=(1, 3))

    @property
    def secret_env(self) -> bool | None:
        """``--mount=type=secret,env=NAME`` (Dockerfile frontend 1.10)."""
        return self.supports((1, 10))


def syntax_info(document: Dockerfile) -> SyntaxInfo:
    """Read the ``syntax`` directive of ``document``."""
    for directive in document.directives:
        if directive.name.lower() != "syntax":
            continue
        value = directive.value.strip()
        match = _DOCKERFILE_FRONTEND.fullmatch(value)
        if match is None:
            return SyntaxInfo(True, value, known_frontend=False)
        tag = match.group("tag") or "latest"
        numbers = re.match(r"(\d+)(?:\.(\d+))?(?:\.\d+)?(?P<suffix>-.*)?$", tag)
        if numbers is None:
            return SyntaxInfo(True, value)  # latest, labs, master: floating
        suffix = numbers.group("suffix") or ""
        experimental = "experimental" in suffix or "labs" in suffix
        if numbers.group(2) is None:
            return SyntaxInfo(True, value, None, experimental)
        return SyntaxInfo(True, value, (int(numbers.group(1)), int(numbers.group(2))), experimental)
    return SyntaxInfo(False)
