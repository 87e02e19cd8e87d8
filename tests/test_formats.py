"""``--format json`` (schema 1, edits) and ``--format github`` (workflow annotations)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from format_helpers import BROKEN, CLEAN, FIXABLE, FIXED, run_dockfix, write

from dockfix.output.diff import unified_diff
from dockfix.output.edits import LineEdit, apply_edits, edits_from_diff
from dockfix.output.github import escape_data, escape_property

pytest_plugins = ["format_fixtures"]

TREE = {
    "app/Dockerfile": FIXABLE,
    "app/x.txt": "x",
    "clean/Containerfile": CLEAN,
    "bad/Dockerfile": BROKEN,
}


# --- edits from a diff -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "edits"),
    [
        ("a\nb\nc\n", "a\nB\nc\n", [LineEdit(2, 2, "B\n")]),
        ("a\nb\n", "x\na\nb\n", [LineEdit(1, 0, "x\n")]),
        ("a\nb\n", "a\nb\nc\n", [LineEdit(3, 2, "c\n")]),
        ("a\nb\nc\n", "a\nc\n", [LineEdit(2, 2, "")]),
        ("a\nb", "a\nB", [LineEdit(2, 2, "B")]),
        ("a\nb", "a\nb\n", [LineEdit(2, 2, "b\n")]),
        ("a\r\nb\r\n", "a\r\nB\r\nc\r\n", [LineEdit(2, 2, "B\r\nc\r\n")]),
        (
            "".join(f"{i}\n" for i in range(20)),
            "".join(f"{i}\n" for i in range(20)).replace("2\n", "two\n", 1).replace("17", "x"),
            [LineEdit(3, 3, "two\n"), LineEdit(18, 18, "x\n")],
        ),
        ("-- a\n++ b\n", "-- b\n++ b\n", [LineEdit(1, 1, "-- b\n")]),
    ],
    ids=["change", "insert-top", "append", "delete", "no-eol", "add-eol", "crlf", "two", "dashes"],
)
def test_edits_from_diff(old: str, new: str, edits: list[LineEdit]) -> None:
    found = edits_from_diff(unified_diff(old, new, "Dockerfile"))
    assert found == edits
    assert apply_edits(old, found) == new


# --- json ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--diff"], ["--check"], ["--write"]])
def test_json_schema_1_with_edits(
    via: str, workdir: Path, child_env: dict[str, str], mode: list[str]
) -> None:
    write(workdir, TREE)
    result = run_dockfix(via, "--format", "json", *mode, ".", cwd=workdir, env=child_env)
    assert result.status == 2  # bad/Dockerfile
    document = json.loads(result.out)
    assert document["schema"] == 1
    assert document["tool"] == "dockfix"
    files = {entry["path"]: entry for entry in document["files"]}
    app = files["app/Dockerfile"]
    assert app["edits"] == [{"start_line": 1, "end_line": 4, "replacement": FIXED}]
    assert [(f["code"], f["fixed"]) for f in app["findings"]] == [
        ("DF002", True),
        ("DF003", True),
        ("DF001", True),
        ("DF004", True),
    ]
    assert app["written"] is (mode == ["--write"])
    assert files["clean/Containerfile"]["edits"] == []
    bad = files["bad/Dockerfile"]
    assert (bad["edits"], bad["errors"][0]["line"]) == ([], 2)


def test_json_finding_not_fixed_says_so(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    """A finding whose fix needs --unsafe-fixes is reported with ``fixed: false``, no edits."""
    write(workdir, {"Dockerfile": "FROM python:3.11\nCMD python app.py\n"})
    args = ["--select", "DF203", "--format", "json", "Dockerfile"]
    entry = json.loads(run_dockfix(via, *args, cwd=workdir, env=child_env).out)["files"][0]
    assert [(f["code"], f["applicability"], f["fixed"]) for f in entry["findings"]] == [
        ("DF203", "unsafe", False)
    ]
    assert entry["edits"] == []
    unsafe = run_dockfix(via, "--unsafe-fixes", *args, cwd=workdir, env=child_env)
    entry = json.loads(unsafe.out)["files"][0]
    assert entry["findings"][0]["fixed"] is True
    assert entry["edits"] == [
        {"start_line": 1, "end_line": 1, "replacement": "FROM python:3.11-slim\n"}
    ]


# --- github --------------------------------------------------------------------------------


def test_github_escaping() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("dir:a,b/100%\nx") == "dir%3Aa%2Cb/100%25%0Ax"


def test_github_annotations(via: str, workdir: Path, child_env: dict[str, str]) -> None:
    write(workdir, {**TREE, "we,ird:dir/Dockerfile": FIXABLE, "we,ird:dir/x.txt": "x"})
    result = run_dockfix(via, "--format", "github", ".", cwd=workdir, env=child_env)
    assert result.status == 2
    lines = result.out.splitlines()
    assert lines[0] == (
        "::warning file=app/Dockerfile,line=1,col=15,title=DF002::"
        "DF002 'as' and 'FROM' keywords' casing do not match"
    )
    assert "::error file=bad/Dockerfile,line=2,col=1,title=dockfix error::unterminated heredoc" in (
        lines
    )
    weird = [line for line in lines if "we%2Cird%3Adir/Dockerfile" in line]
    assert len(weird) == 4
    assert all(line.startswith("::") for line in lines)
    assert result.err == ""  # no summary: the log holds annotations only


def test_github_write_annotates_what_is_left(
    via: str, workdir: Path, child_env: dict[str, str]
) -> None:
    write(workdir, {"app/Dockerfile": FIXABLE, "app/x.txt": "x"})
    result = run_dockfix(via, "--format", "github", "--write", ".", cwd=workdir, env=child_env)
    assert result.out == ""
    assert (workdir / "app/Dockerfile").read_text() == FIXED


def test_github_paths_from_the_repository_root(
    via: str, workdir: Path, child_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a subfolder of a git work tree: annotations name the path from the root."""
    (workdir / ".git").mkdir()  # what RepoPaths looks for; no git process needed
    write(workdir, {"svc/api/Dockerfile": FIXABLE, "svc/api/x.txt": "x"})
    sub = workdir / "svc"
    monkeypatch.chdir(sub)
    result = run_dockfix(via, "--format", "github", "api", cwd=sub, env=child_env)
    assert result.out.startswith("::warning file=svc/api/Dockerfile,line=1,col=15,")
