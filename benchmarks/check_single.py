"""Single-file latency: ``dockfix --check FILE`` vs ``hadolint FILE``, each a fresh process.

Why: editors and pre-commit hooks run a linter on one file at a time, so what matters
there is start-up (interpreter, imports, grammar build) more than parse speed.  hadolint is
a native binary, the bar dockfix is held to.

Both tools run on the same file, interleaved, ``--repeat`` times after one untimed warm-up
each; the median and the minimum wall time are reported (plus CPU time, which a busy
machine inflates less).  Measured on a median-size corpus file (or ``--file``) and on the
largest corpus file.  Finally ``python -X importtime -m dockfix --check FILE`` runs once and
the slowest imports are listed: the candidates for lazy importing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import _common

GOAL_RATIO = 2.0
#: dockfix --check: 0 clean, 1 would change/findings, 2 the file has errors.  All are results.
DOCKFIX_OK = (0, 1, 2)
#: hadolint exits 1 when it reports anything; that is its normal output, not a failure.
HADOLINT_OK = (0, 1)


@dataclass(frozen=True)
class Series:
    """Repeated timings of one command."""

    label: str
    timings: tuple[_common.Timing, ...]

    @property
    def walls(self) -> list[float]:
        return [timing.wall for timing in self.timings]

    @property
    def cpus(self) -> list[float]:
        return [timing.cpu for timing in self.timings]


def pick_median_file(files: Sequence[Path]) -> Path:
    """The file of median size: a representative Dockerfile, not a toy or a monster."""
    by_size = sorted(files, key=lambda path: (path.stat().st_size, path.name))
    return by_size[len(by_size) // 2]


def pick_largest_file(files: Sequence[Path]) -> Path:
    return max(files, key=lambda path: (path.stat().st_size, path.name))


def measure_file(
    path: Path, repeat: int, env: dict[str, str], dockfix: Path, hadolint: Path
) -> tuple[Series, Series]:
    """Interleave the two tools so that load changes hit both alike."""
    dockfix_cmd = [dockfix, "--check", path]
    hadolint_cmd = [hadolint, path]
    _common.run_timed(dockfix_cmd, env=env, ok=DOCKFIX_OK)  # warm-up: page cache, bytecode
    _common.run_timed(hadolint_cmd, ok=HADOLINT_OK)
    ours: list[_common.Timing] = []
    theirs: list[_common.Timing] = []
    for _ in range(repeat):
        ours.append(_common.run_timed(dockfix_cmd, env=env, ok=DOCKFIX_OK))
        theirs.append(_common.run_timed(hadolint_cmd, ok=HADOLINT_OK))
    return Series("dockfix --check", tuple(ours)), Series("hadolint", tuple(theirs))


def report_file(path: Path, ours: Series, theirs: Series) -> float:
    """Print one file's table; return the ratio of median wall times."""
    size = path.stat().st_size
    lines = len(path.read_bytes().splitlines())
    print(f"{path.name}: {size} bytes, {lines} lines")
    print(f"  {'command':16} {'median':>9} {'min':>9} {'median cpu':>11}  exit")
    for series in (ours, theirs):
        codes = sorted({timing.returncode for timing in series.timings})
        print(
            f"  {series.label:16} {_common.seconds(_common.median(series.walls)):>9} "
            f"{_common.seconds(min(series.walls)):>9} "
            f"{_common.seconds(_common.median(series.cpus)):>11}  {','.join(map(str, codes))}"
        )
    median_ratio = _common.median(ours.walls) / _common.median(theirs.walls)
    min_ratio = min(ours.walls) / min(theirs.walls)
    cpu_ratio = _common.median(ours.cpus) / max(_common.median(theirs.cpus), 1e-9)
    print(
        f"  dockfix/hadolint: {median_ratio:.2f}x (median wall), {min_ratio:.2f}x (min wall), "
        f"{cpu_ratio:.2f}x (median cpu)"
    )
    return median_ratio


@dataclass(frozen=True)
class ImportTime:
    """One line of ``-X importtime``: microseconds."""

    self_us: int
    cumulative_us: int
    depth: int
    module: str


def import_times(path: Path, env: dict[str, str]) -> tuple[list[ImportTime], float]:
    """``python -X importtime -m dockfix --check FILE``: its import lines and wall time."""
    command = [sys.executable, "-X", "importtime", "-m", "dockfix", "--check", str(path)]
    timing_start = _common.run_timed(command, env=env, ok=DOCKFIX_OK)  # fill caches first
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    records = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip(" "))) // 2
        records.append(ImportTime(int(self_us), int(cumulative_us), depth, name.strip()))
    return records, timing_start.wall


def report_imports(records: Sequence[ImportTime], wall: float, top: int) -> None:
    total = sum(record.cumulative_us for record in records if record.depth == 0)
    ours = [record.module for record in records if record.module.startswith("dockfix")]
    rules = {name for name in ours if name.count(".") == 2 and name.startswith("dockfix.rules.")}
    print(
        f"python -X importtime -m dockfix --check: {len(records)} modules imported "
        f"({len(ours)} of dockfix, {len(rules)} under dockfix.rules), "
        f"{total / 1000:.1f} ms in imports (a run takes ~{_common.seconds(wall)} wall)"
    )
    print(f"  {top} slowest imports by cumulative time (nested imports included):")
    print(f"  {'cumulative':>10} {'self':>9}  module")
    slowest = sorted(records, key=lambda record: record.cumulative_us, reverse=True)[:top]
    for record in slowest:
        print(
            f"  {record.cumulative_us / 1000:8.1f} ms {record.self_us / 1000:6.1f} ms  "
            f"{'  ' * record.depth}{record.module}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, repeat=20)
    parser.add_argument(
        "--file",
        type=Path,
        metavar="FILE",
        help="measure this file instead of the median-size corpus file",
    )
    parser.add_argument(
        "--imports", type=int, default=10, metavar="N", help="slowest imports to list"
    )
    args = parser.parse_args(argv)
    dockfix = _common.tool("dockfix")
    hadolint = _common.tool("hadolint")
    files = _common.corpus_files(args.corpus) if args.file is None else None
    if args.file is None and files is None:
        return 0
    if args.file is not None and not args.file.is_file():
        sys.exit(f"--file {args.file}: no such file")
    targets: list[Path] = []
    if args.file is not None:
        targets.append(args.file)
        if args.corpus.is_dir():
            files = sorted(p for p in args.corpus.resolve().iterdir() if p.is_file())
    else:
        assert files is not None
        targets.append(pick_median_file(files))
    if files:
        targets.append(pick_largest_file(files))
    _common.print_header(
        "single-file latency: dockfix --check vs hadolint", args.corpus if files else None
    )
    pyc = "private bytecode cache" if not args.no_pyc_cache else "inherited environment"
    print(
        f"{args.repeat} runs per command after one warm-up, interleaved; "
        f"dockfix runs with a {pyc}\n"
    )
    ratios = []
    with _common.python_env(pyc_cache=not args.no_pyc_cache) as env:
        for path in targets:
            ours, theirs = measure_file(path, args.repeat, env, dockfix, hadolint)
            ratios.append(report_file(path, ours, theirs))
            print()
        records, wall = import_times(targets[0], env)
    report_imports(records, wall, args.imports)
    # Timings on a shared machine mean little without the load they were taken under.
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print()
    ratio = ratios[0]
    _common.goal(
        "dockfix --check within 2x of hadolint",
        ratio <= GOAL_RATIO,
        f"{ratio:.2f}x on {targets[0].name}, median wall",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
