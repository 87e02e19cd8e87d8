"""DF212 missing-dockerignore: ``COPY . .`` sends what ``.dockerignore`` should keep out.

What it does
    Where a ``COPY``/``ADD`` copies the whole build context (``COPY . .``,
    ``COPY . /app``, ``ADD ./ ./``) and the context is on disk, looks for what no image
    needs and that the context's ``.dockerignore`` (``<Dockerfile>.dockerignore`` first,
    as BuildKit does) does not exclude yet, and reports the exact lines to add:

    * ``.git`` (a folder, or the file of a worktree or submodule), unless a ``RUN``
      runs ``git`` or the project takes its version from git (setuptools-scm,
      hatch-vcs or hatch's ``source = "vcs"``, pdm-backend's ``source = "scm"``,
      versioneer (or a ``versioneer.py``), setuptools-git-versioning,
      poetry-dynamic-versioning, versioningit, pbr... in ``pyproject.toml``,
      ``setup.cfg``, ``setup.py`` or ``hatch.toml``);
    * ``.env`` and ``.env.<name>`` files, each by its name; templates
      (``.env.example``, ``.env.sample``, ``.env.template``, ``.env.dist``) stay in,
      since a build may copy them and they hold no secrets;
    * virtualenvs: a top-level folder holding ``pyvenv.cfg`` (``.venv``, ``venv``,
      ``env``... only when it is one);
    * ``**/__pycache__`` and ``**/*.pyc`` (a ``.pyc`` outside ``__pycache__``; not
      ``*.pyc`` when one of them has no ``.py`` beside it: a module shipped as bytecode
      only, which ``import`` loads from there);
    * ``node_modules`` (top level), only when each stage that copies the whole context
      installs node packages (``npm ci``, ``npm install`` naming no package, ``yarn``
      or ``yarn install``, ``pnpm install``, ``bun install``, or a ``COPY --from`` of a
      ``node_modules``) before its first ``RUN`` after the copy that runs node tooling
      (``npm run build``, ``npx tsc``): else the build or the application runs on the
      host's;
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
    Unsafe, always: ``--unsafe-fixes --write`` creates the ``.dockerignore`` or appends
    to it, after a blank line, under ``# added by dockfix (DF212)``, one entry a line,
    in the file's own line endings; no line of the user's is removed, changed or moved
    (``--diff`` shows it as a second file, ``--- /dev/null`` for a new one).  The build
    no longer sees those files, and nothing can prove that nothing reads them: a
    ``RUN git describe`` or setuptools-scm reads ``.git``, an application may load
    ``.env`` at run time (python-dotenv), a build step after ``COPY . .`` may load
    ``.env.production`` (``npm run build`` with Next.js or Vite), a build may ship a
    prebuilt ``node_modules``; the unsafe reason says so.
    The file is written only while it still reads as the rule saw it.  An existing file
    that is not UTF-8 or has CR-only line endings is reported with the lines to add.

    Never proposed: an entry for a path the Dockerfile reads by name (any ``COPY``/
    ``ADD`` source of any stage, ``RUN --mount=type=bind,source=``; an ``ADD`` source
    is remote only with a URL scheme or ``git@``, so ``ADD .git /src/.git`` reads the
    context's ``.git``; variables (``$VAR``) are resolved with the ARG/ENV values in
    effect there, and one that cannot be resolved may match any name), no ``.env`` entry
    at all when a source with a variable may name one of them (``COPY ${ENV_FILE}
    ./.env``: a ``--build-arg`` may choose another), an entry already excluded, an entry
    that would cancel one of the user's ``!`` exceptions (appended lines win over earlier
    ones), and anything when the ``.dockerignore`` has a pattern
    dockfix cannot read.  A ``.dockerignore`` shared with other Dockerfiles of the
    context's folder (``Dockerfile.dev``, ``*.Dockerfile``...) gets no entry whose name
    appears in one of them.  Without a build context on disk (stdin) nothing is
    reported; with one (``--stdin-filename``) the finding is reported and the fix is
    not written, since input from stdin only ever writes stdout.

References
    practices.md row 14; Docker's "Build context" documentation (``.dockerignore``).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import posixpath
from collections.abc import Callable, Iterator, Sequence

from dockfix import lazy_re
from dockfix.edits import CompanionEdit, FixAvailability
from dockfix.files import dominant_newline
from dockfix.images.install_reads import IgnoreFile
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, FileModel
from dockfix.model.preconditions import Precondition
from dockfix.rules._context_reads import ContextRead, context_reads, dockerignore_name, ignore_file
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Finding, Fix, Rule, RuleContext
from dockfix.shell import iter_simple_commands
from dockfix.syntax import Instruction

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


@dataclass(frozen=True)
class _Listing:
    """What ``candidates`` reads from the context's listing (None: the walk was cut short,
    each name is then looked up on disk)."""

    #: Top-level ``.coverage.*`` names, sorted.
    coverage: tuple[str, ...]
    #: Top-level ``.env`` and ``.env.<name>`` names but templates, sorted.
    envs: tuple[str, ...]
    #: Top-level folders holding ``pyvenv.cfg`` (not in ``_TOP_LEVEL``).
    venvs: tuple[str, ...] | None
    #: ``__pycache__`` folders, in listing order.
    caches: tuple[str, ...] = ()
    #: ``.pyc`` files outside ``__pycache__``.
    stray: tuple[str, ...] = ()
    #: One of ``stray`` has no ``.py`` beside it: a module shipped as bytecode only.
    sourceless: bool = False


def _of_names(names: Sequence[str], listed: tuple[str, ...] | None) -> _Listing:
    """The facts of the sorted top-level ``names`` and the walk's ``listed`` files."""
    coverage = tuple(n for n in names if n.startswith(".coverage."))
    envs = tuple(
        n for n in names if (n == ".env" or n.startswith(".env.")) and n not in _ENV_TEMPLATES
    )
    if listed is None:
        return _Listing(coverage, envs, None)
    known = set(listed)
    venvs = tuple(n for n in names if n not in _TOP_LEVEL and f"{n}/pyvenv.cfg" in known)
    caches: dict[str, None] = {}
    for file in listed:
        parts = file.split("/")
        if "__pycache__" in parts[:-1]:
            caches["/".join(parts[: parts.index("__pycache__") + 1])] = None
    stray = tuple(
        f for f in listed if f.endswith(".pyc") and "__pycache__" not in f.split("/")[:-1]
    )
    sourceless = any(f[:-1] not in known for f in stray)
    return _Listing(coverage, envs, venvs, tuple(caches), stray, sourceless)


