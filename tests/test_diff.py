"""Unified diffs that patch and git apply accept."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfix.output.diff import NO_NEWLINE_MARKER, colorize, unified_diff

APPLIERS = [
    pytest.param(
        ["patch", "-p1", "--quiet", "--input"],
        id="patch",
        marks=pytest.mark.skipif(shutil.which("patch") is None, reason="patch not installed"),
    ),
    pytest.param(
        ["git", "apply", "-p1"],
        id="git-apply",
        marks=pytest.mark.skipif(shutil.which("git") is None, reason="git not installed"),
    ),
]

CASES = {
    "normal": ("FROM alpine\nRUN apk add curl\nCMD sh\n", "FROM alpine:3\nRUN apk add curl\n"),
    "old-no-final-newline": ("FROM alpine\nCMD sh", "FROM alpine\nCMD sh\n"),
    "new-no-final-newline": ("FROM alpine\nCMD sh\n", "FROM alpine\nCMD sh"),
    "both-no-final-newline": ("FROM alpine\nCMD sh", "FROM alpine\nCMD bash"),
    "unchanged-last-line-without-newline": ("FROM a\nRUN x\nCMD sh", "FROM b\nRUN x\nCMD sh"),
    "last-line-removed-and-lines-added": ("FROM a\nCMD sh", "FROM a\nRUN x\nCMD bash\n"),
    "crlf": ("FROM alpine\r\nRUN a \\\r\n  b\r\n", "FROM alpine:3\r\nRUN a \\\r\n    b\r\n"),
    "crlf-no-final-newline": ("FROM alpine\r\nCMD sh", "FROM alpine\r\nCMD sh\r\n"),
    "trailing-cr-without-lf": ("FROM alpine\r\nCMD sh\r", "FROM alpine\r\nCMD bash\r"),
    "mixed-endings": ("FROM a\r\nRUN b\nCMD c\r\n", "FROM a\r\nRUN B\nCMD c\n"),
    "empty-old": ("", "FROM alpine\nCMD sh\n"),
    "empty-new": ("FROM alpine\nCMD sh\n", ""),
    "empty-old-no-final-newline": ("", "FROM alpine"),
    "form-feed-and-line-separator": ("RUN a\x0cb\u2028c\nCMD x\n", "RUN a\x0cb\u2028c\nCMD y\n"),
    "bom": ("\ufeffFROM alpine\n", "\ufeffFROM alpine:3\n"),
    "long": (
        "".join(f"RUN step {i}\n" for i in range(40)),
        "".join(f"RUN step {i}\n" for i in range(40) if i not in (3, 30)),
    ),
}


def apply(tool: list[str], old: str, new_diff: str, directory: Path) -> str:
    """Apply *new_diff* to a file holding *old* with *tool* and return the result."""
    target = directory / "docker" / "Dockerfile"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(old.encode())
    patch = directory / "change.patch"
    patch.write_bytes(new_diff.encode())
    result = subprocess.run(
        [*tool, str(patch)], cwd=directory, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target.read_bytes().decode()


@pytest.mark.parametrize("tool", APPLIERS)
@pytest.mark.parametrize(("old", "new"), CASES.values(), ids=CASES.keys())
def test_diff_applies(tmp_path: Path, tool: list[str], old: str, new: str) -> None:
    diff = unified_diff(old, new, "docker/Dockerfile")
    assert apply(tool, old, diff, tmp_path) == new


line_choices = st.sampled_from(["FROM a", "RUN b", "", " ", "CMD c", "RUN b\r"])
dockerfile_texts = st.lists(line_choices, max_size=8).map("\n".join)


@pytest.mark.parametrize("tool", APPLIERS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=dockerfile_texts, new=dockerfile_texts)
def test_random_diffs_apply(tool: list[str], old: str, new: str) -> None:
    diff = unified_diff(old, new, "docker/Dockerfile")
    if old == new:
        assert diff == ""
        return
    with tempfile.TemporaryDirectory() as tmp:
        assert apply(tool, old, diff, Path(tmp)) == new


def test_headers_and_hunks() -> None:
    diff = unified_diff("FROM a\nRUN b\n", "FROM a\nRUN c\n", "svc/Dockerfile")
    assert diff.split("\n") == [
        "--- a/svc/Dockerfile",
        "+++ b/svc/Dockerfile",
        "@@ -1,2 +1,2 @@",
        " FROM a",
        "-RUN b",
        "+RUN c",
        "",
    ]


#: Cases where plain difflib is already right: every line ends in "\n" and there is no other
#: character str.splitlines would split at.
PLAIN_CASES = {
    name: (old, new)
    for name, (old, new) in CASES.items()
    if all(text.endswith("\n") or not text for text in (old, new))
    and not any(char in old + new for char in "\x0c\u2028")
}


@pytest.mark.parametrize(("old", "new"), PLAIN_CASES.values(), ids=PLAIN_CASES.keys())
def test_matches_difflib_when_every_line_ends(old: str, new: str) -> None:
    expected = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile="a/Dockerfile",
            tofile="b/Dockerfile",
        )
    )
    assert unified_diff(old, new, "Dockerfile") == expected


def test_no_newline_markers() -> None:
    diff = unified_diff("FROM a\nCMD x", "FROM a\nCMD y", "Dockerfile")
    assert diff.endswith(f"-CMD x\n{NO_NEWLINE_MARKER}+CMD y\n{NO_NEWLINE_MARKER}")
    diff = unified_diff("FROM a\nCMD x", "FROM b\nCMD x", "Dockerfile")
    assert diff.endswith(f" CMD x\n{NO_NEWLINE_MARKER}")
    assert diff.count(NO_NEWLINE_MARKER) == 1


def test_crlf_is_kept_in_diff_lines() -> None:
    diff = unified_diff("FROM a\r\nCMD x\r\n", "FROM a\r\nCMD y\r\n", "Dockerfile")
    assert " FROM a\r\n-CMD x\r\n+CMD y\r\n" in diff


@pytest.mark.parametrize("text", ["", "FROM a", "FROM a\r\n"])
def test_equal_inputs_give_empty_diff(text: str) -> None:
    assert unified_diff(text, text, "Dockerfile") == ""


def test_colorize() -> None:
    diff = unified_diff("-- a\nsame\n", "++ b\nsame\n", "Dockerfile")
    assert colorize(diff).split("\n") == [
        "\x1b[1m--- a/Dockerfile\x1b[0m",
        "\x1b[1m+++ b/Dockerfile\x1b[0m",
        "\x1b[36m@@ -1,2 +1,2 @@\x1b[0m",
        "\x1b[31m--- a\x1b[0m",
        "\x1b[32m+++ b\x1b[0m",
        " same",
        "",
    ]


def test_colorize_keeps_crlf_outside_colour_and_marker_plain() -> None:
    diff = unified_diff("FROM a\r\nCMD x", "FROM a\r\nCMD y\r\n", "Dockerfile")
    coloured = colorize(diff)
    assert "\x1b[31m-CMD x\x1b[0m\n" + NO_NEWLINE_MARKER in coloured
    assert "\x1b[32m+CMD y\x1b[0m\r\n" in coloured
    assert " FROM a\r\n" in coloured


def test_colorize_several_files_and_short_hunk_headers() -> None:
    diff = (
        unified_diff("a\n", "b\n", "one/Dockerfile")
        + unified_diff("x\ny\n", "x\n", "two/Dockerfile")
        + "@@ -1 +1 @@\n-p\n+q\n"
    )
    lines = colorize(diff).split("\n")
    assert lines[5] == "\x1b[1m--- a/two/Dockerfile\x1b[0m"
    assert lines[6] == "\x1b[1m+++ b/two/Dockerfile\x1b[0m"
    assert lines[-4:] == [
        "\x1b[36m@@ -1 +1 @@\x1b[0m",
        "\x1b[31m-p\x1b[0m",
        "\x1b[32m+q\x1b[0m",
        "",
    ]


def test_colorize_empty() -> None:
    assert colorize("") == ""


@given(old=dockerfile_texts, new=dockerfile_texts)
def test_colorize_only_adds_escape_codes(old: str, new: str) -> None:
    diff = unified_diff(old, new, "Dockerfile")
    assert re.sub(r"\x1b\[[0-9;]*m", "", colorize(diff)) == diff


NAMES = {
    "space": "my app/a b.Dockerfile",
    "line-end": "odd\nname/Dockerfile",
    "quote-and-backslash": 'q"uote\\d/Dockerfile',
    "tab": "tab\there/Dockerfile",
}


@pytest.mark.parametrize("tool", APPLIERS)
@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_odd_file_names_apply(tmp_path: Path, tool: list[str], name: str) -> None:
    # A space ends the name for `patch` unless a tab follows it; a line end would end the
    # header: git quotes such names (and `patch` reads git's quoting).
    if tool[0] == "patch" and any(char in name for char in '\n\t"\\'):
        pytest.skip("GNU patch reads quoted names only in git-style diffs")
    old, new = "FROM alpine\nCMD sh\n", "FROM alpine\nCMD bash\n"
    target = tmp_path / name
    target.parent.mkdir(parents=True)
    target.write_text(old)
    patch = tmp_path / "change.patch"
    patch.write_bytes(unified_diff(old, new, name).encode())
    result = subprocess.run(
        [*tool, str(patch)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == new
