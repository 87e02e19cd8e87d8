"""The ``dockfix`` command line, driven in-process through click's ``CliRunner``.

These pin the documented contract: what each mode prints where, the exit status
(0 nothing to do, 1 findings or changes, 2 any error), that ``--write`` changes only
the bytes a fix owns, and that a bad file is reported as ``path:line:col: error:``,
left untouched, and never stops the other files (or prints a traceback).
"""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import oracle_records

from dockfix import __version__, runner
from dockfix.cli import main
from dockfix.rules import ALL_RULES, lookup
from dockfix.rules.catalog import plain_text

#: One finding for each of the four rules, all with safe fixes.
FIXABLE = "FROM python:3 as b\nMAINTAINER me\nENV A b c\nADD x.txt /x\n"
FIXED = (
    'FROM python:3 AS b\nLABEL org.opencontainers.image.authors="me"\nENV A="b c"\nCOPY x.txt /x\n'
)
CLEAN = "FROM python:3 AS b\nENV A=b\nCOPY x.txt /x\n"
#: Stdin has no build context: ``x.txt`` may be an archive that ADD unpacks, so DF004
#: only reports and ADD stays.
STDIN_FIXED = FIXED.replace("COPY x.txt", "ADD x.txt")

#: What the report says about FIXABLE, after the ``path:`` prefix.
FINDING_LINES = [
    "1:15: DF002 'as' and 'FROM' keywords' casing do not match",
    "2:1: DF003 MAINTAINER is deprecated; use an org.opencontainers.image.authors label",
    '3:5: DF001 "ENV key=value" should be used instead of legacy "ENV key value" format',
    "4:1: DF004 Use COPY instead of ADD for files and folders",
]


def fixable_diff(path: str, *, stdin: bool = False) -> str:
    if stdin:
        return (
            f"--- a/{path}\n+++ b/{path}\n@@ -1,4 +1,4 @@\n"
            + "".join(f"-{line}\n" for line in FIXABLE.splitlines()[:3])
            + "".join(f"+{line}\n" for line in STDIN_FIXED.splitlines()[:3])
            + " ADD x.txt /x\n"
        )
    return (
        f"--- a/{path}\n+++ b/{path}\n@@ -1,4 +1,4 @@\n"
        + "".join(f"-{line}\n" for line in FIXABLE.splitlines())
        + "".join(f"+{line}\n" for line in FIXED.splitlines())
    )


#: Files BuildKit refuses, each with the error line dockfix must print after the path.
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "Dockerfile.heredoc": (b"FROM a\nRUN <<EOF\necho\n", ":2:1: error: unterminated heredoc"),
    "Dockerfile.escape": (
        b"# escape=x\nFROM a as b\n",
        ":1:10: error: invalid escape token 'x' does not match ` or \\",
    ),
    "Dockerfile.env": (b"FROM a as b\nENV A\n", ":2:1: error: ENV must have two arguments"),
    "Dockerfile.flag": (
        b"FROM a as b\nRUN --bogus x\n",
        ":2:5: error: unknown flag: --bogus (on RUN)",
    ),
    "Dockerfile.binary": (
        b"FROM a as b\x00\n",
        ": error: binary file (NUL byte at offset 11), not a Dockerfile",
    ),
    "Dockerfile.empty": (b"", ":1:1: error: file with no instructions"),
}

#: The four BuildKit-check rules every test here relies on (more rules may exist).
FOUR_RULES = {
    "DF001": "legacy-key-value-format",
    "DF002": "from-as-casing",
    "DF003": "maintainer-deprecated",
    "DF004": "add-local-source",
}

MODES = {"report": [], "diff": ["--diff"], "write": ["--write"], "check": ["--check"]}