@functools.lru_cache(maxsize=4)
def _listing(listed: tuple[str, ...]) -> _Listing:
    """The listing's facts, once per listing: every Dockerfile of a folder of many shares
    its context's (the same tuple, see ``BuildContext.files_under``)."""
    return _of_names(sorted({f.split("/", 1)[0] for f in listed}), listed)


def candidates(view: BuildContext) -> list[tuple[str, tuple[str, ...]]]:
    """``(pattern, paths on disk it excludes)`` for every junk entry present."""
    listed = view.files_under(".")
    # Top-level names from the walk's listing (one pass); a glob only when it was cut short.
    names = _top_level(view) if listed is None else []
    facts = _of_names(names, None) if listed is None else _listing(listed)
    found: list[tuple[str, tuple[str, ...]]] = []
    for name in _TOP_LEVEL:
        if view.exists(name):
            found.append((name, (name,)))
    for name in facts.coverage:
        if view.is_file(name):
            found.append((".coverage.*", facts.coverage))
            break
    for name in facts.envs:
        if view.is_file(name):
            found.append((name, (name,)))
    if facts.venvs is not None:
        # The walk already listed every file; stat each name only when it was cut short.
        found.extend((name, (name,)) for name in facts.venvs)
    else:
        for name in names:
            if name not in _TOP_LEVEL and view.is_file(f"{name}/pyvenv.cfg"):
                found.append((name, (name,)))
    if facts.caches:
        found.append(("**/__pycache__", facts.caches))
    if facts.stray and not facts.sourceless:
        found.append(("**/*.pyc", facts.stray))
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


def _sibling_texts(view: BuildContext, own: str | None) -> list[str]:
    """The text of the other Dockerfiles in the context's top folder: they share its
    ``.dockerignore``."""
    texts = []
    for name in _top_level(view):
        lowered = name.lower()
        if name == own or lowered.endswith(".dockerignore"):
            continue
        if lowered.startswith(("dockerfile", "containerfile")) or lowered.endswith(".dockerfile"):
            text = view.read_text(name)
            if text is not None:
                texts.append(text)
    return texts


