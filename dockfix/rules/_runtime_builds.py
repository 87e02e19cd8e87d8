"""A stage whose own command compiles or builds: its build tools serve the container.

``ENTRYPOINT ["pip-compile"]`` (pip-tools runs setup.py and ``pg_config`` of sdists),
``CMD pip install -r requirements.txt && python app.py`` (at every start),
``CMD ["make", "test"]``, ``ENTRYPOINT ["pre-commit"]``: the compilers and headers the
image has serve it when it runs, not (only) its build.  DF202's split and drop, and
DF203's move to ``-slim``, would take them away.
"""

from __future__ import annotations

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
