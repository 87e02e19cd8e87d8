"""An unsafe fix says exactly what may change, in every format that shows the finding.

The rules write that reason (``Fix.reason``); these tests hold the outputs to showing it:
the text report, ``--diff`` (on stderr: stdout stays a patch), ``--write --unsafe-fixes``,
JSON (``fix_reason``), GitHub annotations, SARIF (message and fix description) and the
``dockfix pr`` body.  DF201's reason on this file is fixed text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dockfix.cli import main
from dockfix.pr.body import body, commit_message
from dockfix.pr.plan import make_plan
from dockfix.profiles import Profile
from dockfix.rules import select_rules
from dockfix.rules.base import Settings

DOCKERFILE = 'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
REASON = (
    "the container then runs as `app` (uid 10001): what it writes at run time outside "
    "`/app` fails with a permission error"
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text("print('hello')\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    return dockerfile


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, ["--select", "DF201", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def test_report_names_what_the_unsafe_fix_may_change(app: Path) -> None:
    result = run(str(app))
    assert result.stdout == (
        f"{app}:4:1: DF201 The container runs as root: no USER switches to an unprivileged "
        f"user (unsafe fix: {REASON})\n"
    )


def test_diff_keeps_stdout_a_patch_and_says_it_on_stderr(app: Path) -> None:
    result = run("--diff", "--unsafe-fixes", str(app))
    assert result.stdout.startswith("--- ") and REASON not in result.stdout
    assert f"{app}:4:1: DF201 unsafe fix: {REASON}\n" in result.stderr


def test_diff_without_unsafe_fixes_has_nothing_to_warn_about(app: Path) -> None:
    result = run("--diff", str(app))
    assert result.stdout == "" and REASON not in result.stderr


def test_write_says_on_stderr_what_the_applied_fix_may_have_changed(app: Path) -> None:
    result = run("--write", "--unsafe-fixes", str(app))
    assert "USER 10001" in app.read_text()
    assert result.stdout == ""  # nothing left to report
    assert f"{app}:4:1: DF201 unsafe fix applied: {REASON}\n" in result.stderr


def test_json_github_and_sarif_carry_the_reason(app: Path) -> None:
    document = json.loads(run("--format", "json", str(app)).stdout)
    (finding,) = document["files"][0]["findings"]
    assert (finding["applicability"], finding["fix_reason"]) == ("unsafe", REASON)
    assert f"(unsafe fix: {REASON})" in run("--format", "github", str(app)).stdout
    sarif = json.loads(run("--format", "sarif", "--unsafe-fixes", str(app)).stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["message"]["text"].endswith(f"(unsafe fix: {REASON})")
    assert result["fixes"][0]["description"]["text"] == f"DF201 (unsafe fix): {REASON}"


def test_safe_fixes_have_no_reason(app: Path) -> None:
    document = json.loads(
        CliRunner().invoke(main, ["--select", "DF205", "--format", "json", str(app)]).stdout
    )
    (finding,) = document["files"][0]["findings"]
    assert (finding["applicability"], finding["fix_reason"]) == ("safe", "")


def test_pr_body_lists_what_may_change(app: Path) -> None:
    profile = Profile(tuple(select_rules(["DF201"])), Settings(unsafe_fixes=True))
    text = body(make_plan([(app, "Dockerfile", profile)]))
    assert "**What may change** (the unsafe fixes' own words):" in text
    assert f"- `Dockerfile:4`: {REASON}" in text


def test_pr_commit_message_keeps_what_may_change(app: Path) -> None:
    profile = Profile(tuple(select_rules(["DF201"])), Settings(unsafe_fixes=True))
    (step,) = make_plan([(app, "Dockerfile", profile)]).steps
    message = commit_message(step)
    assert "\n\nMay change:\n- Dockerfile:4: the container then runs as `app` (uid" in message
    assert " ".join(message.split("May change:")[1].split()) == f"- Dockerfile:4: {REASON}"
    assert all(len(line) <= 72 for line in message.split("May change:")[1].splitlines())
