"""DF203 full-python-base-image: a shipped stage starts from the full ``python:3.x`` image.

What it does
    Reports stages that start from the full Debian-based Python image (``python:3.12``,
    ``python:3.12-bookworm``) and are shipped (no later stage builds on them or copies
    from them: a builder may well use the full image).  When nothing in the stage needs
    what only the full image has, the fix switches to the ``-slim`` variant of the same
    version and release::

        FROM python:3.12-bookworm        ->  FROM python:3.12-slim-bookworm

    The criterion for "needs nothing of the full image":

    * every Python package install is provably binary-only, so it cannot compile:
      ``pip install --only-binary=:all:``, ``pip install --no-index --find-links DIR``
      where every ``DIR`` comes from another stage (``RUN --mount=type=bind,from=...``
      or ``COPY --from=...``, as the DF202 split writes it), or an install of pip,
      setuptools and wheel only, or a pip install whose every requirement is read and
      in the table of packages that publish glibc wheels (``PURE_OR_WHEELS``: numpy,
      pandas...; the fix's reason then says pip must find those wheels).  Any other
      ``pip``/``uv``/``poetry``/``pipenv`` install or ``setup.py`` run may build an sdist
      with the full image's compilers;
    * the stage installs no build packages with apt (compilers, ``-dev`` headers: DF202's
      business);
    * no ``RUN``, ``CMD``, ``ENTRYPOINT`` or ``HEALTHCHECK`` uses a tool that the full
      image has and ``-slim`` lacks (curl, wget, git, ssh, gcc, make, ...), unless the
      stage installs that tool's package itself;
    * no script that ``RUN``, ``CMD`` or ``ENTRYPOINT`` runs (``./start.sh``, ``sh
      fetch.sh``) uses such a tool: the script is read from the build context through
      the COPY that put it in the image (the model's cached view); one that cannot be
      read (no context, copied from another stage, unpacked by ``ADD``) blocks the fix;
    * packages built from source in another stage and installed here (wheels installed
      with ``--no-index`` from another stage, a virtualenv or ``/usr/local`` copied with
      ``COPY --from``) find the libraries they link: ``psycopg2`` needs ``libpq5``,
      ``mysqlclient`` ``libmariadb3`` (the documented pip table
      ``dockfix/images/data/pip_system_libs.json``, names per Debian release), and the
      stage must install them;
    * every ``RUN`` can be read (shell form that parses, no heredoc);
    * the stage's own ``CMD``/``ENTRYPOINT`` does not compile or build (``pip install``
      at start-up, ``make``, ``pip-compile``...: ``rules/_runtime_builds.py``);
    * the stage declares no ``ONBUILD RUN``: such a trigger runs in the build of every
      image made FROM this one, on this image, and may need its compilers;
    * the file is not in a ``.devcontainer/`` folder: a development environment keeps
      its tools.

    It never proposes Alpine: musl has no manylinux wheels, so packages compile (slower,
    often bigger, sometimes broken).

Why is this bad?
    The full image is buildpack-deps: compilers, headers, version control and image
    libraries, about 900 MB against about 120 MB for ``-slim`` (practice 3 of the
    source article).  Everything in it is attack surface and download time, and a
    runtime image needs none of it.

Example
    ``FROM python:3.11`` + ``COPY app.py .`` + ``CMD ["python", "app.py"]`` becomes
    ``FROM python:3.11-slim`` with the rest unchanged.

Fix safety
    Unsafe: ``-slim`` lacks the full image's libraries and tools.  Python packages that
    load system libraries at run time (python-magic, Wand, WeasyPrint, ...), wheels
    built against the full image's libraries, and programs that shell out to tools
    (``git``, ``convert``) fail on ``-slim`` even though the Dockerfile never names them.
    ``python`` and ``python:latest`` become ``python:slim``, ``python:bookworm``
    ``python:slim-bookworm`` (the same moving version, slim), ``python:3.6.8-stretch``
    ``python:3.6.8-slim-stretch`` (from jessie on).  Where the stage compiles
    packages with the full image's compilers, DF202's split moves them to a builder
    stage and switches the final stage to ``-slim`` in the same fix.  Report only: a tag
    that names no version otherwise (``python:3-onbuild``), a wheezy tag (no -slim
    variant), a digest-pinned image (the slim image's digest is not known), and every
    stage that fails the criterion above.

References
    practices.md row 3 (and row 1: the final stage of the DF202 split qualifies).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockfix.images.python import (
    artifact_dirs,
    debian_release,
    is_binary_only,
    is_full_python,
    python_builds,
    script_tool_uses,
    slim_image,
    slim_lacking_tools,
)
from dockfix.images.python_packages import PURE_OR_WHEELS
from dockfix.images.python_requirements import (
    Requirements,
    image_reader,
    installs_in,
    requirements_of,
    source_build_needs,
)
from dockfix.images.runtime_libs import is_build_package
from dockfix.model import BuildContext, StageFacts
from dockfix.model.mounts import mounts_of
from dockfix.model.preconditions import Precondition
from dockfix.rules._runtime_builds import tools_serve_more
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.shell import Manager, PackageCommand
from dockfix.syntax import Dockerfile, Instruction, Stage

REASON = (
    "-slim lacks the full image's libraries and tools: Python packages that load "
    "system libraries at run time (python-magic, Wand, WeasyPrint, ...), wheels "
    "built against the full image's libraries, and programs that call git or "
    "ImageMagick fail on it"
)


def _referenced_stages(document: Dockerfile) -> set[int]:
    """Indexes of stages a later stage builds on (``FROM``) or reads (``--from``)."""
    names = {}
    for stage in document.stages:
        names[str(stage.index)] = stage.index
        if stage.alias:
            names[stage.alias.lower()] = stage.index
    used: set[int] = set()
    for stage in document.stages:
        if stage.image.text.lower() in names and names[stage.image.text.lower()] < stage.index:
            used.add(names[stage.image.text.lower()])
        for instruction in stage.instructions:
            for source in _from_references(instruction):
                if source.lower() in names:
                    used.add(names[source.lower()])
    return used


def _from_references(instruction: Instruction) -> list[str]:
    """Stages an instruction reads: ``COPY --from=x`` and ``RUN --mount=...,from=x``."""
    found = [flag.value for flag in instruction.flags if flag.name == "from" and flag.value]
    found += [mount.from_stage for mount in mounts_of(instruction) if mount.from_stage]
    return found


def _unreadable_runs(stage: Stage) -> list[Instruction]:
    """RUNs whose commands cannot be known: exec form, heredocs, shell that does not parse."""
    found = []
    for instruction in stage.instructions:
        if instruction.cmd != "RUN":
            continue
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            found.append(instruction)
    return found


def _apt_build_packages(stage: Stage) -> list[str]:
    names = []
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager in (Manager.APT_GET, Manager.APT) and package.action == "install":
                names += [w.value for w in package.packages if is_build_package(w.value)]
    return names


def _only_wheels(
    facts: StageFacts, instruction: Instruction, package: PackageCommand, context: BuildContext
) -> list[str]:
    """The names a pip install asks for, when every one of them is read and known to ship
    wheels for glibc (``PURE_OR_WHEELS``); empty when one is unknown or unread."""
    if package.manager is not Manager.PIP:
        return []
    found = requirements_of(package, image_reader(facts, instruction, context))
    names = [name for name, _ in found.names]
    if found.unread or not names or not set(names) <= PURE_OR_WHEELS:
        return []
    return names


#: What -slim would break, after ``tools_serve_more``'s reason.
_TOOLS_SERVE_TAIL = {
    "dev-container": "",
    "runtime": ": it may need the full image's compilers and headers",
    "onbuild": ", whose build may need the full image's compilers and tools",
}


def _slim_blockers(facts: StageFacts, context: BuildContext, caveats: list[str]) -> str:
    """Why the stage cannot switch to ``-slim`` (the first reason), or ``""``; what the
    switch relies on but cannot prove goes to ``caveats``."""
    stage = facts.stage
    unreadable = _unreadable_runs(stage)
    if unreadable:
        line = unreadable[0].line
        return f"the RUN on line {line} cannot be read (exec form, heredoc, or unparsed shell)"
    for instruction, package in python_builds(stage):
        wheels = _only_wheels(facts, instruction, package, context) if package else []
        if wheels:
            listed = ", ".join(wheels[:4]) + (", ..." if len(wheels) > 4 else "")
            caveats.append(
                f"pip on line {instruction.line} must find wheels of {listed} for the image's "
                "Python (they publish them for glibc); a pinned version without one would "
                "need the full image's compilers and fail the build"
            )
            continue
        what = "`setup.py`" if package is None else f"`{package.manager.value} {package.action}`"
        return (
            f"{what} on line {instruction.line} may compile packages with the full image's "
            "compilers (see DF202, whose split moves them to a builder stage and this one to -slim)"
        )
    build = _apt_build_packages(stage)
    if build:
        return f"the stage installs build packages ({', '.join(build[:3])}; see DF202)"
    tools = slim_lacking_tools(facts)
    if tools:
        return tools[0].describe() + ", which the -slim image lacks"
    scripts = script_tool_uses(facts, context)
    if scripts:
        return scripts[0]
    return ""


def _compiled_elsewhere(
    stages: Sequence[StageFacts], facts: StageFacts, context: BuildContext
) -> Requirements:
    """What the stage installs that another stage built: wheels it installs with
    ``--no-index`` from another stage's files, and the installs of every stage it copies
    or mounts files from (a virtualenv, ``/usr/local`` or wheels built there)."""
    found = Requirements()
    stage = facts.stage
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        artifacts = artifact_dirs(stage, instruction)
        for package in shell.packages():
            from_stage = package.manager is Manager.PIP and package.has_option("--no-index")
            if from_stage and is_binary_only(package, artifacts):
                reader = image_reader(facts, instruction, context)
                found.extend(requirements_of(package, reader))
    by_name = _stages_by_name(stages, facts)
    read: set[int] = set()
    for instruction in stage.instructions:
        for name in _from_references(instruction):
            source = by_name.get(name.lower())
            if source is not None and source.index not in read:
                read.add(source.index)
                found.extend(installs_in(source, context))
    return found


def _stages_by_name(stages: Sequence[StageFacts], facts: StageFacts) -> dict[str, StageFacts]:
    """Stages before ``facts`` by alias and by index (what ``--from`` may name)."""
    names: dict[str, StageFacts] = {}
    for earlier in stages[: facts.index]:
        names[str(earlier.index)] = earlier
        if earlier.alias:
            names[earlier.alias.lower()] = earlier
    return names


def _runtime_lib_check(
    stages: Sequence[StageFacts], facts: StageFacts, context: BuildContext, slim: str
) -> tuple[str, str]:
    """``(blocker, caveat)``: runtime libraries that packages built from source in another
    stage load and the stage does not install (``psycopg2`` -> ``libpq5``), which the full
    image had and ``-slim`` lacks; the caveat names what could not be checked."""
    requirements = _compiled_elsewhere(stages, facts, context)
    needs = source_build_needs(requirements, debian_release(slim.rpartition(":")[2]))
    if needs.blockers:
        return needs.blockers[0], ""
    missing = [name for name in needs.packages if name not in facts.installed]
    if missing:
        return (
            f"packages built from source in another stage load {', '.join(missing)}, which "
            "-slim lacks and the stage does not install",
            "",
        )
    caveats = needs.caveats + [f"`{name}` could not be read" for name in requirements.unread]
    return "", "; ".join(caveats)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    # The image test first: most files have no full python stage, and then which stages
    # ship need not be read.
    full = [facts for facts in context.model.stages if is_full_python(facts.stage.image)]
    if not full:
        return
    shipped = set(range(len(document.stages))) - _referenced_stages(document)
    for facts in full:
        if facts.index not in shipped:
            continue  # a builder: its size does not ship, and it may need the compilers
        yield _check_stage(rule, context, facts)


def _check_stage(rule: Rule, context: RuleContext, facts: StageFacts) -> Finding:
    document, stage = context.document, facts.stage
    image = stage.image
    message = (
        f"`{image.text}` is the full Python image (compilers, headers, tools); "
        "a runtime image needs the -slim variant"
    )
    slim, why = slim_image(image)
    if slim is None:
        return rule.finding(message, stage.from_instruction, note=why)
    build_context = context.model.context
    caveats: list[str] = []
    serves = tools_serve_more(facts, context.path)
    blocked = (
        serves.why + _TOOLS_SERVE_TAIL[serves.kind]
        if serves is not None
        else _slim_blockers(facts, build_context, caveats)
    )
    caveat = ""
    if not blocked:
        blocked, caveat = _runtime_lib_check(context.model.stages, facts, build_context, slim)
        caveat = "; ".join([*caveats, caveat] if caveat else caveats)
    if blocked:
        return rule.finding(message, stage.from_instruction, note=blocked)
    instruction = stage.from_instruction
    piece = next((p for p in instruction.arguments if p.text == image.text), None)
    if piece is None:
        return rule.finding(message, instruction, note="the image is not written as one word")
    new = document.replace_piece(instruction, piece, slim)
    return rule.finding(
        f"{message} (`{slim}`)",
        instruction,
        edits=[Edit(instruction, (new,))],
        reason=f"{REASON}; {caveat}" if caveat else REASON,
    )


RULE = Rule(
    code="DF203",
    name="full-python-base-image",
    summary="Use python:X-slim for images that need nothing of the full python:X image",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(Precondition.LINUX,),
)