_GIT_WORD = lazy_re.compile(r"(?<![\w.-])git(?![\w.-])")
#: A RUN that runs node tooling (and may read ``node_modules``).
_NODE_USE = lazy_re.compile(r"(?<![\w.-])(npm|yarn|pnpm|npx|bun|node)(?![\w.-])")
#: Build backends and plugins that read the version from ``.git`` (``source = "scm"``:
#: pdm-backend's ``[tool.pdm.version]``; ``source = "vcs"``: hatch's ``[tool.hatch.version]``).
_VCS_VERSIONING = lazy_re.compile(
    r"setuptools[_-]scm|use_scm_version|hatch-vcs|versioningit|dynamic-versioning|dunamai"
    r"|\bpbr\b|versioneer|setuptools[_-]git[_-]versioning|git[_-]versioning"
    r"|\bsource\s*=\s*[\"'](?:scm|vcs)[\"']"
)
_MANIFESTS = ("pyproject.toml", "setup.cfg", "setup.py", "hatch.toml")
#: Sub-commands that install a project's node packages (npm: with no package named).
_NPM_INSTALLS = frozenset({"ci", "clean-install", "install-clean", "ic", "install", "i", "isntall"})


def _installs_node_packages(instruction: Instruction) -> bool:
    """A shell-form RUN that installs the project's node packages: ``npm ci``, ``npm
    install`` (no package named, not ``-g``), ``yarn install`` or bare ``yarn``, ``pnpm
    install``, ``bun install``."""
    shell = run_shell(instruction)
    if not isinstance(shell, RunShell):
        return False
    for command in iter_simple_commands(shell.script):
        if not command.words:
            continue
        tool = posixpath.basename(command.words[0].value)
        args = [word.value for word in command.words[1:]]
        positional = [arg for arg in args if not arg.startswith("-")]
        first = positional[:1]
        if tool == "npm":
            project = len(positional) == 1 and not {"-g", "--global"}.intersection(args)
            if project and positional[0] in _NPM_INSTALLS:
                return True
        elif tool == "yarn":
            if first in ([], ["install"]):
                return True
        elif tool in ("pnpm", "bun") and first in (["install"], ["i"]):
            return True
    return False


def _copies_node_modules(instruction: Instruction) -> bool:
    """``COPY --from=deps /app/node_modules ./node_modules``."""
    if instruction.cmd not in ("COPY", "ADD") or instruction.flag("from") is None:
        return False
    return any(s.rstrip("/").endswith("node_modules") for s in instruction.value[:-1])


def _host_node_modules_used(model: FileModel, use: Instruction) -> bool:
    """The stage of ``use`` (a whole-context COPY/ADD or bind mount) may run on the host's
    ``node_modules``: no RUN of the stage installs node packages (nor a ``COPY --from``
    brings ``node_modules``) before the first RUN after ``use`` that runs node tooling,
    or at all (the application then runs on the host's)."""
    facts = model.stage_of(use)
    if facts is None:
        return True
    after = False
    for instruction in facts.stage.instructions:
        if instruction is use:
            after = True
        if _copies_node_modules(instruction) and not after:
            return False
        if instruction.cmd != "RUN":
            continue
        if _installs_node_packages(instruction):
            return False
        if after and _NODE_USE.search(instruction.text):
            return True  # a build step before any install: it reads the host's
    return True


def read_by_the_build(
    model: FileModel, view: BuildContext, uses: Sequence[Instruction]
) -> set[str]:
    """Candidates the build itself is known to need: ``.git`` when a ``RUN`` runs ``git``
    or the project takes its version from git (setuptools-scm, hatch-vcs, versioneer,
    pdm's ``source = "scm"``...), and ``node_modules`` when a stage that copies the whole
    context (``uses``) does not install node packages before it runs node tooling."""
    runs = " ".join(i.text for i in model.document.instructions if i.cmd == "RUN")
    needed = set()
    manifests = (view.read_text(n) or "" for n in _MANIFESTS)
    if (
        _GIT_WORD.search(runs)
        or view.is_file("versioneer.py")
        or any(_VCS_VERSIONING.search(text) for text in manifests)
    ):
        needed.add(".git")
    if any(_host_node_modules_used(model, use) for use in uses):
        needed.add("node_modules")
    return needed


def _is_env(name: str) -> bool:
    return name == ".env" or name.startswith(".env.")


