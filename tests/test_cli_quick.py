"""``dockfix.cli.main`` reads common command lines without click: it must do what click does.

For every command line below, the main command's work (``main_command.execute``) must be
called with the same arguments whether click read the command line (``CliRunner``) or
``main()`` did; command lines ``main()`` leaves to click must come back as None.  The
entry point must not import click for such a line, and an exception from the work must be
reported as click reports one from its commands.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dockfix import cli, commands, main_command

ROOT = Path(__file__).resolve().parents[1]

#: Command lines ``main()`` reads itself ({} stands for an existing Dockerfile).
QUICK = [
    ["--check", "{}"],
    ["{}"],
    ["{}", "--diff"],
    ["--write", "{}", "{}"],
    ["--unsafe-fixes", "--check", "{}", "missing/Dockerfile"],
    ["--ignore-noqa", "--isolated", "--exit-zero", "{}"],
    ["--write", "--exit-non-zero-on-fix", "{}"],
    ["--statistics", "{}"],
    ["--color", "{}"],
    ["--color", "--no-color", "{}"],
    ["--no-color", "--color", "--diff", "{}"],
    ["--check", "--check", "{}"],
    ["."],
    [""],
]
#: Command lines left to click: other options, commands, stdin, usage errors.
CLICK = [
    [],
    ["--check"],
    ["--check", "--diff", "{}"],
    ["-"],
    ["--", "{}"],
    ["--select", "DF001", "{}"],
    ["--select=DF001", "{}"],
    ["--format", "json", "{}"],
    ["-j", "1", "{}"],
    ["--stdin-filename", "x", "-"],
    ["--list-rules"],
    ["--explain", "DF001"],
    ["--version"],
    ["-h"],
    ["--help"],
    ["--chek", "{}"],
    ["run", "{}"],
    ["dump", "{}"],
    ["verify", "{}"],
    ["pr", "."],
]


def _argv(template: list[str], dockerfile: Path) -> list[str]:
    return [str(dockerfile) if arg == "{}" else arg for arg in template]


@pytest.fixture
def dockerfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3 as b\n")
    return path


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record what ``execute`` is called with (and stop there, as it would: it exits)."""
    calls: list[tuple[Any, ...]] = []

    def execute(paths: Any, mode: Any, **options: Any) -> None:
        calls.append((tuple(paths), mode, sorted(options.items())))
        raise SystemExit(0)

    monkeypatch.setattr(main_command, "execute", execute)
    monkeypatch.setattr(commands, "execute", execute)
    return calls


@pytest.mark.parametrize("template", QUICK, ids=" ".join)
def test_quick_command_lines_call_what_click_calls(
    template: list[str], dockerfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = _argv(template, dockerfile)
    calls = _calls(monkeypatch)
    CliRunner().invoke(commands.main, argv)
    assert len(calls) == 1, "click did not reach execute"
    assert cli.quick_parameters(argv) is not None
    monkeypatch.setattr(sys, "argv", ["dockfix", *argv])
    with pytest.raises(SystemExit):
        cli.main()
    assert calls[1] == calls[0]


@pytest.mark.parametrize("template", CLICK, ids=" ".join)
def test_other_command_lines_go_to_click(template: list[str], dockerfile: Path) -> None:
    assert cli.quick_parameters(_argv(template, dockerfile)) is None


def test_click_refusals_go_to_click(dockerfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_DOCKFIX_COMPLETE", "bash_source")  # a shell-completion request
    assert cli.quick_parameters([str(dockerfile)]) is None
    monkeypatch.delenv("_DOCKFIX_COMPLETE")
    dockerfile.chmod(0)
    if os.access(dockerfile, os.R_OK):
        pytest.skip("this user reads any file (root)")
    assert cli.quick_parameters([str(dockerfile)]) is None  # click.Path: "is not readable"


@pytest.mark.parametrize(
    ("error", "status", "stderr"),
    [(KeyboardInterrupt(), 1, "\nAborted!\n"), (BrokenPipeError(32, "Broken pipe"), 1, "")],
)
def test_errors_are_reported_as_click_reports_them(
    error: BaseException,
    status: int,
    stderr: str,
    dockerfile: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def execute(*_args: Any, **_options: Any) -> None:
        raise error

    monkeypatch.setattr(main_command, "execute", execute)
    monkeypatch.setattr(sys, "argv", ["dockfix", "--check", str(dockerfile)])
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # click wraps them on a broken pipe
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == status
    assert capsys.readouterr().err == stderr


def test_other_errors_propagate(dockerfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def execute(*_args: Any, **_options: Any) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(main_command, "execute", execute)
    monkeypatch.setattr(sys, "argv", ["dockfix", str(dockerfile)])
    with pytest.raises(ValueError, match="a bug"):
        cli.main()


def test_check_of_a_file_does_not_import_click(dockerfile: Path) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['dockfix', '--check', {str(dockerfile)!r}]\n"
        "try:\n"
        "    from dockfix.cli import main\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, sorted(m for m in sys.modules if m.split('.')[0] == 'click'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout == "1 []\n"
