"""Find the Dockerfiles under the paths given on the command line.

A monorepo bot runs ``dockfix .`` at the root of a large checkout, so discovery has to find
every Dockerfile by its conventional names while staying out of places nobody wants rewritten:
VCS metadata, dependency and cache folders, virtualenvs, and whatever git ignores.

Rules:

* A path given explicitly as a file is always included, whatever its name (the user asked).
  A folder given explicitly is searched even if its own name would be skipped.
* Inside folders, a file is a Dockerfile if its name, compared case-insensitively, is
  ``Dockerfile``, ``Dockerfile.*``, ``Dockerfile-*``, ``Dockerfile_*``, ``*.Dockerfile``,
  ``Containerfile``, ``Containerfile.*`` (``-*``, ``_*``) or ``*.Containerfile``, or matches
  a configured ``include`` pattern; configured ``exclude`` patterns skip files and folders.
  Case-insensitive because Docker itself falls back to ``dockerfile`` and on macOS/Windows the
  spelling of the name is an accident of whoever created it.
* ``Dockerfile.*``/``Containerfile.*`` are skipped if their last extension marks documentation,
  a template, a backup or patch leftover, or BuildKit's per-Dockerfile ignore file
  (``Dockerfile.dockerignore``): see :data:`SKIP_SUFFIXES`. Those are not valid Dockerfiles.
* Folders in :data:`SKIP_DIRS` and virtualenvs (any folder containing ``pyvenv.cfg``) are
  skipped; directory symlinks are never followed (no loops, no escaping the tree).
* Inside a git work tree, files git ignores are skipped, asking ``git check-ignore`` once per
  repository. Nested repositories and submodules are asked separately. If git is missing or a
  folder is not in a work tree, nothing is filtered. If an explicitly given folder is itself
  ignored, its files are not filtered by that repository (again: the user asked).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.lazy_dataclass import dataclass

if TYPE_CHECKING:
    import subprocess

__all__ = ["SKIP_DIRS", "SKIP_SUFFIXES", "Problem", "discover", "is_dockerfile_name"]

#: Folder names never searched: VCS metadata, dependency trees, caches and usual venv names.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".venv",
        "venv",
    }
)

#: Last extensions that make a ``Dockerfile.*`` name not a Dockerfile (checked lowercased).
SKIP_SUFFIXES = frozenset(
    {
        # documentation
        ".md",
        ".rst",
        ".txt",
        # leftovers of patch, editors and manual backups
        ".orig",
        ".rej",
        ".bak",
        ".swp",
        # templates, rendered into a Dockerfile by some other tool
        ".j2",
        ".jinja",
        ".jinja2",
        ".tmpl",
        ".tpl",
        ".template",
        ".erb",
        ".mustache",
        ".hbs",
        ".dist",
        # BuildKit's ignore file for a specific Dockerfile: Dockerfile.dockerignore
        ".dockerignore",
    }
)

_BASE_NAMES = ("dockerfile", "containerfile")
_SUFFIX_NAMES = (".dockerfile", ".containerfile")
#: What may follow a base name: ``Dockerfile.dev``, ``Dockerfile-dev``, ``Dockerfile_dev``.
_VARIANT_SEPARATORS = (".", "-", "_")

#: Variables git sets for hooks that would point every ``git -C dir`` at the hook's repository.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


@dataclass(frozen=True)
class Problem:
    """A given path that could not be searched, reported to the user instead of raised."""

    path: Path
    message: str


@dataclass(frozen=True)
class _Candidate:
    """A Dockerfile found inside a folder, with what is needed to ask git about it."""

    path: Path
    #: Real path of the work tree the file belongs to, or None if not known to be in one.
    repo: str | None
    #: The file's path relative to ``repo``, as git wants it.
    rel: str
    #: Relative path of the explicitly given folder if it lies in the same repo, else None.
    given: str | None


def is_dockerfile_name(name: str) -> bool:
    """Whether a file called *name* found while searching a folder is a Dockerfile."""
    lower = name.lower()
    for base in _BASE_NAMES:
        if lower == base:
            return True
        for separator in _VARIANT_SEPARATORS:
            if lower.startswith(base + separator) and len(lower) > len(base) + 1:
                return os.path.splitext(lower)[1] not in SKIP_SUFFIXES
    return any(lower.endswith(s) and len(lower) > len(s) for s in _SUFFIX_NAMES)


#: A question about a path met while searching (``exclude`` or ``include`` configuration).
PathTest = Callable[[Path], bool]


def discover(
    paths: Sequence[Path],
    *,
    excluded: PathTest | None = None,
    included: PathTest | None = None,
) -> tuple[list[Path], list[Problem]]:
    """Return the Dockerfiles at or under *paths* and the problems met on the way.

    *excluded* skips files and folders met inside given folders (never the given paths
    themselves); *included* accepts more file names than the conventional ones.

    The files come sorted by path components and deduplicated by resolved path (the first in
    sorted order wins), so the same input always yields the same output. Problems never stop
    the search; they are returned in the order they were met.
    """
    files: list[Path] = []
    candidates: list[_Candidate] = []
    problems: list[Problem] = []
    for given in paths:
        try:
            is_dir = stat.S_ISDIR(os.stat(given).st_mode)
        except FileNotFoundError:
            problems.append(Problem(given, "No such file or directory"))
            continue
        except OSError as exc:
            problems.append(Problem(given, _reason(exc)))
            continue
        if is_dir:
            candidates.extend(_walk(given, problems, excluded, included))
        else:
            files.append(given)
    files.extend(_drop_git_ignored(candidates))
    return _sorted_unique(files), problems


def _walk(
    top: Path,
    problems: list[Problem],
    excluded: PathTest | None = None,
    included: PathTest | None = None,
) -> list[_Candidate]:
    """Search *top* depth-first without following directory symlinks."""
    real_top = os.path.realpath(top)
    found: list[_Candidate] = []
    top_repo: str | None = None
    top_rel: str | None = None
    stack: list[tuple[Path, str, str | None, bool]] = [(top, real_top, None, True)]
    while stack:
        folder, real_folder, repo, is_top = stack.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            problems.append(Problem(folder, _reason(exc)))
            continue
        names = {entry.name for entry in entries}
        if "pyvenv.cfg" in names and not is_top:
            continue
        if ".git" in names:
            repo = real_folder
        elif is_top:
            repo = _git_toplevel(top)
        if is_top and repo is not None:
            top_repo, top_rel = repo, _relative(real_top, repo)
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    child = folder / entry.name
                    if entry.name not in SKIP_DIRS and not (excluded and excluded(child)):
                        real_child = os.path.join(real_folder, entry.name)
                        stack.append((folder / entry.name, real_child, repo, False))
                elif _wanted(folder / entry.name, excluded, included) and entry.is_file():
                    real_file = os.path.join(real_folder, entry.name)
                    rel = _relative(real_file, repo) if repo is not None else ""
                    given = top_rel if repo is not None and repo == top_repo else None
                    found.append(_Candidate(folder / entry.name, repo, rel, given))
            except OSError:
                continue  # vanished or unreadable entry: nothing to format there
    return found


def _wanted(path: Path, excluded: PathTest | None, included: PathTest | None) -> bool:
    """A Dockerfile by name (or by ``include``) and not excluded."""
    named = is_dockerfile_name(path.name) or (included is not None and included(path))
    return named and not (excluded is not None and excluded(path))


def _drop_git_ignored(candidates: list[_Candidate]) -> list[Path]:
    """Keep the candidates git does not ignore, with one ``check-ignore`` call per repo."""
    by_repo: dict[str, set[str]] = {}
    for candidate in candidates:
        if candidate.repo is not None:
            asked = by_repo.setdefault(candidate.repo, set())
            asked.add(candidate.rel)
            if candidate.given is not None:
                asked.add(candidate.given)
    ignored = {repo: _git_ignored(repo, sorted(rels)) for repo, rels in by_repo.items()}
    kept: list[Path] = []
    for candidate in candidates:
        if candidate.repo is not None:
            repo_ignored = ignored[candidate.repo]
            given_ignored = candidate.given is not None and candidate.given in repo_ignored
            if candidate.rel in repo_ignored and not given_ignored:
                continue
        kept.append(candidate.path)
    return kept


def _git_toplevel(folder: Path) -> str | None:
    """Real path of the work tree containing *folder*, or None (not a repo, or no git)."""
    result = _run_git(["rev-parse", "--show-toplevel"], folder)
    if result is None or result.returncode != 0:
        return None
    top = os.fsdecode(result.stdout.rstrip(b"\r\n"))
    return os.path.realpath(top) if top else None


def _git_ignored(repo: str, rels: Iterable[str]) -> set[str]:
    """The subset of *rels* (paths relative to *repo*) that git ignores; empty on any error."""
    # The "./" prefix keeps a name like ":(exclude)x" from being read as pathspec magic, which
    # check-ignore rejects (it does not support --literal-pathspecs either); git echoes it back.
    data = b"".join(b"./" + os.fsencode(rel) + b"\0" for rel in rels)
    if not data:
        return set()
    result = _run_git(["check-ignore", "--stdin", "-z"], repo, data)
    # Exit status 1 means "nothing ignored"; 128 means git could not answer at all.
    if result is None or result.returncode not in (0, 1):
        return set()
    return {os.fsdecode(item[2:]) for item in result.stdout.split(b"\0") if item}


def _run_git(
    args: list[str], cwd: Path | str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes] | None:
    import subprocess  # here: a run given only files never starts git (~13 M instructions)

    env = {key: value for key, value in os.environ.items() if key not in _GIT_LOCATION_VARS}
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin or b"",  # never let git wait on the user's terminal
            capture_output=True,
            env=env,
            check=False,
        )
    except OSError:  # git not installed, or cwd vanished
        return None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _relative(real_path: str, repo: str) -> str:
    return Path(os.path.relpath(real_path, repo)).as_posix()


def _sorted_unique(files: list[Path]) -> list[Path]:
    seen: set[str] = set()
    unique: list[Path] = []
    for path in sorted(files, key=lambda path: path.parts):
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique
