"""DF212 (missing-dockerignore) writes a file other than the Dockerfile: the build
context's ``.dockerignore``.  The fixture harness only sees the Dockerfile, so the
companion edit is tested here through the CLI (``--diff``, ``--write``, ``--check``,
JSON) on contexts built in ``tmp_path``; ``.git`` and ``__pycache__`` cannot be
committed as fixtures either.  DF018 (copy-ignored-file) cases that need them are here
too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dockfix.cli import main
from dockfix.files import SourceFile
from dockfix.rules import lookup
from dockfix.rules.base import Settings
from dockfix.runner import FileReport, process_text

BROAD = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n'
HEADER = "# added by dockfix (DF212)"


@pytest.fixture(autouse=True)
def _isolated(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "NO_COLOR", "GIT_CONFIG_GLOBAL"):
        monkeypatch.delenv(name, raising=False)


def make(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def project(root: Path, dockerfile: str = BROAD, **extra: str | bytes) -> None:
    files: dict[str, str | bytes] = {
        "Dockerfile": dockerfile,
        "app.py": "print(1)\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        "pkg/__pycache__/mod.cpython-312.pyc": b"\x00",
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".env": "SECRET=x\n",
        ".env.example": "SECRET=change-me\n",
    }
    files.update({name.replace("__", "/").replace("DOT", "."): v for name, v in extra.items()})
    make(root, files)


def invoke(*args: str, input: bytes | None = None) -> Result:
    result = CliRunner().invoke(main, ["--select", "DF212,DF018", *args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert b"Traceback" not in result.output_bytes
    return result


def run(root: Path, text: str, *codes: str, unsafe: bool = True) -> FileReport:
    rules = tuple(rule for rule in map(lookup, codes or ("DF212", "DF018")) if rule)
    source = SourceFile(root / "Dockerfile", text, "utf-8", False, "\n", None)
    settings = Settings(unsafe_fixes=unsafe)
    return process_text(
        source, str(root / "Dockerfile"), rules, settings, apply=True, context_dir=root
    )


# -- the new file --------------------------------------------------------------------------


def test_diff_shows_a_new_dockerignore(tmp_path: Path) -> None:
    project(tmp_path)
    result = invoke("--diff", "--unsafe-fixes", "Dockerfile")
    assert result.exit_code == 1, result.output
    assert "--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1,5 @@\n" in result.output
    for line in (HEADER, ".git", ".env", ".venv", "**/__pycache__"):
        assert f"\n+{line}\n" in result.output
    assert ".env.example" not in result.output  # a template, no secret
    assert not (tmp_path / ".dockerignore").exists()


def test_write_creates_it_and_a_second_run_is_clean(tmp_path: Path) -> None:
    project(tmp_path)
    before = (tmp_path / "Dockerfile").read_bytes()
    result = invoke("--write", "--unsafe-fixes", "Dockerfile")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "Dockerfile").read_bytes() == before
    written = (tmp_path / ".dockerignore").read_text(encoding="utf-8")
    assert written == f"{HEADER}\n.git\n.env\n.venv\n**/__pycache__\n"
    assert invoke("--check", "--unsafe-fixes", "Dockerfile").exit_code == 0
    assert run(tmp_path, BROAD).findings == ()


def test_safe_run_leaves_it_alone(tmp_path: Path) -> None:
    project(tmp_path)
    result = invoke("--write", "Dockerfile")
    assert "DF212" in result.output  # reported, not fixed: the fix is unsafe
    assert not (tmp_path / ".dockerignore").exists()
    report = run(tmp_path, BROAD, unsafe=False)
    assert not report.companions and not report.changed
    assert [f.applicability.value for f in report.findings if f.applicability] == ["unsafe"]


def test_check_counts_the_companion_as_a_change(tmp_path: Path) -> None:
    project(tmp_path)
    result = invoke("--check", "--unsafe-fixes", "Dockerfile")
    assert result.exit_code == 1
    assert not (tmp_path / ".dockerignore").exists()


def test_json_lists_the_companion(tmp_path: Path) -> None:
    project(tmp_path)
    result = invoke("--diff", "--unsafe-fixes", "--format", "json", "Dockerfile")
    document = json.loads(result.output)
    (file,) = document["files"]
    assert file["changed"] is True and file["diff"] == "" and file["edits"] == []
    (companion,) = file["companions"]
    assert companion["path"] == ".dockerignore" and companion["created"] is True
    assert "+.git\n" in companion["diff"]
    (finding,) = [f for f in file["findings"] if f["code"] == "DF212"]
    assert finding["fixed"] is True


# -- an existing file ----------------------------------------------------------------------


def test_appends_keeping_crlf_and_every_user_line(tmp_path: Path) -> None:
    original = b"# mine\r\n.git\r\n\r\n*.log"  # no final line end
    project(tmp_path, DOTdockerignore=original)
    result = invoke("--write", "--unsafe-fixes", "Dockerfile")
    assert result.exit_code == 0, result.output
    data = (tmp_path / ".dockerignore").read_bytes()
    assert data.startswith(original + b"\r\n")
    assert (
        data
        == original + b"\r\n\r\n" + HEADER.encode() + b"\r\n.env\r\n.venv\r\n**/__pycache__\r\n"
    )


def test_user_exception_is_not_cancelled(tmp_path: Path) -> None:
    # `.venv` and the caches would be appended after `!` lines that keep parts of them in.
    ignore = "**/.venv/*\n!.venv/pyvenv.cfg\n!pkg/__pycache__/*.pyc\n"
    project(tmp_path, DOTdockerignore=ignore)
    report = run(tmp_path, BROAD)
    (companion,) = report.companions
    added = companion.new_text.removeprefix(ignore + "\n").splitlines()
    assert added == [HEADER, ".git", ".env"]


def test_not_utf8_is_reported_with_the_lines(tmp_path: Path) -> None:
    project(tmp_path, DOTdockerignore=b"caf\xe9\n")
    report = run(tmp_path, BROAD)
    assert not report.companions
    (finding,) = report.findings
    assert finding.applicability is None and "not UTF-8" in finding.note
    assert f"{HEADER} | .git | .env | .venv | **/__pycache__" in finding.note


def test_changed_since_read_is_not_overwritten(tmp_path: Path) -> None:
    from dockfix import runner

    project(tmp_path, DOTdockerignore="node_modules\n")
    report = run(tmp_path, BROAD)
    (tmp_path / ".dockerignore").write_text("changed\n", encoding="utf-8")
    errors = runner.write_companions(report.companions)
    assert errors and "changed since it was read" in errors[0].message
    assert (tmp_path / ".dockerignore").read_text(encoding="utf-8") == "changed\n"


def test_dockerfile_specific_ignore_file(tmp_path: Path) -> None:
    project(tmp_path, DOTdockerignore="*\n")
    make(tmp_path, {"Dockerfile.dockerignore": ".git\n"})
    report = run(tmp_path, BROAD)
    (companion,) = report.companions
    assert companion.path.endswith("/Dockerfile.dockerignore")
    assert companion.old_text == ".git\n"


# -- what is never added -------------------------------------------------------------------


def test_paths_the_dockerfile_reads_by_name(tmp_path: Path) -> None:
    text = (
        "FROM python:3.12-slim AS build\nCOPY .git/ /src/.git/\nRUN --mount=type=bind,"
        "source=.venv,target=/v true\n\nFROM python:3.12-slim\nWORKDIR /app\n"
        "COPY .env* ./\nCOPY . .\n"
    )
    project(tmp_path, text)
    (companion,) = run(tmp_path, text).companions
    assert companion.new_text == f"{HEADER}\n**/__pycache__\n"


def test_copy_of_dockerfile_is_never_ignored(tmp_path: Path) -> None:
    text = "FROM alpine\nWORKDIR /app\nCOPY Dockerfile /Dockerfile\nCOPY . .\n"
    project(tmp_path, text)
    (companion,) = run(tmp_path, text).companions
    assert "Dockerfile" not in companion.new_text


def test_sibling_dockerfile_that_reads_a_path(tmp_path: Path) -> None:
    project(tmp_path)
    make(tmp_path, {"Dockerfile.dev": "FROM python:3.12\nCOPY .venv /venv\nCOPY . .\n"})
    (companion,) = run(tmp_path, BROAD).companions
    assert ".venv" not in companion.new_text and ".git" in companion.new_text


@pytest.mark.parametrize(
    ("run_line", "extra"),
    [
        ("RUN git describe --tags > /app/VERSION\n", {}),
        ("RUN pip install --no-cache-dir .\n", {"pyproject.toml": "[tool.setuptools_scm]\n"}),
    ],
)
def test_git_is_kept_when_the_build_reads_it(
    tmp_path: Path, run_line: str, extra: dict[str, str]
) -> None:
    text = BROAD.replace("CMD", run_line + "CMD")
    project(tmp_path, text)
    make(tmp_path, dict(extra))
    (companion,) = run(tmp_path, text).companions
    assert ".git\n" not in companion.new_text and ".venv\n" in companion.new_text


def test_node_modules_only_when_the_build_installs_them(tmp_path: Path) -> None:
    shipped = 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nCMD ["node", "index.js"]\n'
    installed = shipped.replace("CMD", "RUN npm ci\nCMD")
    make(tmp_path, {"Dockerfile": shipped, "node_modules/a/index.js": "1\n"})
    assert run(tmp_path, shipped).findings == ()
    (companion,) = run(tmp_path, installed).companions
    assert companion.new_text == f"{HEADER}\nnode_modules\n"


def test_headers_relative_to_the_repository(tmp_path: Path) -> None:
    make(tmp_path, {".git/HEAD": "ref: refs/heads/main\n"})  # the repository root
    project(tmp_path / "svc")
    (tmp_path / "svc" / ".git" / "HEAD").unlink()
    (tmp_path / "svc" / ".git").rmdir()
    make(tmp_path / "svc", {"Dockerfile": BROAD.replace("COPY .", "ADD .")})
    result = CliRunner().invoke(
        main, ["--select", "DF004,DF212", "--unsafe-fixes", "--diff", "svc/Dockerfile"]
    )
    assert "--- a/svc/Dockerfile\n+++ b/svc/Dockerfile\n" in result.output
    assert "--- /dev/null\n+++ b/svc/.dockerignore\n" in result.output


def test_no_broad_copy_no_finding(tmp_path: Path) -> None:
    text = "FROM python:3.12-slim\nCOPY app.py /app/\n"
    project(tmp_path, text)
    assert run(tmp_path, text).findings == ()


def test_stdin_writes_nothing_beside_it(tmp_path: Path) -> None:
    project(tmp_path)
    result = invoke(
        "--write", "--unsafe-fixes", "--stdin-filename", "Dockerfile", "-", input=BROAD.encode()
    )
    assert result.stdout_bytes == BROAD.encode()
    assert not (tmp_path / ".dockerignore").exists()


# -- DF018 ---------------------------------------------------------------------------------


def test_copy_ignored_git_is_reported(tmp_path: Path) -> None:
    text = "FROM alpine\nCOPY .git /src/.git\n"
    project(tmp_path, text, DOTdockerignore=".git\n")
    report = run(tmp_path, text, "DF018")
    (finding,) = report.findings
    assert finding.code == "DF018" and "`.git`" in finding.message


def test_copy_dot_with_an_allowlist_is_not_reported(tmp_path: Path) -> None:
    project(tmp_path, DOTdockerignore="*\n!app.py\n")
    assert run(tmp_path, BROAD, "DF018").findings == ()


# -- `.git` the build reads (fixtures cannot hold a `.git` folder) --------------------------

PIP_INSTALL_DOT = (
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
    'RUN pip install --no-cache-dir .\nCMD ["python", "-m", "app"]\n'
)
SCM_PROJECTS = {
    "versioneer": {
        "setup.cfg": "[metadata]\nname = app\n\n[versioneer]\nVCS = git\nstyle = pep440\n",
        "setup.py": "import versioneer\nfrom setuptools import setup\n\n"
        "setup(version=versioneer.get_version(), cmdclass=versioneer.get_cmdclass())\n",
        "versioneer.py": "# versioneer\n",
    },
    "pdm-scm": {
        "pyproject.toml": '[build-system]\nrequires = ["pdm-backend"]\n'
        'build-backend = "pdm.backend"\n\n[project]\nname = "app"\ndynamic = ["version"]\n\n'
        '[tool.pdm.version]\nsource = "scm"\n',
    },
    "hatch-vcs": {
        "pyproject.toml": '[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n[project]\nname = "app"\n'
        'dynamic = ["version"]\n\n[tool.hatch.version]\nsource = "vcs"\n',
    },
    "setuptools-git-versioning": {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61", '
        '"setuptools-git-versioning>=2.0,<3"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "app"\ndynamic = ["version"]\n\n'
        "[tool.setuptools-git-versioning]\nenabled = true\n",
    },
}


def _added(report: FileReport) -> list[str]:
    (companion,) = report.companions
    return companion.new_text.splitlines()


@pytest.mark.parametrize("tool", sorted(SCM_PROJECTS))
def test_a_version_from_git_keeps_git_in_the_context(tmp_path: Path, tool: str) -> None:
    project(tmp_path, PIP_INSTALL_DOT, app__DOTinit__DOTpy="\n")
    make(tmp_path, SCM_PROJECTS[tool])
    added = _added(run(tmp_path, PIP_INSTALL_DOT, "DF212"))
    assert ".git" not in added
    assert ".env" in added  # the rest is still kept out


def test_a_plain_project_still_keeps_git_out(tmp_path: Path) -> None:
    project(tmp_path, PIP_INSTALL_DOT)
    make(tmp_path, {"pyproject.toml": '[project]\nname = "app"\nversion = "1.0"\n'})
    assert ".git" in _added(run(tmp_path, PIP_INSTALL_DOT, "DF212"))


def test_a_local_git_folder_added_by_name_is_kept(tmp_path: Path) -> None:
    # Not a remote repository: a source ends in `.git` but has no scheme and no `git@`.
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /src\nADD .git /src/.git\nCOPY . .\n"
        'RUN pip install --no-cache-dir .\nCMD ["python", "app.py"]\n'
    )
    project(tmp_path, dockerfile)
    added = _added(run(tmp_path, dockerfile, "DF212"))
    assert ".git" not in added
    assert ".env" in added
