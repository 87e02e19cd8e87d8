"""``poetry install`` without a virtualenv in DF202's split: the builder exports what it installed.

With ``virtualenvs.create`` false, Poetry installs poetry.lock's packages into the
Python it runs on: ``EnvManager.get_system_env`` (poetry/utils/env/env_manager.py) takes
``sys.base_prefix``, which for a Poetry pip-installed into an official python image is
``/usr/local``, the Python the stage's ``pip`` installs into.  ``poetry install`` reads
poetry.lock as it is when it exists (its help: "reads the poetry.lock file from the
current directory"; a lock out of date with pyproject.toml is a warning in 1.1.15's
poetry/installation/installer.py and a ValueError in 2.x's, never a new lock), so what
it installs is a part of the lock, chosen by the groups, extras and markers.  The split
keeps all of that in the builder: it runs the stage's own ``pip install poetry`` and
``poetry install`` unchanged, then a Python snippet (``poetry_export.py``) keeps the
lock's packages that are installed at exactly the lock's version, writes them to
``/wheels/poetry.txt`` (``name==version``) and builds a wheel of each with ``pip wheel
--no-deps``, checking the lock's hashes.  The final stage keeps its ``pip install
poetry`` as written (the original image has Poetry, which a CMD may run) and installs
those wheels (``pip install --no-deps --no-index --find-links=/wheels -r
/wheels/poetry.txt``) in place of ``poetry install``.  Why not ``poetry export``: it is
a plugin, poetry-plugin-export, which Poetry 1.8.3's metadata requires and 2.x's does
not, so a stage's Poetry may lack it.

What must be known, or the split is refused: ``virtualenvs.create`` is false, by
``POETRY_VIRTUALENVS_CREATE`` (``false`` or ``0``: Poetry's ``boolean_normalizer`` takes
``true``/``1`` as true, poetry/config/config.py) set on the install command itself
(``POETRY_VIRTUALENVS_CREATE=false poetry install``: the builder's export runs with the
same assignment) or for the stage, else by the project's poetry.toml
(Poetry's local configuration, which overrides the global one) or ``poetry config
[--local] virtualenvs.create false|0`` of the stage before the install, by the same user
with the same configuration folder (see ``poetry_config.py``); Poetry comes from a ``pip
install poetry`` of the stage (not pipx, the install.python-poetry.org script or apt,
whose Poetry runs in its own virtualenv or on another Python); ``package-mode = false``
in pyproject.toml (no root project), which Poetry reads from 1.8.0 on ("Announcing
Poetry 1.8.0"), only with a Poetry of 1.8 or later.  Without ``--no-root`` (or with
``--only-root``, which installs no package of the lock: nothing is exported), Poetry
installs the project itself in editable mode: the builder then also builds its
editable wheel and the final stage installs it (``poetry_root.py`` says how, and what
it refuses); the base is an official python
image of Python 3.7 or later (the export's own need) with no PATH, VIRTUAL_ENV or
POETRY_ variable but those of ``_QUIET_VARIABLES`` (nor PIP_NO_BINARY,
PIP_REQUIRE_HASHES or PIP_CONFIG_FILE, which the wheels' pip would follow where Poetry
does not); pyproject.toml and poetry.lock are read from the build context in the
install's folder (no ``cd``, ``-C`` or ``-P``), and no package of the lock has a
``[package.source]`` (git, directory, file, url or another index: a wheel built from
PyPI would not stand for it); pyproject.toml names no ``requires-plugins`` (Poetry 2
installs them into ``.poetry/plugins`` beside it when it runs: ``ProjectPluginCache`` in
poetry/plugins/plugin_manager.py). Only options that select what the lock installs
(``--only``, ``--with``, ``--without``, ``--no-dev``, ``-E``, ``--all-extras``...) or
change only output and caching are taken: ``--sync`` (``--remove-untracked``) removes
packages the lock does not select, which the final stage's pip would not, ``--dry-run``
installs nothing. The stage may run no other Poetry command that changes the lock or
installs (``add``, ``update``, ``lock``, ``sync``, ``self``...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dockfix.images.python import is_python_image
from dockfix.images.python_requirements import image_reader
from dockfix.model import BuildContext, StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.checks import Site
from dockfix.rules.build_tools_in_final_image.poetry_config import (
    check_virtualenv,
    inline_create,
    read_toml,
)
from dockfix.rules.build_tools_in_final_image.poetry_export import export_command
from dockfix.rules.build_tools_in_final_image.poetry_root import (
    ROOT_WHEELS,
    check_only_root,
    check_root_project,
    root_build_command,
    root_change,
)
from dockfix.rules.build_tools_in_final_image.tool_env import (
    check_no_cd,
    check_not_activated,
    check_tool_variables,
)
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand
from dockfix.syntax import Instruction

#: ``poetry install`` options that select what the lock installs: the builder runs the
#: same command and reads what it installed.
_SELECTING = frozenset(
    {
        *("--no-root", "--only", "--with", "--without", "--no-dev", "--default"),
        "--only-root",
        *("-E", "--extras", "--all-extras", "--all-groups", "--no-directory"),
    }
)
#: Options that change output, caching or plugins only (``--compile``: pip compiles
#: bytecode anyway).
_HARMLESS = frozenset(
    {
        *("-n", "--no-interaction", "--no-ansi", "--ansi", "-v", "-vv", "-vvv"),
        *("--verbose", "-q", "--quiet", "--no-plugins", "--no-cache", "--compile"),
    }
)
_REMOVES = "removes every package the lock does not select, which the final stage's pip would not"
_REFUSED = {
    "--sync": _REMOVES,
    "--remove-untracked": _REMOVES,
    "--dry-run": "installs nothing",
}
#: Poetry's variables that change nothing the split relies on (output, caching, where a
#: virtualenv would go; ``POETRY_VERSION``/``POETRY_HOME`` are read by installers only).
_QUIET_VARIABLES = frozenset(
    {
        *("POETRY_VERSION", "POETRY_HOME", "POETRY_NO_INTERACTION", "POETRY_CACHE_DIR"),
        *("POETRY_VIRTUALENVS_IN_PROJECT", "POETRY_VIRTUALENVS_PATH"),
        *("POETRY_INSTALLER_MAX_WORKERS", "POETRY_INSTALLER_PARALLEL"),
        *("POETRY_REQUESTS_MAX_RETRIES", "POETRY_VIRTUALENVS_CREATE"),
    }
)
#: Poetry commands that change the lock or install besides ``poetry install``.
_CHANGING = frozenset({"add", "remove", "update", "lock", "sync", "build", "export"})
#: ``pip install poetry`` (a version pinned, or given by a variable, or not; with pip,
#: setuptools or wheel).
_TOOL = re.compile(
    r"""["']?(poetry|pip|setuptools|wheel)"""
    r"""(?:\s*(==|>=|~=|<=|<|>|!=)\s*([0-9][0-9.]*|\$\{?\w+\}?))?["']?"""
)
#: Where the builder writes the pins the final stage installs (``-2``... for later ones).
POETRY_LIST = "/wheels/poetry"


