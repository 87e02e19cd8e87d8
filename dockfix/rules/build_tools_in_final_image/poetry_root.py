"""The project itself in DF202's ``poetry install`` split (see ``poetry.py``).

Without ``--no-root`` (and in package mode), ``poetry install`` installs the project
itself after poetry.lock's packages, in editable mode, with Poetry's own writer:
``InstallCommand.handle`` (poetry/console/commands/install.py, 1.8 and 2.x) runs
``EditableBuilder(self.poetry, self.env, self.io).build()``
(poetry/masonry/builders/editable.py), which writes into the environment's
site-packages a ``<module>.pth`` naming the folders of the project's packages (the
project's folder, or ``src``), a script in its scripts folder (``/usr/local/bin``) for
each console script (a ``#!<python>`` file that imports the function and calls it), and
a ``<name>-<version>.dist-info`` with METADATA (by the poetry-core Poetry runs with),
``INSTALLER`` ``poetry``, entry_points.txt, a ``direct_url.json`` naming the project's
folder as editable (PEP 610) and RECORD.  It writes nothing into the project's folder
unless the project has a build script, which it runs (or, with
``generate-setup-file``, it makes a setup.py and runs ``pip install -e``).

The split keeps that in the builder and gives the final stage the same thing from a
wheel: right after the ``poetry install`` (in its folder), the builder asks the
poetry-core that its Poetry runs with for the project's PEP 660 editable wheel
(``poetry.core.masonry.api.build_editable``: the same ``.pth``, METADATA and
entry_points.txt, no module files) in ``/wheels/poetry-root``, and the final stage
installs it with pip, offline and without dependencies, beside the lock's wheels.  The
``.pth`` names the builder's folder, which is the final stage's: the COPY that brings
the project stays where it was, before the install.  Checked with Poetry 1.8.5 and
2.1.3 in scratch virtualenvs: Poetry's install and pip's install of that wheel both
import the package from the source folder and install the same console script; pip's
script is its own launcher (``#!.../python3``, ``sys.argv[0]`` cleaned), and the
dist-info has ``INSTALLER`` ``pip``, ``WHEEL``, ``REQUESTED`` and a direct_url.json
naming the wheel file (``archive_info``), not the folder.  Why not ``pip install -e .``
in the final stage: pip would build the project there with the newest poetry-core
``[build-system] requires`` allows (not Poetry's), which must come as a wheel, and pip
before 21.3 has no PEP 660 editable installs.

What must be known, or the split is refused: the stage's Poetry is 1.8 or later (its
poetry-core, 1.9 or later, has ``build_editable``: ``_poetry_at_least_1_8`` in
``poetry.py``); the project has no build script (``[tool.poetry.build]`` or ``build =``:
``build_code`` of ``managers.py``, as for ``uv sync``'s editable project), no script of
``type = "file"`` in ``[tool.poetry.scripts]``, and its packages are plain
``include``/``from`` entries (no ``to``, ``format`` or glob) whose files a COPY of the
build context put in the install's folder before it (else Poetry 1.8 only warns that the
project could not be installed, and the builder's wheel would fail); ``--only-root``
comes with no group option (``--only``, ``--with``, ``--without``, ``--all-groups``:
Poetry refuses them together) and no extras.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from dockfix.images.python_requirements import Reader
from dockfix.rules.build_tools_in_final_image.managers import build_code
from dockfix.rules.refusal import FixRefused
from dockfix.shell import PackageCommand

#: Where the builder puts the project's editable wheel (``-2``... for later installs).
ROOT_WHEELS = "/wheels/poetry-root"
#: ``poetry install`` options Poetry refuses beside ``--only-root``.
_GROUP_OPTIONS = ("--only", "--with", "--without", "--all-groups", "--no-root", "--no-dev")
_EXTRAS = ("-E", "--extras", "--all-extras")
_PLAIN = re.compile(r"[A-Za-z0-9_][\w.-]*(?:/[A-Za-z0-9_][\w.-]*)*")
#: The builder's build of the editable wheel (``python -c``: no ``$``, backquote or ``!``).
_BUILD = (
    "import os,sys;import poetry.core.masonry.api as a;d=sys.argv[1];"
    "hasattr(a,'build_editable') or sys.exit('the poetry-core of this Poetry has no "
    "build_editable');os.path.isdir(d) or os.makedirs(d);a.build_editable(d)"
)


def root_build_command(directory: str) -> str:
    """What the builder runs after the ``poetry install``: the project's editable wheel."""
    return f'python -c "{_BUILD}" {directory}'


