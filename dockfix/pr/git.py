"""The few git commands ``dockfix pr`` needs, each failing as ``GitError`` with git's words.

Plain ``git`` subprocesses (no library): what runs is exactly what a maintainer would
type, and the repository's own configuration (identity, hooks, signing) applies.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path


class GitError(Exception):
    """A git command failed or the repository is not in a state we can work in."""


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    """Run ``git -C root args`` and return its stdout; GitError with its stderr otherwise."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split()) or f"exit status {done.returncode}"
        raise GitError(f"`git {' '.join(args[:2])}` failed: {detail}")
    return done.stdout


def toplevel(folder: Path) -> Path:
    try:
        return Path(git(folder, "rev-parse", "--show-toplevel").strip()).resolve()
    except GitError:
        raise GitError(f"{folder} is not inside a git work tree") from None


def head(root: Path) -> str:
    try:
        return git(root, "rev-parse", "--verify", "HEAD").strip()
    except GitError:
        raise GitError("the repository has no commit yet") from None


def dirty_paths(root: Path) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files do not count)."""
    out = git(root, "status", "--porcelain", "--untracked-files=no", "-z")
    return [entry[3:] for entry in out.split("\0") if entry]


def tracked(root: Path, relative: Sequence[str]) -> set[str]:
    """Which of these repository-relative paths git tracks (one ``ls-files`` for all)."""
    if not relative:
        return set()
    out = git(root, "ls-files", "-z")
    return {entry for entry in out.split("\0") if entry} & set(relative)


def has_identity(root: Path) -> bool:
    try:
        git(root, "var", "GIT_COMMITTER_IDENT")
        git(root, "var", "GIT_AUTHOR_IDENT")
    except GitError:
        return False
    return True


def branch_exists(root: Path, name: str) -> bool:
    try:
        git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}")
    except GitError:
        return False
    return True


def valid_branch_name(root: Path, name: str) -> bool:
    try:
        git(root, "check-ref-format", "--branch", name)
    except GitError:
        return False
    return True


def create_branch(root: Path, name: str) -> None:
    git(root, "checkout", "-q", "-b", name)


def commit(root: Path, paths: Sequence[str], message: str) -> str:
    """Stage exactly ``paths`` and commit them; the new commit's hash."""
    git(root, "add", "--", *paths)
    git(root, "commit", "-q", "-F", "-", "--", *paths, stdin=message)
    return git(root, "rev-parse", "HEAD").strip()
