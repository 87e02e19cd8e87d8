"""The ``dockfix`` command as users and bots run it: a real process, real pipes and files.

``CliRunner`` cannot show what only a real process does: the console script and
``python -m dockfix`` entry points, byte-exact stdout/stderr, the worker-process pool
used for many files, a reader that closes the pipe early, a terminal deciding colour,
and undecodable file names under a C locale.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import oracle_records
from test_cli import with_contract_rules

from dockfix import __version__
from dockfix.cli import PARALLEL_THRESHOLD

FIXABLE = b"FROM python:3 as b\nMAINTAINER me\nENV A b c\nADD x.txt /x\n"
FIXED = (
    b'FROM python:3 AS b\nLABEL org.opencontainers.image.authors="me"\nENV A="b c"\nCOPY x.txt /x\n'
)
CLEAN = b"FROM python:3 AS b\nENV A=b\nCOPY x.txt /x\n"
#: BOM, a Latin-1 byte, CRLF and no final newline: all must survive a rewrite.
ODD = b"\xef\xbb\xbf# caf\xe9\r\n" + FIXABLE.replace(b"\n", b"\r\n") + b"# \xff end"
ODD_FIXED = b"\xef\xbb\xbf# caf\xe9\r\n" + FIXED.replace(b"\n", b"\r\n") + b"# \xff end"
#: Stdin has no build context: DF004 only reports (``x.txt`` may be an archive).
STDIN_FIXED = FIXED.replace(b"COPY x.txt", b"ADD x.txt")
STDIN_ODD_FIXED = ODD_FIXED.replace(b"COPY x.txt", b"ADD x.txt")
BAD = {
    "Dockerfile.heredoc": (b"FROM a\nRUN <<EOF\necho\n", b":2:1: error: unterminated heredoc"),
    "Dockerfile.escape": (b"# escape=x\nFROM a\n", b":1:10: error: invalid escape token"),
    "Dockerfile.env": (b"FROM a\nENV A\n", b":2:1: error: ENV must have two arguments"),
    "Dockerfile.flag": (b"FROM a\nRUN --bogus x\n", b":2:5: error: unknown flag: --bogus"),
    "Dockerfile.binary": (b"FROM a\x00\n", b": error: binary file (NUL byte at offset 6)"),
    "Dockerfile.empty": (b"", b":1:1: error: file with no instructions"),
}

SCRIPT = Path(sys.executable).with_name("dockfix")
COMMANDS = {
    "module": [sys.executable, "-m", "dockfix"],
    "script": [str(SCRIPT)],
}


@pytest.fixture(params=sorted(COMMANDS))
def command(request: pytest.FixtureRequest) -> list[str]:
    """Both entry points: ``python -m dockfix`` and the installed console script."""
    if request.param == "script" and not SCRIPT.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    return COMMANDS[request.param]


@pytest.fixture
def module() -> list[str]:
    """One entry point, for tests about behaviour rather than about how dockfix starts."""
    return COMMANDS["module"]


@pytest.fixture
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The user's environment minus what would change dockfix's output (colour, git)."""
    drop = {"NO_COLOR", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL"}
    clean = {key: value for key, value in os.environ.items() if key not in drop}
    clean["HOME"] = str(tmp_path_factory.mktemp("home"))
    clean["GIT_CONFIG_NOSYSTEM"] = "1"
    return clean


def run(
    command: list[str],
    *args: str,
    cwd: Path,
    env: dict[str, str],
    input: bytes = b"",
) -> subprocess.CompletedProcess[bytes]:
    """Run dockfix; a traceback on either stream fails the test."""
    result = subprocess.run(
        [*command, *with_contract_rules(list(args))],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        timeout=120,
    )
    assert b"Traceback" not in result.stdout + result.stderr, result.stderr.decode(errors="replace")
    return result


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root with its bytes and permission bits."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    write(
        root,
        {
            "app/Dockerfile": FIXABLE,
            "app/x.txt": b"x",
            "odd/Dockerfile": ODD,
            "odd/x.txt": b"x",
            "clean/Containerfile": CLEAN,
            "clean/x.txt": b"",
        },
    )
    (root / "odd/Dockerfile").chmod(0o755)
    return root