def _env_chosen_by_variable(
    found: list[tuple[str, tuple[str, ...]]], reads: list[ContextRead]
) -> bool:
    """A source with a variable (``COPY ${ENV_FILE} ./.env``) may name one of the ``.env``
    files: a ``--build-arg`` can choose another, so none of them is excluded."""
    variable = [read for read in reads if "$" in read.source]
    if not variable:
        return False
    return any(_is_env(pattern) and _read_by_name(paths, variable) for pattern, paths in found)


def missing_lines(
    view: BuildContext,
    ignore: IgnoreFile,
    reads: list[ContextRead],
    siblings: tuple[str, ...] | Callable[[], tuple[str, ...]] = (),
    needed: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """The patterns to append, in a stable order.  ``siblings`` may be a function: the
    other Dockerfiles are read only once a candidate needs checking against them (a
    folder of many Dockerfiles would otherwise be read for every file)."""
    lines = []
    sibling_texts: tuple[str, ...] | None = None if callable(siblings) else siblings
    found = candidates(view)
    keep_envs = _env_chosen_by_variable(found, reads)
    for pattern, paths in found:
        if pattern in needed or (keep_envs and _is_env(pattern)):
            continue
        if not paths or all(ignore.excluded(path) for path in paths):
            continue
        if _read_by_name(paths, reads) or _cancels_exception(paths, view, ignore):
            continue
        names = {posixpath.basename(path) for path in paths}
        if sibling_texts is None:
            assert callable(siblings)
            sibling_texts = siblings()
        if any(name in text for name in names for text in sibling_texts):
            continue  # another Dockerfile of this context may read it
        lines.append(pattern)
    return list(dict.fromkeys(lines))


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    view = context.model.context
    if not view.present:
        return
    reads = list(context_reads(context.document, context.model))
    broad = next((r for r in reads if r.whole_context and r.instruction.cmd != "RUN"), None)
    if broad is None:
        return
    name = context.path.name if context.path is not None else None
    ignore = ignore_file(view, name)
    if isinstance(ignore, str):
        return  # DF018 reports the pattern it cannot read
    where = dockerignore_name(view, name)

    def siblings() -> tuple[str, ...]:
        return tuple(_sibling_texts(view, name)) if where == ".dockerignore" else ()

    uses = [read.instruction for read in reads if read.whole_context]
    needed = read_by_the_build(context.model, view, uses)
    lines = missing_lines(view, ignore, reads, siblings, needed)
    if not lines:
        return
    shown = ", ".join(f"`{line}`" for line in lines)
    finding = rule.finding(
        f"`{broad.instruction.cmd} {broad.source}` sends {shown} to the build: "
        f"keep them out with {where}",
        broad.instruction,
    )
    exists = view.is_file(where)
    old = view.read_text(where) if exists else None
    refused = _refusal(old) if exists else ""
    if refused:
        action = f"append to {where}"
        note = f"{refused}; {action}: {HEADER} | " + " | ".join(lines)
        yield dataclasses.replace(finding, note=note)
        return
    companion = CompanionEdit(where, old, appended(old, lines))
    reason = (
        f"the build no longer sees {shown}: a RUN that reads them (`git describe`, "
        "setuptools-scm, a prebuilt `node_modules`), a build step that loads `.env` files "
        "(`npm run build` with Next.js or Vite, after `COPY . .`) or an application that "
        "loads them at run time behaves differently"
    )
    fix = Fix((), Applicability.UNSAFE, reason, companion=companion)
    yield dataclasses.replace(finding, fix=fix)


def _refusal(old: str | None) -> str:
    """Why an existing ignore file is not appended to ('' when it can be)."""
    if old is None:
        return "the file cannot be read"
    if "\ufffd" in old:
        return "the file is not UTF-8"
    if "\r" in old.replace("\r\n", ""):
        return "the file has old Mac (CR) line endings"
    return ""


def appended(old: str | None, lines: list[str]) -> str:
    """``old`` (None: a new file) with a blank line, the header and ``lines`` at its end,
    in the file's own line endings; nothing of ``old`` changes."""
    eol = dominant_newline(old) if old else "\n"
    text = old or ""
    if text and not text.endswith("\n"):
        text += eol
    if text.strip():
        text += eol
    return text + eol.join([HEADER, *lines]) + eol


RULE = Rule(
    code="DF212",
    name="missing-dockerignore",
    summary="Keep `.git`, `.env`, virtualenvs and caches out of the build context",
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.SOMETIMES,
    preconditions=(Precondition.BUILD_CONTEXT,),
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"COPY", "ADD"}),
)
