"""Shared by the output-format and streaming tests: one tree, both ways of running dockfix.

Every test runs through click's ``CliRunner`` (in-process) and a real ``python -m dockfix``
process, on the four BuildKit-check rules (``test_cli.CONTRACT_RULES``) whose findings and
fixes on :data:`FIXABLE` are fixed text. The fixtures are in ``format_fixtures``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli import with_contract_rules

from dockfix.cli import main

FIXABLE = "FROM python:3 as b\nMAINTAINER me\nENV A b c\nADD x.txt /x\n"
FIXED = (
    'FROM python:3 AS b\nLABEL org.opencontainers.image.authors="me"\nENV A="b c"\nCOPY x.txt /x\n'
)
CLEAN = "FROM python:3 AS b\nENV A=b\nCOPY x.txt /x\n"
#: Rejected by BuildKit: an unterminated heredoc at 2:1.
BROKEN = "FROM a\nRUN <<EOF\necho\n"

#: Variables that would change dockfix's output (colour) or point git elsewhere.
_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "NO_COLOR", "GIT_CONFIG_GLOBAL")


def clean_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in _DROP:
        monkeypatch.delenv(name, raising=False)


def process_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _DROP}
    env["HOME"] = str(home)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


class Outcome:
    """What a run printed and returned, the same shape for both ways of running."""

    def __init__(self, status: int, stdout: bytes, stderr: bytes) -> None:
        self.status = status
        self.stdout = stdout
        self.stderr = stderr

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "surrogateescape")


def run_dockfix(
    how: str, *args: str, cwd: Path, env: dict[str, str], input: bytes | None = None
) -> Outcome:
    """``how`` is ``runner`` (CliRunner, cwd must already be *cwd*) or ``process``."""
    argv = with_contract_rules(list(args))
    if how == "runner":
        assert Path.cwd() == cwd
        result = CliRunner().invoke(main, argv, input=input)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        outcome = Outcome(result.exit_code, result.stdout_bytes, result.stderr_bytes)
    else:
        completed = subprocess.run(
            [sys.executable, "-m", "dockfix", *argv],
            cwd=cwd,
            env=env,
            input=input or b"",
            capture_output=True,
            timeout=300,
        )
        outcome = Outcome(completed.returncode, completed.stdout, completed.stderr)
    assert "Traceback" not in outcome.out + outcome.err, outcome.err
    return outcome
