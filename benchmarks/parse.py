"""Parse speed on the real-world corpus: dockfix vs BuildKit's parser vs dockerfile-parse.

Why: dockfix's lossless parser has to stay close to BuildKit's own parser (the
``dockerfile`` wheel, Go code) in speed, or a monorepo run gets slow.  dockerfile-parse
is the pure-Python peer most tools use; it reads far less (no flags, heredocs, JSON form),
so it is a floor, not a target.

All files are read into memory first, so only parsing is timed.  Each parser runs over the
whole corpus ``--repeat`` times and the best pass counts.  Per-file failures are counted,
never fatal (a few corpus files are invalid Dockerfiles).  dockfix is warmed up first (its
caches and imports); its one-off start-up cost is reported separately, measured in a fresh
interpreter.  (dockfix builds its nodes straight from its lexer's reading, with no token or
tree objects; Lark's LALR parser is only the tests' reference, so no grammar is built at
start-up.)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import _common

GOAL_RATIO = 3.0
#: What a fresh interpreter pays before its first parse: the imports.
STARTUP_SNIPPET = (
    "import time; t=time.perf_counter(); import dockfix; dockfix.parse('FROM a\\n'); "
    "print(time.perf_counter()-t)"
)


@dataclass(frozen=True)
class Corpus:
    """The corpus in memory: raw bytes (for dockerfile-parse) and decoded text."""

    names: tuple[str, ...]
    raw: tuple[bytes, ...]
    texts: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        return sum(len(data) for data in self.raw)


@dataclass(frozen=True)
class Result:
    """One parser's timings over the corpus."""

    name: str
    times: tuple[float, ...]
    cpu_times: tuple[float, ...]
    failures: tuple[tuple[str, str], ...]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu_times)


def load(files: Sequence[Path]) -> Corpus:
    raw = tuple(path.read_bytes() for path in files)
    texts = tuple(data.decode("utf-8", errors="surrogateescape") for data in raw)
    return Corpus(tuple(path.name for path in files), raw, texts)


def parse_dockfix() -> Callable[[Corpus, int], None]:
    import dockfix

    def run(corpus: Corpus, index: int) -> None:
        dockfix.parse(corpus.texts[index])

    return run


def parse_buildkit() -> Callable[[Corpus, int], None]:
    import dockerfile

    def run(corpus: Corpus, index: int) -> None:
        dockerfile.parse_string(corpus.texts[index])

    return run


def parse_dockerfile_parse() -> Callable[[Corpus, int], None]:
    from dockerfile_parse import DockerfileParser

    def run(corpus: Corpus, index: int) -> None:
        # Its file-object entry point takes bytes; ``.structure`` is what does the parsing.
        _ = DockerfileParser(fileobj=io.BytesIO(corpus.raw[index])).structure

    return run


PARSERS: dict[str, Callable[[], Callable[[Corpus, int], None]]] = {
    "dockfix": parse_dockfix,
    "BuildKit (dockerfile)": parse_buildkit,
    "dockerfile-parse": parse_dockerfile_parse,
}


def one_pass(run: Callable[[Corpus, int], None], corpus: Corpus) -> list[tuple[str, str]]:
    failures = []
    for index in range(len(corpus.texts)):
        try:
            run(corpus, index)
        except Exception as error:  # a parser's failure on one file is data, not a crash
            failures.append((corpus.names[index], f"{type(error).__name__}: {error}"))
    return failures


def measure(name: str, run: Callable[[Corpus, int], None], corpus: Corpus, repeat: int) -> Result:
    """Best-of-``repeat`` passes; CPU time (this process, all threads) is kept too because
    a busy machine inflates wall time far more than CPU time."""
    times, cpu_times = [], []
    failures: list[tuple[str, str]] = []
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        failures = one_pass(run, corpus)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return Result(name, tuple(times), tuple(cpu_times), tuple(failures))


def startup_times(repeat: int, env: dict[str, str]) -> list[float]:
    """Imports and a first parse in fresh interpreters (one untimed run fills caches)."""
    command = [sys.executable, "-c", STARTUP_SNIPPET]
    results = []
    for attempt in range(repeat + 1):
        output = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        if attempt:
            results.append(float(output.stdout.strip()))
    return results


def profile_dockfix(corpus: Corpus, top: int) -> None:
    """cProfile one dockfix pass: where the parse time goes."""
    run = parse_dockfix()
    profiler = cProfile.Profile()
    profiler.enable()
    one_pass(run, corpus)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print("cProfile of one dockfix.parse pass (profiler overhead inflates the totals):")
    print(stream.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, repeat=3)
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=5,
        metavar="N",
        help="fresh interpreters for the import+grammar figure (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=25,
        default=0,
        metavar="TOP",
        help="also cProfile one dockfix pass and print the TOP functions (default TOP: 25)",
    )
    args = parser.parse_args(argv)
    files = _common.corpus_files(args.corpus)
    if files is None:
        return 0
    _common.print_header("parse speed over the corpus", args.corpus)
    corpus = load(files)
    megabytes = corpus.total_bytes / 1e6
    print(f"{len(files)} files, {megabytes:.2f} MB, in memory; best of {args.repeat} pass(es)\n")

    with _common.python_env(pyc_cache=not args.no_pyc_cache) as env:
        startup = startup_times(args.startup_runs, env)
    # Warm-up: build each parser's one-off state outside the timings.
    runners = {name: factory() for name, factory in PARSERS.items()}
    for run in runners.values():
        one_pass(run, Corpus(corpus.names[:1], corpus.raw[:1], corpus.texts[:1]))

    results = [measure(name, run, corpus, args.repeat) for name, run in runners.items()]
    ours = results[0]
    width = max(len(result.name) for result in results)
    print(
        f"{'parser':{width}}  {'best':>9}  {'passes (wall)':>20}  {'best cpu':>9}  "
        f"{'files/s':>8}  {'MB/s':>6}  {'failed':>6}  dockfix/peer (wall, cpu)"
    )
    for result in results:
        passes = " ".join(f"{t:.2f}" for t in result.times) + " s"
        ratio = (
            ""
            if result is ours
            else f"{ours.best / result.best:.2f}x, {ours.best_cpu / result.best_cpu:.2f}x"
        )
        print(
            f"{result.name:{width}}  {_common.seconds(result.best):>9}  {passes:>20}  "
            f"{_common.seconds(result.best_cpu):>9}  {len(files) / result.best:8.0f}  "
            f"{megabytes / result.best:6.2f}  {len(result.failures):6d}  {ratio}"
        )
    print()
    for result in results:
        for name, message in result.failures:
            print(f"  {result.name} failed on {name}: {message[:110]}")
    print()
    print(
        f"dockfix one-off imports + first parse (fresh interpreter, {len(startup)} runs): "
        f"min {_common.seconds(min(startup))}, median {_common.seconds(statistics.median(startup))}"
        f"{'' if args.no_pyc_cache else ' (with bytecode cached)'}"
    )
    buildkit = results[1]
    ratio = ours.best / buildkit.best
    _common.goal(
        "dockfix within 3x of BuildKit's parser",
        ratio <= GOAL_RATIO,
        f"dockfix {_common.seconds(ours.best)} vs BuildKit {_common.seconds(buildkit.best)}: "
        f"{ratio:.2f}x wall, {ours.best_cpu / buildkit.best_cpu:.2f}x cpu",
    )
    if args.profile:
        print()
        profile_dockfix(corpus, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