@dataclass(frozen=True)
class PoetryInstall:
    """A ``poetry install`` the split serves: the file of pins the builder writes for
    the final stage, what the lock names."""

    pins: str
    names: tuple[str, ...]
    caveats: tuple[str, ...] = ()
    #: Where the builder puts the project's editable wheel (see ``poetry_root.py``);
    #: None when the install does not install the project.
    root: str | None = None
    #: ``--only-root``: the lock's packages are not installed, nothing is exported.
    only_root: bool = False
    #: The install's own ``POETRY_VIRTUALENVS_CREATE=false``: the export, which asks
    #: ``poetry config virtualenvs.create``, runs with it too.
    environment: str = ""

    def builder_text(self) -> str:
        """What the builder runs right after the ``poetry install``."""
        prefix = f"{self.environment} " if self.environment else ""
        steps = [] if self.only_root else [prefix + export_command(self.pins)]
        steps += [root_build_command(self.root)] if self.root is not None else []
        return " && ".join(steps)

    def final_text(self) -> str:
        """What the final stage runs in place of ``poetry install``."""
        pins = [] if self.only_root else ["--find-links=/wheels", f"-r {self.pins}"]
        wheel = [f"{self.root}/*.whl"] if self.root is not None else []
        return " ".join(["pip install --no-deps --no-index", *pins, *wheel])


