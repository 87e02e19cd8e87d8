"""The composite GitHub Action (``action.yml``): its shape, and its shell steps run here.

GitHub's runner cannot run in a test, but the action's own logic is in two bash steps:
they are run as the runner would (``bash -e``, ``GITHUB_OUTPUT``, inputs as env vars)
against this checkout's ``dockfix``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def _step(name: str) -> dict[str, Any]:
    return next(step for step in _action()["runs"]["steps"] if step.get("name") == name)


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    full = {**os.environ, "PATH": path, **env}
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=full, capture_output=True, text=True
    )


def test_action_is_composite_and_uploads_sarif() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    uses = [step.get("uses", "") for step in action["runs"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert "--format sarif" in _step("Run dockfix")["run"]
    assert set(action["inputs"]) >= {"paths", "args", "sarif-file", "upload-sarif"}
    # Inputs reach the scripts through env, never spliced into the shell text.
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_run_step_writes_sarif_and_the_exit_code(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nMAINTAINER team\n")
    output = tmp_path / "github_output"
    output.write_text("")
    env = {
        "DOCKFIX_PATHS": ".",
        "DOCKFIX_ARGS": "--select DF003",
        "SARIF_FILE": "dockfix.sarif",
        "GITHUB_OUTPUT": str(output),
    }
    done = _bash(_step("Run dockfix")["run"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert output.read_text() == "exit-code=1\n"
    sarif = json.loads((tmp_path / "dockfix.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["DF003"]


@pytest.mark.parametrize(
    ("status", "fail_on_findings", "expected"),
    [("0", "false", 0), ("1", "false", 0), ("1", "true", 1), ("2", "false", 2)],
)
def test_exit_status_step(
    tmp_path: Path, status: str, fail_on_findings: str, expected: int
) -> None:
    env = {"STATUS": status, "FAIL_ON_FINDINGS": fail_on_findings}
    done = _bash(_step("Exit status")["run"], tmp_path, env)
    assert done.returncode == expected, done.stdout
