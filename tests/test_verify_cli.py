"""``dockfix verify`` without a container builder, and its report rendering.

Real builds are in the e2e tier (tests/e2e); here: the clear error and exit status 2
when no builder exists, the untouched Dockerfile, and the verdict logic.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dockfix.verify.compare import Change
from dockfix.verify.workflow import Side, VerifyReport, intended_changes, judge, render_text

SMELLY = "FROM python:3.11 as base\nMAINTAINER me\nWORKDIR /app\nCMD python app.py\n"


def test_verify_without_any_builder_is_a_clear_error(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SMELLY)
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", "verify", str(dockerfile)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert dockerfile.read_text() == SMELLY


def test_verify_of_a_bad_file_is_exit_2(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM a\nRUN <<EOF\n")
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", "verify", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert ":2:1: error: unterminated heredoc" in result.stderr


def test_verify_refuses_what_write_refuses(tmp_path: Path) -> None:
    """`verify` goes through `--write`'s path: a file `validate()` rejects is never built
    (exit 2 with the validation error, before any builder is looked for)."""
    dockerfile = tmp_path / "Dockerfile"
    text = "FROM python:3.11\nRUN --bogus=1 echo hi\nCMD python app.py\n"
    dockerfile.write_text(text)
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", "verify", str(dockerfile)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert ":2:5: error: unknown flag: --bogus (on RUN)" in result.stderr
    assert "builder" not in result.stderr.lower()
    assert dockerfile.read_text() == text


def test_verify_output_may_not_be_the_dockerfile(tmp_path: Path) -> None:
    """`--repair --output` writes the repaired rewrite elsewhere: never over the input."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SMELLY)
    argv = ["verify", "--repair", "--output", str(dockerfile), str(dockerfile)]
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--output must not be DOCKERFILE itself" in result.stderr
    assert dockerfile.read_text() == SMELLY


def _side(**changes: object) -> Side:
    values: dict[str, object] = dict(build_seconds=1.0, success=True, smoke="ok", smoke_ok=True)
    values.update(changes)
    return Side(**values)  # type: ignore[arg-type]


def test_intended_changes_pass_and_others_fail() -> None:
    changes = {
        "User": Change("", "10001"),
        "Env.PYTHONUNBUFFERED": Change(None, "1"),
        "WorkingDir": Change("/app", "/"),
    }
    intended = intended_changes(["DF201", "DF205"])
    assert judge(_side(), _side(), changes, intended) == ["image configuration changed: WorkingDir"]


def test_smoke_regression_and_build_failure_fail() -> None:
    assert judge(_side(), _side(smoke_ok=False, smoke="exit 1"), {}, ()) == [
        "smoke test fails after the fix: exit 1"
    ]
    assert judge(_side(), _side(success=False), {}, ()) == ["the fixed Dockerfile does not build"]


def test_render_text_shows_both_sides_and_the_verdict() -> None:
    report = VerifyReport(
        "Dockerfile",
        ".",
        "podman",
        True,
        "pass",
        (),
        _side(size_mb=888.9, layers=5, rebuild_seconds=3.4),
        _side(size_mb=290.2, layers=6, rebuild_seconds=0.9),
        {"User": ("", "10001")},
    )
    text = render_text(report)
    assert "888.9" in text and "290.2" in text
    assert "config User: '' -> '10001'" in text
    assert text.rstrip().endswith("verdict: PASS")


def test_render_text_shows_why_a_build_failed() -> None:
    steps = "\n".join(f"step {n}" for n in range(30))
    log = steps + "\nError: python:3.11-slim-bookworm: image not known"
    report = VerifyReport(
        "Dockerfile",
        ".",
        "podman",
        True,
        "fail",
        ("the original Dockerfile does not build here; nothing to compare",),
        _side(success=False, log_tail=log),
        _side(),
        {},
    )
    text = render_text(report)
    assert "original build log (last 12 lines):" in text
    assert text.rstrip().endswith("    Error: python:3.11-slim-bookworm: image not known")
    assert "step 18" not in text and "step 19" in text
    assert "fixed build log" not in text
