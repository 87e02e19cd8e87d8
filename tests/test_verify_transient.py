"""A build or run that the container runtime failed for a transient host reason is retried.

Why: CI here once failed because runc could not seal its memfd copy ("Close_Fd sealing memfd
copy: Device or resource busy") before a RUN step's command started. That says nothing about
the Dockerfile; `dockfix verify` must not report "the rewrite no longer builds" for it, and a
failing step's own command must still fail at once. These tests drive `Builder` with a fake
tool (a shell script that counts its calls), so they need no container engine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dockfix.verify.builders import TRANSIENT_RETRIES, Builder, BuilderKind

MEMFD = "Close_Fd sealing memfd copy: Device or resource busy"


def _fake_tool(tmp_path: Path, failures: int, message: str) -> tuple[str, Path]:
    """A program that fails `failures` times printing `message`, then succeeds."""
    calls = tmp_path / "calls"
    calls.write_text("0", encoding="utf-8")
    script = tmp_path / "tool"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{calls}"); n=$((n + 1)); echo "$n" > "{calls}"\n'
        'case "$1" in rm|rmi) exit 0;; esac\n'
        f'if [ "$n" -le {failures} ]; then echo "STEP 2/3: RUN true"; '
        f'echo "{message}" >&2; exit 1; fi\n'
        'echo "STEP 2/3: RUN true"; echo "app output"; exit 0\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), calls


def _attempts(calls: Path) -> int:
    return int(calls.read_text(encoding="utf-8").strip())


def _builder(program: str) -> Builder:
    return Builder(kind=BuilderKind.BUILDAH, program=program, runner=program, env=dict(os.environ))


def test_build_retries_a_transient_runtime_failure(tmp_path: Path) -> None:
    program, calls = _fake_tool(tmp_path, failures=1, message=MEMFD)
    result = _builder(program).build(tmp_path / "Dockerfile", tmp_path, "localhost/t:1")
    assert result.success
    assert _attempts(calls) == 2
    assert "attempt 1 failed in the container runtime" in result.log
    assert "app output" in result.log


def test_build_gives_up_after_the_retries(tmp_path: Path) -> None:
    program, calls = _fake_tool(tmp_path, failures=99, message=MEMFD)
    result = _builder(program).build(tmp_path / "Dockerfile", tmp_path, "localhost/t:1")
    assert not result.success
    assert _attempts(calls) == 1 + TRANSIENT_RETRIES
    assert MEMFD in result.log_tail


@pytest.mark.parametrize(
    "message",
    [
        "E: Unable to locate package libpq5",
        "error: Device or resource busy",
        "sealing memfd copy: Operation not permitted",
    ],
)
def test_build_does_not_retry_other_failures(tmp_path: Path, message: str) -> None:
    program, calls = _fake_tool(tmp_path, failures=1, message=message)
    result = _builder(program).build(tmp_path / "Dockerfile", tmp_path, "localhost/t:1")
    assert not result.success
    assert _attempts(calls) == 1
    assert "trying again" not in result.log


def test_run_retries_a_transient_runtime_failure(tmp_path: Path) -> None:
    program, calls = _fake_tool(tmp_path, failures=1, message=MEMFD)
    result = _builder(program).run("localhost/t:1", ["python", "-V"])
    assert result.ok
    assert result.stdout.strip().endswith("app output")
    assert "trying again" in result.stderr
    # Each attempt is followed by the forced removal of its container (also a call).
    assert _attempts(calls) == 4


def test_run_keeps_the_commands_own_failure(tmp_path: Path) -> None:
    program, calls = _fake_tool(tmp_path, failures=1, message="Traceback: ImportError")
    result = _builder(program).run("localhost/t:1", ["python", "-V"])
    assert not result.ok
    assert "ImportError" in result.stderr
    assert _attempts(calls) == 2
