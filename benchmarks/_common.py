"""Helpers shared by the benchmark scripts (corpus location, child processes, reporting).

Not a benchmark itself.  The scripts import it as a sibling module: ``python
benchmarks/parse.py`` puts ``benchmarks/`` first on ``sys.path``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

#: ``../shared/corpus/dockerfiles`` next to the project root (this file is in benchmarks/).
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "dockerfiles"
#: Console scripts live next to the interpreter in a venv (``.venv/bin``).
BIN_DIR = Path(sys.executable).parent


def add_common_arguments(parser: argparse.ArgumentParser, *, repeat: int) -> None:
    """``--corpus`` and ``--repeat``, the same spelling in every script."""
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        metavar="DIR",
        help="folder of Dockerfiles (default: %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=repeat,
        metavar="N",
        help="timed runs per measurement; the best (or median) is reported (default: %(default)s)",
    )
    parser.add_argument(
        "--no-pyc-cache",
        action="store_true",
        help="run Python child processes with the inherited environment as is; by default "
        "they get a private bytecode cache (PYTHONPYCACHEPREFIX in a temporary folder) so "
        "that PYTHONDONTWRITEBYTECODE=1 does not make every start recompile dockfix",
    )


def corpus_files(corpus: Path) -> list[Path] | None:
    """The corpus files, sorted by name; ``None`` (after saying so) when there is no corpus."""
    corpus = corpus.resolve()
    if not corpus.is_dir():
        print(f"corpus not found at {corpus}, nothing to measure")
        return None
    files = sorted(path for path in corpus.iterdir() if path.is_file())
    if not files:
        print(f"corpus at {corpus} is empty, nothing to measure")
        return None
    return files


def tool(name: str) -> Path:
    """An executable installed in the running venv, or exit with a clear message."""
    path = BIN_DIR / name
    if not path.is_file():
        sys.exit(f"{name} not found at {path}; install the test extras into this venv")
    return path


@contextlib.contextmanager
def python_env(*, pyc_cache: bool) -> Iterator[dict[str, str]]:
    """The environment for Python child processes.

    A pip-installed dockfix has compiled bytecode.  This checkout is an editable install and
    the sandbox sets PYTHONDONTWRITEBYTECODE=1, so without help every ``dockfix`` start
    would compile all of dockfix's modules again: a cost no user pays.  The private prefix
    keeps the checkout untouched; the first (untimed warm-up) run fills it.
    """
    env = dict(os.environ)
    if not pyc_cache:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="dockfix-bench-pyc-") as prefix:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = prefix
        yield env


@dataclass(frozen=True)
class Timing:
    """One child-process run: wall time, and CPU time (user + sys) of it and its children."""

    wall: float
    cpu: float
    returncode: int


def run_timed(
    command: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0, 1),
    cwd: Path | None = None,
) -> Timing:
    """Run ``command`` with output discarded; fail loudly on an unexpected exit status.

    CPU time comes from ``RUSAGE_CHILDREN`` deltas, so it is only meaningful when no other
    child process of ours finishes meanwhile (true for the sequential callers).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        [str(part) for part in command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode not in ok or "Traceback (most recent call last)" in stderr:
        raise RuntimeError(
            f"{' '.join(map(str, command[:3]))} ... exited {completed.returncode}: {stderr[-500:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, completed.returncode)


def print_header(title: str, corpus: Path | None = None) -> None:
    """What was measured where: timings on a busy 2-core machine need this context."""
    print(f"== {title} ==")
    print(
        f"python {platform.python_version()} ({sys.executable}), "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    note = "  (machine busy: wall times are inflated)" if load > 0.75 * cpus else ""
    print(f"load average (1 min) at start: {load:.2f}{note}")
    print(f"dockfix: {dockfix_revision()}")
    if corpus is not None:
        print(f"corpus: {corpus.resolve()}")
    print()


def dockfix_revision() -> str:
    """The checkout's commit, and whether dockfix/ has uncommitted changes (read-only git)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "--no-optional-locks",
                "-C",
                str(root),
                "status",
                "--porcelain",
                "--",
                "dockfix",
                "grammar",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{root} (not a git checkout)"
    return f"{root} at {head}{' + uncommitted changes' if dirty else ''}"


def seconds(value: float) -> str:
    """Seconds, with milliseconds below one second."""
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def goal(text: str, met: bool, figure: str) -> None:
    """The target next to the measured figure, so a reader need not do the arithmetic."""
    print(f"goal: {text}: {'MET' if met else 'NOT MET'} ({figure})")
