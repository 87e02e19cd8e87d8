"""Regular expressions compiled on first use, for patterns defined at module level.

Compiling a pattern is pure Python (``re._compiler``) and a ``dockfix --check FILE`` run
imports about 150 module-level patterns, half of which the file at hand never uses
(another distribution's package manager, a rule's rare case): about 6% of the run went
to compiling those.  ``compile`` returns a stand-in that compiles on the first method or
attribute read and keeps what it read in its own ``__dict__``, so later reads of
``PATTERN.match`` find the compiled pattern's bound method directly, no slower than on a
``re.Pattern``.  It is not a ``re.Pattern``: use it through its methods, not as an argument
to ``re.sub`` and the like (the type checker sees only the methods declared here).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, AnyStr, Generic


class LazyPattern(Generic[AnyStr]):
    """``re.compile(pattern, flags)``, done when first needed."""

    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not yet in the instance's __dict__.
        if name.startswith("__"):
            raise AttributeError(name)  # copy/pickle probing special names: not a pattern's
        value = getattr(re.compile(self.pattern, self._flags), name)
        self.__dict__[name] = value
        return value

    def __repr__(self) -> str:
        return f"lazy_re.compile({self.pattern!r}, {self._flags!r})"

    if TYPE_CHECKING:
        pattern: AnyStr
        flags: int
        groups: int
        groupindex: Mapping[str, int]

        def match(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[AnyStr] | None: ...

        def fullmatch(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[AnyStr] | None: ...

        def search(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[AnyStr] | None: ...

        def finditer(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> Iterator[re.Match[AnyStr]]: ...

        def findall(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]: ...

        def split(self, string: AnyStr, maxsplit: int = 0) -> list[AnyStr | Any]: ...

        def sub(
            self,
            repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr],
            string: AnyStr,
            count: int = 0,
        ) -> AnyStr: ...

        def subn(
            self,
            repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr],
            string: AnyStr,
            count: int = 0,
        ) -> tuple[AnyStr, int]: ...


def compile(pattern: AnyStr, flags: int = 0) -> LazyPattern[AnyStr]:
    """Like ``re.compile``, compiled on first use."""
    return LazyPattern(pattern, flags)
