"""Big trees: streamed stable output, ``-j``, the progress bar, stdin context, diff headers."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from format_helpers import BROKEN, CLEAN, FIXABLE, FIXED, run_dockfix, write

from dockfix import streaming
from dockfix.output.report import Printer
from dockfix.runner import FileReport

pytest_plugins = ["format_fixtures"]


def many(root: Path, count: int) -> None:
    """*count* folders of fixable, clean and broken files (names sort as numbers do)."""
    files: dict[str, str | bytes] = {}
    for i in range(count):
        text = (FIXABLE, CLEAN, BROKEN)[i % 3]
        files[f"d{i:03d}/Dockerfile"] = text
        files[f"d{i:03d}/x.txt"] = "x"
    write(root, files)


# --- order and streaming -------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--diff"], ["--format", "json"], ["--format", "github"]])
def test_jobs_do_not_change_the_output(
    via: str, workdir: Path, child_env: dict[str, str], mode: list[str]
) -> None:
    many(workdir, 24)
    one = run_dockfix(via, "-j", "1", *mode, ".", cwd=workdir, env=child_env)
    two = run_dockfix(via, "-j", "2", *mode, ".", cwd=workdir, env=child_env)
    auto = run_dockfix(via, "--jobs", "auto", *mode, ".", cwd=workdir, env=child_env)
    assert one.status == two.status == auto.status == 2
    assert one.stdout == two.stdout == auto.stdout
    assert one.stderr == two.stderr == auto.stderr
    assert one.stdout  # something was printed


def test_each_file_is_printed_before_the_next_is_processed(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serial runs print a file's report as soon as it is done, not all at the end."""
    many(workdir, 4)
    events: list[str] = []
    process = streaming.process_path
    add = Printer.add

    def processing(path: Path, *args: object, **kwargs: object) -> FileReport:
        events.append(f"process {path.parent.name}")
        return process(path, *args, **kwargs)  # type: ignore[arg-type]

    def printing(self: Printer, report: FileReport) -> None:
        events.append(f"print {Path(report.path).parent.name}")
        add(self, report)

    monkeypatch.setattr(streaming, "process_path", processing)
    monkeypatch.setattr(Printer, "add", printing)
    result = run_dockfix("runner", "-j", "1", "--check", ".", cwd=workdir, env={})
    assert result.status == 2
    assert events == [f"{what} d{i:03d}" for i in range(4) for what in ("process", "print")]


def test_first_output_comes_before_the_run_ends(workdir: Path, child_env: dict[str, str]) -> None:
    """With workers, the first file's report is on stdout while later files still run."""
    many(workdir, 90)
    process = subprocess.Popen(
        [sys.executable, "-m", "dockfix", "-j", "2", "--select", "DF001,DF002,DF003,DF004", "."],
        cwd=workdir,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    running = process.poll() is None
    rest = process.stdout.read()
    process.stderr.read()
    assert process.wait(timeout=300) == 2
    assert first.startswith(b"d000/Dockerfile:1:15: DF002")
    assert rest.endswith(
        b"d087/Dockerfile:4:1: DF004 Use COPY instead of ADD for files and folders\n"
    )
    # A heuristic: 90 files take far longer than reading one line does.
    assert running


@pytest.mark.parametrize("value", ["0", "-1", "x", ""])
def test_bad_jobs_value_is_a_usage_error(
    via: str, workdir: Path, child_env: dict[str, str], value: str
) -> None:
    result = run_dockfix(via, "-j", value, ".", cwd=workdir, env=child_env)
    assert result.status == 2
    assert "Invalid value for '-j' / '--jobs'" in result.err


# --- progress bar --------------------------------------------------------------------------


def test_no_progress_bar_when_piped(workdir: Path, child_env: dict[str, str]) -> None:
    many(workdir, streaming.PROGRESS_THRESHOLD + 3)
    result = run_dockfix("process", "--check", ".", cwd=workdir, env=child_env)
    assert result.status == 2
    assert "\r" not in result.err
    assert "dockfix" not in result.err  # the bar's label
    assert (
        result.err.count("error: unterminated heredoc") == (streaming.PROGRESS_THRESHOLD + 3) // 3
    )


def _stderr_on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, bytes]:
    controller, terminal = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal side closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "dockfix", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            timeout=300,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    return completed.returncode, b"".join(chunks)


@pytest.mark.skipif(not hasattr(pty, "openpty") or sys.platform == "win32", reason="needs a pty")
def test_progress_bar_on_a_terminal(workdir: Path, child_env: dict[str, str]) -> None:
    count = streaming.PROGRESS_THRESHOLD + 3
    many(workdir, count)
    status, stderr = _stderr_on_a_terminal(["--check", "."], workdir, child_env)
    assert status == 2
    assert f"{count}/{count}".encode() in stderr  # click's bar, with positions
    assert b"\r\x1b[Kd002/Dockerfile:2:1: error: unterminated heredoc" in stderr  # bar erased
    assert stderr.endswith(b"\r\x1b[K\x1b[?25h")  # erased at the end, cursor shown again
    # Not for other formats, nor for a handful of files.
    status, stderr = _stderr_on_a_terminal(["--check", "--format", "json", "."], workdir, child_env)
    assert f"/{count}".encode() not in stderr
    status, stderr = _stderr_on_a_terminal(["--check", "d000"], workdir, child_env)
    assert b"/1" not in stderr


# --- stdin -----------------------------------------------------------------------------------


def test_stdin_filename_gives_context_and_path(
    via: str, workdir: Path, child_env: dict[str, str]
) -> None:
    """DF004 needs the build context on disk to prove a source is not an archive."""
    write(workdir, {"app/x.txt": "x"})
    without = run_dockfix(via, "-", cwd=workdir, env=child_env, input=FIXABLE.encode())
    assert "ADD x.txt /x" in without.out
    assert "-:4:1: DF004 Use COPY instead of ADD for files and folders (not fixed:" in without.err
    named = ["--stdin-filename", "app/Dockerfile"]
    fixed = run_dockfix(via, *named, cwd=workdir, env=child_env, input=FIXABLE.encode())
    assert fixed.out == FIXED
    assert "app/Dockerfile:4:1: DF004 Use COPY instead of ADD" in fixed.err
    diff = run_dockfix(
        via, "--diff", *named, "-", cwd=workdir, env=child_env, input=FIXABLE.encode()
    )
    assert diff.out.startswith("--- a/app/Dockerfile\n+++ b/app/Dockerfile\n")
    assert "+COPY x.txt /x\n" in diff.out
    assert not (workdir / "app/Dockerfile").exists()  # stdin runs never write the named file


