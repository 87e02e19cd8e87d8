"""``@dataclass`` for dockfix's record classes, cheaper to create than ``dataclasses``'.

On CPython 3.10-3.12 ``dataclasses.dataclass`` compiles every generated method from
source, one ``exec`` each (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, and
``__setattr__``/``__delattr__`` when frozen): about 3.4 M instructions a class, which made
a third of a ``dockfix --check FILE`` run.  This decorator makes the same class for much
less, in two ways:

* **Built on first use.**  The class is left as written, with stand-ins for the generated
  methods and for ``__dataclass_fields__``/``__dataclass_params__``/``__match_args__``;
  the first one used (an instance made, compared, printed, ``dataclasses.fields()`` or
  ``replace()``...) builds the class and carries on.  A run uses about 60 of the 100
  record classes it imports.  (A ``slots=True`` class is built at once: slots make a new
  class.)
* **One compile a class.**  ``dataclasses`` itself collects the fields (``Field`` objects,
  ``__dataclass_fields__``, ``__match_args__``, slots) with its method generation turned
  off; then only ``__init__`` is compiled, from a short source, and ``__repr__``,
  ``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` are closures that do what
  CPython 3.11's generated methods do: the same repr text (recursion shown as ``...``),
  equality and hash of the tuple of compared fields, ``NotImplemented`` for another
  class, ``FrozenInstanceError`` on assignment, ``__getstate__``/``__setstate__`` for
  frozen slotted classes.  ``__dataclass_params__`` gives the options asked for.
* **Cheaper frozen instances.**  ``dataclasses``' frozen ``__init__`` calls
  ``object.__setattr__`` once a field (its own ``__setattr__`` refuses).  Here a frozen
  class without slots sets its whole instance dict in one call, and a slotted one calls
  each slot's own setter: the same instance state (``__dict__`` or slots) for a third
  less time per record (tree nodes, shell words and findings are made by the hundred
  thousand a run).  A field that a base class holds as a slot or other data descriptor
  keeps the ``object.__setattr__`` way.  Like ``dataclasses``' ``__init__``, it is meant
  for new instances: called again on one, it drops what else its dict held.

Anything else goes to ``dataclasses.dataclass`` unchanged: options other than ``init``,
``repr``, ``eq``, ``frozen`` and ``slots``; a class that defines a generated name itself,
has no docstring (``dataclasses`` writes one from the signature), inherits from a
dataclass, or has ``InitVar``, ``KW_ONLY``, keyword-only fields or a field named ``self``.
Before its first use a deferred class differs only where nothing reads it: a default
given as ``field(...)`` is still the ``Field`` in the class ``__dict__``.  Building is not
thread-safe against a second thread making the first instance (dockfix has no threads).
Type checkers see ``dataclasses.dataclass`` itself.
"""

from __future__ import annotations

import _thread
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from operator import attrgetter
from types import MemberDescriptorType
from typing import TYPE_CHECKING, Any

#: Options handled here; any other sends the class to ``dataclasses.dataclass``.
_OPTIONS = frozenset({"init", "repr", "eq", "frozen", "slots"})
#: Class attributes ``dataclasses`` adds, stood in for until a deferred class is built.
_CLASS_ATTRIBUTES = ("__dataclass_fields__", "__dataclass_params__", "__match_args__")
#: Every name ``dataclasses`` may add to a class (3.13 adds ``__replace__``).
_GENERATED = frozenset(
    {
        *_CLASS_ATTRIBUTES,
        "__init__",
        "__repr__",
        "__eq__",
        "__hash__",
        "__setattr__",
        "__delattr__",
        "__getstate__",
        "__setstate__",
        "__replace__",
        "__slots__",
    }
)


class _Factory:
    """The default of a parameter whose field has a ``default_factory``."""

    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows it in signatures


_HAS_DEFAULT_FACTORY = _Factory()


def _handled(cls: type, options: dict[str, Any]) -> bool:
    """Whether this module builds ``cls`` itself (else ``dataclasses`` does)."""
    own = cls.__dict__
    if not (options.keys() <= _OPTIONS and own.get("__doc__") and _GENERATED.isdisjoint(own)):
        return False
    if any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:]):
        return False
    annotations = own.get("__annotations__", {})
    if "self" in annotations:
        return False
    for annotation in annotations.values():
        if not isinstance(annotation, str) or "InitVar" in annotation or "KW_ONLY" in annotation:
            return False
    return not any(isinstance(value, Field) and value.kw_only is True for value in own.values())


def _build(cls: type, options: dict[str, Any]) -> type:
    """The class ``dataclasses.dataclass(cls, **options)`` makes (see the module docstring)."""
    init = options.get("init", True)
    eq = options.get("eq", True)
    frozen = options.get("frozen", False)
    slots = options.get("slots", False)
    built: type = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
    params = built.__dataclass_params__  # type: ignore[attr-defined]
    params.init, params.repr, params.eq, params.frozen = init, options.get("repr", True), eq, frozen
    fields = dataclasses.fields(built)
    if init:
        _add(built, _init_method(built, fields, frozen=frozen, slots=slots))
    if params.repr:
        _add(built, _repr_method([f.name for f in fields if f.repr]))
    if eq:
        _add(built, _eq_method(_values([f.name for f in fields if f.compare])))
        if frozen:
            hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
            _add(built, _hash_method(_values(hashed)))
        else:
            built.__hash__ = None  # type: ignore[assignment]
    if frozen:
        # The class before slots replaced it, as in dataclasses' own methods.
        names = frozenset(f.name for f in fields)
        _add(built, _frozen_setattr(cls, names))
        _add(built, _frozen_delattr(cls, names))
        if slots:
            built.__getstate__ = _slots_getstate  # type: ignore[attr-defined]
            built.__setstate__ = _slots_setstate  # type: ignore[attr-defined]
    return built


