"""What an install by uv, Poetry or pipenv becomes in DF202's split.

Only ``uv sync`` is split, in the ``venv`` shape: the builder runs the stage up to the
last ``uv sync`` (with the build tools), and the final stage copies the project's
environment (``<WORKDIR>/.venv``) from it in place of that RUN.  The environment's
``bin/python`` links to the base image's interpreter (``/usr/local/bin/python3.X`` in
the official images, which ``-slim`` of the same version has too), and ``uv sync``
installs the project itself in editable mode (a ``.pth`` naming its source folder,
which the final stage copies to the same path), so every fact that keeps the copied
environment working must be proven: where the environment is, which Python it uses,
that the project's build writes nothing into its source folder.  ``pip install uv``
only serves the builder and leaves the final stage.

``uv pip install`` and ``poetry add``/``update``/``sync`` are refused with the reason:
uv has no command that builds wheels of requirements (``uv pip wheel`` is not
implemented, astral-sh/uv#1681; ``uv build`` builds only the project), and Poetry's
other commands change poetry.lock or remove what it does not select.  ``pipenv install --system``
and ``poetry install`` are split with the pip installs (see ``pipenv.py`` and
``poetry.py``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import field

from dockfix.images.python import is_python_image, python_tag_version
from dockfix.images.python_requirements import Reader, Requirements, image_reader
from dockfix.lazy_dataclass import dataclass
from dockfix.model import BuildContext, StageFacts
from dockfix.model.stages import Step
from dockfix.rules._shell import RunShell, command_key, run_shell
from dockfix.rules.build_tools_in_final_image.checks import Site
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand, command_name, iter_simple_commands
from dockfix.syntax import Instruction, Stage

MANAGERS = frozenset({Manager.UV, Manager.POETRY, Manager.PIPENV})

#: ``uv sync`` options that change neither where the environment is nor its Python
#: (the builder runs the same command, so what they select is the same).
_SYNC_FLAGS = frozenset(
    {
        *("--frozen", "--locked", "--no-dev", "--dev", "--only-dev", "--all-groups"),
        *("--group", "--no-group", "--only-group", "--extra", "--all-extras", "--no-extra"),
        *("--no-default-groups", "--no-install-project", "--no-install-workspace"),
        *("--no-install-package", "--no-editable", "--inexact", "--exact"),
        *("--compile-bytecode", "--no-cache", "-n", "--cache-dir", "-q", "--quiet", "-v"),
        *("--verbose", "--no-progress", "--offline", "--package", "--all-packages"),
        *("-i", "--index-url", "--extra-index-url", "--index", "--default-index"),
        *("--index-strategy", "--keyring-provider", "--no-build-isolation", "--link-mode"),
        *("--refresh", "--refresh-package", "-U", "--upgrade", "-P", "--upgrade-package"),
        *("--no-binary", "--no-binary-package", "--no-build", "--no-build-package"),
        *("--color", "--native-tls", "--reinstall", "--reinstall-package", "--prerelease"),
        *("--resolution", "--exclude-newer", "--no-sources", "--no-config"),
    }
)
#: Build backends that write nothing into the project's folder for an editable install
#: when the project configures no build hook (pure Python: a ``.pth`` or import hook).
_PURE_BACKENDS = frozenset(
    {"hatchling.build", "uv_build", "flit_core.buildapi", "poetry.core.masonry.api"}
)
#: Project settings that make an editable build run code or reach other folders.
_BUILD_CODE = re.compile(
    r"^\s*\[tool\.hatch\.[^\]]*hooks|^\s*\[tool\.poetry\.build\]|^\s*build\s*=|"
    r"^\s*\[tool\.uv\.workspace\]|^\s*package\s*=\s*true|\{[^}\n]*\b(?:path|editable)\s*=",
    re.MULTILINE,
)
#: Environment variables that move the environment, choose its Python or link it to
#: the builder's cache, with the values that do none of that.
_UV_VARIABLES: dict[str, frozenset[str]] = {
    "UV_PROJECT_ENVIRONMENT": frozenset(),
    "UV_PYTHON": frozenset(),
    "UV_PYTHON_PREFERENCE": frozenset({"only-system", "system"}),
    "UV_MANAGED_PYTHON": frozenset(),
    "UV_PYTHON_INSTALL_DIR": frozenset(),
    "UV_PROJECT": frozenset(),
    "UV_WORKING_DIRECTORY": frozenset(),
    "UV_LINK_MODE": frozenset({"copy", "hardlink", "clone"}),
    "UV_CONFIG_FILE": frozenset(),
}
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_SPECIFIER = re.compile(r"\s*(>=|<=|==|!=|~=|>|<)\s*(\d+(?:\.\d+)*)(\.\*)?\s*")


@dataclass
class ManagerPlan:
    """The split of a stage whose builds are ``uv sync`` (and the ``pip install uv``
    that serves it): the sites (the last ``uv sync`` first: the final stage copies the
    environment where it ran), the environment's folder, what the lock names."""

    sites: list[Site]
    venv: str
    requirements: Requirements
    caveats: list[str] = field(default_factory=list)
    #: What the reason says of the copy, when not ``uv sync``'s (``pipenv_venv.py``).
    summary: str = ""