def test_stdin_filename_needs_stdin(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    write(workdir, {"app/Dockerfile": CLEAN})
    result = run_dockfix(
        via, "--stdin-filename", "app/Dockerfile", "app", cwd=workdir, env=child_env
    )
    assert result.status == 2
    assert "--stdin-filename" in result.err


@pytest.mark.parametrize("mode", [[], ["--write"]])
def test_stdin_parse_error_echoes_the_input(
    via: str, workdir: Path, child_env: dict[str, str], mode: list[str]
) -> None:
    data = b"FROM a\r\nRUN <<EOF\r\necho \xff\r\n"
    args = [*mode, "--stdin-filename", "svc/Dockerfile"]
    result = run_dockfix(via, *args, cwd=workdir, env=child_env, input=data)
    assert result.status == 2
    assert result.stdout == data
    assert "svc/Dockerfile:2:1: error: unterminated heredoc" in result.err
    check = run_dockfix(via, "--check", "-", cwd=workdir, env=child_env, input=data)
    assert (check.status, check.stdout) == (2, b"")


# --- diff headers in a git work tree ---------------------------------------------------------


def _git(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_headers_apply_from_the_repository_root(
    via: str, workdir: Path, child_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = workdir / "repo"
    write(
        repo,
        {
            "sub/dir/Dockerfile": FIXABLE,
            "sub/dir/x.txt": "x",
            "top/Dockerfile": FIXABLE,
            "top/x.txt": "x",
        },
    )
    _git("init", "-q", cwd=repo, env=child_env)
    inside = repo / "sub"
    monkeypatch.chdir(inside)
    diff = run_dockfix(via, "--diff", "dir", "../top", cwd=inside, env=child_env)
    assert diff.status == 1
    assert "--- a/sub/dir/Dockerfile\n+++ b/sub/dir/Dockerfile\n" in diff.out
    assert "--- a/top/Dockerfile\n+++ b/top/Dockerfile\n" in diff.out
    # Paths in the report stay as given.
    report = run_dockfix(via, "dir", cwd=inside, env=child_env)
    assert report.out.startswith("dir/Dockerfile:1:15: DF002")
    patch = workdir / "fix.patch"
    patch.write_bytes(diff.stdout)
    _git("apply", str(patch), cwd=repo, env=child_env)
    assert (repo / "sub/dir/Dockerfile").read_text() == FIXED
    assert (repo / "top/Dockerfile").read_text() == FIXED
    # Standard input named by --stdin-filename: the header is relative to the root too.
    stdin = run_dockfix(
        via,
        "--diff",
        "--stdin-filename",
        "dir/Dockerfile",
        cwd=inside,
        env=child_env,
        input=FIXABLE.encode(),
    )
    assert stdin.out.startswith("--- a/sub/dir/Dockerfile\n+++ b/sub/dir/Dockerfile\n")


def test_diff_headers_outside_git_keep_the_given_path(
    via: str, workdir: Path, child_env: dict[str, str]
) -> None:
    write(workdir, {"app/Dockerfile": FIXABLE, "app/x.txt": "x"})
    diff = run_dockfix(via, "--diff", "app", cwd=workdir, env=child_env)
    assert diff.out.startswith("--- a/app/Dockerfile\n+++ b/app/Dockerfile\n")
    stdin = run_dockfix(via, "--diff", "-", cwd=workdir, env=child_env, input=b"FROM a as b\n")
    assert stdin.out.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")


def test_reader_closing_the_pipe_stops_the_workers(
    workdir: Path, child_env: dict[str, str]
) -> None:
    """``dockfix -j 2 --diff . | head -1``: pending files are cancelled, stderr stays quiet."""
    # Diffs far larger than a pipe buffer (64 KiB), so a write does hit the closed pipe.
    text = "FROM a\n" + "".join(f"ENV K{i} {'v' * 200}\n" for i in range(100))
    write(workdir, {f"d{i:03d}/Dockerfile": text for i in range(30)})
    process = subprocess.Popen(
        [sys.executable, "-m", "dockfix", "-j", "2", "--select", "DF001", "--diff", "."],
        cwd=workdir,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"--- a/d000/Dockerfile\n"
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) in (0, 1)
    assert b"Traceback" not in stderr
    assert b"Error" not in stderr


def test_file_processing_leaves_garbage_to_reference_counting(workdir: Path) -> None:
    """While files are processed in-process the collector runs only as a safety net
    (``GC_THRESHOLDS``); the process's own thresholds come back afterwards, and the pool
    workers give the same reports."""
    from dockfix.profiles import Profile
    from dockfix.rules import select_rules
    from dockfix.rules.base import Settings

    paths = []
    for number in range(4):
        path = workdir / f"{number}.Dockerfile"
        path.write_text(FIXABLE)
        paths.append(path)
    profile = Profile(select_rules(), Settings())
    before = streaming.gc.get_threshold()
    assert before != streaming.GC_THRESHOLDS
    during = []
    reports = []
    for report in streaming.process_files(paths, [profile] * len(paths), write=False, workers=1):
        during.append(streaming.gc.get_threshold())
        reports.append(report)
    assert during == [streaming.GC_THRESHOLDS] * len(paths)
    assert all(report.changed for report in reports)
    assert streaming.gc.get_threshold() == before
    pooled = streaming.process_files(paths, [profile] * len(paths), write=False, workers=2)
    assert [report.output for report in pooled] == [report.output for report in reports]
