"""``dockfix.lazy_dataclass.dataclass`` must make the classes ``dataclasses.dataclass`` makes.

Each case defines one class body twice, once under each decorator, in two modules of its
own (so that pickling finds the classes and reprs show the same names), and compares
what code can observe: reprs, equality, hashes, frozenness errors, pickling and copying,
``fields``/``replace``/``asdict``, ``__match_args__``, the signature, the parameters.
The last tests build every deferred record class of dockfix: a mistake in a class that a
run happens not to use would otherwise surface only when some file needs it.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dockfix import lazy_dataclass

ROOT = Path(__file__).resolve().parents[1]

#: name -> (decorator options, class body, constructor arguments of two instances)
CASES: dict[str, tuple[str, str, tuple[tuple[Any, ...], tuple[Any, ...]]]] = {
    "frozen": (
        "frozen=True",
        """
    a: int
    b: str = "x"
    c: tuple[int, ...] = ()
""",
        ((1,), (2, "y", (3, 4))),
    ),
    "mutable": (
        "",
        """
    a: int
    items: list[int] = field(default_factory=list)
    note: str = field(default="", compare=False)
    secret: str = field(default="s", repr=False)
""",
        ((1,), (1, [2], "n", "t")),
    ),
    "frozen_fields": (
        "frozen=True",
        """
    LIMIT: ClassVar[int] = 3
    a: int
    cache: dict[str, int] = field(init=False, default_factory=dict, compare=False)
    unhashed: tuple[int, ...] = field(default=(), hash=False)
    shown: bool = field(default=True, init=False)
""",
        ((1,), (2, (5,))),
    ),
    "frozen_no_eq": (
        "frozen=True, eq=False",
        """
    a: int
    b: int = 0
""",
        ((1,), (1, 2)),
    ),
    "post_init": (
        "frozen=True",
        """
    a: int
    double: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "double", self.a * 2)
""",
        ((1,), (21,)),
    ),
    "no_repr": (
        "repr=False",
        """
    a: int
""",
        ((1,), (2,)),
    ),
    "empty": ("frozen=True", "", ((), ())),
    "frozen_slots": (
        "frozen=True, slots=True",
        """
    a: int
    b: tuple[str, ...] = ()
""",
        ((1,), (2, ("x",))),
    ),
    "mutable_slots": (
        "slots=True",
        """
    a: int
    b: int = field(init=False, default=5)
    c: list[int] = field(default_factory=list)
""",
        ((1,), (2, [3])),
    ),
    "cached": (
        "frozen=True",
        """
    a: int

    @cached_property
    def twice(self) -> int:
        return self.a * 2