@pytest.fixture(autouse=True)
def _isolated(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run in tmp_path (short relative paths in output), away from the user's git and colours."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "NO_COLOR", "GIT_CONFIG_GLOBAL"):
        monkeypatch.delenv(name, raising=False)


#: The CLI contract is tested on the four BuildKit-check rules, whose findings on the
#: samples above are fixed text; every other rule has its own fixtures.
CONTRACT_RULES = ("--select", "DF001,DF002,DF003,DF004")
_OWN_SELECTION = ("dump", "--select", "--ignore", "--list-rules", "--explain", "--version")


def with_contract_rules(args: list[str]) -> list[str]:
    """``args`` limited to the contract rules, unless the test chooses rules itself."""
    if any(arg in _OWN_SELECTION for arg in args):
        return args
    return [*CONTRACT_RULES, *args]


def invoke(*args: str, input: bytes | None = None) -> Result:
    """Run the CLI; an escaped exception or a traceback in any output fails the test."""
    result = CliRunner().invoke(main, with_contract_rules(list(args)), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert b"Traceback" not in result.output_bytes
    return result


def write(root: Path, files: dict[str, bytes | str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``app/`` has a Dockerfile with four fixable findings; ``clean/`` has none."""
    write(
        tmp_path,
        {
            "app/Dockerfile": FIXABLE,
            "app/x.txt": "x\n",
            "clean/Dockerfile": CLEAN,
            "clean/x.txt": "",
        },
    )
    return tmp_path


def lines(text: str) -> list[str]:
    return text.splitlines()


# --- report mode -----------------------------------------------------------------------


def test_report_prints_findings_on_stdout_and_summary_on_stderr(tree: Path) -> None:
    before = snapshot(tree)
    result = invoke(".")
    assert result.exit_code == 1
    assert lines(result.stdout) == [f"app/Dockerfile:{line}" for line in FINDING_LINES]
    assert result.stderr == "2 files checked, 4 findings, 1 file fixable with --write.\n"
    assert snapshot(tree) == before


def test_report_on_clean_file_exits_0_silently(tree: Path) -> None:
    result = invoke("clean")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "1 file checked, 0 findings.\n"


def test_report_shows_why_a_finding_is_not_fixed(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "MAINTAINER me\nFROM a\nADD $SRC /x\n"})
    result = invoke("Dockerfile")
    assert result.exit_code == 0  # report-only findings do not fail a run (--fail-on fixable)
    assert invoke("--fail-on", "any", "Dockerfile").exit_code == 1
    assert lines(result.stdout) == [
        "Dockerfile:1:1: DF003 MAINTAINER is deprecated; use an org.opencontainers.image.authors"
        " label (not fixed: before the first FROM)",
        "Dockerfile:3:1: DF004 Use COPY instead of ADD for files and folders"
        " (not fixed: source '$SRC' uses a variable)",
    ]


# --- --diff ------------------------------------------------------------------------------


def test_diff_prints_the_fixes_and_writes_nothing(tree: Path) -> None:
    before = snapshot(tree)
    result = invoke("--diff", ".")
    assert result.exit_code == 1
    assert result.stdout == fixable_diff("app/Dockerfile")
    assert result.stderr == "2 files checked, 1 file would be changed.\n"
    assert snapshot(tree) == before


def test_diff_on_clean_file_is_empty(tree: Path) -> None:
    result = invoke("--diff", "clean")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_diff_colour_is_opt_in_off_a_terminal(tree: Path) -> None:
    assert "\x1b[" not in invoke("--diff", ".").stdout
    assert "\x1b[" not in invoke("--diff", "--no-color", ".").stdout
    coloured = invoke("--diff", "--color", ".")
    assert coloured.exit_code == 1
    assert "\x1b[31m-FROM python:3 as b\x1b[0m" in coloured.stdout
    assert "\x1b[32m+FROM python:3 AS b\x1b[0m" in coloured.stdout


# --- --write -----------------------------------------------------------------------------


def test_write_rewrites_in_place_and_second_run_is_clean(tree: Path) -> None:
    clean_before = (tree / "clean/Dockerfile").read_bytes()
    result = invoke("--write", ".")
    assert result.exit_code == 0  # everything fixable was fixed (ruff: --exit-non-zero-on-fix)
    assert result.stdout == ""  # everything found was fixed: nothing left to report
    assert result.stderr == "2 files checked, 4 fixes applied in 1 file.\n"
    assert (tree / "app/Dockerfile").read_text() == FIXED
    assert (tree / "clean/Dockerfile").read_bytes() == clean_before
    after = snapshot(tree)

    again = invoke("--write", ".")
    assert again.exit_code == 0
    assert again.stdout == ""
    assert again.stderr == "2 files checked, 0 fixes applied in 0 files.\n"
    assert snapshot(tree) == after
    assert invoke("--check", ".").exit_code == 0


def test_write_summary_says_one_fix(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROM a as b\n"})
    result = invoke("--write", "Dockerfile")
    assert result.stderr == "1 file checked, 1 fix applied in 1 file.\n"


def test_write_keeps_what_it_cannot_fix_and_reports_it(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "MAINTAINER me\nFROM a as b\n"})
    result = invoke("--write", "Dockerfile")
    assert result.exit_code == 0  # what remains is report-only
    assert (tmp_path / "Dockerfile").read_text() == "MAINTAINER me\nFROM a AS b\n"
    assert lines(result.stdout) == [
        "Dockerfile:1:1: DF003 MAINTAINER is deprecated; use an org.opencontainers.image.authors"
        " label (not fixed: before the first FROM)"
    ]
    again = invoke("--fail-on", "any", "--write", "Dockerfile")
    assert again.exit_code == 1  # the finding remains
    assert (tmp_path / "Dockerfile").read_text() == "MAINTAINER me\nFROM a AS b\n"


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


#: A BOM, a Latin-1 byte that is not UTF-8, CRLF endings: all must survive ``--write``.
ODD_BEFORE = b"\xef\xbb\xbf# caf\xe9\r\n" + crlf(FIXABLE) + b"# na\xefve \xff end"
ODD_AFTER = b"\xef\xbb\xbf# caf\xe9\r\n" + crlf(FIXED) + b"# na\xefve \xff end"


def test_write_keeps_mode_bom_crlf_and_undecodable_bytes(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": ODD_BEFORE, "x.txt": "x"})
    path = tmp_path / "Dockerfile"
    path.chmod(0o755)
    result = invoke("--exit-non-zero-on-fix", "--write", ".")
    assert result.exit_code == 1
    assert path.read_bytes() == ODD_AFTER
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert invoke("--write", ".").exit_code == 0
    assert path.read_bytes() == ODD_AFTER
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert [p.name for p in tmp_path.iterdir() if "dockfix" in p.name] == []  # no temp left


def test_diff_of_odd_file_carries_its_bytes(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": ODD_BEFORE, "x.txt": "x"})
    result = invoke("--diff", "Dockerfile")
    assert result.exit_code == 1
    assert b" \xef\xbb\xbf# caf\xe9\r\n" in result.stdout_bytes
    assert b"-FROM python:3 as b\r\n+FROM python:3 AS b\r\n" not in result.stdout_bytes
    assert b"+FROM python:3 AS b\r\n" in result.stdout_bytes
    assert (tmp_path / "Dockerfile").read_bytes() == ODD_BEFORE


# --- --check -----------------------------------------------------------------------------


def test_check_prints_nothing(tree: Path) -> None:
    before = snapshot(tree)
    result = invoke("--check", ".")
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert result.stderr_bytes == b""
    assert snapshot(tree) == before
    clean = invoke("--check", "clean")
    assert (clean.exit_code, clean.stdout_bytes, clean.stderr_bytes) == (0, b"", b"")


def test_only_one_mode_at_a_time(tree: Path) -> None:
    result = invoke("--diff", "--write", ".")
    assert result.exit_code == 2
    assert "choose one of --diff, --write and --check" in result.stderr
    assert (tree / "app/Dockerfile").read_text() == FIXABLE


# --- stdin -------------------------------------------------------------------------------


def test_stdin_report_prints_fixed_text_and_findings_on_stderr() -> None:
    result = invoke("-", input=FIXABLE.encode())
    assert result.exit_code == 1
    assert result.stdout == STDIN_FIXED
    for line in FINDING_LINES:
        assert f"-:{line}" in result.stderr


def test_stdin_write_prints_fixed_text_and_counts_the_fixes() -> None:
    result = invoke("--write", "-", input=FIXABLE.encode())
    assert result.exit_code == 0
    assert result.stdout == STDIN_FIXED
    assert result.stderr == (
        "-:4:1: DF004 Use COPY instead of ADD for files and folders (not fixed: no build "
        "context on disk: the source may be an archive that ADD unpacks)\n"
        "1 file checked, 3 fixes applied in 1 file.\n"
    )


def test_stdin_diff_and_check() -> None:
    diff = invoke("--diff", "-", input=FIXABLE.encode())
    assert diff.exit_code == 1
    assert diff.stdout == fixable_diff(
        "Dockerfile", stdin=True
    )  # never `a/-`: git apply wants a name
    check = invoke("--check", "-", input=FIXABLE.encode())
    assert (check.exit_code, check.stdout_bytes, check.stderr_bytes) == (1, b"", b"")


@pytest.mark.parametrize("mode", MODES)
def test_stdin_clean_exits_0(mode: str) -> None:
    result = invoke(*MODES[mode], "-", input=CLEAN.encode())
    assert result.exit_code == 0
    expected = CLEAN if mode in ("report", "write") else ""
    assert result.stdout == expected


@pytest.mark.parametrize("mode", ["report", "write"])
def test_stdin_output_keeps_bytes(mode: str) -> None:
    result = invoke(*MODES[mode], "-", input=ODD_BEFORE)
    assert result.exit_code == (1 if mode == "report" else 0)
    assert result.stdout_bytes == ODD_AFTER.replace(b"COPY x.txt", b"ADD x.txt")  # no context


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_stdin_error_exits_2_and_echoes_the_input(mode: str, name: str) -> None:
    """Editors replace the buffer with stdout: input dockfix cannot fix comes back as it was."""
    data, error = BAD_FILES[name]
    result = invoke(*MODES[mode], "-", input=data)
    assert result.exit_code == 2
    assert result.stdout_bytes == (data if mode in ("report", "write") else b"")
    assert f"-{error}\n" in result.stderr


def test_stdin_together_with_files(tree: Path) -> None:
    result = invoke("--write", "-", "app", input=b"FROM a as b\n")
    assert result.exit_code == 0
    assert result.stdout == "FROM a AS b\n"
    assert (tree / "app/Dockerfile").read_text() == FIXED
    assert result.stderr == "2 files checked, 5 fixes applied in 2 files.\n"


# --- JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["report", "diff", "write", "check"])
def test_json_is_one_document(tree: Path, mode: str) -> None:
    result = invoke("--format", "json", *MODES[mode], ".")
    assert result.exit_code == (0 if mode == "write" else 1)
    document = json.loads(result.stdout)
    assert document["tool"] == "dockfix"
    assert document["mode"] == mode
    files = {entry["path"]: entry for entry in document["files"]}
    assert set(files) == {"app/Dockerfile", "clean/Dockerfile"}
    app, clean = files["app/Dockerfile"], files["clean/Dockerfile"]
    assert [f["code"] for f in app["findings"]] == ["DF002", "DF003", "DF001", "DF004"]
    assert app["findings"][0] == {
        "line": 1,
        "column": 15,
        "code": "DF002",
        "name": "from-as-casing",
        "message": "'as' and 'FROM' keywords' casing do not match",
        "applicability": "safe",
        "note": "",
        "severity": "warning",
        "companion": None,
        "fix_reason": "",
        "fixed": True,
    }
    assert document["schema"] == 1
    assert app["diff"] == fixable_diff("app/Dockerfile")
    assert app["changed"] is True
    assert app["written"] is (mode == "write")
    assert app["errors"] == []
    assert (clean["findings"], clean["diff"], clean["changed"]) == ([], "", False)
    assert document["summary"] == {"files": 2, "changed": 1, "findings": 4, "errors": 0}


def test_json_reports_errors_in_the_document(tree: Path) -> None:
    write(tree, {"bad/Dockerfile": BAD_FILES["Dockerfile.heredoc"][0]})
    result = invoke("--format", "json", ".")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    bad = next(entry for entry in document["files"] if entry["path"] == "bad/Dockerfile")
    assert bad["errors"] == [{"line": 2, "column": 1, "message": "unterminated heredoc"}]
    assert document["summary"]["errors"] == 1


def test_json_with_stdin_keeps_stdout_for_the_text() -> None:
    result = invoke("--format", "json", "-", input=FIXABLE.encode())
    assert result.stdout == STDIN_FIXED
    document = json.loads(result.stderr)
    assert document["files"][0]["path"] == "-"
    diff = invoke("--format", "json", "--diff", "-", input=FIXABLE.encode())
    assert json.loads(diff.stdout)["files"][0]["diff"] == fixable_diff("Dockerfile", stdin=True)


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_reported_and_left_alone(tmp_path: Path, mode: str, name: str) -> None:
    data, error = BAD_FILES[name]
    write(tmp_path, {name: data})
    result = invoke(*MODES[mode], name)
    assert result.exit_code == 2
    assert f"{name}{error}\n" in result.stderr
    assert name not in result.stdout
    assert (tmp_path / name).read_bytes() == data


@pytest.mark.parametrize("mode", MODES)
def test_folder_mixing_good_and_bad_files(tmp_path: Path, mode: str) -> None:
    write(tmp_path, {f"proj/{name}": data for name, (data, _) in BAD_FILES.items()})
    write(tmp_path, {"proj/Dockerfile": FIXABLE, "proj/x.txt": "x", "proj/sub/Dockerfile": CLEAN})
    result = invoke(*MODES[mode], "proj")
    assert result.exit_code == 2
    for name, (data, error) in BAD_FILES.items():
        assert f"proj/{name}{error}\n" in result.stderr
        assert (tmp_path / "proj" / name).read_bytes() == data
    good = (tmp_path / "proj/Dockerfile").read_text()
    assert good == (FIXED if mode == "write" else FIXABLE)
    if mode == "report":
        assert lines(result.stdout) == [f"proj/Dockerfile:{line}" for line in FINDING_LINES]
    if mode == "diff":
        assert result.stdout == fixable_diff("proj/Dockerfile")
    if mode != "check":
        assert result.stderr.endswith(f"{len(BAD_FILES)} files with errors.\n")


def test_missing_path_is_an_error_but_the_rest_is_fixed(tree: Path) -> None:
    result = invoke("--write", "nope", "app")
    assert result.exit_code == 2
    assert "nope: error: No such file or directory\n" in result.stderr
    assert (tree / "app/Dockerfile").read_text() == FIXED


def test_internal_error_costs_one_file_only(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crashing rule must not abort the run, print a traceback or touch the file."""
    real = runner.fix_document

    def fix_document(document, rules, settings, *, path, **kwargs):  # type: ignore[no-untyped-def]
        if path is not None and "crash" in str(path):
            raise RuntimeError("boom")
        return real(document, rules, settings, path=path, **kwargs)

    monkeypatch.setattr(runner, "fix_document", fix_document)
    write(tree, {"crash/Dockerfile": FIXABLE})
    result = invoke("--write", ".")
    assert result.exit_code == 2
    assert (
        "crash/Dockerfile: error: internal error (RuntimeError: boom); file left as it was\n"
        in result.stderr
    )
    assert (tree / "crash/Dockerfile").read_text() == FIXABLE
    assert (tree / "app/Dockerfile").read_text() == FIXED


#: Inputs that once crashed a rule or the validator; whatever they become, never a traceback.
CRASHERS = ['FROM a\nENV " V X\n', "FROM a\nONBUILD --a CMD\n", "LABEL F\xa0 S\n"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", CRASHERS)
def test_former_crashers_never_print_a_traceback(tmp_path: Path, mode: str, text: str) -> None:
    write(tmp_path, {"Dockerfile": text, "clean/Dockerfile": CLEAN})
    result = invoke(*MODES[mode], ".")
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert (tmp_path / "Dockerfile").read_text() == text
        assert re.search(r"^Dockerfile(:\d+:\d+)?: error: ", result.stderr, re.MULTILINE)


def test_closed_stdin_is_an_error() -> None:
    """``dockfix - <&-`` leaves ``sys.stdin`` None: an error line, not an AttributeError."""
    with CliRunner().isolation() as (out, err, _):
        sys.stdin = None  # type: ignore[assignment]  # isolation() restores it
        with pytest.raises(SystemExit) as exit_info:
            main.main(["-"])
    assert exit_info.value.code == 2
    assert err.getvalue() == b"-: error: standard input is closed\n" + (
        b"1 file checked, 0 findings, 1 file with errors.\n"
    )
    assert out.getvalue() == b""


# --- discovery ---------------------------------------------------------------------------


def test_discovery_finds_dockerfiles_by_name_and_skips_vendor_folders(tmp_path: Path) -> None:
    wanted = [
        "Dockerfile",
        "a/Dockerfile.dev",
        "a/b/app.dockerfile",
        "a/b/c/Containerfile",
        "z/containerfile.ci",
    ]
    skipped = [
        "node_modules/pkg/Dockerfile",
        "a/node_modules/Dockerfile",
        ".git/Dockerfile",
        "a/.git/hooks/Dockerfile",
        "a/Dockerfile.md",
        "a/notes.txt",
        "a/Dockerfile.bak",
    ]
    write(tmp_path, {name: FIXABLE for name in [*wanted, *skipped]})
    before = snapshot(tmp_path)
    result = invoke(".")
    assert result.exit_code == 1
    reported = sorted({line.split(":")[0] for line in lines(result.stdout)})
    assert reported == sorted(wanted)
    assert result.stderr.startswith(f"{len(wanted)} files checked")

    invoke("--write", ".")
    after = snapshot(tmp_path)
    for name in wanted:
        assert after[name] != before[name]
    for name in skipped:
        assert after[name] == before[name]


def test_explicit_file_is_checked_whatever_its_name(tmp_path: Path) -> None:
    write(tmp_path, {"node_modules/build.txt": "FROM a as b\n"})
    result = invoke("node_modules/build.txt")
    assert result.exit_code == 1
    assert result.stdout.startswith("node_modules/build.txt:1:8: DF002 ")


def test_folder_without_dockerfiles_warns_and_exits_2(tmp_path: Path) -> None:
    write(tmp_path, {"docs/README.md": "# hi\n"})
    result = invoke("docs")
    assert result.exit_code == 2  # a run that checked nothing must not look green
    assert result.stderr == "warning: no Dockerfiles found in docs\n"


# --- rule selection ----------------------------------------------------------------------


def codes(result: Result) -> list[str]:
    return [line.split()[1] for line in lines(result.stdout)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "DF001"], ["DF001"]),
        (["--select", "legacy-key-value-format"], ["DF001"]),
        (["--select", "DF001,DF004"], ["DF001", "DF004"]),
        (["--select", "DF001", "--select", "df002"], ["DF002", "DF001"]),
        (["--select", "DF00"], ["DF002", "DF003", "DF001", "DF004"]),
        (["--select", "DF00", "--ignore", "from-as-casing"], ["DF003", "DF001", "DF004"]),
        (["--select", "DF00", "--ignore", "DF002,DF003"], ["DF001", "DF004"]),
        (["--select", "ALL", "--ignore", "DF004,DF1,DF2"], ["DF002", "DF003", "DF001"]),
    ],
)
def test_select_and_ignore(tree: Path, args: list[str], expected: list[str]) -> None:
    result = invoke(*args, "app")
    assert result.exit_code == 1
    assert codes(result) == expected


def test_ignoring_everything_leaves_nothing_to_do(tree: Path) -> None:
    result = invoke("--ignore", "DF", "--write", "app")
    assert result.exit_code == 0
    assert (tree / "app/Dockerfile").read_text() == FIXABLE


def test_select_limits_the_fixes_too(tree: Path) -> None:
    result = invoke("--select", "DF002", "--write", "app")
    assert result.exit_code == 0
    assert (tree / "app/Dockerfile").read_text() == FIXABLE.replace(" as ", " AS ")


@pytest.mark.parametrize("option", ["--select", "--ignore"])
@pytest.mark.parametrize("mode", MODES)
def test_unknown_selector_is_a_usage_error(tree: Path, option: str, mode: str) -> None:
    before = snapshot(tree)
    result = invoke(option, "DF001,nope", *MODES[mode], ".")
    assert result.exit_code == 2
    assert "Error: unknown rule selector 'nope'" in result.stderr
    assert result.stdout == ""
    assert snapshot(tree) == before


def test_list_rules_lists_every_rule_and_the_four() -> None:
    result = invoke("--list-rules")
    assert result.exit_code == 0
    rows = lines(result.stdout)
    assert rows[0].split() == ["code", "name", "fix", "summary"]
    assert [row.split()[:3] for row in rows[1:]] == [
        [rule.code, rule.name, rule.fix_label] for rule in ALL_RULES
    ]
    listed = {row.split()[0]: row.split()[1] for row in rows[1:]}
    assert {code: listed.get(code) for code in FOUR_RULES} == FOUR_RULES


@pytest.mark.parametrize("key", ["DF004", "df004", "add-local-source"])
def test_explain_prints_the_rule_docstring(key: str) -> None:
    result = invoke("--explain", key)
    assert result.exit_code == 0
    rule = lookup("DF004")
    assert rule is not None
    assert result.stdout.startswith("DF004 add-local-source (safe fix)\n")
    assert plain_text(rule.explanation) in result.stdout  # the docstring, minus RST markup
    assert "Fix safety" in result.stdout


def test_explain_unknown_rule_is_a_usage_error() -> None:
    result = invoke("--explain", "nope")
    assert result.exit_code == 2
    assert "unknown rule 'nope'" in result.stderr
    assert result.stdout == ""


def test_unsafe_fixes_is_accepted(tree: Path) -> None:
    result = invoke("--unsafe-fixes", "--write", ".")
    assert result.exit_code == 0
    assert (tree / "app/Dockerfile").read_text() == FIXED


# --- usage -------------------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"dockfix, version {__version__}\n"


def test_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for option in ("--diff", "--write", "--check", "--select", "--format", "--explain"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no paths given"),
        (["--bogus", "."], "No such option"),
        (["--format", "xml", "."], "Invalid value for '--format'"),
        (["dump"], "Missing argument"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


# --- dump --------------------------------------------------------------------------------

SAMPLE = (
    "# syntax=docker/dockerfile:1\n"
    "from python:3.12 as build\n"
    "ARG V=1\n"
    "run --mount=type=cache,target=/root/.cache \\\n"
    "    pip install x==$V\n"
    "COPY --from=build --chown=1:1 a b /dst/\n"
    "ENV A b c\n"
    'LABEL a=b c="d e"\n'
    "ONBUILD add . /app\n"
    "RUN <<EOF\n"
    "echo hi\n"
    "EOF\n"
    'CMD ["python", "-m", "app"]\n'
    "HEALTHCHECK --interval=5s CMD true\n"
)


def dump_records(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines(result.stdout)]


def test_dump_matches_buildkit(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": SAMPLE})
    result = invoke("dump", "Dockerfile")
    assert result.exit_code == 0
    [record] = dump_records(result)
    assert set(record) == {"path", "instructions"}
    assert record["path"] == "Dockerfile"
    assert record["instructions"] == oracle_records(SAMPLE)


def test_dump_reports_errors_like_buildkit_and_goes_on(tmp_path: Path) -> None:
    write(tmp_path, {"a": BAD_FILES["Dockerfile.heredoc"][0], "b": SAMPLE})
    result = invoke("dump", "a", "missing", "b", "-", input=b"FROM x\n")
    assert result.exit_code == 2
    records = dump_records(result)
    assert [r["path"] for r in records] == ["a", "missing", "b", "-"]
    assert records[0] == {
        "path": "a",
        "error": {"line": 2, "column": 1, "message": "unterminated heredoc"},
    }
    assert records[1] == {
        "path": "missing",
        "error": {"line": 0, "column": 0, "message": "No such file or directory"},
    }
    assert records[2]["instructions"] == oracle_records(SAMPLE)
    assert records[3]["instructions"] == oracle_records("FROM x\n")


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_dump_error_messages(tmp_path: Path, name: str) -> None:
    data, error = BAD_FILES[name]
    write(tmp_path, {name: data})
    result = invoke("dump", name)
    if name == "Dockerfile.flag":  # BuildKit's parser accepts unknown flags; only builds fail
        assert result.exit_code == 0
        return
    assert result.exit_code == 2
    [record] = dump_records(result)
    found = record["error"]
    assert isinstance(found, dict)
    match = re.fullmatch(r"(?::(\d+):(\d+))?: error: (.*)", error)
    assert match is not None
    line, column, message = match.groups()
    assert found == {"line": int(line or 0), "column": int(column or 0), "message": message}


def test_no_stray_files_after_a_full_session(tree: Path) -> None:
    for mode in MODES.values():
        invoke(*mode, ".")
    leftovers = [p for p in tree.rglob("*") if ".dockfix-" in p.name]
    assert leftovers == []
