"""``cached_property`` without a lock, for the many small immutable values of the trees.

``functools.cached_property`` takes a lock on every first read before Python 3.12, and
a run reads hundreds of thousands of cached values once each (every node's ``cmd``,
``text``, ``flags``...): the lock costs more than most of the values.  The values are
pure functions of immutable objects, so two threads computing one twice is harmless.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
Owner = TypeVar("Owner")


class cached_property(Generic[T]):
    """Computes the value on first read and stores it in the instance's ``__dict__``,
    where later reads find it without calling the descriptor."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object, owner: type | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.attrname] = value
        return value


def remembered(owner: Owner, key: str, compute: Callable[[Owner], T]) -> T:
    """``compute(owner)``, kept in ``owner``'s ``__dict__`` under ``key`` after the first
    call: for facts other modules derive from an immutable object (a parsed script's
    package commands), tied to that object rather than to a cache by value.  ``compute``
    takes the owner, so that callers on hot paths pass a function, not a new closure."""
    cache = owner.__dict__
    try:
        return cache[key]  # type: ignore[no-any-return]
    except KeyError:
        value = cache[key] = compute(owner)
        return value


class Backlink(Generic[Owner]):
    """A reference from a fact back to the object that keeps it, made weak so that the
    two make no reference cycle.

    Why: an instruction keeps its parsed shell (``run_shell``) and its command lines, a
    shell command its package-manager reading, a stage its children, and each of those
    names what keeps it.  As strong references both ways, every such object (an
    instruction with its pieces, a stage with its whole tree) outlived its file as
    cyclic garbage, for the collector to find: collections walking it took 0.5-0.7 s of
    a 9 s corpus run, and without them peak memory doubled (benchmarks/README.md).  The
    owner keeps the fact; the fact only points back.  Compares, hashes and prints as the
    owner, as the strong reference did.
    """

    __slots__ = ("_ref",)

    def __init__(self, owner: Owner) -> None:
        self._ref = weakref.ref(owner)

    def __call__(self) -> Owner:
        owner = self._ref()
        if owner is None:
            raise ReferenceError("the object this fact was computed from no longer exists")
        return owner

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Backlink):
            return NotImplemented
        return bool(self() == other())

    def __hash__(self) -> int:
        return hash(self())

    def __repr__(self) -> str:
        return f"Backlink({self()!r})"
