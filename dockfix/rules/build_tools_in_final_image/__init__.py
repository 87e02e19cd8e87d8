r"""DF202 build-tools-in-final-image: compilers kept in the image only to build Python packages.

What it does
    Finds a single-stage Python image that has compilers and headers (installed with
    ``apt-get``, or brought by the full ``python:3.x`` image) only so that ``pip install``
    can build packages, and splits it in two (practices 1 and 17 of the source article):

    * a ``builder`` stage from the same base: the original steps up to the last such
      ``pip install``, with the build tools, where ``pip install`` becomes ``pip wheel
      --wheel-dir /wheels`` (strategy ``wheels``, the default) or runs in a virtualenv
      made with ``python -m venv /opt/venv`` (strategy ``venv``);
    * the final stage: the original stage, from the same base, in the same order, with
      comments where they were, except that the build packages are gone from
      ``apt-get install`` (the runtime libraries their ``-dev`` packages stood for take
      their place, from ``dockfix/images/runtime_libs.py``: ``libpq-dev`` ->
      ``libpq5``), and each ``pip install`` installs what the builder built::

        RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
            pip install --no-index --find-links=/wheels -r requirements.txt

      or, for ``venv``, ``COPY --from=builder /opt/venv /opt/venv`` and
      ``ENV PATH=/opt/venv/bin:$PATH`` take the place of the first install.

    An ``apt-get install`` left with no package is removed with the ``apt-get update``
    and list clean-up that served it; a RUN left empty is removed, its comment lines go
    with its copy in the builder.  The split keeps the base image: for a full
    ``python:3.x`` base, DF203 (full-python-base-image) switches the final stage to
    ``-slim`` in the next round, and the split is offered only when it can.

    Why wheels through a bind mount: ``COPY --from=builder /wheels /wheels`` followed by
    ``rm -rf /wheels`` leaves the wheels in the COPY layer, so the image keeps them;
    a bind mount never enters a layer.  ``RUN --mount=type=bind,from=`` works with
    BuildKit (the ``# syntax=docker/dockerfile:1`` line is added when missing, as DF110
    does) and with buildah/podman (1.28 included), which support RUN mounts but not
    ``COPY --link`` or heredocs; neither is used.  The builder keeps dependencies
    (no ``--no-deps``, unlike the article) so that ``--no-index`` finds every wheel, and
    the final install keeps the original arguments, so extras, markers and constraints
    mean what they meant.

Why is this bad?
    Compilers, headers and their dependencies are hundreds of megabytes that the
    application never uses at run time (the article measures 259 MB -> 156 MB for a web
    app and 969 MB -> 357 MB for a data-science image), and every tool in the image is
    attack surface.

Example
    ``FROM python:3.12-slim`` + ``RUN apt-get update && apt-get install -y gcc
    libpq-dev`` + ``COPY requirements.txt .`` + ``RUN pip install -r requirements.txt``
    + ``COPY . .`` becomes a builder with those steps (``pip wheel``) and a final stage
    that installs ``libpq5`` and the wheels, then copies the source.

Fix safety
    Unsafe: the final image no longer has the compilers and headers, so anything that
    compiles at run time breaks (``pip install`` at start-up, pyximport, extensions
    built on first import), and only the runtime libraries of the ``-dev`` packages the
    Dockerfile names are installed: wheels built against other libraries of a full base
    image need theirs added by hand.  Report only (with the reason) when:

    * the file has more than one stage, the base image is a variable, unknown, not a
      ``python`` image, or not Debian-based (Alpine's apk uses other package names);
    * a Python install is not a ``pip install`` of requirement files or named packages:
      ``pip install .``, paths, URLs, VCS links, editable installs, wheel files,
      ``--no-binary``, hash-checking mode, uv/poetry/pipenv, ``setup.py``.  Building the
      project's own wheel (``pip wheel .``) is left to the user: the final stage would
      have to install it by file name, which the Dockerfile does not say;
    * requirement files (read from the build context through the COPY that put them in
      the image) install local paths, URLs or use hashes (built wheels would not match
      them);
    * an ``-dev`` package has no runtime package in the table, or a release-dependent
      one and the tag names no Debian release;
    * another RUN uses the build tools (``make``, ``gcc``, ``git``, a script), a RUN
      cannot be read, pip runs as a non-root ``USER``, the stage purges build packages
      itself, or commands must be removed from a RUN that is not a plain ``&&`` chain;
    * the base is the full image and the final stage could not switch to ``-slim``
      (it uses curl, wget, git... itself or in a script it runs, or the tag has no
      version): the split alone would keep every compiler of the base;
    * the base is the full image and the requirements cannot be read from the build
      context (stdin, a file the COPY does not bring), or name a package built from
      source whose runtime library has no known name for the image's Debian release:
      packages built there link the full image's libraries (``psycopg2`` ->
      ``libpq5``), so the final stage installs those it can name
      (``dockfix/images/python_packages.py``) in an ``apt-get install`` before the
      first install of the wheels, or there is no split;
    * every requirement is known to need no compiler (pure Python, or wheels for every
      current CPython, e.g. ``flask``, ``requests``, ``numpy``): a builder stage would
      build nothing; the build packages may simply go.

References
    practices.md rows 1, 3 and 17; the seed article's multi-stage examples.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.images.python import is_full_python, python_builds
from dockfix.images.python_requirements import image_reader
from dockfix.images.runtime_libs import is_build_package, package_name
from dockfix.model.preconditions import Precondition
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.rules.build_tools_in_final_image.checks import (
    SYSTEM_MANAGERS,
    BuildInstall,
    check_base,
    check_needs_compiling,
    check_other_runs,
    check_slimmable,
    check_users,
    linked_libraries,
    requirements_named,
    runtime_words,
    split_site,
)
from dockfix.rules.build_tools_in_final_image.split import Split
from dockfix.rules.refusal import FixRefused
from dockfix.shell import PackageCommand
from dockfix.syntax import Instruction, Stage

REASON = (
    "the final image no longer has compilers and headers: anything that compiles at run "
    "time (pip install at start-up, pyximport, extensions built on first import) breaks, "
    "and only the runtime libraries of the -dev packages named in the Dockerfile are "
    "installed"
)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    if not document.stages:
        return
    finding = _check_final_stage(rule, context, document.stages[-1])
    if finding is not None:
        yield finding


def _check_final_stage(rule: Rule, context: RuleContext, stage: Stage) -> Finding | None:
    """The shipped stage: does it keep build tools that only a Python install needs?"""
    installs = _build_installs(stage)
    from_base = is_full_python(stage.image)
    builds = list(python_builds(stage))
    if not builds:
        return None  # nothing Python is compiled: the build tools serve something else
    if not installs and not from_base:
        return None  # no build tools in this image
    purged = _purged(stage)
    names = _unique(package_name(w.value) for i in installs for w in i.build_words)
    if not from_base and set(names) <= purged:
        return None  # every build package is removed again: none stays in the image
    if names:
        listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        message = f"Build tools ({listed}) stay in the final image after building Python packages"
        at: Instruction = installs[0].shell.instruction
    else:
        message = (
            f"The compilers of the full `{stage.image.text}` image stay in the final image "
            "after building Python packages"
        )
        at = stage.from_instruction
    try:
        if purged & set(names):
            raise FixRefused("the stage purges build packages itself; split it by hand")
        edits, reason = _plan(context, stage, installs, builds, from_base)
    except FixRefused as refused:
        return rule.finding(message, at, note=refused.reason)
    return rule.finding(message, at, edits=edits, reason=reason)


def _unique(items: Iterator[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _build_installs(stage: Stage) -> list[BuildInstall]:
    """Installs of build packages by the system package manager, in order."""
    found = []
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager not in SYSTEM_MANAGERS or package.action != "install":
                continue
            words = tuple(w for w in package.packages if is_build_package(w.value))
            if words:
                found.append(BuildInstall(shell, package, words))
    return found


def _purged(stage: Stage) -> set[str]:
    """Packages the stage removes again (``apt-get purge``/``remove``, ``apk del``)."""
    names: set[str] = set()
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for package in shell.packages():
                if package.manager in SYSTEM_MANAGERS and package.action == "remove":
                    names.update(package_name(word.value) for word in package.packages)
    return names


def _plan(
    context: RuleContext,
    stage: Stage,
    installs: list[BuildInstall],
    builds: list[tuple[Instruction, PackageCommand | None]],
    from_base: bool,
) -> tuple[list[Edit], str]:
    document = context.document
    facts = context.model.facts_of(stage)
    build_context = context.model.context
    strategy = context.settings.split_strategy
    check_base(document, facts)
    sites = [
        split_site(instruction, package, strategy, image_reader(facts, instruction, build_context))
        for instruction, package in builds
    ]
    check_users(facts, sites)
    moved = {id(i.package.command) for i in installs} | {id(s.package.command) for s in sites}
    check_other_runs(stage, moved)
    runtime = runtime_words(stage, installs)
    if from_base:
        check_slimmable(facts, frozenset(moved), build_context)
    requirements = requirements_named(facts, sites, build_context)
    check_needs_compiling(requirements)
    linked, caveats = linked_libraries(stage, requirements, runtime) if from_base else ((), [])
    split = Split(document, stage, installs, sites, runtime, strategy, linked)
    return split.edits(), "; ".join([REASON, *caveats])


RULE = Rule(
    code="DF202",
    name="build-tools-in-final-image",
    summary="Build Python packages in a builder stage; ship only the wheels or the virtualenv",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