def is_manager(package: PackageCommand | None) -> bool:
    return package is not None and package.manager in MANAGERS


def is_split_with_pip(package: PackageCommand | None) -> bool:
    """``pipenv install`` and ``poetry install`` are split with the pip installs (see
    ``pipenv.py`` and ``poetry.py``)."""
    return package is not None and (
        package.manager is Manager.PIPENV
        or (package.manager is Manager.POETRY and package.action == "install")
    )


def plan_managers(
    facts: StageFacts,
    builds: Sequence[tuple[Instruction, PackageCommand | None]],
    context: BuildContext,
) -> ManagerPlan | None:
    """None when no build is by uv/Poetry/pipenv; else the ``uv sync`` split, or
    FixRefused with what could not be proven."""
    managed = [(i, p) for i, p in builds if is_manager(p) and not is_split_with_pip(p)]
    if not managed:
        return None
    for instruction, package in managed:
        _check_uv_sync(instruction, package)
    syncs = [(i, p) for i, p in managed if p is not None]
    others = [(i, p) for i, p in builds if not is_manager(p) or is_split_with_pip(p)]
    uv_installs = [_uv_install_site(i, p) for i, p in others]
    venv = _check_sync_sites(facts, syncs)
    sync_sites = [_site(i, p) for i, p in syncs]
    _check_uv_not_used_later(facts, uv_installs, sync_sites)
    requirements, caveats = _project_facts(facts, syncs, context)
    sites = [sync_sites[-1], *sync_sites[:-1], *uv_installs]
    return ManagerPlan(sites, venv, requirements, caveats)


def _site(instruction: Instruction, package: PackageCommand) -> Site:
    shell = run_shell(instruction)
    assert isinstance(shell, RunShell)
    if not any(item is package.command for item in shell.script.body.items):
        raise FixRefused(
            f"the `uv sync` on line {instruction.line} is inside a pipeline, group or condition"
        )
    return Site(shell, package)


def _named(package: PackageCommand) -> str:
    """``uv pip install``, ``pipenv install``: the command as the reason names it."""
    pip = " pip" if package.manager is Manager.UV and _in_uv_pip(package) else ""
    return f"{package.manager.value}{pip} {package.action}"


def _in_uv_pip(package: PackageCommand) -> bool:
    return any(word.value == "pip" for word in package.program_words[1:])


