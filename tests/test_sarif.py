"""``--format sarif``: valid SARIF 2.1.0 (the vendored official schema) that GitHub accepts."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from format_helpers import BROKEN, CLEAN, FIXABLE, FIXED, run_dockfix, write

from dockfix.rules import ALL_RULES

pytest_plugins = ["format_fixtures"]

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def valid_sarif(text: str) -> dict[str, Any]:
    """The parsed log, after checking it against the official schema and GitHub's needs."""
    log: dict[str, Any] = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dockfix"
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in ALL_RULES]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith(("/", "./", "file:"))
        assert location["region"]["startLine"] >= 1
    return log


def apply_sarif_fixes(text: str, results: list[dict[str, Any]]) -> str:
    """What a SARIF consumer does with the fixes: replace each deleted region (1-based)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, column: int) -> int:
        return min(starts[line - 1] + column - 1, len(text))

    replacements = [
        replacement
        for result in results
        for fix in result.get("fixes", [])
        for change in fix["artifactChanges"]
        for replacement in change["replacements"]
    ]
    spans = []
    for replacement in replacements:
        region = replacement["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        spans.append((start, end, replacement["insertedContent"]["text"]))
    for start, end, inserted in sorted(spans, reverse=True):
        text = text[:start] + inserted + text[end:]
    return text


TREE = {
    "app/Dockerfile": FIXABLE,
    "app/x.txt": "x",
    "clean/Containerfile": CLEAN,
    "bad/Dockerfile": BROKEN,
}


def test_sarif_with_fixes(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    write(workdir, TREE)
    result = run_dockfix(via, "--format", "sarif", ".", cwd=workdir, env=child_env)
    assert result.status == 2
    (run,) = valid_sarif(result.out)["runs"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["DF002", "DF003", "DF001", "DF004"]
    first = results[0]
    assert first["level"] == "warning"
    assert first["message"]["text"] == "'as' and 'FROM' keywords' casing do not match"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/Dockerfile", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 15},
    }
    assert any("fixes" in r for r in results)
    assert apply_sarif_fixes(FIXABLE, results) == FIXED
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"] == "unterminated heredoc"
    assert notification["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_sarif_without_fixes(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    """Findings only --unsafe-fixes would fix: results without ``fixes``, still valid."""
    write(workdir, {"Dockerfile": "FROM python:3.11\nCMD python app.py\n"})
    args = ["--select", "DF203", "--format", "sarif", "."]
    result = run_dockfix(via, *args, cwd=workdir, env=child_env)
    (run,) = valid_sarif(result.out)["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["DF203"]
    assert "fixes" not in run["results"][0]
    assert run["invocations"][0]["executionSuccessful"] is True
    unsafe = run_dockfix(via, "--unsafe-fixes", *args, cwd=workdir, env=child_env)
    (run,) = valid_sarif(unsafe.out)["runs"]
    text = "FROM python:3.11\nCMD python app.py\n"
    assert apply_sarif_fixes(text, run["results"]).startswith("FROM python:3.11-slim\n")


def test_sarif_clean_tree_and_write(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    write(workdir, {"clean/Containerfile": CLEAN, "app/Dockerfile": FIXABLE, "app/x.txt": "x"})
    written = run_dockfix(via, "--format", "sarif", "--write", ".", cwd=workdir, env=child_env)
    (run,) = valid_sarif(written.out)["runs"]
    assert run["results"] == []  # all fixed and written: nothing left to report
    assert (workdir / "app/Dockerfile").read_text() == FIXED
    again = run_dockfix(via, "--format", "sarif", ".", cwd=workdir, env=child_env)
    assert (again.status, valid_sarif(again.out)["runs"][0]["results"]) == (0, [])


def test_sarif_uris_from_repository_root(
    via: str, workdir: Path, child_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / ".git").mkdir()
    write(workdir, {"svc/we ird%/Dockerfile": FIXABLE, "svc/we ird%/x.txt": "x"})
    monkeypatch.chdir(workdir / "svc")
    result = run_dockfix(via, "--format", "sarif", ".", cwd=workdir / "svc", env=child_env)
    (run,) = valid_sarif(result.out)["runs"]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "svc/we%20ird%25/Dockerfile"
    assert urllib.parse.unquote(uri) == "svc/we ird%/Dockerfile"


def test_sarif_from_stdin(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    write(workdir, {"x.txt": "x"})
    plain = run_dockfix(
        via, "--format", "sarif", "--check", "-", cwd=workdir, env=child_env, input=FIXABLE.encode()
    )
    (run,) = valid_sarif(plain.out)["runs"]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "Dockerfile"
    named = run_dockfix(
        via,
        "--format",
        "sarif",
        "--check",
        "--stdin-filename",
        "app/Dockerfile",
        cwd=workdir,
        env=child_env,
        input=FIXABLE.encode(),
    )
    (run,) = valid_sarif(named.out)["runs"]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "app/Dockerfile"


COPIES_EVERYTHING = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n'


@pytest.mark.parametrize("existing", [None, "*.log\n"])
def test_sarif_fix_writes_the_companion_file(
    via: str, workdir: Path, child_env: dict[str, str], existing: str | None
) -> None:
    """DF212's fix changes no Dockerfile line, only ``.dockerignore``: its SARIF fix is that
    file's change, and applying it gives what ``--write`` writes."""
    tree = {"svc/Dockerfile": COPIES_EVERYTHING, "svc/app.py": "print(1)\n", "svc/.env": "S=1\n"}
    if existing is not None:
        tree["svc/.dockerignore"] = existing
    write(workdir, tree)
    args = ("--unsafe-fixes", "--select", "DF212")
    result = run_dockfix(via, "--format", "sarif", *args, ".", cwd=workdir, env=child_env)
    (run,) = valid_sarif(result.out)["runs"]
    (finding,) = [r for r in run["results"] if r["ruleId"] == "DF212"]
    (fix,) = finding["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "svc/.dockerignore", "uriBaseId": "%SRCROOT%"}
    (replacement,) = change["replacements"]
    old = existing or ""
    assert replacement["deletedRegion"] == {"charOffset": 0, "charLength": len(old)}
    suggested = replacement["insertedContent"]["text"]
    run_dockfix(via, "--write", *args, ".", cwd=workdir, env=child_env)
    assert (workdir / "svc" / ".dockerignore").read_text() == suggested
    assert ".env" in suggested
