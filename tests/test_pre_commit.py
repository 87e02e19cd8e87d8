"""The pre-commit hooks (``.pre-commit-hooks.yaml``) run for real with ``pre-commit try-repo``.

pre-commit builds the hooks' virtualenv with ``pip install .`` of this project, so the
test needs PyPI (for the build backend and dependencies).  It is skipped with a message
where pre-commit is not installed, but never under ``CI=true``, where it must run.
The hooks are tried from a snapshot of this checkout's working files (try-repo alone
would leave out files not yet committed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockfix.discovery import is_dockerfile_name

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def _pre_commit() -> list[str]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("pre-commit is not installed; CI must run this test (pip install .[test])")
        pytest.skip("pre-commit is not installed (pip install pre-commit); hooks not tried")
    return [sys.executable, "-m", "pre_commit"]


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def _snapshot(target: Path) -> Path:
    """This checkout's working files, as the committed repository pre-commit installs from."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("dockfix", "grammar"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "snapshot")
    return target


def test_hook_file_patterns_match_discovery() -> None:
    names = [
        "Dockerfile",
        "dockerfile",
        "Dockerfile.dev",
        "Dockerfile-prod",
        "Dockerfile_x",
        "app.Dockerfile",
        "x.containerfile",
        "Containerfile",
        "Containerfile.j2",
        "Dockerfile.md",
        "README.md",
        "Dockerfiles",
        "Dockerfile.",
        "a/b/Dockerfile.dockerignore",
        "docker/Dockerfile.TXT",
        "src/mydockerfile",
        "Dockerfile.dev.bak",
        "a/Dockerfile.prod.tmpl",
    ]
    hooks = yaml.safe_load(HOOKS.read_text())
    assert [hook["id"] for hook in hooks] == ["dockfix", "dockfix-fix"]
    for hook in hooks:
        assert hook["language"] == "python"
        files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
        for name in names:
            matched = bool(files.search(name)) and not exclude.search(name)
            assert matched == is_dockerfile_name(name.rsplit("/", 1)[-1]), (hook["id"], name)


def test_try_repo_reports_then_fixes(tmp_path: Path) -> None:
    command = _pre_commit()
    hooks_repo = _snapshot(tmp_path / "dockfix-src")
    work = tmp_path / "work"
    (work / "services/api").mkdir(parents=True)
    (work / "services/api/Dockerfile").write_text("FROM debian:12\nMAINTAINER team\n")
    (work / "Dockerfile.md").write_text("# not a Dockerfile\nMAINTAINER x\n")
    (work / "README.md").write_text("hello\n")
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "initial")
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def try_repo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, "try-repo", str(hooks_repo), *args, "--all-files", "--color", "never"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    # Both hooks, one environment: the report fails, then the fix rewrites the file.
    first = try_repo()
    output = first.stdout + first.stderr
    if "Could not find a version" in output or "Failed to establish" in output:
        pytest.skip(f"pre-commit could not install the hook environment (no PyPI?): {output}")
    assert first.returncode == 1, output
    assert re.search(r"^dockfix\.+Failed$", first.stdout, re.M), output
    assert "services/api/Dockerfile:2:1: DF003" in first.stdout
    assert "Dockerfile.md" not in first.stdout
    assert re.search(r"^dockfix \(fix\)\.+Failed$", first.stdout, re.M), output
    assert "files were modified by this hook" in first.stdout
    fixed = (work / "services/api/Dockerfile").read_text()
    assert fixed == 'FROM debian:12\nLABEL org.opencontainers.image.authors="team"\n'
    assert (work / "Dockerfile.md").read_text() == "# not a Dockerfile\nMAINTAINER x\n"

    # Fixed: the report hook passes.
    second = try_repo("dockfix")
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"^dockfix\.+Passed$", second.stdout, re.M), second.stdout