def _check_uv_sync(instruction: Instruction, package: PackageCommand | None) -> None:
    """Only ``uv sync`` (the project interface) is split; the reason says why not the
    others."""
    assert package is not None
    line, named = instruction.line, _named(package)
    if package.manager is Manager.POETRY:
        raise FixRefused(
            f"`{named}` on line {line} is not split (it changes poetry.lock, or removes "
            "what the lock does not select): only `poetry install` is"
        )
    if _in_uv_pip(package):
        raise FixRefused(
            f"`{named}` on line {line}: uv builds no wheels of requirements (`uv pip "
            "wheel` does not exist, `uv build` builds only the project), so the final "
            "stage cannot install what the builder built; split it by hand"
        )
    if package.action != "sync":
        raise FixRefused(
            f"`{named}` on line {line} changes the project's requirements; only `uv sync` is split"
        )


def _uv_install_site(instruction: Instruction, package: PackageCommand | None) -> Site:
    """Another build of the stage must be ``pip install uv``: it only serves the
    builder, and leaves the final stage."""
    names = [word.value for word in package.packages] if package is not None else []
    only_uv = (
        package is not None
        and package.manager is Manager.PIP
        and not package.requirement_files
        and bool(names)
        and all(re.fullmatch(r"uv(?:\s*[=<>~!]=?\s*[0-9.]+)?", name) for name in names)
    )
    if not only_uv:
        raise FixRefused(
            f"the stage also installs Python packages on line {instruction.line}, besides "
            "`uv sync`; split it by hand"
        )
    assert package is not None
    shell = run_shell(instruction)
    assert isinstance(shell, RunShell)
    if not any(item is package.command for item in shell.script.body.items):
        raise FixRefused(
            f"the pip install of uv on line {instruction.line} is inside a pipeline, "
            "group or condition"
        )
    return Site(shell, package)


def _check_sync_sites(
    facts: StageFacts, syncs: Sequence[tuple[Instruction, PackageCommand]]
) -> str:
    """The folder of the environment every ``uv sync`` writes: ``<WORKDIR>/.venv``,
    with the base image's Python and files of its own (no link into uv's cache)."""
    folders = set()
    for instruction, package in syncs:
        line = instruction.line
        for option in package.parsed_options:
            unknown = {option.flag, *option.names} - _SYNC_FLAGS
            if unknown:
                raise FixRefused(
                    f"`uv sync {min(unknown)}` on line {line} is not known to keep the "
                    "environment at `.venv` with the base image's Python"
                )
        if any(word.value == "symlink" for word in package.option_values("--link-mode")):
            raise FixRefused(
                f"`uv sync --link-mode symlink` on line {line} links the environment's "
                "files into uv's cache in the builder"
            )
        step = facts.at(instruction)
        _check_uv_variables(step, instruction)
        _check_no_cd(instruction)
        if step.workdir is None or not step.workdir.startswith("/") or "$" in step.workdir:
            raise FixRefused(
                f"the WORKDIR of the `uv sync` on line {line} is not known, so neither is "
                "its project's `.venv`"
            )
        folders.add(posixpath.join(step.workdir, ".venv"))
    if len(folders) > 1:
        raise FixRefused("the stage runs `uv sync` in more than one project folder")
    _check_no_uv_python(facts)
    return folders.pop()


def _check_uv_variables(step: Step, instruction: Instruction) -> None:
    """uv's variables as the ``uv sync`` sees them: only values known to keep the
    environment at ``.venv``, on the base image's Python, with files of its own."""
    for name, harmless in _UV_VARIABLES.items():
        value = step.value(name)
        exported = name in instruction.text  # ``export UV_PYTHON=...`` in the RUN
        if exported or (step.defines(name) and value not in harmless):
            shown = f"{name}={value}" if value is not None and not exported else name
            raise FixRefused(
                f"{shown} is set for the `uv sync` on line {instruction.line}: the "
                "environment's folder, Python or files are not known"
            )


