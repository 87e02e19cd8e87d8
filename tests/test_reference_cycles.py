"""Fixing a file leaves no cyclic garbage: reference counting frees all of it.

Why: the worker loop runs the cyclic collector only as a safety net
(``streaming.GC_THRESHOLDS``).  A fact kept on an object that pointed back to it (an
instruction's parsed shell naming the instruction) made every such object, with its
pieces, outlive its file until a collection found it; collections then took more of a
corpus run than parsing did.  Facts point back weakly (``cached.Backlink``).  This test
runs every fixture, with every rule, through the same path as the command line, and
fails on any object that only the collector could free.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixture_cases import case_options, cases, context_of

from dockfix.rules import ALL_RULES, lookup
from dockfix.rules.base import Settings
from dockfix.runner import process_path


def _runs() -> Iterator[tuple[Path, Settings]]:
    for case in cases():
        options = {key: value for key, value in case_options(case).items() if key != "rules"}
        for unsafe in (False, True):
            yield case, Settings(**{**options, "unsafe_fixes": unsafe})


def _process_all(runs: list[tuple[Path, Settings]]) -> None:
    for case, settings in runs:
        context = context_of(case)
        process_path(case, ALL_RULES, settings, apply=True, write=False, context_dir=context)
        # The folder's own rule alone too: rules see other trees when run by themselves.
        rule = lookup(case.parent.name)
        assert rule is not None
        process_path(case, (rule,), settings, apply=True, write=False, context_dir=context)


def _cyclic_garbage_of_second_pass(process: Callable[[], None]) -> str:
    """What only the collector could free after a second ``process()`` ("" for nothing).

    Classes built on first use and lazily imported modules are cyclic by nature and
    live for the whole process: the first pass makes them, the second is measured."""
    process()
    gc.collect()
    gc.garbage.clear()
    process()
    return f"{_garbage_types().most_common(10)}" if gc.collect() else ""


def _garbage_types() -> Counter[str]:
    """Objects the last collection found unreachable, by type (kept, not freed)."""
    return Counter(type(found).__name__ for found in gc.garbage)


@pytest.fixture
def saved_garbage() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def test_fixing_makes_no_reference_cycles(saved_garbage: None) -> None:
    runs = list(_runs())
    assert len(runs) > 500
    assert _cyclic_garbage_of_second_pass(lambda: _process_all(runs)) == ""


def test_corpus_files_make_no_reference_cycles(
    saved_garbage: None, corpus_files: list[Path]
) -> None:
    """Real files reach paths the fixtures do not (odd shells, many stages, Windows
    images): every tenth corpus file, safe and unsafe, measured on a second pass."""
    sample = corpus_files[::10]
    runs = [(path, Settings(unsafe_fixes=unsafe)) for path in sample for unsafe in (False, True)]

    def process_all() -> None:
        for path, settings in runs:
            process_path(path, ALL_RULES, settings, apply=True, write=False)

    assert _cyclic_garbage_of_second_pass(process_all) == ""


def test_the_check_sees_a_cycle(saved_garbage: None) -> None:
    """The measurement itself: a cycle made between the collections is found."""

    class Node:
        other: object = None

    gc.collect()
    gc.garbage.clear()
    first, second = Node(), Node()
    first.other, second.other = second, first
    del first, second
    assert gc.collect() >= 2
    assert _garbage_types()["Node"] == 2


def test_a_backlink_stands_for_its_owner_while_it_lives() -> None:
    """``Backlink``: calls, compares, hashes and prints as the owner; once the owner is
    gone it raises rather than answering for another object."""
    from dockfix.cached import Backlink
    from dockfix.syntax import parse

    run, same, other = (
        parse(f"FROM python:3.12\nRUN pip install {name}\n").instructions[1]
        for name in ("flask", "flask", "django")
    )
    link = Backlink(run)
    assert link() is run
    assert link == Backlink(same)
    assert link != Backlink(other)
    assert hash(link) == hash(run)
    assert repr(link) == f"Backlink({run!r})"
    orphan = Backlink(other)
    del other
    gc.collect()  # the owner may sit in a cycle of the test's own making
    with pytest.raises(ReferenceError):
        orphan()
