"""Defects a new user met (issue 9, item 8), pinned so they stay fixed.

The README's API example must work as written, ``add_flag`` must refuse flags BuildKit
would reject, the README's rule table must be the registry's, ``--help`` must name the
command as it is typed and list the other commands, ``--explain`` must be plain text,
notes must not carry raw Python errors, and paths with no Dockerfile must not pass.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result

import dockfix
from dockfix.cli import main
from dockfix.files import describe_os_error
from dockfix.rules import ALL_RULES
from dockfix.rules.catalog import markdown_table, plain_text, practices
from dockfix.syntax.validate import validate

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), prog_name="dockfix")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dockfix", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


# --- add_flag and the README's API example ---------------------------------------------------

TEXT = "FROM python:3.12-slim\nMAINTAINER me\nRUN pip install flask\nCOPY . /app\n"


def test_readme_api_example_runs_and_its_result_builds() -> None:
    block = re.search(r"## Python API\n\n```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert block is not None
    namespace: dict[str, object] = {"text": TEXT}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    tree = namespace["tree"]
    assert isinstance(tree, dockfix.Dockerfile)
    out = tree.to_string()
    assert "RUN --mount=type=cache,target=/root/.cache/pip pip install flask\n" in out
    assert validate(dockfix.parse(out)) == []


@pytest.mark.parametrize(
    ("index", "flag", "message"),
    [
        (1, "--mount=type=cache,target=/x", "MAINTAINER does not take --mount (MAINTAINER takes"),
        (2, "--chown=app", "RUN does not take --chown (RUN takes --mount, --network, --security)"),
        (3, "--checksum=sha256:abc", "COPY does not take --checksum"),
        (0, "--mount=type=cache,target=/x", "FROM does not take --mount (FROM takes --platform)"),
        (2, "mount=type=cache", "not a flag: 'mount=type=cache'"),
        (2, "--mount=a b", "not a flag"),
    ],
)
def test_add_flag_refuses_flags_the_instruction_does_not_take(
    index: int, flag: str, message: str
) -> None:
    tree = dockfix.parse(TEXT)
    with pytest.raises(ValueError, match=re.escape(message)):
        tree.add_flag(tree.instructions[index], flag)


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("FROM a\nRUN x\n", "--network=none"),
        ("FROM a\nCOPY --chown=1 a b\n", "--link"),
        ("FROM a\nADD a b\n", "--checksum=sha256:abc"),
        ("FROM a\nHEALTHCHECK CMD x\n", "--interval=5s"),
        ("FROM a\nONBUILD RUN x\n", "--mount=type=cache,target=/x"),
    ],
)
def test_add_flag_accepts_flags_buildkit_accepts(text: str, flag: str) -> None:
    tree = dockfix.parse(text)
    new = tree.add_flag(tree.instructions[1], flag)
    assert validate(dockfix.parse(tree.replace(tree.instructions[1], new).to_string())) == []


# --- one truth for the rule table -------------------------------------------------------------


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_rule_table", ROOT / "scripts/gen_rule_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_rule_table_is_the_generated_one() -> None:
    script = _script()
    assert script.readme_table(README.read_text(encoding="utf-8")) == markdown_table(ALL_RULES), (
        "README.md's rule table is stale: run python scripts/gen_rule_table.py"
    )
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_rule_table.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (check.returncode, check.stderr) == (0, "")


def test_list_rules_and_readme_agree_on_fix_kinds() -> None:
    listed = {
        line.split()[0]: line.split()[2] for line in invoke("--list-rules").stdout.splitlines()[1:]
    }
    in_readme = dict(
        re.findall(r"^\| (DF\d+) \| [a-z-]+ +\| ([a-z/-]+) ", README.read_text(), re.M)
    )
    assert listed == in_readme
    assert (listed["DF101"], listed["DF204"]) == ("safe/unsafe", "safe/unsafe")


def test_practices_reference_is_shipped_and_every_cited_row_exists() -> None:
    doc = (ROOT / "docs/practices.md").read_text(encoding="utf-8")
    assert "https://testdriven.io/blog/docker-best-practices/" in doc
    rows = {int(number) for number in re.findall(r"^\| (\d+) \|", doc, re.M)}
    cited = {number for rule in ALL_RULES for number in practices(rule)}
    assert cited and cited <= rows
    assert "docs/practices.md" in README.read_text()


# --- --explain and --help ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_explain_is_plain_text(rule: dockfix.rules.Rule) -> None:  # type: ignore[name-defined]
    result = invoke("--explain", rule.code)
    assert result.exit_code == 0
    text = result.stdout
    fix = f"{rule.fix_label} fix" if rule.kinds else "no fix"
    assert result.stdout.startswith(f"{rule.code} {rule.name} ({fix})\n")
    assert "``" not in text
    assert not re.search(r"::$", text, re.M)
    assert not re.search(r":[a-z]+:`", text)
    assert "`_" not in text
    if practices(rule):
        assert "docs/practices.md" in text


def test_plain_text_conversion() -> None:
    rst = (
        "Adds ``--no-cache`` (see :func:`x`, `BuildKit <https://docs.docker.com>`_)::\n\n"
        "    RUN x\n\nA *note* and **more**; practices.md row 4.\n\n::\n\n    y\n"
    )
    assert plain_text(rst) == (
        "Adds --no-cache (see x, BuildKit (https://docs.docker.com)):\n\n    RUN x\n\n"
        "A note and more; docs/practices.md row 4.\n\n    y\n"
    )


def test_help_names_the_command_as_typed_and_lists_the_others(tmp_path: Path) -> None:
    for args in (["--help"], ["-h"]):
        result = invoke(*args)
        assert result.exit_code == 0
        assert result.stdout.startswith("Usage: dockfix [OPTIONS] [PATHS]...\n")
        assert "dockfix run" not in result.stdout
        assert re.search(r"^  dump \.\.\. ", result.stdout, re.M)
        assert re.search(r"^  verify \.\.\. ", result.stdout, re.M)
        for option in ("--config", "--isolated", "--fail-on", "--exit-zero", "--statistics"):
            assert option in result.stdout
    bad = invoke("--bogus")
    assert bad.exit_code == 2
    assert "Try 'dockfix --help' for help." in bad.stderr
    module = run("--help", cwd=tmp_path)
    assert module.stdout.startswith("Usage: python -m dockfix [OPTIONS] [PATHS]...\n")
    assert "verify" in module.stdout and "dump" in module.stdout
    script = Path(sys.executable).with_name("dockfix")
    if script.exists():
        process = subprocess.run([str(script), "--help"], capture_output=True, text=True)
        assert process.stdout.startswith("Usage: dockfix [OPTIONS] [PATHS]...\n")


# --- notes, names, no match ------------------------------------------------------------------


def test_notes_never_carry_raw_python_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "x.js"]\n'
    )
    for package_json in (None, "{", "[]"):
        if package_json is not None:
            (tmp_path / "package.json").write_text(package_json)
        result = invoke("--isolated", "--select", "DF101", ".")
        assert "(not fixed: " in result.stdout
        assert not re.search(r"Errno|Error\b|\[\w+ \d+\]|line \d+ column \d+", result.stdout)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (FileNotFoundError(2, "No such file or directory"), "file not found: x/y"),
        (PermissionError(13, "Permission denied"), "permission denied: x/y"),
        (IsADirectoryError(21, "Is a directory"), "a folder, not a file: x/y"),
        (OSError(5, "Input/output error"), "cannot read x/y: input/output error"),
    ],
)
def test_describe_os_error(error: OSError, message: str) -> None:
    assert describe_os_error(error, "x/y") == message


def test_more_dockerfile_names_are_found(tmp_path: Path) -> None:
    names = ["Dockerfile-dev", "Dockerfile_prod", "app.containerfile", "Containerfile-ci"]
    for name in [*names, "Dockerfile-dev.md", "notes.txt"]:
        (tmp_path / "svc" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "svc" / name).write_text("FROM a as b\n")
    result = run("--isolated", "--select", "DF002", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == sorted(
        f"svc/{name}" for name in names
    )


def test_paths_without_dockerfiles_warn_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/README.md").write_text("# hi\n")
    for mode in ([], ["--check"], ["--write"], ["--diff"]):
        result = run("--isolated", *mode, "docs", cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == "warning: no Dockerfiles found in docs\n"
    excluded = tmp_path / "vendor"
    (excluded / "x").mkdir(parents=True)
    (excluded / "x/Dockerfile").write_text("FROM a\n")
    (excluded / ".dockfix.toml").write_text('exclude = ["x"]\n')
    result = run("vendor", cwd=tmp_path)
    assert result.returncode == 2
    assert "warning: no Dockerfiles found in vendor" in result.stderr
