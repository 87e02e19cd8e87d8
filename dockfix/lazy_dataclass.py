"""``@dataclass`` that builds a class's generated methods when the class is first used.

On CPython 3.10-3.12 ``dataclasses.dataclass`` compiles each generated method from source
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, and ``__setattr__``/``__delattr__``
when frozen): about 3 M instructions a class, a third of a ``dockfix --check FILE`` run,
and a run instantiates only about 60 of the 100 record classes it imports.  So this
decorator leaves the class as written and adds stand-ins for those methods and for the
``__dataclass_fields__``/``__dataclass_params__``/``__match_args__`` attributes; the first
one used (an instance made, compared, printed, ``dataclasses.fields()``/``replace()``...)
runs ``dataclasses.dataclass`` on the class with the options given, which replaces every
stand-in, and carries on.  After that the class is exactly what ``dataclasses`` makes
(same methods, same ``Field`` objects), so equality, hashing, repr, frozenness and
pickling are the standard ones.

What a class looks like before its first use differs only where nothing reads it: a
default given as ``field(...)`` is still the ``Field`` in the class ``__dict__``.  Anything
the stand-ins cannot stand in for is decorated at once: ``slots=True`` (it makes a new
class), options other than ``init``/``repr``/``eq``/``frozen``, a class that defines one of
the generated names itself, and a class without a docstring (``dataclasses`` writes one).
Type checkers see ``dataclasses.dataclass`` itself.
"""

from __future__ import annotations

import _thread
import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

#: Options a deferred class may use; any other makes the decorator work at once.
_DEFERRABLE_OPTIONS = frozenset({"init", "repr", "eq", "frozen"})
#: Class attributes ``dataclasses`` may add (3.13 adds ``__replace__``).
_CLASS_ATTRIBUTES = ("__dataclass_fields__", "__dataclass_params__", "__match_args__")
_METHODS = (
    "__init__",
    "__repr__",
    "__eq__",
    "__hash__",
    "__setattr__",
    "__delattr__",
    "__replace__",
)
_GENERATED = frozenset(_CLASS_ATTRIBUTES + _METHODS)

#: Held while a class is built: a class is built once, and building it may build its bases.
_LOCK = _thread.RLock()


class _StandInAttribute:
    """A class attribute that builds the class on first read, then reads the real one."""

    def __init__(self, build: Callable[[], None], owner: type, name: str) -> None:
        self.build = build
        self.owner = owner
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        self.build()
        return getattr(self.owner, self.name)


def _stand_in_method(build: Callable[[], None], owner: type, name: str) -> Callable[..., Any]:
    """A method that builds the class on first call, then calls the real one."""

    def stand_in(self: Any, *args: Any, **kwargs: Any) -> Any:
        build()
        return getattr(owner, name)(self, *args, **kwargs)

    stand_in.__name__ = name
    stand_in.__qualname__ = f"{owner.__qualname__}.{name}"
    return stand_in


def _deferrable(cls: type, options: dict[str, Any]) -> bool:
    own = cls.__dict__
    return (
        options.keys() <= _DEFERRABLE_OPTIONS
        and own.get("__doc__") is not None
        and _GENERATED.isdisjoint(own)
    )


def _defer(cls: type, options: dict[str, Any]) -> None:
    eq = options.get("eq", True)
    frozen = options.get("frozen", False)
    names = ["__init__"] if options.get("init", True) else []
    if options.get("repr", True):
        names.append("__repr__")
    if eq:
        names.append("__eq__")
    if eq and frozen:
        names.append("__hash__")
    if frozen:
        names += ["__setattr__", "__delattr__"]
    if sys.version_info >= (3, 13):
        names.append("__replace__")
    added: list[str] = []

    def build() -> None:
        with _LOCK:
            if not added:
                return  # built already (by another thread, or a base built from a subclass)
            for name in added:
                delattr(cls, name)
            added.clear()
            dataclasses.dataclass(cls, **options)

    for name in names:
        setattr(cls, name, _stand_in_method(build, cls, name))
    if eq and not frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # what dataclasses sets: unhashable
        names.append("__hash__")
    for name in _CLASS_ATTRIBUTES:
        setattr(cls, name, _StandInAttribute(build, cls, name))
    added += names
    added += _CLASS_ATTRIBUTES


def _dataclass(cls: type | None = None, /, **options: Any) -> Any:
    def wrap(cls: type) -> type:
        if not _deferrable(cls, options):
            return dataclasses.dataclass(cls, **options)
        _defer(cls, options)
        return cls

    return wrap if cls is None else wrap(cls)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    dataclass = _dataclass
