"""How fast dockfix could be at best with native parsers and perfectly incremental rounds.

Why: the whole-corpus goal (20x hadolint) is far from the measured ratio, and the large
changes left are to move the parsing into native code (the Dockerfile lexer and node
builder, and the shell parse: tree-sitter plus the conversion into the model's objects)
and to re-run rules only where a round's edits can matter.  This measures, in this
process, the CPU each part takes over the files ``dockfix --check`` reads, and the ratio
if the parsers cost nothing at all, the rounds after each file's first cost nothing, the
workers shared the files perfectly and a run paid only its worker pool's start-up.  If
even that is below the goal, no native parser and no incremental engine can meet it: the
model, the rules and the first round's fix loop (Python by the project's design) take
longer on their own.

Not a benchmark of its own: ``fix.py`` calls it with hadolint's time from the same run.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The parsers' entry points: ``module:function``, wrapped wherever a dockfix module holds
#: them (the engine and the runner import ``parse`` by name, the model ``parse_shell``).
PARSERS = {
    "Dockerfile parser": "dockfix.syntax.document:parse",
    "shell parser": "dockfix.shell.parse:parse_shell",
}


@dataclass
class PhaseTimes:
    """CPU seconds over the files: the whole pipeline, and each parser's share of it."""

    files: int = 0
    total: float = 0.0
    parsers: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    #: The rounds after a file's first (rules and the model they rebuild), parsers not
    #: counted: what perfectly incremental rounds could save at most.
    later_rounds: float = 0.0
    rounds: int = 0

    @property
    def rest(self) -> float:
        """What the parsers do not take: the model, the rules, the fix loop, verification's
        bookkeeping and the report, all in Python."""
        return self.total - sum(self.parsers.values())


def ceiling_ratio(peer_wall: float, cpu: float, workers: int, startup: float = 0.0) -> float:
    """The best ratio peer time / dockfix time when a run costs ``startup`` plus ``cpu``
    spread perfectly over ``workers`` processes."""
    return peer_wall / (startup + cpu / workers)


@contextlib.contextmanager
def _timed(times: PhaseTimes) -> Iterator[None]:
    """The parsers and the later rounds timed (CPU) wherever a loaded dockfix module holds
    them, then put back.

    A parse made inside another timed parse (the fragment cache parsing through
    ``parse``) is counted once.  Fails if some parser was never called: a rename would
    otherwise report a share of zero.
    """
    import dockfix.engine

    replaced: list[tuple[Any, str, Any]] = []

    def patch(original: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
        for module in list(sys.modules.values()):
            if module is None or not getattr(module, "__name__", "").startswith("dockfix"):
                continue
            for attribute, value in list(vars(module).items()):
                if value is original:
                    replaced.append((module, attribute, value))
                    setattr(module, attribute, wrapper)

    busy = [False]
    for label, spec in PARSERS.items():
        module_name, name = spec.split(":")
        __import__(module_name)
        times.parsers[label] = 0.0
        times.calls[label] = 0
        original = getattr(sys.modules[module_name], name)
        patch(original, _parser_timer(original, label, times, busy))
    round_number = [0]
    patch(dockfix.engine.fix_document, _first_round(dockfix.engine.fix_document, round_number))
    patch(dockfix.engine.run_rules, _round_timer(dockfix.engine.run_rules, times, round_number))
    try:
        yield
    finally:
        for module, attribute, value in replaced:
            setattr(module, attribute, value)
    missing = [label for label, count in times.calls.items() if not count]
    if missing:
        raise RuntimeError(f"never called, so not measured: {', '.join(missing)}")


def _parser_timer(
    function: Callable[..., Any], label: str, times: PhaseTimes, busy: list[bool]
) -> Callable[..., Any]:
    clock = time.process_time

    def timed(*args: Any, **kwargs: Any) -> Any:
        if busy[0]:
            return function(*args, **kwargs)
        busy[0] = True
        start = clock()
        try:
            return function(*args, **kwargs)
        finally:
            times.parsers[label] += clock() - start
            times.calls[label] += 1
            busy[0] = False

    return timed


def _first_round(function: Callable[..., Any], round_number: list[int]) -> Callable[..., Any]:
    def fix_document(*args: Any, **kwargs: Any) -> Any:
        round_number[0] = 0
        return function(*args, **kwargs)

    return fix_document


def _round_timer(
    function: Callable[..., Any], times: PhaseTimes, round_number: list[int]
) -> Callable[..., Any]:
    """``run_rules`` with the rounds after the first timed, less the parses inside them."""
    clock = time.process_time

    def run_rules(*args: Any, **kwargs: Any) -> Any:
        later = round_number[0] > 0
        round_number[0] += 1
        if not later:
            return function(*args, **kwargs)
        start, parsing = clock(), sum(times.parsers.values())
        try:
            return function(*args, **kwargs)
        finally:
            times.later_rounds += clock() - start - (sum(times.parsers.values()) - parsing)
            times.rounds += 1

    return run_rules


def measure_phases(files: Sequence[Path], warm_up: Path) -> PhaseTimes:
    """``dockfix --check``'s per-file work (default rules and settings, fixes applied, no
    diff) on every file, in this process, with the parsers timed.

    ``warm_up`` (not one of ``files``) is checked first, untimed, so that imports and the
    grammar load are not counted, while the parse caches start with none of ``files``.
    """
    from dockfix.rules import select_rules
    from dockfix.rules.base import Settings
    from dockfix.runner import process_path

    rules, settings = select_rules(("ALL",), ()), Settings()
    process_path(warm_up, rules, settings, apply=True, write=False, diff=False)
    times = PhaseTimes(files=len(files))
    with _timed(times):
        start = time.process_time()
        for path in files:
            process_path(path, rules, settings, apply=True, write=False, diff=False)
        times.total = time.process_time() - start
    return times


@dataclass(frozen=True)
class Ceilings:
    """The ratios dockfix could reach at best, each assuming more work away."""

    #: Both parsers free, no start-up, workers sharing perfectly.
    free_parsers: float
    #: And every round after a file's first free too (perfectly incremental rounds).
    free_parsers_and_rounds: float
    #: The same, plus the start-up of a run with a worker pool (on a few small files).
    with_startup: float


def report(
    times: PhaseTimes, peer_wall: float, measured_wall: float, workers: int, startup: float
) -> Ceilings:
    """Print the split and the ceilings."""
    total = times.total
    print(f"where dockfix --check's CPU goes, in one process over {times.files} files:")
    print(f"  {'everything':44} {total:7.2f} s")
    for label, seconds in times.parsers.items():
        calls = times.calls[label]
        print(f"  {label:44} {seconds:7.2f} s   {seconds / total:6.1%}   {calls} parses")
    print(
        f"  {'rounds after the first, parsers not counted':44} {times.later_rounds:7.2f} s   "
        f"{times.later_rounds / total:6.1%}   {times.rounds} rounds"
    )
    print(
        f"  {'the rest (model, rules, fix loop)':44} {times.rest:7.2f} s   "
        f"{times.rest / total:6.1%}"
    )
    first_rounds = times.rest - times.later_rounds
    ceilings = Ceilings(
        ceiling_ratio(peer_wall, times.rest, workers),
        ceiling_ratio(peer_wall, first_rounds, workers),
        ceiling_ratio(peer_wall, first_rounds, workers, startup),
    )
    print(
        f"measured: {measured_wall:.2f} s = {peer_wall / measured_wall:.1f}x hadolint; at best, "
        f"with {workers} workers sharing perfectly and no start-up:"
    )
    print(f"  parsers free: {times.rest / workers:.2f} s = {ceilings.free_parsers:.1f}x")
    print(
        f"  parsers and later rounds free: {first_rounds / workers:.2f} s = "
        f"{ceilings.free_parsers_and_rounds:.1f}x; plus the worker pool's start-up "
        f"({startup:.2f} s): {ceilings.with_startup:.1f}x"
    )
    return ceilings
