"""A final stage whose own command compiles or builds: the build tools are its purpose.

``ENTRYPOINT ["pip-compile"]`` (pip-tools runs setup.py and ``pg_config`` of sdists),
``CMD ["make", "test"]``, ``ENTRYPOINT ["pre-commit"]``: the image is a build or CI tool,
and the compilers and headers the stage installs serve it when it runs, not (only) the
stage's pip installs.  The split or the drop would take them away.
"""

from __future__ import annotations

from dockfix.rules._runtime import applying, command_lines, find_program
from dockfix.rules.refusal import FixRefused
from dockfix.syntax import Stage

#: Programs that compile, or build packages (and so may compile), when they run.
#: Launchers (``poetry run``, ``uv run``, ``pipenv run``) are not here: they run the
#: program after them, which ``find_program`` reads.
_PROGRAMS = """gcc g++ cc c++ clang clang++ make cmake ninja meson cargo rustc maturin node-gyp
pip pip3 pip-compile pip-sync tox nox pre-commit"""
RUNTIME_BUILD_PROGRAMS = frozenset(_PROGRAMS.split())


def check_runtime_builds(stage: Stage) -> None:
    """FixRefused when the stage's ENTRYPOINT or CMD runs such a program."""
    for cmd in ("ENTRYPOINT", "CMD"):
        for instruction in applying(stage.instructions, cmd)[-1:]:
            for line in command_lines(instruction):
                index = find_program(line.args, RUNTIME_BUILD_PROGRAMS)
                if index is not None:
                    program = line.args[index].value
                    raise FixRefused(
                        f"the {cmd} on line {instruction.line} runs `{program}`, which "
                        "compiles or builds packages when the container runs: the build "
                        "tools serve it"
                    )