def root_change(line: int) -> str:
    """The unsafe reason's part for the project's install (see the module's docstring)."""
    return (
        f"the project itself, which `poetry install` on line {line} installs editable with "
        "Poetry's own writer, is installed by pip from the editable wheel the builder's "
        "poetry-core (Poetry's own) builds: the same .pth naming its source folder, "
        "METADATA and console scripts, but the scripts are pip's launchers, and its "
        "dist-info says INSTALLER pip and, in direct_url.json, a wheel file under "
        "/wheels instead of the editable project folder (`pip freeze`, `pip list "
        "--editable` show it so)"
    )


def check_only_root(package: PackageCommand, named: str) -> None:
    """``--only-root`` alone: Poetry refuses it with a group option or ``--no-root``;
    extras are not checked."""
    for flag in (*_GROUP_OPTIONS, *_EXTRAS):
        if package.has_option(flag):
            what = (
                "Poetry refuses the two together"
                if flag not in _EXTRAS
                else "what it selects is not checked"
            )
            raise FixRefused(f"{named} has `--only-root` with `{flag}`: {what}")


def check_root_project(
    project: Mapping[str, Any], pyproject: str, read: Reader, named: str
) -> None:
    """The project's editable install is Poetry's ``.pth`` writer with no build step,
    and its packages are copied in from the build context (see the module's docstring)."""
    code = build_code(pyproject)
    if code is not None:
        raise FixRefused(
            f"{named} installs the project itself, whose build (`{code}`) runs a build "
            "script that may compile or write into its folder; split it by hand"
        )
    poetry = _table(_table(project, "tool"), "poetry")
    for name, script in _table(poetry, "scripts").items():  # ``[project.scripts]``: names
        if isinstance(script, Mapping) and script.get("type") == "file":
            raise FixRefused(
                f"the project of {named} has a file script (`{name}`), which Poetry's "
                "editable install and the builder's editable wheel are not known to "
                "install alike"
            )
    for module in _package_files(project, poetry, named):
        if not any(read(path) is not None for path in module):
            shown = module[0].removesuffix("/__init__.py")
            raise FixRefused(
                f"{named} installs the project itself, and its package `{shown}` "
                "is not known to be copied from the build context into the install's folder "
                "before it (Poetry 1.8 then warns and installs nothing; the builder's "
                "editable wheel would fail)"
            )


def _table(table: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = table.get(key, {})
    return value if isinstance(value, Mapping) else {}


def _package_files(
    project: Mapping[str, Any], poetry: Mapping[str, Any], named: str
) -> list[tuple[str, ...]]:
    """For each package of the project, the files one of which makes it there
    (poetry-core's ``Module``: ``packages``, else ``<module>`` or ``src/<module>``)."""
    packages = poetry.get("packages")
    if packages is None:
        name = _table(project, "project").get("name") or poetry.get("name")
        if not isinstance(name, str):
            raise FixRefused(f"the project of {named} has no name in pyproject.toml")
        module = re.sub(r"[-_.]+", "_", name).lower()
        return [
            (
                f"{module}/__init__.py",
                f"{module}.py",
                f"src/{module}/__init__.py",
                f"src/{module}.py",
            )
        ]
    found: list[tuple[str, ...]] = []
    for entry in packages if isinstance(packages, list) else [None]:
        include = entry.get("include") if isinstance(entry, Mapping) else None
        source = entry.get("from", ".") if isinstance(entry, Mapping) else None
        plain = isinstance(entry, Mapping) and set(entry) <= {"include", "from"}
        if not plain or not isinstance(include, str) or not isinstance(source, str):
            raise FixRefused(
                f"the project of {named} lists `packages` with more than a plain `include` "
                "and `from` (`to`, `format`): its editable install is not checked"
            )
        base = posixpath.normpath(posixpath.join(source, include))
        if not _PLAIN.fullmatch(include) or not _PLAIN.fullmatch(base) or base.startswith(".."):
            raise FixRefused(
                f"the package `{include}` of the project of {named} is a pattern or a path "
                "outside its folder, not read here"
            )
        files = (base,) if base.endswith(".py") else (f"{base}/__init__.py", f"{base}.py")
        found.append(files)
    return found
