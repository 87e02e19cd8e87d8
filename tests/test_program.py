"""``dockfix.program``: the process entry flushes what it wrote and exits without freeing
the heap, with the status ``sys.exit`` would have given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.program import exit_status

FIXABLE = "FROM python:3 as b\nMAINTAINER me\nENV A b c\n"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (1, 1), (2, 2), (True, 1)])
def test_exit_status_of_numbers(code: object, status: int) -> None:
    assert exit_status(code) == status


def test_exit_status_of_a_message_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status("no such thing") == 1
    assert capsys.readouterr().err == "no such thing\n"


def _program(tmp_path: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``dockfix ARGS`` through ``program.run`` in a fresh interpreter (after ``prelude``)."""
    code = f"import sys\n{prelude}\nsys.argv = ['dockfix', *{list(args)!r}]\n"
    code += "from dockfix.program import run\nrun()\n"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_the_heap_is_not_torn_down(tmp_path: Path) -> None:
    """``os._exit``: an ``atexit`` hook (the start of Python's teardown) never runs, and
    the status is the command's."""
    (tmp_path / "Dockerfile").write_text(FIXABLE)
    hook = "import atexit\natexit.register(lambda: print('TORN DOWN'))"
    done = _program(tmp_path, "--check", "Dockerfile", prelude=hook)
    assert done.returncode == 1
    assert "TORN DOWN" not in done.stdout


def test_all_output_is_flushed_before_the_exit(tmp_path: Path) -> None:
    """Many files' findings through a pipe: every line arrives, the summary too, and the
    status is the gate's (findings: 1; a bad file: 2)."""
    for number in range(60):
        (tmp_path / f"{number:02d}.Dockerfile").write_text(FIXABLE)
    done = _program(tmp_path, "-j", "1", ".")
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    per_file = len(_program(tmp_path, "00.Dockerfile").stdout.splitlines())
    assert per_file >= 4  # DF001, DF002, DF003 and more
    assert len(lines) == 60 * per_file
    assert lines[-1].startswith("59.Dockerfile:")
    assert "60 files checked" in done.stderr
    (tmp_path / "bad.Dockerfile").write_text("FROM a\nENV A\n")
    assert _program(tmp_path, "--check", "bad.Dockerfile").returncode == 2


def test_usage_errors_keep_clicks_status(tmp_path: Path) -> None:
    done = _program(tmp_path, "--no-such-option")
    assert done.returncode == 2
    assert "No such option" in done.stderr


def test_sigterm_runs_finally_blocks_and_exits_143() -> None:
    # A `--write` stopped by `kill` or a CI timeout removes its temporary file.
    code = (
        "import os, signal\n"
        "from dockfix.program import exit_on_sigterm\n"
        "exit_on_sigterm()\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "finally:\n"
        "    print('cleaned up', flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 143
    assert result.stdout == "cleaned up\n"
