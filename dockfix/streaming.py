"""Many files, in order, as they finish: the worker pool, ``-j`` and the progress bar.

A monorepo run over thousands of files should show its first results within a second, not
after the last file, and the output must not depend on scheduling: ``-j 2`` prints exactly
what ``-j 1`` prints. So reports come back in sorted input order, each as soon as it and all
files before it are done (an ordered ``map`` over the pool), and the caller prints each one
at once.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from types import TracebackType

from dockfix.output.locations import RepoPaths, rehead
from dockfix.profiles import Profile
from dockfix.runner import CompanionReport, FileReport, process_path, process_profiled

__all__ = [
    "PROGRESS_THRESHOLD",
    "Progress",
    "parse_jobs",
    "process_files",
    "with_repo_headers",
    "worker_count",
]

#: Runs over at least this many files get a progress bar (on a terminal, text format).
PROGRESS_THRESHOLD = 32
#: Files handed to a worker at a time: large enough to amortise pickling, small enough that
#: the first results (and the progress bar) move early.
MAX_CHUNK = 16


def parse_jobs(text: str) -> int | None:
    """``-j`` value: a positive count, or ``auto`` (None: one worker per CPU when it pays)."""
    if text.strip().lower() == "auto":
        return None
    try:
        jobs = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of jobs or 'auto'") from None
    if jobs < 1:
        raise ValueError(f"{jobs} jobs: need at least 1")
    return jobs


def worker_count(jobs: int | None, files: int, threshold: int) -> int:
    """How many worker processes to use; 1 means "in this process".

    ``auto`` (None) keeps the pool for runs of at least *threshold* files, below which
    starting workers costs more than they save; an explicit count is taken as asked.
    """
    if jobs is None:
        cpus = os.cpu_count() or 1
        return cpus if files >= threshold and cpus >= 2 else 1
    return max(1, min(jobs, files))


#: The cyclic garbage collector's thresholds while files are processed (Python's default:
#: 700, 10, 10).  Fixing a file allocates hundreds of thousands of short-lived objects
#: (tree nodes, shell words, findings) and makes no reference cycles: a fact kept on an
#: object points back to it weakly (``cached.Backlink``), so a file's objects are freed by
#: reference counting when it is done (``tests/test_reference_cycles.py``).  A collection
#: would only walk live objects, mostly the long-lived caches (parsed shell scripts and
#: fragments, the rule modules), and find nothing; at the default thresholds collections
#: took a fifth or more of a run over the corpus (``gc.callbacks``, benchmarks/README.md).
#: So the collector runs only after a net growth of this many objects: a safety net for a
#: cycle the test has not seen, not a routine.  When it runs changes nothing a run reports
#: or writes, only when memory is given back.
GC_THRESHOLDS = (100_000, 50, 1000)


def tune_gc() -> None:
    """Leave garbage to reference counting while files are processed (``GC_THRESHOLDS``)."""
    gc.set_threshold(*GC_THRESHOLDS)


def start_worker() -> None:
    """A worker's set-up: ``tune_gc``, and SIGTERM (the pool's shutdown on Ctrl-C, a CI
    timeout) as an exit that removes a half-written temporary file."""
    from dockfix.program import exit_on_sigterm

    tune_gc()
    exit_on_sigterm()


def process_files(
    files: Sequence[Path],
    profiles: Sequence[Profile],
    *,
    write: bool,
    workers: int,
    diff: bool = True,
) -> Generator[FileReport, None, None]:
    """Reports for *files* (each with its profile), in order, each as soon as it is ready.

    Close the iterator (``contextlib.closing``) when stopping early, e.g. on a closed pipe:
    pending work is then cancelled instead of waited for.  ``diff=False``: the reports
    carry no diff (nothing will print one; ``FileReport.changed`` still holds).
    """
    if workers <= 1:
        thresholds = gc.get_threshold()
        tune_gc()
        try:
            for path, profile in zip(files, profiles, strict=True):
                yield process_path(
                    path, profile.rules, profile.settings, apply=True, write=write, diff=diff
                )
        finally:
            gc.set_threshold(*thresholds)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    # Workers get the few distinct profiles once per chunk and an index per file.
    distinct = list({id(profile): profile for profile in profiles}.values())
    index = {id(profile): i for i, profile in enumerate(distinct)}
    numbers = [index[id(profile)] for profile in profiles]
    work = partial(process_profiled, profiles=tuple(distinct), apply=True, write=write, diff=diff)
    chunk = max(1, min(MAX_CHUNK, len(files) // (workers * 4)))
    # forkserver: workers start from a clean process, never from a fork of one that may
    # hold a lock in another thread.
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=start_worker)
    try:
        yield from pool.map(work, files, numbers, chunksize=chunk)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def with_repo_headers(report: FileReport, paths: RepoPaths) -> FileReport:
    """*report* with diff headers relative to the repository root (``git apply`` from there).

    Outside a work tree the headers keep the path as given; standard input is never ``-``.
    """
    if report.companions:
        report = dataclasses.replace(
            report, companions=tuple(_companion_headers(c, paths) for c in report.companions)
        )
    if not report.diff:
        return report
    relative, _ = paths.relative(report.path)
    diff = rehead(report.diff, relative)
    return report if diff == report.diff else dataclasses.replace(report, diff=diff)


def _companion_headers(companion: CompanionReport, paths: RepoPaths) -> CompanionReport:
    """A companion's diff headed like its Dockerfile's (a new file keeps ``/dev/null``)."""
    relative, _ = paths.relative(companion.path)
    diff = rehead(companion.diff, relative)
    if companion.old_text is None and diff.startswith("--- "):
        diff = "--- /dev/null" + diff[diff.index("\n") :]
    return dataclasses.replace(companion, diff=diff)


class Progress:
    """click's progress bar on stderr, cleared around output so the two never mix.

    Disabled, it does nothing: no bar when stderr is not a terminal (CI logs, pipes).
    """

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._bar = None
        if enabled:
            import click

            self._bar = click.progressbar(
                length=total, label="dockfix", file=sys.stderr, show_pos=True
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.render_progress()
        return self

    def before_output(self) -> None:
        """Erase the bar's line so that the next output line starts clean."""
        if self._bar is not None:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            # Erase the bar and show the cursor again (click hides it while drawing).
            sys.stderr.write("\r\x1b[K\x1b[?25h")
            sys.stderr.flush()


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
