"""``pipenv install`` into the virtualenv pipenv makes (no ``--system``) in DF202's split.

The split copies that virtualenv, as the ``uv sync`` split copies ``.venv`` (see
``managers.py``): the builder runs the stage as written (its ``pip install pipenv`` and
``pipenv install`` unchanged), then the runtime-library scan over the virtualenv's
folder; the final stage keeps its ``pip install pipenv`` (the original image has
pipenv, and its CMD often runs ``pipenv run``), drops only ``pipenv install`` from its
RUN, and gets ``COPY --from=builder <folder> <folder>`` above that RUN (after the
runtime libraries' install), so what follows the install in the RUN sees it.  Right
after the install the builder checks that the virtualenv's interpreter is the image's
``python`` (``SAME_PYTHON``): where pipenv picked another one, the build stops there.

Where the virtualenv is (pipenv's ``Project.get_location_for_virtualenv`` /
``virtualenv_location`` and ``is_venv_in_project`` in pipenv/project.py,
``get_workon_home`` in pipenv/utils/shell.py, ``PIPENV_VENV_IN_PROJECT`` read by
``get_from_env`` in pipenv/environments.py; docs/virtualenv.md "Custom Virtual
Environment Location"):

* ``PIPENV_VENV_IN_PROJECT`` true: ``<project folder>/.venv``, the project folder being
  the Pipfile's (the install's WORKDIR, which it reads with no ``cd``).  Only the
  spellings every pipenv reads as true are taken: ``1``, ``true``, ``yes``, ``on`` (any
  case; ``env_to_bool``'s TRUE_VALUES).  Older pipenv takes any non-empty value as true
  (``bool(os.environ.get(...))``), newer reads ``0``/``false``/``no``/``off`` as false and
  any other word as neither, so those are refused; an empty value is unset for both.
* otherwise ``$WORKON_HOME/<name>-<hash>`` (``WORKON_HOME`` an absolute path known here),
  else ``$XDG_DATA_HOME/virtualenvs/...``, else ``~/.local/share/virtualenvs/...`` of the
  user who runs the install (``/root`` for root): the split copies that whole parent
  folder, so the hash of the Pipfile's path in the name need not be computed (both
  stages have the Pipfile at the same path, so ``pipenv run`` finds it again).
* pipenv (unset variable) also uses ``<project>/.venv`` when that folder exists, reads
  a ``.venv`` file as the path or name of the virtualenv, and newest pipenv reads
  ``[pipenv] venv_in_project`` from the Pipfile: a ``.venv`` the stage copies from the
  build context, a ``venv_in_project`` setting, or a command before the install that
  names ``.venv``, the folder or another environment is refused.

The virtualenv's ``bin/python`` links to the Python pipenv runs with or finds on PATH
for the Pipfile's ``[requires]``: the official image's ``/usr/local/bin/python3.X``
(first on its PATH), which ``-slim`` of the same tag has; so only official python
images, and a ``python_version``/``python_full_version`` other than the image's X.Y is
refused (pipenv would look for another interpreter), as are ``PIPENV_PYTHON``,
``--python``, ``PIPENV_CUSTOM_VENV_NAME``, ``VIRTUAL_ENV`` (pipenv would install into
that environment), ``VIRTUALENV_*`` (virtualenv's own settings), pip's
``PIP_TARGET``/``PIP_PREFIX``/``PIP_ROOT``, a ``.env`` file in the project (pipenv loads
it, and it may set any of those), and a PATH set before the install other than
``<project>/.venv/bin`` put in front of it (a folder that does not exist before the
install).  The other checks are the ``--system`` split's (``pipenv.py``): pipenv from a
``pip install pipenv`` of the stage, known options only, no PIPENV_ variable but those
that change only output, the Pipfile and Pipfile.lock read from the build context.

Nothing after the install may change the virtualenv where the final stage would not:
a later ``pipenv`` command other than ``pipenv run`` of a program that is not pip
(``pipenv install``, ``sync``, ``update``, ``pipenv run pip install``...) is refused.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from dockfix.images.python import python_tag_version
from dockfix.images.python_requirements import Reader, Requirements, image_reader
from dockfix.model import BuildContext, StageFacts
from dockfix.model.stages import Step
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.checks import Site
from dockfix.rules.build_tools_in_final_image.managers import ManagerPlan
from dockfix.rules.build_tools_in_final_image.pipenv import (
    is_pipenv,
    is_pipenv_tool_install,
    pipenv_install,
)
from dockfix.rules.refusal import FixRefused
from dockfix.shell import PackageCommand, command_name, iter_simple_commands
from dockfix.syntax import Instruction

#: The values every pipenv reads as true (``TRUE_VALUES`` of pipenv/utils/constants.py).
_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
#: Variables that move the virtualenv or what pip writes into it, or set virtualenv's
#: options (``VIRTUALENV_*``), set in the RUN itself.
_SET_IN_RUN = re.compile(
    r"(?<![\w$])(WORKON_HOME|XDG_DATA_HOME|HOME|PATH|PIP_TARGET|PIP_PREFIX|PIP_ROOT|"
    r"VIRTUALENV_\w+)="
)
_PIP_PLACES = ("PIP_TARGET", "PIP_PREFIX", "PIP_ROOT")
#: ``[requires]`` of the Pipfile: the Python pipenv looks for.
_REQUIRES = re.compile(r"^\s*python_(?:full_)?version\s*=\s*[\"']([^\"']*)[\"']", re.MULTILINE)
_VERSION = re.compile(r"(\d+)\.(\d+)")
#: The builder's check, right after ``pipenv install``: the virtualenv's interpreter is
#: the image's ``python`` (the one pipenv runs with), which the final stage has at the
#: same path.  pipenv may pick another Python 3.X it finds for ``[requires]`` (the full
#: image also has Debian's ``/usr/bin/python3.X``, which ``-slim`` lacks): the build
#: stops there, rather than the final image's virtualenv pointing at nothing.
SAME_PYTHON = (
    'python -c "import os,subprocess,sys;'
    "v=os.path.realpath(subprocess.check_output(['pipenv','--py']).decode().strip()"
    ".splitlines()[-1]);p=os.path.realpath(sys.executable);"
    "v==p or sys.exit('pipenv made its virtualenv with '+v+', not the image python '+p+"
    "': the final stage would not have it')\""
)
#: pipenv options that only print where things are.
_QUERIES = frozenset({"--venv", "--py", "--where", "-q", "--quiet"})


def plan_pipenv_venv(
    facts: StageFacts,
    builds: Sequence[tuple[Instruction, PackageCommand | None]],
    context: BuildContext,
) -> ManagerPlan | None:
    """None when no pipenv command of the stage lacks ``--system``; else the split that
    copies the virtualenv, or FixRefused with what could not be proven."""
    venvs = [(i, p) for i, p in builds if is_pipenv(p) and p is not None and not _system(p)]
    if not venvs:
        return None
    instruction, package = venvs[0]
    line = instruction.line
    for other, build in builds:
        if build is package or is_pipenv_tool_install(build):
            continue
        what = "`pipenv` again" if is_pipenv(build) else "Python packages"
        raise FixRefused(
            f"the stage also installs {what} on line {other.line}, besides `pipenv "
            f"install` into its virtualenv on line {line}; split it by hand"
        )
    shell = run_shell(instruction)
    assert isinstance(shell, RunShell)
    _check_pipenv_installed(facts, builds, instruction)
    read = image_reader(facts, instruction, context)
    install = pipenv_install(facts, shell, package, read, 1, virtualenv=True)
    step = facts.at(instruction)
    folder = virtualenv_folder(step, instruction)
    _check_apart(folder, step.workdir or "/", line)
    _check_variables(facts, step, instruction, folder)
    _check_project(read, python_tag_version(facts.image or facts.stage.image), line)
    _check_before(facts, shell, package, folder)
    _check_after(facts, shell, package)
    requirements = Requirements(names=[(name, "") for name in install.names])
    summary = (
        f"the final stage copies the virtualenv of `pipenv install` on line {line} "
        f"({folder}) from the builder in place of that install, and keeps its `pip "
        "install pipenv`"
    )
    site = Site(shell, package, builder_check=SAME_PYTHON)
    return ManagerPlan([site], folder, requirements, list(install.caveats), summary)


def _system(package: PackageCommand) -> bool:
    return package.has_option("--system")


def _check_pipenv_installed(
    facts: StageFacts,
    builds: Sequence[tuple[Instruction, PackageCommand | None]],
    instruction: Instruction,
) -> None:
    """pipenv comes from a ``pip install pipenv`` of the stage before the install: the
    builder's pipenv is then the same, and so is the final stage's."""
    instructions = facts.stage.instructions
    at = instructions.index(instruction)
    if not any(
        is_pipenv_tool_install(build) and instructions.index(where) <= at for where, build in builds
    ):
        raise FixRefused(
            f"the pipenv of `pipenv install` on line {instruction.line} is not installed by "
            "a `pip install pipenv` of the stage before it, so the builder's is not known "
            "to be the same"
        )


def virtualenv_folder(step: Step, instruction: Instruction) -> str:
    """The folder the split copies: ``<project>/.venv``, or the parent of the
    virtualenvs pipenv names after the project (see the module docstring)."""
    line = instruction.line
    named = f"`pipenv install` on line {line}"
    in_project = (
        step.value("PIPENV_VENV_IN_PROJECT") if step.defines("PIPENV_VENV_IN_PROJECT") else ""
    )
    if in_project is None or (in_project and in_project.lower() not in _TRUE_VALUES):
        shown = "PIPENV_VENV_IN_PROJECT" + (f"={in_project}" if in_project else "")
        raise FixRefused(
            f"{shown} is set for {named}: pipenv reads that value as true or not depending "
            "on its version (older pipenv takes any non-empty value as true), so where "
            "its virtualenv is is not known"
        )
    if in_project:
        workdir = step.workdir
        if workdir is None or not workdir.startswith("/") or "$" in workdir:
            raise FixRefused(
                f"the WORKDIR of {named} is not known, so neither is its project's `.venv`"
            )
        return posixpath.join(posixpath.normpath(workdir), ".venv")
    for name, below in (("WORKON_HOME", ""), ("XDG_DATA_HOME", "virtualenvs")):
        value = step.value(name) if step.defines(name) else ""
        if value == "":  # unset or empty: pipenv's default (``if not workon_home``)
            continue
        if value is None or "$" in value or not value.startswith("/"):
            shown = f"{name}={value}" if value is not None else name
            raise FixRefused(
                f"{shown} is set for {named}: not an absolute path known here, so where "
                "pipenv makes its virtualenv is not known"
            )
        return posixpath.normpath(posixpath.join(value, below))
    home = step.home
    if home is None or not home.startswith("/") or "$" in home:
        raise FixRefused(
            f"the home folder of the user who runs {named} is not known, so neither is "
            "~/.local/share/virtualenvs, where pipenv makes its virtualenv"
        )
    return posixpath.join(posixpath.normpath(home), ".local/share/virtualenvs")


def _check_apart(folder: str, workdir: str, line: int) -> None:
    """The copied folder holds only virtualenvs: not ``/``, not the project folder or one
    above it (the builder's Pipfile.lock, which pipenv may write again, would come too)."""
    project = posixpath.normpath(workdir)
    if folder in ("", "/") or project == folder or project.startswith(folder + "/"):
        raise FixRefused(
            f"the virtualenv folder of `pipenv install` on line {line} ({folder or '/'}) holds "
            f"its project ({project}): copying it would bring the builder's project files too"
        )


def _check_variables(facts: StageFacts, step: Step, instruction: Instruction, folder: str) -> None:
    """Nothing else moves the virtualenv, picks its Python or where pip writes."""
    line = instruction.line
    named = f"`pipenv install` on line {line}"
    found = _SET_IN_RUN.search(instruction.text)
    if found is not None:
        raise FixRefused(
            f"the RUN on line {line} sets {found.group(1)} for `pipenv install`, which the "
            "split does not follow"
        )
    for name in step.variables:
        if name.startswith("VIRTUALENV_") or name in _PIP_PLACES:
            raise FixRefused(
                f"{name} is set for {named}: the virtualenv pipenv makes, or where pip "
                "installs, may differ"
            )
    _check_path(facts, instruction, folder)


def _check_path(facts: StageFacts, instruction: Instruction, folder: str) -> None:
    """PATH may only put the project's ``.venv/bin`` in front (``ENV PATH=/app/.venv/bin:
    $PATH``): that folder does not exist before the install, so pipenv, the pip that
    installs it and the Python it finds are the image's."""
    if facts.start.defines("PATH"):
        raise FixRefused(
            f"PATH is set before the stage: which Python `pipenv install` on line "
            f"{instruction.line} finds is not known"
        )
    ahead = (f"{folder}/bin:$PATH", f"{folder}/bin:${{PATH}}")
    instructions = facts.stage.instructions
    for earlier in instructions[: instructions.index(instruction)]:
        if earlier.cmd not in ("ENV", "ARG"):
            continue
        pairs = zip(earlier.value[0::2], earlier.value[1::2], strict=False)
        words = pairs if earlier.cmd == "ENV" else (w.partition("=")[::2] for w in earlier.value)
        for name, value in words:
            if name != "PATH":
                continue
            plain = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
            if earlier.cmd == "ARG" or not folder.endswith("/.venv") or plain not in ahead:
                raise FixRefused(
                    f"the {earlier.cmd} on line {earlier.line} sets PATH before `pipenv "
                    f"install` on line {instruction.line} (only `{folder}/bin:$PATH` of "
                    "the project's `.venv` is followed): which Python it finds is not known"
                )


def _check_project(read: Reader, base: tuple[int, int] | None, line: int) -> None:
    """The project's files as the install reads them: the Python its Pipfile asks for is
    the image's, and nothing there chooses another folder or loads other settings."""
    named = f"`pipenv install` on line {line}"
    pipfile = read("Pipfile") or ""
    for request in _REQUIRES.findall(pipfile):
        match = _VERSION.match(request.strip())
        if base is None or match is None or (int(match.group(1)), int(match.group(2))) != base:
            shown = f"{base[0]}.{base[1]}" if base is not None else "not named by its tag"
            raise FixRefused(
                f"the Pipfile of {named} requires Python `{request}`, and the base image's "
                f"is {shown}: pipenv may make the virtualenv with another interpreter"
            )
    if re.search(r"^\s*venv_in_project\s*=", pipfile, re.MULTILINE):
        raise FixRefused(
            f"the Pipfile of {named} sets `venv_in_project`, which newer pipenv reads and "
            "older ignores: where the virtualenv is is not known"
        )
    if read(".venv/pyvenv.cfg") is not None or read(".venv") is not None:
        raise FixRefused(
            f"the build context's `.venv` is copied into the project of {named}: pipenv "
            "would use it (or the path it names), and the builder's virtualenv would be "
            "copied over it in the final stage"
        )
    if read(".env") is not None:
        raise FixRefused(
            f"the project of {named} has a `.env` file, which pipenv loads: it may set "
            "where the virtualenv is or its Python"
        )


def _check_before(facts: StageFacts, shell: RunShell, package: PackageCommand, folder: str) -> None:
    """Nothing before the install makes or names an environment pipenv would use
    (``python -m venv .venv``, ``mkdir .venv``, ``pipenv --python``), nor writes into
    the folder the final stage gets from the builder (it comes above the install's RUN)."""
    instructions = facts.stage.instructions
    line = shell.instruction.line
    marks = (folder, ".venv", "virtualenvs", "WORKON_HOME")
    for earlier in instructions[: instructions.index(shell.instruction) + 1]:
        if earlier.cmd in ("ENV", "ARG", "FROM", "WORKDIR", "USER"):
            continue  # ENV and ARG: see virtualenv_folder and _check_path
        current = run_shell(earlier)
        if earlier.cmd != "RUN" or not isinstance(current, RunShell):
            texts = [(earlier.text, "")]
        else:
            texts = [
                (" ".join(word.value for word in command.words), command_name(command) or "")
                for command in iter_simple_commands(current.script)
                if earlier is not shell.instruction or command.start < package.command.start
            ]
        for text, name in texts:
            if posixpath.basename(name) in ("pipenv", "virtualenv") or " -m venv" in text:
                raise FixRefused(
                    f"the {earlier.cmd} on line {earlier.line} makes or uses an environment "
                    f"before `pipenv install` on line {line}, which pipenv may take for "
                    "its virtualenv"
                )
            mark = next((m for m in marks if m in text), None)
            if mark is not None:
                raise FixRefused(
                    f"the {earlier.cmd} on line {earlier.line} names `{mark}` before `pipenv "
                    f"install` on line {line}: the virtualenv's folder may hold something "
                    "else there"
                )


def _check_after(facts: StageFacts, shell: RunShell, package: PackageCommand) -> None:
    """The final stage has the virtualenv the builder made: nothing after the install
    may change it (``pipenv install``/``sync``/``update``, ``pipenv run pip install``),
    at build time or start-up (CMD, ENTRYPOINT)."""
    instructions = facts.stage.instructions
    line = shell.instruction.line
    for later in instructions[instructions.index(shell.instruction) :]:
        current = run_shell(later) if later.cmd == "RUN" else None
        if isinstance(current, RunShell):
            for command in iter_simple_commands(current.script):
                if later is shell.instruction and command.start <= package.command.start:
                    continue
                why = _changes_venv([word.value for word in command.words])
                if why:
                    raise FixRefused(
                        f"the RUN on line {later.line} runs `{why}` after `pipenv install` on "
                        f"line {line}: the final stage has the builder's virtualenv, which "
                        "that would change after it was copied (or without compilers)"
                    )
        elif later.cmd in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            words = list(later.value) if later.is_json else later.text.split()
            why = _changes_venv(words)
            if why:
                raise FixRefused(
                    f"the {later.cmd} on line {later.line} runs `{why}`, which would change "
                    "the virtualenv copied from the builder"
                )


def _changes_venv(words: list[str]) -> str:
    """The words of a ``pipenv`` command that may change the virtualenv, as text (all
    but ``pipenv run PROGRAM`` with PROGRAM not pip, and ``--venv``/``--py``/``--where``);
    '' for any other command."""
    index = next((i for i, w in enumerate(words) if posixpath.basename(w) == "pipenv"), None)
    if index is None:
        return ""
    rest = words[index + 1 :]
    action = next((w for w in rest if not w.startswith("-")), "")
    if not action and set(rest) <= _QUERIES:
        return ""
    if action != "run":
        return " ".join(["pipenv", *rest[:2]])
    program = rest[rest.index("run") + 1 :]
    runs_pip = bool(program) and (
        re.fullmatch(r"pip\d*(\.\d+)*", posixpath.basename(program[0])) is not None
        or (len(program) > 2 and program[1] == "-m" and program[2] in ("pip", "ensurepip"))
    )
    return " ".join(["pipenv", "run", *program[:3]]) if runs_pip else ""