def _check_no_cd(instruction: Instruction) -> None:
    shell = run_shell(instruction)
    assert isinstance(shell, RunShell)
    for command in iter_simple_commands(shell.script):
        if command_name(command) in ("cd", "pushd"):
            raise FixRefused(
                f"the RUN on line {instruction.line} changes folder before `uv sync`, so "
                "its project's `.venv` is not known"
            )


def _check_no_uv_python(facts: StageFacts) -> None:
    """``uv python install``, ``uv venv``: an interpreter of uv's own (under
    ``/root/.local/share/uv``) or an environment made apart, which the final stage
    would not have."""
    for instruction in facts.stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            if package.manager is Manager.UV and (
                package.action.startswith("python-") or package.action == "venv"
            ):
                raise FixRefused(
                    f"`uv {package.action.replace('-', ' ')}` on line {instruction.line}: "
                    "the environment may use an interpreter or folder the final stage lacks"
                )


def _check_uv_not_used_later(facts: StageFacts, uv_installs: list[Site], syncs: list[Site]) -> None:
    """uv leaves the final stage (with its ``pip install``) and its environment is
    copied: nothing may run ``uv`` again there (``uv run`` syncs the environment, at
    build time or start-up)."""
    moved = {command_key(site.shell.instruction, site.command) for site in [*uv_installs, *syncs]}
    instructions = facts.stage.instructions
    start = min(instructions.index(site.shell.instruction) for site in [*uv_installs, *syncs])
    for instruction in instructions[start:]:
        if instruction.cmd in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            if re.search(r"(?<![\w./-])uv(?![\w.-])|/uv\b", instruction.text):
                raise FixRefused(
                    f"the {instruction.cmd} on line {instruction.line} runs `uv`, which "
                    "would sync the copied environment again at start-up"
                )
            continue
        shell = run_shell(instruction) if instruction.cmd == "RUN" else None
        if not isinstance(shell, RunShell):
            continue
        for command in iter_simple_commands(shell.script):
            name = command_name(command) or ""
            moved_here = command_key(instruction, command) in moved
            if not moved_here and (name == "uv" or name.endswith("/uv")):
                raise FixRefused(
                    f"the RUN on line {instruction.line} runs `uv` besides `uv sync`: the "
                    "final stage has neither uv nor the builder's uv state"
                )


def _project_facts(
    facts: StageFacts,
    syncs: Sequence[tuple[Instruction, PackageCommand]],
    context: BuildContext,
) -> tuple[Requirements, list[str]]:
    """What the project files (read from the build context, as the stage's COPY put
    them) prove: the Python uv picks is the base image's, the project's editable install
    writes nothing into its folder, no local ``.venv`` is copied in; and the packages
    ``uv.lock`` pins, for the runtime libraries."""
    instruction = syncs[-1][0]
    line = instruction.line
    base = _base_version(facts)
    read = image_reader(facts, instruction, context)
    pyproject = read("pyproject.toml")
    if pyproject is None:
        raise FixRefused(
            f"the project's pyproject.toml for the `uv sync` on line {line} could not be "
            "read (no build context, or no COPY brings it): its Python and build are not known"
        )
    _check_python_version(read(".python-version"), pyproject, base, line)
    _check_uv_settings(read, pyproject, line)
    if read(".venv/pyvenv.cfg") is not None:
        raise FixRefused(
            "the build context's `.venv` is copied into the project: the builder's "
            "environment would be copied over it in the final stage"
        )
    installs_project = any(
        not package.has_option("--no-install-project", "--no-editable") for _, package in syncs
    )
    if installs_project:
        _check_editable_build(pyproject, line)
    requirements = Requirements()
    caveats = []
    lock = read("uv.lock")
    if lock is None:
        requirements.unread.append("uv.lock")
    else:
        requirements.names += [(_normal(name), "") for name in _locked_names(lock)]
    if not any(package.has_option("--frozen", "--locked") for _, package in syncs):
        caveats.append(
            f"`uv sync` on line {line} runs without --locked/--frozen: a uv.lock it writes "
            "or updates stays in the builder (the final image has the build context's)"
        )
    return requirements, caveats


