"""A stage whose own command compiles or builds: its build tools serve the container.

``ENTRYPOINT ["pip-compile"]`` (pip-tools runs setup.py and ``pg_config`` of sdists),
``CMD pip install -r requirements.txt && python app.py`` (at every start),
``CMD ["make", "test"]``, ``ENTRYPOINT ["pre-commit"]``: the compilers and headers the
image has serve it when it runs, not (only) its build.  DF202's split and drop, and
DF203's move to ``-slim``, would take them away.
"""

from __future__ import annotations

from pathlib import PurePath

from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts
from dockfix.model.purpose import dev_container_reason
from dockfix.rules._runtime import applying, command_lines, find_program
from dockfix.syntax import Stage

#: Programs that compile, or build packages (and so may compile), when they run.
#: Launchers (``poetry run``, ``uv run``, ``pipenv run``) are not here: they run the
#: program after them, which ``find_program`` reads.
_PROGRAMS = """gcc g++ cc c++ clang clang++ make cmake ninja meson cargo rustc maturin node-gyp
pip pip3 pip-compile pip-sync tox nox pre-commit"""
RUNTIME_BUILD_PROGRAMS = frozenset(_PROGRAMS.split())


def runtime_build(stage: Stage) -> str | None:
    """Why the stage's ENTRYPOINT or CMD needs build tools when it runs, or None."""
    for cmd in ("ENTRYPOINT", "CMD"):
        for instruction in applying(stage.instructions, cmd)[-1:]:
            for line in command_lines(instruction):
                index = find_program(line.args, RUNTIME_BUILD_PROGRAMS)
                if index is not None:
                    program = line.args[index].value
                    return (
                        f"the {cmd} on line {instruction.line} runs `{program}`, which "
                        "compiles or builds packages when the container runs"
                    )
    return None


@dataclass(frozen=True)
class ToolsServe:
    """Why a stage's compilers and tools serve more than its own build: ``kind`` is
    ``dev-container``, ``runtime`` (its command builds) or ``onbuild`` (a trigger builds
    in child images); ``why`` says it, and each rule adds what it would break."""

    kind: str
    why: str


def tools_serve_more(facts: StageFacts, path: PurePath | None) -> ToolsServe | None:
    """The first reason (in that order) the stage's build tools serve more than its
    build, or None: DF202 and DF203 then leave them where they are."""
    dev_container = dev_container_reason(path)
    if dev_container is not None:
        return ToolsServe("dev-container", dev_container)
    runs = runtime_build(facts.stage)
    if runs is not None:
        return ToolsServe("runtime", runs)
    triggers = facts.onbuild_builds
    if triggers:
        return ToolsServe(
            "onbuild",
            f"the ONBUILD RUN on line {triggers[0].line} runs in every image built FROM this one",
        )
    return None