def is_poetry_install(package: PackageCommand | None) -> bool:
    return package is not None and package.manager is Manager.POETRY and package.action == "install"


def poetry_sites(
    facts: StageFacts,
    builds: list[tuple[Instruction, PackageCommand | None]],
    strategy: str,
    context: BuildContext,
) -> tuple[list[tuple[Instruction, PackageCommand | None]], list[Site]]:
    """The stage's ``poetry install`` sites, and its other builds: without the ``pip
    install poetry`` that serves them, which stays as it is in both stages."""
    if not any(is_poetry_install(package) for _, package in builds):
        return builds, []
    if strategy != "wheels":
        raise FixRefused(
            "`poetry install` is split only with the `wheels` strategy: a virtualenv on "
            "PATH would change the Python Poetry installs into"
        )
    _check_other_commands(facts)
    tool: PackageCommand | None = None  # the ``pip install poetry`` that ran before
    for instruction, package in builds:
        if _names_poetry(package) and not is_poetry_tool_install(package):
            raise FixRefused(
                f"the pip install on line {instruction.line} installs poetry with other "
                "packages, which the builder only builds: its `poetry install` would have "
                "no Poetry"
            )
        tool = package if is_poetry_tool_install(package) else tool
        if is_poetry_install(package) and tool is None:
            raise FixRefused(
                f"the Poetry of `poetry install` on line {instruction.line} is not installed "
                "by a `pip install poetry` of the stage before it (the installer script, "
                "pipx or apt run it on another Python), so where it installs is not known"
            )
    others = [
        (i, p) for i, p in builds if not is_poetry_install(p) and not is_poetry_tool_install(p)
    ]
    sites: list[Site] = []
    for instruction, package in builds:
        if package is not None and is_poetry_install(package):
            shell = run_shell(instruction)
            assert isinstance(shell, RunShell)
            install = _poetry_install(facts, shell, package, context, len(sites) + 1)
            sites.append(Site(shell, package, locked=install))
    return others, sites


def _names_poetry(package: PackageCommand | None) -> bool:
    if package is None or package.manager is not Manager.PIP:
        return False
    return any(re.match(r"""["']?poetry(?![\w.-])""", word.value) for word in package.packages)


def is_poetry_tool_install(package: PackageCommand | None) -> bool:
    """``pip install poetry`` (pinned or not, with pip, setuptools or wheel): a tool, not
    requirements.  It runs as it is in both stages."""
    if package is None or package.manager is not Manager.PIP or package.action != "install":
        return False
    tools = [_TOOL.fullmatch(word.value) for word in package.packages]
    return (
        not package.requirement_files
        and all(tools)
        and any(match is not None and match.group(1) == "poetry" for match in tools)
    )


def _check_other_commands(facts: StageFacts) -> None:
    """No other Poetry command of the stage changes the lock or installs."""
    for instruction in facts.stage.instructions:
        shell = run_shell(instruction)
        if not isinstance(shell, RunShell):
            continue
        for package in shell.packages():
            action = package.action
            if package.manager is Manager.POETRY and (
                action in _CHANGING or action.startswith("self")
            ):
                raise FixRefused(
                    f"the stage runs `poetry {action.replace('self-', 'self ')}` on line "
                    f"{instruction.line}, which changes the lock or installs besides "
                    "`poetry install`; split it by hand"
                )