def _add(cls: type, method: Callable[..., Any]) -> None:
    method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
    setattr(cls, method.__name__, method)


def _init_method(
    cls: type, fields: tuple[Field[Any], ...], *, frozen: bool, slots: bool
) -> Callable[..., None]:
    """``__init__``, compiled from the source dataclasses would write, minus annotations."""
    namespace: dict[str, Any] = {
        "__name__": cls.__module__,
        "__dataclass_object_setattr__": object.__setattr__,
        "__dataclass_HAS_DEFAULT_FACTORY__": _HAS_DEFAULT_FACTORY,
    }
    parameters = ["self"]
    lines = []
    #: Frozen fields kept in the instance dict (every one, unless a slot or other data
    #: descriptor of a base class would hold it), as ``'name':value`` items.
    items: list[str] = []
    in_dict = not slots and not any(_data_descriptor(cls, f.name) for f in fields)
    seen_default = False
    for f in fields:
        default = f"__dataclass_dflt_{f.name}__"
        if f.init:
            if f.default is MISSING and f.default_factory is MISSING:
                if seen_default:
                    raise TypeError(f"non-default argument {f.name!r} follows default argument")
                parameters.append(f.name)
            elif f.default is not MISSING:
                seen_default = True
                parameters.append(f"{f.name}={default}")
            else:
                seen_default = True
                parameters.append(f"{f.name}=__dataclass_HAS_DEFAULT_FACTORY__")
        if f.default_factory is not MISSING:
            namespace[default] = f.default_factory
            value = (
                f"{default}() if {f.name} is __dataclass_HAS_DEFAULT_FACTORY__ else {f.name}"
                if f.init
                else f"{default}()"
            )
        elif f.init:
            if f.default is not MISSING:
                namespace[default] = f.default
            value = f.name
        elif slots and f.default is not MISSING:
            namespace[default] = f.default
            value = default
        else:
            continue  # read from the class attribute, as dataclasses leaves it
        if frozen and slots and isinstance(cls.__dict__.get(f.name), MemberDescriptorType):
            # The slot's own setter: what object.__setattr__ finds, without the search.
            setter = f"__dataclass_set_{f.name}__"
            namespace[setter] = cls.__dict__[f.name].__set__
            lines.append(f" {setter}(self,{value})")
        elif frozen and in_dict:
            items.append(f"{f.name!r}:{value}")
        elif frozen:
            lines.append(f" __dataclass_object_setattr__(self,{f.name!r},{value})")
        else:
            lines.append(f" self.{f.name}={value}")
    if items:
        # One assignment of the whole instance dict instead of a call per field.
        lines.insert(0, f" __dataclass_object_setattr__(self,'__dict__',{{{','.join(items)}}})")
    if hasattr(cls, "__post_init__"):
        lines.append(" self.__post_init__()")
    source = f"def __init__({', '.join(parameters)}):\n" + ("\n".join(lines) or " pass") + "\n"
    exec(source, namespace)
    method: Callable[..., None] = namespace["__init__"]
    method.__annotations__ = {f.name: f.type for f in fields if f.init} | {"return": None}
    return method


def _data_descriptor(cls: type, name: str) -> bool:
    """Whether a class on ``cls``'s MRO holds ``name`` as a data descriptor (a slot, a
    property): an instance dict entry of that name would be hidden behind it."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = type(klass.__dict__[name])
            return hasattr(found, "__set__") or hasattr(found, "__delete__")
    return False


def _values(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple ``(self.a, self.b, ...)`` dataclasses compares and hashes."""
    if len(names) > 1:
        getter: Callable[[Any], tuple[Any, ...]] = attrgetter(*names)
        return getter
    if names:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda self: ()


def _repr_method(names: list[str]) -> Callable[[Any], str]:
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        key = id(self), _thread.get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            shown = ", ".join([f"{name}={getattr(self, name)!r}" for name in names])
            return f"{self.__class__.__qualname__}({shown})"
        finally:
            running.discard(key)

    return __repr__


def _eq_method(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash_method(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _frozen_setattr(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


def _slots_getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _slots_setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, f.name, value)  # the class may be frozen


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


def _defer(cls: type, options: dict[str, Any]) -> None:
    """Stand-ins on ``cls`` for what building it adds; the first one used builds it."""
    eq = options.get("eq", True)
    frozen = options.get("frozen", False)
    methods = ["__init__"] if options.get("init", True) else []
    if options.get("repr", True):
        methods.append("__repr__")
    if eq:
        methods.append("__eq__")
    if eq and frozen:
        methods.append("__hash__")
    if frozen:
        methods += ["__setattr__", "__delattr__"]
    if sys.version_info >= (3, 13):
        methods.append("__replace__")
    added: list[str] = []

    def build() -> None:
        if added:  # else built already (say, as the base of a subclass being built)
            for name in added:
                delattr(cls, name)
            added.clear()
            _build(cls, options)

    for name in methods:
        setattr(cls, name, _stand_in_method(build, cls, name))
        added.append(name)
    if eq and not frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # unhashable, as it will be
        added.append("__hash__")
    for name in _CLASS_ATTRIBUTES:
        setattr(cls, name, _StandInAttribute(build, cls, name))
        added.append(name)


def _dataclass(cls: type | None = None, /, **options: Any) -> Any:
    def wrap(cls: type) -> type:
        if not _handled(cls, options):
            return dataclasses.dataclass(cls, **options)
        if options.get("slots"):
            return _build(cls, options)
        _defer(cls, options)
        return cls

    return wrap if cls is None else wrap(cls)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    dataclass = _dataclass