def test_version(command: list[str], env: dict[str, str], tmp_path: Path) -> None:
    result = run(command, "--version", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert result.stdout == f"dockfix, version {__version__}\n".encode()


def test_every_mode_end_to_end(command: list[str], env: dict[str, str], tree: Path) -> None:
    before = snapshot(tree)

    report = run(command, ".", cwd=tree, env=env)
    assert report.returncode == 1
    assert report.stdout.count(b"app/Dockerfile:") == 4
    assert report.stdout.count(b"odd/Dockerfile:") == 4
    assert b"clean/" not in report.stdout
    assert report.stderr == b"3 files checked, 8 findings, 2 files fixable with --write.\n"

    diff = run(command, "--diff", ".", cwd=tree, env=env)
    assert diff.returncode == 1
    assert diff.stdout.startswith(b"--- a/app/Dockerfile\n+++ b/app/Dockerfile\n")
    assert b"\x1b[" not in diff.stdout  # a pipe is not a terminal: no colour

    check = run(command, "--check", ".", cwd=tree, env=env)
    assert (check.returncode, check.stdout, check.stderr) == (1, b"", b"")
    assert snapshot(tree) == before

    written = run(command, "--write", ".", cwd=tree, env=env)
    assert written.returncode == 0  # everything fixable was fixed (--exit-non-zero-on-fix: 1)
    assert written.stdout == b""
    assert written.stderr == b"3 files checked, 8 fixes applied in 2 files.\n"
    after = snapshot(tree)
    assert after["app/Dockerfile"] == (FIXED, before["app/Dockerfile"][1])
    assert after["odd/Dockerfile"] == (ODD_FIXED, 0o755)
    assert after["clean/Containerfile"] == before["clean/Containerfile"]

    for mode in ("--write", "--check", "--diff"):
        again = run(command, mode, ".", cwd=tree, env=env)
        assert (again.returncode, again.stdout) == (0, b"")
    assert snapshot(tree) == after


@pytest.mark.skipif(shutil.which("patch") is None, reason="patch is not installed")
def test_diff_applies_with_patch_and_equals_write(
    module: list[str], env: dict[str, str], tree: Path, tmp_path: Path
) -> None:
    patched, written = tmp_path / "patched", tmp_path / "written"
    shutil.copytree(tree, patched)
    shutil.copytree(tree, written)
    before = snapshot(tree)
    diff = run(module, "--diff", ".", cwd=tree, env=env)
    assert diff.returncode == 1
    assert snapshot(tree) == before
    (tmp_path / "fix.patch").write_bytes(diff.stdout)
    applied = subprocess.run(
        ["patch", "-p1", "--quiet", "--input", str(tmp_path / "fix.patch")],
        cwd=patched,
        capture_output=True,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert run(module, "--write", ".", cwd=written, env=env).returncode == 0
    contents = {name: data for name, (data, _) in snapshot(patched).items()}
    assert contents == {name: data for name, (data, _) in snapshot(written).items()}
    assert contents["odd/Dockerfile"] == ODD_FIXED


@pytest.mark.parametrize(
    ("mode", "status", "stdout"),
    [
        ([], 1, STDIN_FIXED),
        (["--write"], 0, STDIN_FIXED),
        (["--check"], 1, b""),
        (["--diff"], 1, None),
    ],
    ids=["report", "write", "check", "diff"],
)
def test_stdin(
    module: list[str],
    env: dict[str, str],
    tmp_path: Path,
    mode: list[str],
    status: int,
    stdout: bytes | None,
) -> None:
    result = run(module, *mode, "-", cwd=tmp_path, env=env, input=FIXABLE)
    assert result.returncode == status
    if stdout is None:
        assert result.stdout.startswith(b"--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,4 +1,4 @@\n")
    else:
        assert result.stdout == stdout
    odd = run(module, *mode, "-", cwd=tmp_path, env=env, input=ODD)
    if stdout == STDIN_FIXED:
        assert odd.stdout == STDIN_ODD_FIXED
    bad_input = BAD["Dockerfile.heredoc"][0]
    bad = run(module, *mode, "-", cwd=tmp_path, env=env, input=bad_input)
    # Fix modes echo input they cannot fix (editors replace the buffer with stdout).
    assert (bad.returncode, bad.stdout) == (2, bad_input if stdout == STDIN_FIXED else b"")
    assert b"-:2:1: error: unterminated heredoc\n" in bad.stderr


def test_errors_never_stop_the_other_files(
    module: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path, {f"proj/{name}": data for name, (data, _) in BAD.items()})
    write(tmp_path, {"proj/sub/Dockerfile": FIXABLE, "proj/sub/x.txt": b"x"})
    result = run(module, "--write", "proj", "missing", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert b"missing: error: No such file or directory\n" in result.stderr
    for name, (data, error) in BAD.items():
        assert f"proj/{name}".encode() + error in result.stderr
        assert (tmp_path / "proj" / name).read_bytes() == data
    assert (tmp_path / "proj/sub/Dockerfile").read_bytes() == FIXED


def test_many_files_go_through_worker_processes(
    module: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    """Past PARALLEL_THRESHOLD files the pool runs; output order and errors must not change."""
    count = PARALLEL_THRESHOLD + 12
    files = {f"p{i:03}/Dockerfile": FIXABLE for i in range(count)}
    files |= {f"p{i:03}/x.txt": b"x" for i in range(count)}
    files |= {f"bad{i}/Dockerfile": BAD["Dockerfile.heredoc"][0] for i in range(3)}
    write(tmp_path, files)
    report = run(module, ".", cwd=tmp_path, env=env)
    assert report.returncode == 2
    paths = [line.split(b":")[0] for line in report.stdout.splitlines()]
    assert paths == sorted(paths)
    assert len(paths) == 4 * count
    assert report.stderr.count(b"error: unterminated heredoc") == 3

    written = run(module, "--write", ".", cwd=tmp_path, env=env)
    assert written.returncode == 2
    for i in range(count):
        assert (tmp_path / f"p{i:03}/Dockerfile").read_bytes() == FIXED
    for i in range(3):
        assert (tmp_path / f"bad{i}/Dockerfile").read_bytes() == BAD["Dockerfile.heredoc"][0]
    assert f"{4 * count} fixes applied in {count} files".encode() in written.stderr


def test_reader_closing_the_pipe_early(
    module: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    """``dockfix --diff . | head -1`` must end quietly, not with a BrokenPipeError."""
    # A diff far larger than a pipe buffer (64 KiB), so the write does hit the closed pipe.
    text = b"FROM a\n" + b"".join(b"ENV K%d %s\n" % (i, b"v" * 200) for i in range(400))
    write(tmp_path, {"d000/Dockerfile": text})
    process = subprocess.Popen(
        [*module, "--diff", "."],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10) == b"--- a/d000"
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) in (0, 1)
    assert b"Traceback" not in stderr
    assert b"Exception" not in stderr


def test_undecodable_names_and_bytes_under_c_locale(
    module: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    """Paths and diffs go out as the very bytes on disk, whatever the locale says."""
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    try:
        os.mkdir(folder)
    except (OSError, UnicodeError):
        pytest.skip("the filesystem refuses non-UTF-8 names")
    Path(os.fsdecode(folder + b"/Dockerfile")).write_bytes(b"# \xe9\nFROM a as b\n")
    Path(os.fsdecode(folder + b"/Dockerfile.bad")).write_bytes(b"FROM a\nENV A\n")
    c_env = {key: value for key, value in env.items() if not key.startswith(("LC_", "LANG"))}
    c_env |= {"LC_ALL": "C", "PYTHONIOENCODING": "ascii"}
    report = run(module, ".", cwd=tmp_path, env=c_env)
    assert report.returncode == 2
    assert b"caf\xe9/Dockerfile:2:8: DF002 " in report.stdout
    assert b"caf\xe9/Dockerfile.bad:2:1: error: ENV must have two arguments\n" in report.stderr
    diff = run(module, "--diff", ".", cwd=tmp_path, env=c_env)
    assert b"--- a/caf\xe9/Dockerfile\n" in diff.stdout
    assert b"\n # \xe9\n-FROM a as b\n+FROM a AS b\n" in diff.stdout


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_colour_follows_the_terminal_and_no_color(
    env: dict[str, str], tree: Path, no_color: str | None, coloured: bool
) -> None:
    if no_color is not None:
        env = {**env, "NO_COLOR": no_color}
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(
            [*COMMANDS["module"], "--diff", "app"],
            cwd=tree,
            env=env,
            stdout=follower,
            stderr=subprocess.PIPE,
        )
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=60) == 1
        assert process.stderr is not None
        stderr = process.stderr.read()
        process.stderr.close()
    finally:
        os.close(leader)
    assert b"Traceback" not in output + stderr
    assert (b"\x1b[31m" in output) is coloured
    assert b"FROM python:3 as b" in output


def test_json_document(module: list[str], env: dict[str, str], tree: Path) -> None:
    (tree / "bad").mkdir()
    (tree / "bad/Dockerfile").write_bytes(b"FROM a\nENV A\n")
    result = run(module, "--format", "json", ".", cwd=tree, env=env)
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert set(document) >= {"files", "summary"}
    by_path = {entry["path"]: entry for entry in document["files"]}
    assert by_path["bad/Dockerfile"]["errors"] == [
        {"line": 2, "column": 1, "message": "ENV must have two arguments"}
    ]
    assert [f["code"] for f in by_path["app/Dockerfile"]["findings"]] == [
        "DF002",
        "DF003",
        "DF001",
        "DF004",
    ]
    assert by_path["app/Dockerfile"]["diff"].startswith("--- a/app/Dockerfile\n")
    assert document["summary"] == {"files": 4, "changed": 2, "findings": 8, "errors": 1}


SAMPLE = (
    b"from alpine:3 as base\n"
    b"RUN --mount=type=cache,target=/c \\\n"
    b"    apk add curl\n"
    b"COPY --chown=1:1 . /src\n"
    b"ENV A b c\n"
    b"RUN <<EOF cat > /x\n"
    b"hi\n"
    b"EOF\n"
    b'ENTRYPOINT ["/bin/sh", "-c"]\n'
)


def test_dump_equals_buildkit(module: list[str], env: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": SAMPLE, "bad": b"FROM a\nRUN <<EOF\necho\n"})
    result = run(module, "dump", "Dockerfile", "bad", "-", cwd=tmp_path, env=env, input=SAMPLE)
    assert result.returncode == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = oracle_records(SAMPLE.decode())
    assert records[0] == {"path": "Dockerfile", "instructions": expected}
    assert records[1] == {
        "path": "bad",
        "error": {"line": 2, "column": 1, "message": "unterminated heredoc"},
    }
    assert records[2] == {"path": "-", "instructions": expected}
    assert result.stderr == b""


@pytest.mark.parametrize(
    "args",
    [["--select", "nope", "."], ["--explain", "nope"], ["--bogus"], [], ["dump"]],
)
def test_usage_errors(
    module: list[str], env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    result = run(module, *args, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"Error:" in result.stderr


def test_list_rules_and_explain(module: list[str], env: dict[str, str], tmp_path: Path) -> None:
    listed = run(module, "--list-rules", cwd=tmp_path, env=env)
    assert listed.returncode == 0
    for code in (b"DF001", b"DF002", b"DF003", b"DF004"):
        assert code in listed.stdout
    explained = run(module, "--explain", "DF004", cwd=tmp_path, env=env)
    assert explained.returncode == 0
    assert b"DF004 add-local-source: ADD used where COPY does the job." in explained.stdout