def _poetry_install(
    facts: StageFacts,
    shell: RunShell,
    package: PackageCommand,
    context: BuildContext,
    count: int,
) -> PoetryInstall:
    """The install as the split serves it, or FixRefused with what is not known."""
    line = shell.instruction.line
    named = f"`poetry install` on line {line}"
    if not any(item is package.command for item in shell.script.body.items):
        raise FixRefused(f"{named} is inside a pipeline, group or condition")
    for option in package.parsed_options:
        for flag in (option.flag, *option.names):
            if flag in _REFUSED:
                raise FixRefused(f"`poetry install {flag}` on line {line} {_REFUSED[flag]}")
        unknown = {option.flag, *option.names} - _HARMLESS - _SELECTING
        if unknown:
            raise FixRefused(
                f"`poetry install {min(unknown)}` on line {line} changes what is installed "
                "or where; split it by hand"
            )
    if package.packages:
        raise FixRefused(f"{named} has an argument `{package.packages[0].text}`")
    inline = inline_create(package)
    _check_base(facts, shell, line, inline)
    check_no_cd(shell, package, line, "poetry", "poetry.lock")
    read = image_reader(facts, shell.instruction, context)
    pyproject, lock = read("pyproject.toml"), read("poetry.lock")
    if pyproject is None or lock is None:
        missing = "pyproject.toml" if pyproject is None else "poetry.lock"
        raise FixRefused(
            f"the {missing} of {named} could not be read (no build context, or no COPY "
            "brings it into the install's folder): whether it installs only released "
            "versions from PyPI is not known"
        )
    project = read_toml(pyproject, "pyproject.toml", named)
    check_virtualenv(facts, shell, package, context, named)
    only_root = package.has_option("--only-root")
    if only_root:
        check_only_root(package, named)
    root = _check_root(facts, shell, package, project, named)
    if only_root and not root:
        raise FixRefused(
            f"{named} has `--only-root` and `package-mode = false`: it installs nothing"
        )
    if root:
        check_root_project(project, pyproject, read, named)
    tool = project.get("tool", {})
    if isinstance(tool, dict) and "requires-plugins" in tool.get("poetry", {}):
        raise FixRefused(
            f"pyproject.toml names `requires-plugins` for {named}: Poetry 2 installs them "
            "into the project's .poetry/plugins folder when it runs, which the final "
            "stage's Poetry would do again (or fail to, offline)"
        )
    names = _locked_names(read_toml(lock, "poetry.lock", named), named)
    caveats: tuple[str, ...] = (
        f"the final stage installs what {named} put in the image's Python with pip from "
        "the builder's wheels, without Poetry: the same versions of the packages of "
        "poetry.lock, but no hash check there (the builder checks the lock's hashes when "
        "it downloads), the file pip picks for each where Poetry picked its own, bytecode "
        "(.pyc) compiled by pip, and no Poetry cache (~/.cache/pypoetry) in the final image",
        f"the final stage's `pip install poetry` for {named} runs without the build tools: "
        "a Poetry dependency with no wheel for the platform would not build there",
    )
    suffix = "" if count == 1 else f"-{count}"
    pins = f"{POETRY_LIST}{suffix}.txt"
    if not root:
        return PoetryInstall(pins, tuple(names), caveats, environment=inline or "")
    caveats = (root_change(line),) if only_root else (*caveats, root_change(line))
    names = [] if only_root else names
    directory = ROOT_WHEELS + suffix
    return PoetryInstall(pins, tuple(names), caveats, directory, only_root, inline or "")


