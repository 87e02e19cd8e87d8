"""Finding Dockerfiles in trees, as a monorepo bot needs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from dockfix import discovery
from dockfix.discovery import SKIP_DIRS, Problem, discover, is_dockerfile_name

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep the user's global gitignore and hook variables out of the tests."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES"):
        monkeypatch.delenv(name, raising=False)


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM alpine\n")


def rel(root: Path, paths: Iterable[Path]) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def found(root: Path) -> list[str]:
    files, problems = discover([root])
    assert problems == []
    return rel(root, files)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def make_repo(root: Path, gitignore: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    (root / ".gitignore").write_text(gitignore)


MATCHING = [
    "Dockerfile",
    "dockerfile",
    "DOCKERFILE",
    "Dockerfile.dev",
    "Dockerfile.prod.arm64",
    "dockerfile.test",
    "app.Dockerfile",
    "api.dockerfile",
    "Containerfile",
    "containerfile",
    "Containerfile.ci",
    "Dockerfile-dev",
    "Dockerfile_prod",
    "dockerfile-test.arm64",
    "Containerfile-ci",
    "app.containerfile",
    "api.Containerfile",
]

NOT_MATCHING = [
    "Dockerfile.md",
    "Dockerfile.MD",
    "Dockerfile.txt",
    "Dockerfile.rst",
    "Dockerfile.orig",
    "Dockerfile.rej",
    "Dockerfile.bak",
    "Dockerfile.dev.bak",
    "Dockerfile.swp",
    "Dockerfile.j2",
    "Dockerfile.jinja",
    "Dockerfile.jinja2",
    "Dockerfile.tmpl",
    "Dockerfile.tpl",
    "Dockerfile.template",
    "Dockerfile.erb",
    "Dockerfile.mustache",
    "Dockerfile.hbs",
    "Dockerfile.dist",
    "Dockerfile.dockerignore",
    "Containerfile.in.j2",
    "app.Dockerfile.j2",
    "app.Dockerfile.dockerignore",
    ".dockerignore",
    ".dockerfile",
    "Dockerfile.",
    "Dockerfile~",
    "Dockerfiles",
    "mydockerfile",
    "Dockerfile-",
    "Dockerfile_",
    "Dockerfile-dev.md",
    "Dockerfile_prod.j2",
    ".containerfile",
    "docker-compose.yml",
    "README.md",
]


@pytest.mark.parametrize("name", MATCHING)
def test_dockerfile_names(name: str) -> None:
    assert is_dockerfile_name(name)


@pytest.mark.parametrize("name", NOT_MATCHING)
def test_other_names(name: str) -> None:
    assert not is_dockerfile_name(name)


def test_all_name_patterns_in_a_tree(tmp_path: Path) -> None:
    touch(tmp_path, *(f"svc/{name}" for name in MATCHING + NOT_MATCHING))
    assert found(tmp_path) == sorted(f"svc/{name}" for name in MATCHING)


def test_directory_named_like_a_dockerfile_is_searched_not_returned(tmp_path: Path) -> None:
    touch(tmp_path, "Dockerfile.d/Dockerfile")
    assert found(tmp_path) == ["Dockerfile.d/Dockerfile"]


@pytest.mark.parametrize("skipped", sorted(SKIP_DIRS))
def test_skipped_directories(tmp_path: Path, skipped: str) -> None:
    touch(tmp_path, "Dockerfile", f"{skipped}/Dockerfile", f"sub/{skipped}/deep/Dockerfile")
    assert found(tmp_path) == ["Dockerfile"]


def test_hidden_directories_are_searched(tmp_path: Path) -> None:
    touch(tmp_path, ".devcontainer/Dockerfile", ".github/actions/lint/Dockerfile")
    assert found(tmp_path) == [".devcontainer/Dockerfile", ".github/actions/lint/Dockerfile"]


def test_virtualenv_detected_by_pyvenv_cfg(tmp_path: Path) -> None:
    touch(tmp_path, "app/Dockerfile", "env-3.12/lib/pkg/Dockerfile", "env-3.12/Dockerfile")
    (tmp_path / "env-3.12" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert found(tmp_path) == ["app/Dockerfile"]


def test_explicit_folder_is_searched_even_if_skipped_by_name(tmp_path: Path) -> None:
    touch(tmp_path, "node_modules/pkg/Dockerfile", "venv/Dockerfile")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("")
    files, problems = discover([tmp_path / "node_modules", tmp_path / "venv"])
    assert problems == []
    assert rel(tmp_path, files) == ["node_modules/pkg/Dockerfile", "venv/Dockerfile"]


def test_explicit_file_with_any_name_is_included(tmp_path: Path) -> None:
    touch(tmp_path, "build.txt", "Dockerfile.j2", "node_modules/x")
    explicit = [tmp_path / "build.txt", tmp_path / "Dockerfile.j2", tmp_path / "node_modules/x"]
    files, problems = discover(explicit)
    assert problems == []
    assert files == sorted(explicit)


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    touch(tmp_path, "Dockerfile")
    missing = tmp_path / "nope"
    files, problems = discover([missing, tmp_path / "Dockerfile"])
    assert files == [tmp_path / "Dockerfile"]
    assert problems == [Problem(missing, "No such file or directory")]


def test_dangling_symlink_given_explicitly_is_a_problem(tmp_path: Path) -> None:
    link = tmp_path / "Dockerfile"
    link.symlink_to(tmp_path / "gone")
    assert discover([link]) == ([], [Problem(link, "No such file or directory")])


def test_dangling_symlink_inside_folder_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "gone")
    assert found(tmp_path) == []


def test_unreadable_folder_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "ok/Dockerfile", "locked/Dockerfile")
    locked = tmp_path / "locked"
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    # Tests run as root, which can read any folder, so simulate the denial.
    monkeypatch.setattr(discovery.os, "scandir", scandir)
    files, problems = discover([tmp_path])
    assert rel(tmp_path, files) == ["ok/Dockerfile"]
    assert problems == [Problem(locked, "Permission denied")]


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    touch(tmp_path, "a/Dockerfile")
    (tmp_path / "a" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a" / "self").symlink_to(".", target_is_directory=True)
    assert found(tmp_path) == ["a/Dockerfile"]


def test_directory_symlink_out_of_tree_is_not_followed(tmp_path: Path) -> None:
    touch(tmp_path, "outside/Dockerfile", "tree/Dockerfile")
    (tmp_path / "tree" / "ext").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert found(tmp_path / "tree") == ["Dockerfile"]


def test_file_symlink_is_found_once(tmp_path: Path) -> None:
    touch(tmp_path, "Dockerfile")
    (tmp_path / "Dockerfile.prod").symlink_to("Dockerfile")
    assert found(tmp_path) == ["Dockerfile"]


def test_order_is_sorted_deduplicated_and_stable(tmp_path: Path) -> None:
    names = ["b/Dockerfile", "a-b/Dockerfile", "a/z/Dockerfile", "a/Dockerfile.x", "Dockerfile"]
    touch(tmp_path, *names)
    expected = ["Dockerfile", "a/Dockerfile.x", "a/z/Dockerfile", "a-b/Dockerfile", "b/Dockerfile"]
    inputs = [tmp_path / "b", tmp_path, tmp_path / "a" / "Dockerfile.x", tmp_path / "a"]
    first = discover(inputs)
    again = discover(list(reversed(inputs)))
    assert rel(tmp_path, first[0]) == expected
    assert first == again


def test_relative_paths_stay_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "Dockerfile", "svc/Dockerfile")
    monkeypatch.chdir(tmp_path)
    files, problems = discover([Path("."), Path("./Dockerfile")])
    assert problems == []
    assert files == [Path("Dockerfile"), Path("svc/Dockerfile")]


def test_no_git_means_no_filtering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "Dockerfile", "build/Dockerfile")
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert found(tmp_path) == ["Dockerfile", "build/Dockerfile"]


@needs_git
def test_folder_outside_any_repo_is_not_filtered(tmp_path: Path) -> None:
    touch(tmp_path, "Dockerfile", "build/Dockerfile")
    (tmp_path / ".gitignore").write_text("build/\n")
    assert found(tmp_path) == ["Dockerfile", "build/Dockerfile"]


@needs_git
def test_git_ignored_files_are_skipped(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "build/\n*.generated.Dockerfile\n")
    touch(
        repo,
        "Dockerfile",
        "build/Dockerfile",
        "svc/build/Dockerfile",
        "svc/Dockerfile",
        "svc/x.generated.Dockerfile",
        "vendored/build/Dockerfile",
    )
    git(repo, "add", "-f", "vendored/build/Dockerfile")  # tracked files are never ignored
    assert found(repo) == ["Dockerfile", "svc/Dockerfile", "vendored/build/Dockerfile"]


@needs_git
def test_subfolder_of_repo_is_filtered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "build/\n")
    touch(repo, "svc/Dockerfile", "svc/build/Dockerfile")
    assert found(repo / "svc") == ["Dockerfile"]
    monkeypatch.chdir(repo / "svc")
    assert discover([Path(".")]) == ([Path("Dockerfile")], [])


@needs_git
def test_explicitly_given_ignored_folder_is_searched(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "build/\n")
    touch(repo, "build/Dockerfile", "build/sub/Dockerfile")
    files, problems = discover([repo / "build", repo / "build" / "sub"])
    assert problems == []
    assert rel(repo, files) == ["build/Dockerfile", "build/sub/Dockerfile"]


@needs_git
def test_nested_repository_uses_its_own_ignores(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    make_repo(outer, "out/\n")
    inner = outer / "inner"
    make_repo(inner, "gen/\n")
    touch(outer, "out/Dockerfile", "gen/Dockerfile", "inner/out/Dockerfile", "inner/gen/Dockerfile")
    assert found(outer) == ["gen/Dockerfile", "inner/out/Dockerfile"]


@needs_git
def test_one_check_ignore_call_per_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "build/\n")
    touch(
        repo, *(f"svc{i}/{name}" for i in range(20) for name in ("Dockerfile", "build/Dockerfile"))
    )
    calls: list[list[str]] = []
    real_run = subprocess.run

    def run(args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    files, problems = discover([repo / "svc1", repo / "svc2", repo])
    assert problems == []
    assert rel(repo, files) == sorted(f"svc{i}/Dockerfile" for i in range(20))
    assert sum("check-ignore" in call for call in calls) == 1


@needs_git
def test_hook_environment_does_not_confuse_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "build/\n")
    touch(repo, "Dockerfile", "build/Dockerfile")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere" / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "elsewhere" / "index"))
    assert found(repo) == ["Dockerfile"]


@needs_git
def test_odd_file_names_survive_check_ignore(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "build/\n")
    names = [":(exclude)x/Dockerfile", "*/Dockerfile", "sp ace/Dockerfile", "nl\nx/Dockerfile"]
    touch(repo, *names, "build/Dockerfile")
    assert found(repo) == sorted(names, key=lambda name: Path(name).parts)
