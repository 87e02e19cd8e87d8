"""DF212 missing-dockerignore: ``COPY . .`` sends what ``.dockerignore`` should keep out.

What it does
    Where a ``COPY``/``ADD`` copies the whole build context (``COPY . .``,
    ``COPY . /app``, ``ADD ./ ./``) and the context is on disk, looks for what no image
    needs and that the context's ``.dockerignore`` (``<Dockerfile>.dockerignore`` first,
    as BuildKit does) does not exclude yet, and reports the exact lines to add:

    * ``.git`` (a folder, or the file of a worktree or submodule);
    * ``.env`` and ``.env.<name>`` files, each by its name; templates
      (``.env.example``, ``.env.sample``, ``.env.template``, ``.env.dist``) stay in,
      since a build may copy them and they hold no secrets;
    * virtualenvs: a top-level folder holding ``pyvenv.cfg`` (``.venv``, ``venv``,
      ``env``... only when it is one);
    * ``**/__pycache__`` and ``**/*.pyc`` (a ``.pyc`` outside ``__pycache__``);
    * ``node_modules`` (top level);
    * caches and reports: ``.pytest_cache``, ``.mypy_cache``, ``.ruff_cache``,
      ``.tox``, ``.nox``, ``.coverage`` (and ``.coverage.*``), ``htmlcov``;
    * local credentials: ``.aws``, ``.ssh``.

    Only what is on disk is listed, so a finding means something is really sent.
    ``Dockerfile*``, compose files and ``*.pem`` are not added: they are small, hold no
    secrets of their own (``*.pem`` may be a CA bundle the application reads), and
    builds and test suites do read them.

Why is this bad?
    Everything in the context goes to the builder and, through ``COPY . .``, into the
    image: ``.git`` (the whole history, and every cache miss when a commit changes it),
    ``.env`` secrets, a virtualenv built for the host's Python that shadows the image's
    packages, caches that bloat the layer and bust the build cache (practices.md row 14).

Example
    ``COPY . .`` with a ``.git`` folder and a ``.venv`` virtualenv in the context and no
    ``.dockerignore`` is reported with the lines ``.git`` and ``.venv`` to add.

Fix safety
    Report only, for now: the finding's note lists the exact lines to append under
    ``# added by dockfix (DF212)`` (an existing file keeps every line as it is).  Writing
    the ``.dockerignore`` needs a fix that edits a file other than the Dockerfile, which
    dockfix does not have yet; such a fix would be unsafe anyway, because the build no
    longer sees those files (``git describe`` or setuptools-scm in a ``RUN`` reads
    ``.git``; a build that ships a prebuilt ``node_modules`` needs it).

    Never proposed: an entry for a path the Dockerfile reads by name (any ``COPY``/
    ``ADD`` source of any stage, ``RUN --mount=type=bind,source=``), an entry already
    excluded, an entry that would cancel one of the user's ``!`` exceptions (appended
    lines win over earlier ones), and anything when the ``.dockerignore`` has a pattern
    dockfix cannot read.  Without a build context on disk (stdin) nothing is reported.

References
    practices.md row 14; Docker's "Build context" documentation (``.dockerignore``).
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.images.install_reads import IgnoreFile
from dockfix.model import BuildContext
from dockfix.rules._context_reads import ContextRead, context_reads, dockerignore_name, ignore_file
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext

#: Top-level names added when they exist (in this order).
_TOP_LEVEL = (
    ".git",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".coverage",
    "htmlcov",
    "node_modules",
    ".aws",
    ".ssh",
)
_ENV_TEMPLATES = frozenset(
    {".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"}
)
HEADER = "# added by dockfix (DF212)"


def _top_level(view: BuildContext) -> list[str]:
    """Top-level names of the context, dotfiles included (None-safe: empty if unknown)."""
    names = [*(view.glob("*") or ()), *(view.glob(".*") or ())]
    return sorted({name for name in names if "/" not in name and name not in (".", "..")})


def candidates(view: BuildContext) -> list[tuple[str, tuple[str, ...]]]:
    """``(pattern, paths on disk it excludes)`` for every junk entry present."""
    names = _top_level(view)
    found: list[tuple[str, tuple[str, ...]]] = []
    for name in _TOP_LEVEL:
        if view.exists(name):
            found.append((name, (name,)))
    for name in names:
        if name.startswith(".coverage.") and view.is_file(name):
            found.append((".coverage.*", tuple(n for n in names if n.startswith(".coverage."))))
            break
    for name in names:
        is_env = name == ".env" or name.startswith(".env.")
        if is_env and name not in _ENV_TEMPLATES and view.is_file(name):
            found.append((name, (name,)))
    for name in names:
        if name not in _TOP_LEVEL and view.is_file(f"{name}/pyvenv.cfg"):
            found.append((name, (name,)))
    files = view.files_under(".") or ()
    caches: dict[str, None] = {}
    for file in files:
        parts = file.split("/")
        if "__pycache__" in parts[:-1]:
            caches["/".join(parts[: parts.index("__pycache__") + 1])] = None
    if caches:
        found.append(("**/__pycache__", tuple(caches)))
    stray = tuple(f for f in files if f.endswith(".pyc") and "__pycache__" not in f.split("/")[:-1])
    if stray:
        found.append(("**/*.pyc", stray))
    return found


def _read_by_name(paths: tuple[str, ...], reads: list[ContextRead]) -> bool:
    """A COPY/ADD/bind source names one of ``paths`` or something inside it (a wildcard:
    may match one)."""
    for read in reads:
        source = read.path
        if source is None or read.whole_context:
            continue
        for path in paths:
            if read.has_wildcard:
                if fnmatch.fnmatchcase(path, source) or fnmatch.fnmatchcase(
                    posixpath.basename(path), posixpath.basename(source)
                ):
                    return True
            elif source == path or source.startswith(path + "/"):
                return True
    return False


def _cancels_exception(paths: tuple[str, ...], view: BuildContext, ignore: IgnoreFile) -> bool:
    """A user `!` line re-includes one of ``paths`` or a file inside it."""
    exceptions = [regex for keep, regex in ignore.rules if keep]
    if not exceptions:
        return False
    for path in paths:
        inside = view.files_under(path) if view.is_dir(path) else ()
        for name in (path, *(inside or ())):
            if any(regex.match(name) for regex in exceptions):
                return True
        if inside is None:
            return True  # too many files to check: never risk it
    return False


def missing_lines(view: BuildContext, ignore: IgnoreFile, reads: list[ContextRead]) -> list[str]:
    """The patterns to append, in a stable order."""
    lines = []
    for pattern, paths in candidates(view):
        if not paths or all(ignore.excluded(path) for path in paths):
            continue
        if _read_by_name(paths, reads) or _cancels_exception(paths, view, ignore):
            continue
        lines.append(pattern)
    return list(dict.fromkeys(lines))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    view = context.model.context
    if not view.present:
        return
    reads = list(context_reads(context.document))
    broad = next((read for read in reads if read.whole_context), None)
    if broad is None or broad.instruction.cmd == "RUN":
        broad = next((r for r in reads if r.whole_context and r.instruction.cmd != "RUN"), None)
    if broad is None:
        return
    name = context.path.name if context.path is not None else None
    ignore = ignore_file(view, name)
    if isinstance(ignore, str):
        return  # DF018 reports the pattern it cannot read
    lines = missing_lines(view, ignore, reads)
    if not lines:
        return
    where = dockerignore_name(view, name)
    exists = view.is_file(where)
    shown = ", ".join(f"`{line}`" for line in lines)
    action = f"append to {where}" if exists else f"create {where} with"
    yield rule.finding(
        f"`{broad.instruction.cmd} {broad.source}` sends {shown} to the build: "
        "keep them out with .dockerignore",
        broad.instruction,
        note=f"{action}: {HEADER} | " + " | ".join(lines),
    )


RULE = Rule(
    code="DF212",
    name="missing-dockerignore",
    summary="Keep `.git`, `.env`, virtualenvs and caches out of the build context",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"COPY", "ADD"}),
)
