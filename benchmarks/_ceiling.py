"""How fast dockfix could be at best if its parsers cost nothing: the ceiling of a native
parser.

Why: the whole-corpus goal (20x hadolint) is far from the measured ratio, and the one
large change left is to move the parsing into native code (the Dockerfile lexer and node
builder, and the shell parse: tree-sitter plus the conversion into the model's objects).
This measures, in this process, how much CPU each part takes over the same files
``dockfix --check`` reads, and what the ratio would be if the parsers cost nothing at all,
nothing were spent on start-up, and the workers shared the files perfectly.  If even that
ratio is below the goal, the goal cannot be met by any native parser: the model, the rules
and the fix loop (the part written in Python by the project's design) alone take longer.

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

    @property
    def rest(self) -> float:
        """What the parsers do not take: the model, the rules, the fix loop, verification's
        bookkeeping and the report, all in Python."""
        return self.total - sum(self.parsers.values())


def ceiling_ratio(peer_wall: float, rest_cpu: float, workers: int) -> float:
    """The best ratio peer time / dockfix time with free parsers: ``rest_cpu`` spread
    perfectly over ``workers`` processes, with no start-up at all."""
    return peer_wall / (rest_cpu / workers)


@contextlib.contextmanager
def _timed_parsers(times: PhaseTimes) -> Iterator[None]:
    """Every binding of each parser in a loaded dockfix module timed (CPU), then restored.

    A call made inside another timed call (the fragment cache parsing through ``parse``)
    is counted once.  Fails if some parser was never called: a rename would otherwise
    report a share of zero.
    """
    replaced: list[tuple[Any, str, Any]] = []
    busy = [False]
    for label, spec in PARSERS.items():
        module_name, name = spec.split(":")
        __import__(module_name)
        original = getattr(sys.modules[module_name], name)
        times.parsers[label] = 0.0
        times.calls[label] = 0
        wrapper = _timer(original, label, times, busy)
        for module in list(sys.modules.values()):
            if module is None or not getattr(module, "__name__", "").startswith("dockfix"):
                continue
            for attribute, value in list(vars(module).items()):
                if value is original:
                    replaced.append((module, attribute, value))
                    setattr(module, attribute, wrapper)
    try:
        yield
    finally:
        for module, attribute, value in replaced:
            setattr(module, attribute, value)
    missing = [label for label, count in times.calls.items() if not count]
    if missing:
        raise RuntimeError(f"never called, so not measured: {', '.join(missing)}")


def _timer(
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
    with _timed_parsers(times):
        start = time.process_time()
        for path in files:
            process_path(path, rules, settings, apply=True, write=False, diff=False)
        times.total = time.process_time() - start
    return times


def report(times: PhaseTimes, peer_wall: float, measured_wall: float, workers: int) -> float:
    """Print the split and the ceiling; returns the ceiling ratio."""
    print(f"where dockfix --check's CPU goes, in one process over {times.files} files:")
    print(f"  {'everything':34} {times.total:7.2f} s")
    for label, seconds in times.parsers.items():
        calls = times.calls[label]
        share = seconds / times.total
        print(f"  {label:34} {seconds:7.2f} s   {share:6.1%}   {calls} parses")
    print(
        f"  {'the rest (model, rules, fix loop)':34} {times.rest:7.2f} s   "
        f"{times.rest / times.total:6.1%}"
    )
    ceiling = ceiling_ratio(peer_wall, times.rest, workers)
    print(
        f"ceiling with free parsers, no start-up and {workers} perfectly shared workers: "
        f"{times.rest / workers:.2f} s = {ceiling:.1f}x hadolint "
        f"(measured: {measured_wall:.2f} s = {peer_wall / measured_wall:.1f}x)"
    )
    return ceiling
