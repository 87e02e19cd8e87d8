"""The ``dockfix`` program (console script and ``python -m dockfix``): ``cli.main``, then
an exit that does not tear the heap down.

Why: at interpreter exit CPython frees every object one by one.  After a run over a
monorepo a process holds about 100 MB of them (parsed trees, shell models, caches), and
freeing them took about 1 s of a 9 s ``dockfix --check -j 1`` run over the corpus
(benchmarks/README.md), with nothing to show for it: the kernel takes the memory back at
once.  So, like mypy's ``hard_exit``, the program flushes what it wrote and ends with
``os._exit``.  Nothing else is skipped that a run needs: by the time ``SystemExit``
reaches ``run`` every ``with`` block has exited (temporary folders removed, the worker
pool shut down), and dockfix registers no ``atexit`` handler of its own.  Any other
exception takes Python's usual way out.  ``cli.main`` itself never exits the process
this way, so click's test runner and in-process callers are unaffected.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

__all__ = ["exit_on_sigterm", "exit_status", "run"]


def run() -> NoReturn:
    """Run ``dockfix`` with ``sys.argv`` and end the process with its exit status."""
    from dockfix.cli import main

    exit_on_sigterm()
    try:
        main()
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    status = exit_status(code)
    _flush()
    os._exit(status)


def exit_on_sigterm() -> None:
    """Make SIGTERM raise ``SystemExit(143)`` instead of killing the process at once, so
    that ``finally`` blocks run: a ``--write`` stopped by ``kill`` or a CI timeout removes
    its temporary file instead of leaving ``.Dockerfile.dockfix-*`` behind.  (Called in
    the main process and in each worker.)"""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread: leave it as it is
        signal.signal(signal.SIGTERM, stop)


def exit_status(code: object) -> int:
    """The status ``sys.exit(code)`` gives the process: None is 0, an int is itself, and
    anything else is printed to stderr and gives 1 (as the interpreter does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1


def _flush() -> None:
    """Write out what is still buffered (a closed pipe is not an error here: click has
    already reported it)."""
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