def _check_base(facts: StageFacts, shell: RunShell, line: int, inline: str | None) -> None:
    """Poetry runs on the official image's Python, the one the final stage's pip uses.
    ``inline``: the install's own ``POETRY_VIRTUALENVS_CREATE=`` (``check_virtualenv``
    reads it), the one POETRY_ variable the RUN may set."""
    image = facts.image or facts.stage.image
    if image.has_variables or not is_python_image(image):
        raise FixRefused(
            f"`poetry install` on line {line} is split only on the official python images: "
            "on this base, which Python Poetry installs into is not known"
        )
    version = re.match(r"(\d+)(?:\.(\d+))?", image.tag or "")
    if version is not None and (int(version[1]), int(version[2] or 99)) < (3, 7):
        raise FixRefused(
            f"`poetry install` on line {line} runs on Python {version[0]}: the builder's "
            "export of what it installed needs Python 3.7 or later"
        )
    step = facts.at(shell.instruction)
    for name in ("PATH", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_TARGET", "PIP_PREFIX"):
        if step.defines(name) or re.search(rf"(?<![\w$]){name}=", shell.instruction.text):
            raise FixRefused(
                f"{name} is set for `poetry install` on line {line}: which Python Poetry "
                "runs, or where it installs, is not known"
            )
    check_tool_variables(step, "POETRY_", _QUIET_VARIABLES, f"`poetry install` on line {line}")
    for name in ("PIP_NO_BINARY", "PIP_REQUIRE_HASHES", "PIP_CONFIG_FILE"):
        if step.defines(name):
            raise FixRefused(
                f"{name} is set for `poetry install` on line {line}: the pip that builds and "
                "installs the wheels of what Poetry installed would not take them as they are"
            )
    check_not_activated(
        shell,
        line,
        "`poetry install`",
        "whose Python is not the one the final stage's pip installs into",
    )
    text = shell.instruction.text.replace(inline, "", 1) if inline else shell.instruction.text
    if re.search(r"\bPOETRY_\w+=", text):
        raise FixRefused(f"the RUN on line {line} sets a POETRY_ variable for `poetry install`")


def _check_root(
    facts: StageFacts,
    shell: RunShell,
    package: PackageCommand,
    project: Mapping[str, Any],
    named: str,
) -> bool:
    """Whether the install installs the project itself (no ``--no-root``, package mode),
    which the split serves only with a Poetry of 1.8 or later (``poetry_root.py``); so
    does ``package-mode = false``."""
    if package.has_option("--no-root"):
        return False
    tool = project.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    if not isinstance(poetry, dict) or poetry.get("package-mode", True) is not False:
        if not _poetry_at_least_1_8(facts, shell):
            raise FixRefused(
                f"{named} (no --no-root) installs the project itself in editable mode, "
                "which the split rebuilds with the poetry-core of Poetry 1.8 or later, and "
                "the Poetry the stage installs is not known to be 1.8 or later"
            )
        return True
    if not _poetry_at_least_1_8(facts, shell):
        raise FixRefused(
            f"pyproject.toml has `package-mode = false` for {named} (no --no-root), which "
            "Poetry reads from 1.8.0 on, and the Poetry the stage installs is not known "
            "to be 1.8 or later"
        )
    return False


def _poetry_at_least_1_8(facts: StageFacts, shell: RunShell) -> bool:
    """The stage's ``pip install poetry`` gets Poetry 1.8 or later: pinned so, or not
    pinned on Python 3.8 or later (Poetry 1.8 needs Python 3.8)."""
    for instruction in facts.stage.instructions:
        run = run_shell(instruction)
        for command in run.packages() if isinstance(run, RunShell) else ():
            if not is_poetry_tool_install(command):
                continue
            match = next(
                m for w in command.packages if (m := _TOOL.fullmatch(w.value)) and m[1] == "poetry"
            )
            if match[2] is None:
                tag = (facts.image or facts.stage.image).tag or ""
                version = re.match(r"3\.(\d+)", tag)
                return version is not None and int(version[1]) >= 8
            pinned = match[3]
            if pinned.startswith("$"):
                name = pinned.strip("${}")
                pinned = facts.at(instruction).value(name) or ""
            numbers = [int(part) for part in re.findall(r"\d+", pinned)[:2]]
            return match[2] in ("==", ">=", "~=") and numbers >= [1, 8]
        if instruction is shell.instruction:
            break
    return False


def _locked_names(lock: Mapping[str, Any], named: str) -> list[str]:
    """Every package of the lock, checked: released versions from PyPI."""
    packages = lock.get("package", [])
    if not isinstance(packages, list):
        raise FixRefused(f"the poetry.lock of {named} has no [[package]] list")
    names: list[str] = []
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise FixRefused(f"the poetry.lock of {named} has a package with no name")
        source = entry.get("source")
        if source:
            kind = source.get("type", "other") if isinstance(source, dict) else "other"
            raise FixRefused(
                f"poetry.lock pins `{entry['name']}` for {named} from a {kind} source, not "
                "PyPI: a wheel the builder builds from PyPI would not stand for it"
            )
        names.append(re.sub(r"[-_.]+", "-", entry["name"]).lower())
    return names