""",
        ((1,), (2,)),
    ),
}

_HEADER = """\
from __future__ import annotations
from dataclasses import field
from typing import ClassVar
from dockfix.cached import cached_property
"""


def _module(name: str, decorator: str, case: str) -> ModuleType:
    options, body, _ = CASES[case]
    module = ModuleType(name)
    sys.modules[name] = module
    source = f'{_HEADER}\n@{decorator}({options})\nclass Record:\n    """A case."""\n{body}'
    module.__dict__["std_dataclass"] = dataclasses.dataclass
    module.__dict__["lazy_dataclass"] = lazy_dataclass.dataclass
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def _pair(case: str) -> tuple[type, type]:
    std = _module(f"_records_{case}", "std_dataclass", case).Record
    lazy = _module(f"_records_lazy_{case}", "lazy_dataclass", case).Record
    return std, lazy


def _outcome(action: Callable[[], Any]) -> tuple[str, str]:
    try:
        result = action()
    except Exception as error:  # the exception is the observable outcome
        return type(error).__name__, str(error)
    return "ok", _shown(result)


def _shown(value: object) -> str:
    """``repr`` without what differs between the two modules (object's own repr)."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value)).replace("_records_lazy_", "_records_")


def _hash(value: object) -> object:
    """The hash, or "identity" where it is object's (eq=False keeps the inherited one)."""
    found = hash(value)
    return "identity" if found == object.__hash__(value) else found


def _assign(cls: type, args: tuple[Any, ...], name: str) -> None:
    setattr(cls(*args), name, 9)


def _delete(cls: type, args: tuple[Any, ...], name: str) -> None:
    delattr(cls(*args), name)


def _field_facts(cls: type) -> list[tuple[Any, ...]]:
    return [
        (f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash)
        for f in dataclasses.fields(cls)
    ]


def _params(cls: type) -> tuple[Any, ...]:
    p = cls.__dataclass_params__  # type: ignore[attr-defined]
    return (p.init, p.repr, p.eq, p.order, p.unsafe_hash, p.frozen)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_class_as_dataclasses(case: str) -> None:
    std, lazy = _pair(case)
    first, second = CASES[case][2]
    for args in (first, second):
        s, lz = std(*args), lazy(*args)
        assert _shown(lz) == _shown(s)
        assert (lz == lazy(*args)) == (s == std(*args))
        assert (lz == lazy(*first)) == (s == std(*first))
        assert lz.__eq__(object()) is s.__eq__(object())
        assert _outcome(lambda lz=lz: _hash(lz)) == _outcome(lambda s=s: _hash(s))
        for target in ("a", "other"):
            for change in (_assign, _delete):
                assert _outcome(lambda: change(lazy, args, target)) == _outcome(  # noqa: B023
                    lambda: change(std, args, target)  # noqa: B023
                )
        again = pickle.loads(pickle.dumps(lz))
        assert _shown(again) == _shown(pickle.loads(pickle.dumps(s)))
        assert (again == lz) == (pickle.loads(pickle.dumps(s)) == s)
        assert _shown(copy.copy(lz)) == _shown(copy.copy(s))
        assert _shown(copy.deepcopy(lz)) == _shown(copy.deepcopy(s))
        assert dataclasses.asdict(lz) == dataclasses.asdict(s)
        if "a" in lazy.__match_args__:
            assert _shown(dataclasses.replace(lz, a=7)) == _shown(dataclasses.replace(s, a=7))
        assert hasattr(lz, "__dict__") == hasattr(s, "__dict__")
        # The same instance state: the dict (a frozen class's __init__ sets it whole) and
        # the slots (set through each slot's own setter).
        assert getattr(lz, "__dict__", None) == getattr(s, "__dict__", None)
        for name in getattr(std, "__slots__", ()):
            assert _outcome(lambda n=name, o=lz: getattr(o, n)) == _outcome(
                lambda n=name, o=s: getattr(o, n)
            )
    assert _field_facts(lazy) == _field_facts(std)
    assert lazy.__match_args__ == std.__match_args__
    assert _params(lazy) == _params(std)
    assert str(inspect.signature(lazy)) == str(inspect.signature(std))
    assert getattr(lazy, "__slots__", None) == getattr(std, "__slots__", None)
    assert (lazy.__hash__ is None) == (std.__hash__ is None)
    assert _outcome(lambda: lazy()) == _outcome(lambda: std())
    assert _outcome(lambda: lazy(1, 2, 3, 4, 5, 6)) == _outcome(lambda: std(1, 2, 3, 4, 5, 6))


def test_fresh_instances_and_recursion() -> None:
    std, lazy = _pair("mutable")
    s, lz = std(1), lazy(1)
    assert lz.items is not lazy(1).items  # one list per instance, as default_factory asks
    s.items.append(s)  # type: ignore[arg-type]
    lz.items.append(lz)
    assert _shown(lz) == _shown(s)  # the recursive element shows as "..."


def test_class_is_a_dataclass_before_first_instance() -> None:
    std, lazy = _pair("frozen")
    assert dataclasses.is_dataclass(lazy)
    assert _field_facts(lazy) == _field_facts(std)
    std, lazy = _pair("frozen_fields")
    assert _params(lazy) == _params(std)
    assert lazy.__match_args__ == std.__match_args__


def test_instance_made_without_init_builds_the_class() -> None:
    """Unpickling into a process whose class is not built yet makes the instance without
    ``__init__``; comparing, hashing and printing it must still be the dataclass's."""
    std, lazy = _pair("frozen")
    s, lz = std(1, "y"), object.__new__(lazy)
    lz.__dict__.update(a=1, b="y", c=())
    assert _shown(lz) == _shown(s)
    assert hash(lz) == hash(s)
    assert _outcome(lambda: setattr(lz, "a", 2)) == _outcome(lambda: setattr(s, "a", 2))


def test_unhandled_classes_go_to_dataclasses() -> None:
    class Undocumented:
        a: int

    built = lazy_dataclass.dataclass(frozen=True)(Undocumented)
    assert built.__doc__ == "Undocumented(a: 'int')"  # written by dataclasses
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @lazy_dataclass.dataclass(frozen=True, slots=True)
        class Misordered:
            """Fields in an order ``__init__`` cannot take."""

            a: int = 0
            b: int


_BUILD_ALL = """
import dataclasses, importlib, pkgutil, dockfix
from dockfix.lazy_dataclass import _StandInAttribute
names = sorted(m.name for m in pkgutil.walk_packages(dockfix.__path__, "dockfix."))
classes = [
    value
    for module in map(importlib.import_module, names)
    for value in vars(module).values()
    if isinstance(value, type)
    and isinstance(value.__dict__.get("__dataclass_fields__"), _StandInAttribute)
]
for cls in classes:
    dataclasses.fields(cls)
    assert "__init__" in cls.__dict__, cls
print(len(classes))
"""


def test_every_deferred_record_class_builds() -> None:
    """In a fresh interpreter, where no test has built them yet."""
    result = subprocess.run(
        [sys.executable, "-c", _BUILD_ALL], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 50


def test_a_field_a_base_class_holds_as_a_slot_stays_there() -> None:
    """A frozen record whose field a (non-dataclass) base class declares as a slot: the
    value goes into the slot, as with ``dataclasses``, not into a hidden dict entry."""

    class Base:
        __slots__ = ("a",)

    made = []
    for decorator in (dataclasses.dataclass, lazy_dataclass.dataclass):

        @decorator(frozen=True)
        class Record(Base):
            """A record with an inherited slot."""

            a: int
            b: int = 2

        record = Record(1)
        made.append((record.a, record.b, record.__dict__, Base.a.__get__(record)))
    assert made[0] == made[1] == (1, 2, {"b": 2}, 1)