#: uv settings (``[tool.uv]``, ``uv.toml``) that choose the interpreter or link the
#: environment's files into uv's cache.
_UV_SETTINGS = re.compile(
    r"^\s*(python-preference|managed-python|link-mode\s*=\s*[\"']symlink)", re.MULTILINE
)
#: Where uv reads settings besides the project's pyproject.toml (as root).
_UV_CONFIG_FILES = ("uv.toml", "/etc/uv/uv.toml", "/root/.config/uv/uv.toml")


def _check_uv_settings(read: Reader, pyproject: str, line: int) -> None:
    """The project's uv settings must leave the interpreter to uv's default (the base
    image's, checked above) and copy the environment's files."""
    found = _UV_SETTINGS.search(pyproject)
    if found is not None:
        raise FixRefused(
            f"the project sets uv's `{found.group(1)}`: the environment of the `uv sync` on "
            f"line {line} may use an interpreter or files the final stage lacks"
        )
    for name in _UV_CONFIG_FILES:
        if read(name) is not None:
            raise FixRefused(
                f"the stage copies uv settings (`{name}`) for the `uv sync` on line {line}, "
                "which are not read here"
            )


def _base_version(facts: StageFacts) -> tuple[int, int]:
    """The ``X.Y`` of the official python image the stage is built on: the Python the
    environment links to, which the final stage (the same image, or its -slim) has."""
    image = facts.image or facts.stage.image
    if image.has_variables or not is_python_image(image):
        raise FixRefused(
            "`uv sync` is split only on the official python images: on this base, which "
            "Python uv picks (or downloads) for the environment is not known"
        )
    version = python_tag_version(image)
    if version is None:
        raise FixRefused(
            "the base image's tag names no Python version, so the interpreter uv picks "
            "(requires-python, .python-version) cannot be checked"
        )
    return version


def _check_python_version(
    pinned: str | None, pyproject: str, base: tuple[int, int], line: int
) -> None:
    """uv takes the first Python on ``PATH`` (``/usr/local/bin`` in the official images)
    that the project accepts; one it does not accept makes uv download its own, which
    the final stage lacks."""
    shown = f"{base[0]}.{base[1]}"
    if pinned is not None:
        request = next((x.strip() for x in pinned.splitlines() if x.strip()[:1] not in "#"), "")
        match = _VERSION.fullmatch(request)
        if match is None or (int(match.group(1)), int(match.group(2))) != base:
            raise FixRefused(
                f"the project's .python-version asks for `{request}`, not the base image's "
                f"Python {shown}: uv would use another interpreter for the `uv sync` on "
                f"line {line}"
            )
    found = re.search(r'^\s*requires-python\s*=\s*["\']([^"\']*)["\']', pyproject, re.MULTILINE)
    if found is not None and not _accepts(found.group(1), base):
        raise FixRefused(
            f"requires-python `{found.group(1)}` is not known to accept the base image's "
            f"Python {shown}: uv may download another interpreter for the `uv sync` on "
            f"line {line}"
        )


def _accepts(specifiers: str, base: tuple[int, int]) -> bool:
    """True when every ``X.Y.*`` release of ``base`` satisfies ``specifiers``.  The
    base's patch release is not known: a comparison it would decide is not proven."""
    for part in specifiers.split(","):
        match = _SPECIFIER.fullmatch(part)
        if match is None:
            return False
        operator, text, star = match.groups()
        numbers = tuple(int(n) for n in text.split("."))
        if not _every_patch(operator, base, numbers, star=bool(star)):
            return False
    return True


def _every_patch(
    operator: str, base: tuple[int, int], numbers: tuple[int, ...], star: bool
) -> bool:
    """Whether each release ``X.Y.z`` of ``base`` satisfies ``operator`` ``numbers``
    (``>=3.11`` yes for 3.11; ``>=3.11.4`` not known; ``>=3.8.1`` yes for 3.11)."""
    short = len(numbers) <= 2
    version = (*numbers, 0)[:2]
    if operator == "==" or operator == "!=":
        prefix = base[: len(numbers)] == numbers[:2] if star else False
        if operator == "==":
            return prefix
        return not prefix and base[: min(len(numbers), 2)] != numbers[:2]
    if operator == ">=":
        return base > version or (base == version and short)
    if operator == "~=":
        return short and base >= version and base[0] == version[0]
    if operator == ">":
        return base > version
    return base < version  # ``<`` and ``<=``: the base's own releases are not all below


def _check_editable_build(pyproject: str, line: int) -> None:
    """``uv sync`` installs the project editable: with a pure-Python backend and no
    build hook, nothing is written into its source folder (which the final stage copies
    from the build context, not from the builder)."""
    if not re.search(r"^\s*\[build-system\]", pyproject, re.MULTILINE):
        if re.search(r"^\s*package\s*=\s*true", pyproject, re.MULTILINE):
            raise FixRefused(
                f"the project of the `uv sync` on line {line} is built with setuptools "
                "(`package = true`, no build-system): its editable build may write into "
                "its source folder"
            )
        return  # not a package: uv installs only its dependencies
    backend = re.search(r'^\s*build-backend\s*=\s*["\']([^"\']+)["\']', pyproject, re.MULTILINE)
    name = backend.group(1) if backend is not None else "setuptools"
    code = build_code(pyproject)
    if name not in _PURE_BACKENDS or code is not None:
        why = f"`{code}`" if code is not None else f"the backend `{name}`"
        raise FixRefused(
            f"`uv sync` on line {line} installs the project editable, and its build "
            f"({why}) may compile into its source folder, which the final stage takes "
            "from the build context (`--no-editable` would install it into the environment)"
        )


def build_code(pyproject: str) -> str | None:
    """The project setting that makes its editable build run code or reach other
    folders (a build hook, a build script, a path dependency), or None."""
    found = _BUILD_CODE.search(pyproject)
    return found.group(0).strip() if found is not None else None


def _locked_names(lock: str) -> list[str]:
    """The packages ``uv.lock`` pins (each ``[[package]]`` table's ``name``)."""
    return re.findall(r'^\[\[package\]\]\s*\nname\s*=\s*"([^"]+)"', lock, re.MULTILINE)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_between_syncs(stage: Stage, sites: Sequence[Site]) -> None:
    """The final stage copies the environment where the last ``uv sync`` ran: a RUN
    between two of them may use what the first installed, which is not there yet."""
    syncs = [
        site for site in sites if site.package is not None and site.package.manager is Manager.UV
    ]
    if not syncs:
        return  # a pipenv virtualenv (``pipenv_venv.py``): one install
    instructions = stage.instructions
    at = sorted(instructions.index(site.shell.instruction) for site in syncs)
    for instruction in instructions[at[0] + 1 : at[-1]]:
        if instruction.cmd == "RUN" and not any(s.shell.instruction is instruction for s in syncs):
            raise FixRefused(
                f"the RUN on line {instruction.line} runs between two `uv sync`: it may use "
                "the environment the first made, which the final stage copies only after the last"
            )


def managed_reason(plan: ManagerPlan) -> str:
    """What changes besides the build tools: the environment is copied, uv leaves."""
    if plan.summary:
        return plan.summary
    sync = plan.sites[0].shell.instruction.line
    text = (
        f"the final stage copies the project's environment ({plan.venv}) from the builder in "
        f"place of `uv sync` on line {sync}"
    )
    uv_lines = [
        site.shell.instruction.line
        for site in plan.sites
        if site.package is not None and site.package.manager is Manager.PIP
    ]
    if uv_lines:
        text += f", and no longer installs uv (line {uv_lines[0]}): nothing after it runs uv"
    return text
