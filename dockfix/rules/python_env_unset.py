"""DF205 python-env-unset: a Python image without ``PYTHONUNBUFFERED``/``PYTHONDONTWRITEBYTECODE``.

What it does
    In the final stage of a Python image, adds
    ``ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1`` (only the variables that are
    missing) on the line right after the stage's ``FROM``.

Why is this bad?
    Without ``PYTHONUNBUFFERED`` Python buffers stdout when it is not a terminal, as in a
    container: log lines arrive late, in bursts, or are lost when the process dies.
    Without ``PYTHONDONTWRITEBYTECODE`` every import writes ``__pycache__`` files into
    the container's writable layer (or fails to, for a read-only file system or a user
    who does not own the code), where they are thrown away with the container.

Example
    ``FROM python:3.12-slim`` followed by ``ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1``.

Fix safety
    Safe.  The variables only change where output is buffered and whether imports write
    bytecode caches; the program's results are the same.  A variable already set by an
    ``ENV`` of the stage or of a stage it builds on counts as set, whatever its value and
    form (``ENV PYTHONUNBUFFERED 1``, ``ENV PYTHONUNBUFFERED=${PYTHONUNBUFFERED}``).  A
    variable declared only by an ``ARG`` is not added: an ``ENV`` of the same name would
    override the build argument in every ``RUN``; the finding says that the build
    argument never reaches the running container.

    Where: right after ``FROM``, before any comment, ``ARG`` or ``LABEL`` lines that
    follow it.  The comments stay with the instructions they describe, the variables
    hold for every later step of the stage (``RUN`` steps that run Python too), and the
    line's place is the same in every file, so it is easy to find and review.

    Only the final stage is changed (the one that runs by default), and only when it
    provably is a Python image: its base is a Python image in the image table (the
    model's ``traits.python``; an unknown image whose repository is named ``python``
    counts), or its ``CMD``/``ENTRYPOINT`` (its own or inherited from an earlier stage)
    runs Python (``python``, ``gunicorn``, ``uvicorn``, ``celery``, ``python -m x``,
    through ``exec``/``poetry run``/``tini``..., a ``*.py`` script, ``supervisord``), or
    it builds on a bare OS image (debian, ubuntu, alpine, ubi, nvidia/cuda...), installs
    Python with the system package manager and starts no other program (an interactive
    ``bash`` says nothing).  A node, PHP or CouchDB
    image that installs ``python3`` to build native modules is not a Python image.
    Windows images are left alone.

References
    practices.md rows 19 and 20 (the seed's examples set both variables).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence

from dockfix import lazy_re
from dockfix.edits import Applicability, FixAvailability, FixBuilder
from dockfix.model import Platform, StageFacts
from dockfix.rules._runtime import Arg, command_lines, find_program
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.base import Finding, Rule, RuleContext
from dockfix.shell import Manager
from dockfix.syntax import Dockerfile, Instruction

#: The variables, in the order they are written, and the value given.
VARIABLES = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
#: Programs that are Python (an image starting one of them runs Python).
PYTHON_PROGRAMS = frozenset(
    {"python", "python2", "python3", *(f"python3.{minor}" for minor in range(6, 15))}
    | {"gunicorn", "uvicorn", "hypercorn", "daphne", "celery", "flask", "django-admin"}
    | {"streamlit", "jupyter", "jupyter-lab", "jupyterhub", "waitress-serve", "uwsgi"}
    | {"pytest", "airflow", "dagster", "rq", "dramatiq", "mlflow", "gradio", "locust"}
    | {"scrapy", "fastapi", "granian", "chainlit", "panel", "bokeh", "ipython"}
    | {"supervisord"}  # supervisor is a Python program
)
#: Bare OS images (their command is a shell): see ``_plain_os``.
PLAIN_OS = lazy_re.compile(
    r"(debian|ubuntu|alpine|fedora|centos|rockylinux|almalinux|amazonlinux|oraclelinux"
    r"|buildpack-deps|busybox|archlinux|opensuse/.*|nvidia/cuda"
    r"|(registry\.access\.redhat\.com/|redhat/)?ubi\d*(/ubi\d*)?(-minimal)?)"
)
#: System packages that install a Python interpreter.
PYTHON_PACKAGES = lazy_re.compile(r"python(3|2)?(\.\d+)?(-minimal|-full|-pip|-dev|-venv)?")


#: Interactive shells: ``CMD ["bash"]`` says nothing about what the image is for.
_SHELLS = frozenset({"sh", "bash", "zsh", "ash", "dash", "fish"})


def _runs_python(facts: StageFacts) -> bool | None:
    """Does the stage's effective ENTRYPOINT/CMD start Python?  None: it sets none, or
    only an interactive shell (the base image's own command, or whatever a user types)."""
    found: dict[str, Instruction] = {}
    for member in facts.lineage:
        for instruction in reversed(member.stage.instructions):
            if instruction.cmd in ("CMD", "ENTRYPOINT") and instruction.cmd not in found:
                found[instruction.cmd] = instruction
    lines = [line for instruction in found.values() for line in command_lines(instruction)]
    programs = [line for line in lines if not _interactive_shell(line.args)]
    if not programs:
        return None
    return any(_starts_python(line.args) for line in programs)


def _interactive_shell(args: Sequence[Arg]) -> bool:
    values = [arg.value for arg in args]
    if not values or values[0] is None or posixpath.basename(values[0]) not in _SHELLS:
        return False
    return all(v in ("-i", "-l", "--login") for v in values[1:])


def _starts_python(args: Sequence[Arg]) -> bool:
    """A Python program, ``python -m x``, or a ``*.py`` script run directly."""
    if find_program(args, PYTHON_PROGRAMS) is not None:
        return True
    first = args[0].value if args else None
    return bool(first and first.endswith(".py"))


def is_python_image(facts: StageFacts) -> bool:
    """The image is Python: by its base, by what it starts, or by what it installs."""
    runs = _runs_python(facts)
    if runs:
        return True
    traits = facts.traits
    if traits is not None and traits.python:
        return True
    repository = facts.root.stage.image.repository.lower()
    if traits is None and "$" not in repository and posixpath.basename(repository) == "python":
        return True
    if runs is not None or not _plain_os(facts):
        return False  # only a bare OS image that starts nothing is told by its installs
    return any(PYTHON_PACKAGES.fullmatch(name) for name in facts.installed) or (
        _conda_installs_python(facts)
    )


def _conda_installs_python(facts: StageFacts) -> bool:
    """``conda install python=3.11`` (or mamba) in the stage or its lineage."""
    for member in facts.lineage:
        for instruction in member.stage.instructions:
            shell = run_shell(instruction)
            if not isinstance(shell, RunShell):
                continue
            for package in shell.packages():
                if package.manager in (Manager.CONDA, Manager.MAMBA) and any(
                    re.split(r"[=<>]", word.value, maxsplit=1)[0] == "python"
                    for word in package.packages
                ):
                    return True
    return False


def _plain_os(facts: StageFacts) -> bool:
    """The base is a bare OS image, whose own command is a shell: a stage that installs
    Python there and starts nothing else is a Python image (a node, PHP or CouchDB image
    that installs python3 for a build step still runs node, PHP or CouchDB)."""
    image = facts.image
    if image is None or facts.root.stage.image.has_variables:
        return False  # known only through ARG defaults, which a build may override
    name = f"{image.registry}/{image.name}" if image.registry else image.name
    return bool(
        PLAIN_OS.fullmatch(name.lower().removeprefix("docker.io/").removeprefix("library/"))
    )


def declared_args(facts: StageFacts) -> frozenset[str]:
    """Names declared by ``ARG`` in the stage or a stage it builds on."""
    return frozenset(
        word.split("=", 1)[0]
        for member in facts.lineage
        for instruction in member.stage.instructions
        if instruction.cmd == "ARG"
        for word in instruction.value
    )


def _set_by_env(facts: StageFacts) -> frozenset[str]:
    """Variables an ``ENV`` of the stage or of a stage it builds on sets."""
    return frozenset(
        key
        for member in facts.lineage
        for instruction in member.stage.instructions
        if instruction.cmd == "ENV"
        for key in instruction.value[0::2]
    )


def env_line(document: Dockerfile, anchor: Instruction, names: list[str]) -> Instruction:
    """The new ``ENV`` line, indented like ``anchor`` (its FROM)."""
    indent = anchor.pieces[0].text if anchor.pieces[0].kind == "ws" else ""
    text = f"{indent}{document.style.keyword('ENV')} " + " ".join(f"{n}=1" for n in names)
    return document.make_instruction(text, eol=document.style.eol)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    facts = context.model.final
    if facts is None:
        return
    if facts.platform is Platform.WINDOWS:
        return  # Windows images: the rules about Linux containers leave them alone
    # Which variables are missing is cheaper to read than whether the image is Python.
    set_by_env = _set_by_env(facts)
    missing = [name for name in VARIABLES if name not in set_by_env]
    if not missing:
        return
    if not is_python_image(facts):
        return
    args = declared_args(facts)
    arg_only = [name for name in missing if name in args]
    to_add = [name for name in missing if name not in args]
    anchor = facts.stage.from_instruction
    if to_add:
        message = "Python image without " + " and ".join(f"{n}=1" for n in to_add)
        try:
            fix = FixBuilder(document).insert_after(anchor, env_line(document, anchor, to_add))
        except ValueError as refused:  # a FROM that ends the file in a continuation
            yield rule.finding(message, anchor, note=str(refused))
        else:
            yield rule.finding(message, anchor, edits=fix.edits())
    if arg_only:
        message = "Python image without " + " and ".join(f"{n}=1" for n in arg_only)
        note = "set only by ARG, which the running container does not see; use ENV"
        yield rule.finding(message, anchor, note=note)


RULE = Rule(
    code="DF205",
    name="python-env-unset",
    summary="Set `PYTHONUNBUFFERED=1` and `PYTHONDONTWRITEBYTECODE=1` in a Python image",
    applicability=Applicability.SAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
)
