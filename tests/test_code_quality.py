"""The code habits CI enforces: mypy (strict, configured in pyproject.toml) and ruff.

They run as tests so that the README's one test command is exactly what CI runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [("mypy",), ("ruff", "check", "."), ("ruff", "format", "--check", ".")],
    ids=["mypy-strict", "ruff-check", "ruff-format"],
)
def test_tool_is_clean(command: tuple[str, ...]) -> None:
    tool = BIN / command[0]
    if not tool.exists():
        pytest.fail(f"{command[0]} is not installed in this environment (pip install -e '.[test]')")
    result = _run(str(tool), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr
