"""The CI gate: which findings make the exit status 1, and ``--statistics``.

By default only findings this mode can fix fail a run, so ``--check`` after ``--write``
is green; ``--fail-on``, ``--exit-zero`` and ``--exit-non-zero-on-fix`` change that as in
ruff.  Errors always exit 2, and never stop or hide the other files' results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dockfix.cli import main

#: Three safe fixes (DF001, DF002, DF003).
FIXABLE = "FROM a as b\nMAINTAINER me\nENV A b c\n"
#: Two findings with no fix: MAINTAINER before FROM, ADD of a variable source.
REPORT_ONLY = "MAINTAINER me\nFROM a\nADD $SRC /x\n"
#: One finding whose only fix is unsafe (DF106).
UNSAFE_ONLY = (
    "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
)
BROKEN = "FROM a\nRUN <<EOF\necho\n"
RULES = ("--isolated", "--select", "DF001,DF002,DF003,DF004,DF106")


def invoke(*args: str, rules: tuple[str, ...] = RULES) -> Result:
    result = CliRunner().invoke(main, [*rules, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "fixable/Dockerfile": FIXABLE,
        "report/Dockerfile": REPORT_ONLY,
        "unsafe/Dockerfile": UNSAFE_ONLY,
        "broken/Dockerfile": BROKEN,
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


MODES = {"report": (), "check": ("--check",), "diff": ("--diff",)}


@pytest.mark.parametrize("mode", MODES)
def test_report_only_findings_pass(tree: Path, mode: str) -> None:
    result = invoke(*MODES[mode], "report")
    assert result.exit_code == 0
    if mode == "report":
        assert len(result.stdout.splitlines()) == 2  # still shown
    assert invoke("--fail-on", "any", *MODES[mode], "report").exit_code == 1


def test_diff_with_nothing_to_change_exits_0(tree: Path) -> None:
    result = invoke("--diff", "report")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "1 file checked, 0 files would be changed.\n"


@pytest.mark.parametrize("mode", MODES)
def test_fixable_findings_fail_unless_told_otherwise(tree: Path, mode: str) -> None:
    assert invoke(*MODES[mode], "fixable").exit_code == 1
    assert invoke("--fail-on", "any", *MODES[mode], "fixable").exit_code == 1
    assert invoke("--fail-on", "none", *MODES[mode], "fixable").exit_code == 0
    assert invoke("--exit-zero", *MODES[mode], "fixable").exit_code == 0


def test_unsafe_fixes_count_only_with_unsafe_fixes(tree: Path) -> None:
    assert invoke("unsafe").exit_code == 0
    result = invoke("--unsafe-fixes", "unsafe")
    assert result.exit_code == 1
    assert result.stderr.endswith("1 file fixable with --write --unsafe-fixes.\n")
    assert invoke("--unsafe-fixes", "--select", "DF001", "fixable", rules=()).stderr.endswith(
        "1 file fixable with --write.\n"
    )


def test_write_exits_0_when_everything_fixable_was_fixed(tree: Path) -> None:
    result = invoke("--write", "fixable")
    assert result.exit_code == 0
    assert result.stderr == "1 file checked, 3 fixes applied in 1 file.\n"
    assert invoke("--check", "fixable").exit_code == 0


def test_exit_non_zero_on_fix(tree: Path) -> None:
    assert invoke("--exit-non-zero-on-fix", "--write", "fixable").exit_code == 1
    assert invoke("--exit-non-zero-on-fix", "--write", "fixable").exit_code == 0  # nothing left
    assert invoke("--exit-non-zero-on-fix", "--write", "report").exit_code == 0


@pytest.mark.parametrize("options", [(), ("--exit-zero",), ("--fail-on", "none")])
def test_an_error_is_exit_2_but_the_other_files_are_still_reported(
    tree: Path, options: tuple[str, ...]
) -> None:
    result = invoke(*options, ".")
    assert result.exit_code == 2
    assert "broken/Dockerfile:2:1: error: unterminated heredoc\n" in result.stderr
    assert result.stderr.endswith(
        "4 files checked, 6 findings, 1 file fixable with --write, "
        "1 more fix with --unsafe-fixes, 1 file with errors.\n"
    )
    reported = {line.split(":")[0] for line in result.stdout.splitlines()}
    assert reported == {"fixable/Dockerfile", "report/Dockerfile", "unsafe/Dockerfile"}


def test_write_still_fixes_the_good_files_next_to_a_bad_one(tree: Path) -> None:
    result = invoke("--write", ".")
    assert result.exit_code == 2
    assert (tree / "fixable/Dockerfile").read_text() != FIXABLE
    assert (tree / "broken/Dockerfile").read_text() == BROKEN


# --- --statistics ----------------------------------------------------------------------------


def test_statistics_counts_per_rule(tree: Path) -> None:
    (tree / "fixable/Dockerfile.dev").write_text(FIXABLE)
    result = invoke("--statistics", "fixable", "report", "unsafe")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "3  DF003  2 fixable  warning  maintainer-deprecated",
        "2  DF001  2 fixable  warning  legacy-key-value-format",
        "2  DF002  2 fixable  warning  from-as-casing",
        "1  DF004  0 fixable  warning  add-local-source",
        "1  DF106  0 fixable  warning  apt-no-install-recommends",
    ]
    unsafe = invoke("--statistics", "--unsafe-fixes", "unsafe")
    assert unsafe.stdout == "1  DF106  1 fixable  warning  apt-no-install-recommends\n"


def test_statistics_as_json_and_errors_still_shown(tree: Path) -> None:
    result = invoke("--statistics", "--format", "json", ".")
    assert result.exit_code == 2
    assert "broken/Dockerfile:2:1: error: unterminated heredoc" in result.stderr
    rows = json.loads(result.stdout)
    assert rows[0] == {
        "code": "DF003",
        "name": "maintainer-deprecated",
        "count": 2,
        "fixable": 1,
        "severity": "warning",
    }
    assert sum(row["count"] for row in rows) == 6


def test_findings_carry_a_severity(tree: Path) -> None:
    (tree / "log/Dockerfile").parent.mkdir()
    (tree / "log/Dockerfile").write_text(
        'FROM python:3.12-slim\nCMD ["gunicorn", "--access-logfile", "/var/log/a.log", "a:b"]\n'
    )
    result = invoke("--format", "json", "--select", "DF207,DF002", "log", "fixable", rules=())
    severities = {
        finding["code"]: finding["severity"]
        for entry in json.loads(result.stdout)["files"]
        for finding in entry["findings"]
    }
    assert severities == {"DF207": "info", "DF002": "warning"}


# --- a real process ----------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", *RULES, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_subprocess_gate(tree: Path) -> None:
    assert run("--check", "report", cwd=tree).returncode == 0
    assert run("--check", "--fail-on", "any", "report", cwd=tree).returncode == 1
    assert run("--check", "fixable", cwd=tree).returncode == 1
    assert run("--check", "--exit-zero", "fixable", cwd=tree).returncode == 0
    assert run("--check", "--exit-zero", ".", cwd=tree).returncode == 2
    stats = run("--statistics", "report", cwd=tree)
    assert (stats.returncode, stats.stdout) == (
        0,
        "1  DF003  0 fixable  warning  maintainer-deprecated\n"
        "1  DF004  0 fixable  warning  add-local-source\n",
    )
    wrote = run("--write", "--exit-non-zero-on-fix", "fixable", cwd=tree)
    assert wrote.returncode == 1
    assert run("--check", "fixable", cwd=tree).returncode == 0


def test_every_rule_has_a_known_severity() -> None:
    from dockfix.rules import ALL_RULES
    from dockfix.rules.base import SEVERITIES

    assert {rule.severity for rule in ALL_RULES} <= set(SEVERITIES)
