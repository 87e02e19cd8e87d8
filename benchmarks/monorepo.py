"""The corpus as a monorepo: ``-j auto`` vs ``-j 1``, time to first output, config lookup.

Why: dockfix is run by a bot at the root of a large checkout.  Every corpus file is laid
out in a temporary git work tree under ``<owner>/<repo>/<its path in that repository>``
(from ``manifest.tsv`` next to the corpus folder), so discovery walks a real folder tree,
asks git what it ignores, and (with configuration files) looks for the nearest one per
folder.  Measured, each best of ``--repeat``:

* ``dockfix --check -j 1 .`` against ``--check -j auto .`` (one worker per CPU);
* time to the first line on stdout of ``dockfix -j auto .`` (report mode, a line per
  finding, printed as files finish) against that run's total time: the files are streamed,
  so a user or a bot sees results long before the end;
* config lookup: ``--check -j 1`` on the tree without any configuration file, on a copy
  with a ``pyproject.toml`` (``[tool.dockfix]``) at the root and a ``.dockfix.toml`` in
  every repository folder, and on that copy with ``--isolated`` (no lookup at all); then,
  in-process, the time to find every file's configuration (``Resolver.profile_for``),
  which a busy machine blurs far less than whole runs.

The variants compared take turns (A B A B ...) so that load from elsewhere hits them alike.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import _common

#: dockfix: 0 clean, 1 findings/changes, 2 some file has errors (three corpus files do).
DOCKFIX_OK = (0, 1, 2)
ROOT_CONFIG = "[tool.dockfix]\nunsafe-fixes = false\n"
REPO_CONFIG = "unsafe-fixes = false\n"


def lay_out(corpus: Path, manifest: Path, root: Path) -> tuple[int, int]:
    """Copy every corpus file to ``root/owner/repo/path``; return (files, repositories)."""
    repos: set[str] = set()
    count = 0
    with manifest.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            source = corpus / row["file"]
            if not source.is_file():
                continue
            target = root / row["repo"] / row["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            repos.add(row["repo"])
            count += 1
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return count, len(repos)


def add_configs(root: Path) -> int:
    """A root ``pyproject.toml`` and a ``.dockfix.toml`` per repository folder."""
    (root / "pyproject.toml").write_text(ROOT_CONFIG)
    written = 1
    for owner in root.iterdir():
        if owner.is_dir() and owner.name != ".git":
            for repo in owner.iterdir():
                if repo.is_dir():
                    (repo / ".dockfix.toml").write_text(REPO_CONFIG)
                    written += 1
    return written


def interleaved(
    commands: dict[str, tuple[Sequence[str | Path], Path]], env: dict[str, str], repeat: int
) -> dict[str, _common.Timing]:
    """Best of *repeat* runs of each command, taking turns (A B C A B C ...).

    Taking turns spreads whatever else the machine does over all the variants compared, so
    their ratio holds up even where the absolute times do not. One untimed warm-up each.
    """
    for command, cwd in commands.values():
        _common.run_timed(command, env=env, cwd=cwd, ok=DOCKFIX_OK)
    best: dict[str, _common.Timing] = {}
    for _ in range(repeat):
        for name, (command, cwd) in commands.items():
            timing = _common.run_timed(command, env=env, cwd=cwd, ok=DOCKFIX_OK)
            if name not in best or timing.wall < best[name].wall:
                best[name] = timing
    return best


def lookup_cost(root: Path, repeat: int) -> tuple[int, float, float] | None:
    """In-process: (files, seconds to find every file's configuration, with --isolated).

    A fresh resolver per pass, so the per-folder caches are part of the cost.
    """
    try:
        from dockfix.discovery import discover
        from dockfix.profiles import Overrides, Resolver
    except ImportError as error:
        print(f"  (no configuration support to measure in-process: {error})")
        return None
    found, _ = discover([root])
    times: dict[bool, float] = {}
    for isolated in (False, True):
        passes = []
        for _ in range(repeat):
            start = time.perf_counter()
            resolver = Resolver(Overrides(), config_path=None, isolated=isolated)
            for path in found:
                resolver.profile_for(path)
            passes.append(time.perf_counter() - start)
        times[isolated] = min(passes)
    return len(found), times[False], times[True]


@dataclass(frozen=True)
class FirstLine:
    first: float
    total: float


def first_line(command: Sequence[str | Path], env: dict[str, str], cwd: Path) -> FirstLine:
    """Seconds until the first stdout line arrives, and until the process ends."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    first = time.perf_counter() - start
    process.stdout.read()
    process.wait()
    total = time.perf_counter() - start
    if not line or process.returncode not in DOCKFIX_OK:
        raise RuntimeError(f"{' '.join(map(str, command))} printed nothing or failed")
    return FirstLine(first, total)


def row(label: str, timing: _common.Timing) -> str:
    wall, cpu = _common.seconds(timing.wall), _common.seconds(timing.cpu)
    return f"  {label:<8} {wall:>10} wall  {cpu:>10} CPU"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, repeat=3)
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        metavar="TSV",
        help="file/repo/path table (default: manifest.tsv next to the corpus folder)",
    )
    args = parser.parse_args(argv)
    files = _common.corpus_files(args.corpus)
    if files is None:
        return 0
    corpus = args.corpus.resolve()
    manifest = args.manifest or corpus.parent / "manifest.tsv"
    if not manifest.is_file():
        print(f"manifest not found at {manifest}, nothing to measure")
        return 0
    if shutil.which("git") is None:
        print("git not found: the monorepo is a git work tree, nothing to measure")
        return 0
    _common.print_header("dockfix over the corpus laid out as a monorepo", args.corpus)
    dockfix = _common.tool("dockfix")
    with (
        _common.python_env(pyc_cache=not args.no_pyc_cache) as env,
        tempfile.TemporaryDirectory(prefix="dockfix-monorepo-") as tmp,
    ):
        root = Path(tmp) / "monorepo"
        count, repos = lay_out(corpus, manifest, root)

        plain, configured = root, root.with_name("configured")
        shutil.copytree(plain, configured, symlinks=True)
        configs = add_configs(configured)
        print(
            f"monorepo: {count} Dockerfiles in {repos} repository folders, a git work tree "
            f"(twice: as is, and with {configs} configuration files)"
        )
        print(f"CPUs: {os.cpu_count()}; best of {args.repeat} runs, variants taking turns\n")

        check = interleaved(
            {
                "-j 1": ([dockfix, "--check", "-j", "1", "."], plain),
                "-j auto": ([dockfix, "--check", "-j", "auto", "."], plain),
            },
            env,
            args.repeat,
        )
        serial, parallel = check["-j 1"], check["-j auto"]
        print("--check over the monorepo (CPU: the main process only; pool workers are")
        print("children of the forkserver and not counted)")
        print(row("-j 1", serial))
        print(row("-j auto", parallel))
        print(f"  speed-up -j auto / -j 1: {serial.wall / parallel.wall:.2f}x wall\n")

        print("time to the first output line (report mode, stdout a pipe)")
        runs: dict[str, list[FirstLine]] = {"auto": [], "1": []}
        for _ in range(args.repeat):
            for jobs, found in runs.items():
                found.append(first_line([dockfix, "-j", jobs, "."], env, plain))
        for jobs, found in runs.items():
            fastest = min(run.first for run in found)
            total = min(run.total for run in found)
            print(
                f"  -j {jobs:<5} first line {_common.seconds(fastest):>10}, "
                f"whole run {_common.seconds(total):>10} "
                f"(first line at {100 * fastest / total:.1f}% of the run)"
            )
        print()

        lookup = interleaved(
            {
                "none": ([dockfix, "--check", "-j", "1", "."], plain),
                "files": ([dockfix, "--check", "-j", "1", "."], configured),
                "isolated": ([dockfix, "--check", "-j", "1", "--isolated", "."], configured),
            },
            env,
            args.repeat,
        )
        print(f"config lookup, end to end (--check -j 1; {configs} configuration files)")
        print(f"  no configuration files      {_common.seconds(lookup['none'].wall):>10} wall")
        print(f"  with configuration files    {_common.seconds(lookup['files'].wall):>10} wall")
        print(f"  the same tree, --isolated   {_common.seconds(lookup['isolated'].wall):>10} wall")
        print(
            f"  with files / --isolated: {lookup['files'].wall / lookup['isolated'].wall:.3f}x, "
            f"with files / without: {lookup['files'].wall / lookup['none'].wall:.3f}x"
        )
        print("config lookup, in-process (every file's configuration, fresh caches)")
        for name, tree in (("without files", plain), ("with files", configured)):
            measured = lookup_cost(tree, args.repeat)
            if measured is None:
                break
            files_seen, looked_up, isolated_time = measured
            print(
                f"  {name:<14} {_common.seconds(looked_up):>10} for {files_seen} files "
                f"({1e6 * looked_up / files_seen:.0f} us a file; --isolated "
                f"{_common.seconds(isolated_time)}), "
                f"{100 * looked_up / lookup['none'].wall:.1f}% of the -j 1 run"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
