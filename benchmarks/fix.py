"""Whole-corpus throughput: ``dockfix --check DIR`` vs hadolint, and ``dockfix --write``.

Why: a monorepo bot runs dockfix over thousands of Dockerfiles, where it spreads files over
worker processes.  hadolint (a native binary, the usual Dockerfile linter) takes many files
per invocation; it is given the same files in batches (to stay far from argv limits, of
even sizes, as many as a multiple of the invocations run at once), once one batch after
another and once with two batches at a time, since dockfix uses every CPU (two here) too.
``--sample N`` measures N files spread evenly over the corpus (the issue's 300-file
sample), copied into one temporary folder.  ``--write`` is timed on a fresh temporary
copy of the corpus per run, and the files it changed are counted by comparing bytes.

dockfix ``--check`` runs are best of ``--repeat``; hadolint takes minutes per pass, so its
passes are set separately (``--hadolint-repeat``, default 1), as are ``--write``'s
(``--write-repeat``, default 1): a 20x goal does not hinge on run-to-run noise.
Then, in this process, the CPU over the same files is split between the two parsers and
the rest, and the ratio dockfix could reach if parsing and start-up were free is printed
(``_ceiling.py``; ``--no-ceiling`` skips it).
``--profile`` cProfiles dockfix's per-file pipeline in-process on a sample of the corpus.
Peak memory is that of one ``dockfix --check -j 1 DIR`` run (one process checks every file,
so it bounds what a worker holds); the goal is under 150 MB.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _ceiling
import _common

GOAL_SPEEDUP = 20.0
#: Peak resident memory of one process checking the whole corpus (a worker's worst case).
GOAL_PEAK_MB = 150.0
#: dockfix: 0 clean, 1 findings/changes, 2 some file has errors (three corpus files do).
DOCKFIX_OK = (0, 1, 2)
#: hadolint exits 1 whenever it reports something; that is a result, not a failure.
HADOLINT_OK = (0, 1)
#: Checked before the in-process split, untimed (imports, grammar); not a corpus file.
WARM_UP = Path(__file__).resolve().parents[1] / "examples" / "Dockerfile"


def batches(files: Sequence[Path], size: int, workers: int = 1) -> list[list[Path]]:
    """``files`` in batches of at most ``size``, as many batches as a multiple of ``workers``
    and their sizes within one file of each other.

    Why: with 21 batches and two invocations at a time, the last batch runs alone and
    hadolint's parallel pass pays half a batch of idle CPU (up to 5% of its time); even
    batches give every invocation slot the same work, so the peer is measured at its best.
    """
    if not files:
        return []
    count = -(-len(files) // size)
    count = min(len(files), -(-count // workers) * workers)
    share, extra = divmod(len(files), count)
    groups, start = [], 0
    for number in range(count):
        end = start + share + (number < extra)
        groups.append(list(files[start:end]))
        start = end
    return groups


def sample_of(files: Sequence[Path], count: int) -> list[Path]:
    """``count`` files spread evenly over ``files`` (all of them when ``count`` is 0)."""
    if count <= 0 or count >= len(files):
        return list(files)
    step = len(files) / count
    return [files[int(number * step)] for number in range(count)]


def hadolint_pass(hadolint: Path, groups: Sequence[Sequence[Path]], workers: int) -> float:
    """Wall time for hadolint over all batches, ``workers`` invocations at a time."""

    def one(group: Sequence[Path]) -> None:
        _common.run_timed([hadolint, *group], ok=HADOLINT_OK)

    start = time.perf_counter()
    if workers == 1:
        for group in groups:
            one(group)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, groups))
    return time.perf_counter() - start


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_passes(
    label: str, repeat: int, run: Callable[[], float], *, cpu_counted: bool = True
) -> tuple[float, float]:
    """Best wall time of ``repeat`` calls of ``run`` (which returns its wall time), and the
    CPU time (user + sys, all processes) of that best pass.  ``cpu_counted=False``: the
    run's processes escape ``RUSAGE_CHILDREN`` (dockfix's fork-server workers), so no CPU
    figure is printed for it."""
    best_wall, best_cpu = float("inf"), 0.0
    walls = []
    for _ in range(repeat):
        cpu_before = children_cpu()
        wall = run()
        cpu = children_cpu() - cpu_before
        walls.append(wall)
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    passes = " ".join(f"{wall:.2f}" for wall in walls)
    cpu_text = f"{best_cpu:7.2f} s" if cpu_counted else "    n/a"
    print(f"  {label:34} best {best_wall:7.2f} s   cpu {cpu_text}   passes: {passes} s", flush=True)
    return best_wall, best_cpu


def write_pass(
    dockfix: Path, files: Sequence[Path], originals: Sequence[bytes], env: dict[str, str]
) -> tuple[_common.Timing, int]:
    """``dockfix --write`` on a fresh copy: its timing and how many files it changed.

    dockfix fsyncs each rewritten file and its folder, so on a slow or busy disk the wall
    time is well above the CPU time.
    """
    with tempfile.TemporaryDirectory(prefix="dockfix-bench-write-") as scratch:
        copy = Path(scratch) / "dockerfiles"
        copy.mkdir()
        for path in files:
            shutil.copy2(path, copy / path.name)
        timing = _common.run_timed([dockfix, "--write", copy], env=env, ok=DOCKFIX_OK)
        changed = sum(
            (copy / path.name).read_bytes() != original
            for path, original in zip(files, originals, strict=True)
        )
    return timing, changed


def pool_startup(dockfix: Path, workers: int, repeat: int, env: dict[str, str]) -> float:
    """What a run with ``workers`` worker processes pays before its files: the best wall
    time of ``dockfix --check -j WORKERS`` on a folder of ``workers`` small files."""
    with tempfile.TemporaryDirectory(prefix="dockfix-bench-pool-") as scratch:
        for number in range(workers):
            shutil.copy2(WARM_UP, Path(scratch) / f"{number}.Dockerfile")
        command = [dockfix, "--check", "-j", str(workers), scratch]
        return min(_common.run_timed(command, env=env, ok=DOCKFIX_OK).wall for _ in range(repeat))


def profile_pipeline(files: Sequence[Path], sample: int, top: int) -> None:
    """cProfile read/parse/lint/fix of every k-th file, in this process (internal API)."""
    from dockfix.rules import select_rules
    from dockfix.rules.base import Settings
    from dockfix.runner import process_path

    step = max(1, len(files) // max(sample, 1))
    chosen = files[::step][:sample]
    rules, settings = select_rules((), ()), Settings()
    process_path(chosen[0], rules, settings, apply=True, write=False)  # grammar, lazy imports
    profiler = cProfile.Profile()
    start = time.process_time()
    profiler.enable()
    for path in chosen:
        process_path(path, rules, settings, apply=True, write=False)
    profiler.disable()
    cpu = time.process_time() - start
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(
        f"cProfile of dockfix's pipeline (runner.process_path, apply, no write) on "
        f"{len(chosen)} files (one in {step}): {cpu:.2f} s cpu with the profiler on"
    )
    print(stream.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, repeat=3)
    parser.add_argument(
        "--hadolint-repeat",
        type=int,
        default=1,
        metavar="N",
        help="passes per hadolint measurement (default: %(default)s)",
    )
    parser.add_argument(
        "--write-repeat",
        type=int,
        default=1,
        metavar="N",
        help="dockfix --write runs, each on a fresh copy (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=30,
        default=0,
        metavar="TOP",
        help="also cProfile dockfix's pipeline in-process and print the TOP functions "
        "(default TOP: 30)",
    )
    parser.add_argument(
        "--profile-sample",
        type=int,
        default=300,
        metavar="N",
        help="files (evenly spread over the corpus) for --profile (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        metavar="N",
        help="files per hadolint invocation (default: %(default)s)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="measure N files spread evenly over the corpus, copied into one temporary "
        "folder (default: the whole corpus)",
    )
    parser.add_argument(
        "--no-ceiling",
        action="store_true",
        help="skip the in-process split of the CPU between the parsers and the rest, and "
        "the ratio dockfix could reach with free parsers (about as long as a -j 1 run)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="concurrent hadolint invocations in the parallel pass (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    dockfix = _common.tool("dockfix")
    hadolint = _common.tool("hadolint")
    files = _common.corpus_files(args.corpus)
    if files is None:
        return 0
    if not args.sample:
        return measure(args, dockfix, hadolint, args.corpus.resolve(), files)
    with tempfile.TemporaryDirectory(prefix="dockfix-bench-sample-") as scratch:
        folder = Path(scratch) / "dockerfiles"
        folder.mkdir()
        copies = []
        for path in sample_of(files, args.sample):
            shutil.copy2(path, folder / path.name)
            copies.append(folder / path.name)
        print(f"sample: {len(copies)} of {len(files)} corpus files, spread evenly, in {folder}")
        return measure(args, dockfix, hadolint, folder, copies)


def measure(
    args: argparse.Namespace, dockfix: Path, hadolint: Path, corpus: Path, files: list[Path]
) -> int:
    """Every timing of the module docstring, over ``files`` (all of folder ``corpus``)."""
    _common.print_header("corpus throughput: dockfix --check/--write vs hadolint", corpus)
    originals = [path.read_bytes() for path in files]
    megabytes = sum(map(len, originals)) / 1e6
    groups = batches(files, args.batch_size, args.workers)
    print(
        f"{len(files)} files, {megabytes:.2f} MB; dockfix --check best of {args.repeat}, "
        f"--write best of {args.write_repeat}, hadolint best of {args.hadolint_repeat} "
        f"in {len(groups)} invocations of <= {args.batch_size} files\n"
    )

    with _common.python_env(pyc_cache=not args.no_pyc_cache) as env:
        check_cmd = [dockfix, "--check", corpus]
        # Warm-up: fills the bytecode cache (the corpus is in the page cache: read above).
        _common.run_timed([dockfix, "--check", files[0]], env=env, ok=DOCKFIX_OK)
        startup = pool_startup(dockfix, args.workers, args.repeat, env)
        # Peak memory: one process does every file (``-j 1``), so its peak bounds a
        # worker's.  RUSAGE_CHILDREN's ru_maxrss is the largest child so far (KiB on Linux).
        single = _common.run_timed([dockfix, "--check", "-j", "1", corpus], env=env, ok=DOCKFIX_OK)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"  {'dockfix --check -j 1 DIR':34} {single.wall:7.2f} s   "
            f"cpu {single.cpu:7.2f} s   peak memory {peak_mb:.0f} MB"
        )
        check, check_cpu = timed_passes(
            "dockfix --check DIR",
            args.repeat,
            lambda: _common.run_timed(check_cmd, env=env, ok=DOCKFIX_OK).wall,
            cpu_counted=False,
        )
        # What hadolint's own output is: every finding printed (dockfix's default mode).
        report, _ = timed_passes(
            "dockfix DIR (every finding printed)",
            args.repeat,
            lambda: _common.run_timed([dockfix, corpus], env=env, ok=DOCKFIX_OK).wall,
            cpu_counted=False,
        )
        sequential, sequential_cpu = timed_passes(
            "hadolint, one invocation at a time",
            args.hadolint_repeat,
            lambda: hadolint_pass(hadolint, groups, 1),
        )
        parallel, _ = timed_passes(
            f"hadolint, {args.workers} invocations at a time",
            args.hadolint_repeat,
            lambda: hadolint_pass(hadolint, groups, args.workers),
        )
        writes = [write_pass(dockfix, files, originals, env) for _ in range(args.write_repeat)]
    best_write = min((timing for timing, _ in writes), key=lambda timing: timing.wall)
    changed = sorted({count for _, count in writes})
    print(
        f"  {'dockfix --write (fresh copy)':34} best {best_write.wall:7.2f} s   "
        "cpu     n/a   "  # the fork server's workers escape RUSAGE_CHILDREN
        f"passes: {' '.join(f'{timing.wall:.2f}' for timing, _ in writes)} s   "
        f"files changed: {'/'.join(map(str, changed))} of {len(files)}"
    )
    print()
    print(
        f"dockfix --check DIR: {len(files) / check:.0f} files/s, {megabytes / check:.2f} MB/s; "
        f"hadolint: {len(files) / sequential:.1f} files/s sequential, "
        f"{len(files) / parallel:.1f} files/s {args.workers}-way"
    )
    print(
        f"speed-up hadolint_time / dockfix_time: {sequential / check:.1f}x vs sequential "
        f"hadolint, {parallel / check:.1f}x vs {args.workers}-way parallel hadolint"
    )
    print(
        f"the same for dockfix DIR, which prints every finding as hadolint does: "
        f"{sequential / report:.1f}x vs sequential, {parallel / report:.1f}x vs "
        f"{args.workers}-way"
    )
    # The CPU of ``dockfix --check DIR``'s workers is not counted: they are children of
    # multiprocessing's fork server, which nobody here waits for, so RUSAGE_CHILDREN never
    # sees them.  The one-process ``-j 1`` run is fully counted: compare that.
    del check_cpu
    print(
        f"CPU time (less sensitive to a busy machine): dockfix -j 1 {single.cpu:.2f} s, "
        f"hadolint {sequential_cpu:.2f} s: {sequential_cpu / single.cpu:.1f}x"
    )
    speedup = parallel / check
    _common.goal(
        "dockfix at least 20x faster than hadolint",
        speedup >= GOAL_SPEEDUP,
        f"{speedup:.1f}x against {args.workers}-way parallel hadolint, "
        f"{sequential / check:.1f}x against sequential",
    )
    _common.goal(
        f"peak memory under {GOAL_PEAK_MB:.0f} MB per worker",
        peak_mb < GOAL_PEAK_MB,
        f"{peak_mb:.0f} MB for one process checking all {len(files)} files",
    )
    if not args.no_ceiling:
        print()
        times = _ceiling.measure_phases(files, WARM_UP)
        ceilings = _ceiling.report(times, parallel, check, args.workers, startup)
        _common.goal(
            "20x within reach of native parsers and incremental rounds",
            ceilings.with_startup >= GOAL_SPEEDUP,
            f"{ceilings.with_startup:.1f}x at best, with parsing and later rounds free "
            "and a start-up of nothing but the worker pool's",
        )
    if args.profile:
        print()
        profile_pipeline(files, args.profile_sample, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
