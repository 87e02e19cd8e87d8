"""``pipenv install --system`` in DF202's split: the builder exports what Pipfile.lock pins.

pipenv installs the lock's pins with pip (``--no-deps``: the lock names every
dependency; ``do_install_dependencies`` in pipenv/routines/install.py), checking the
lock's hashes and skipping pins whose markers do not match; ``--deploy`` first aborts
when the lock is out of date with the Pipfile, ``--ignore-pipfile`` installs the lock as
it is, and a plain ``pipenv install`` may lock again when it is out of date (older
pipenv does even with ``--system``; newer pipenv continues with the stale lock).  The
split keeps all of that in the builder: it runs the stage's own ``pipenv install``
unchanged (its ``pip install pipenv`` too), then reads the Pipfile.lock that install
used and builds a wheel of every pin it selected (``default``, and ``develop`` with
``--dev``) with the stage's pip, checking the lock's hashes on download.  The final
stage keeps its ``pip install pipenv`` as it is and installs exactly those pins from
the wheels (``pip install --no-deps --no-index --find-links=/wheels -r
/wheels/pipenv.txt``), markers kept, in place of ``pipenv install``.  What differs, in
the unsafe reason: the final stage's install checks no hashes (its wheels were built
from archives the builder checked), and a lock the builder's pipenv wrote again stays
there.

Why not ``pipenv requirements``: it exists from pipenv 2022.4.8 only, writes markers
from 2022.7.4 only, and ``pipenv lock -r`` before it locks again instead of exporting
(pypa/pipenv#4959, CHANGELOG 2022.4.8 and 2022.7.4); the stage's ``pip install pipenv``
is often unpinned or older.  The builder reads the lock's JSON itself (``pipfile-spec``
6, the format since 2017) with Python 2.7 or 3, whatever pipenv the stage installs; a
lock edited later to hold an entry it cannot pin (VCS, path, several indexes) stops the
builder with that message rather than installing something else.

What must be known, or the split is refused: pipenv installs into the system Python
(``--system``; else into a virtualenv at a path derived from the project folder); the
base is an official python image with no PATH, VIRTUAL_ENV or PIPENV_ variable set by
the stage (nor an environment activated), so the ``pip`` (older pipenv) or ``python -m
pip`` (newer) pipenv runs is the one the final stage runs; pipenv comes from a ``pip
install pipenv`` of the stage; the Pipfile and Pipfile.lock are read from the build
context in the install's folder (no ``cd``); every pin the install selects is a
released version (no VCS, path, file, editable or ``no_binary`` entry, whose wheel
would not stand for it) from the lock's one index, and the Pipfile asks pipenv to
install nothing else (``[build-system]``, ``use_pylock``).  Only options that select
what the lock installs (``--system``, ``--deploy``, ``--dev``, ``--ignore-pipfile``) or
change only output and locking (``--verbose``, ``--clear``, ``--pre``...) are taken.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dockfix.images.python import is_full_python, is_python_image
from dockfix.images.python_requirements import Reader, image_reader
from dockfix.model import BuildContext, StageFacts
from dockfix.rules._shell import RunShell, run_shell
from dockfix.rules.build_tools_in_final_image.checks import Site
from dockfix.rules.build_tools_in_final_image.tool_env import (
    check_no_cd,
    check_not_activated,
    check_tool_variables,
)
from dockfix.rules.refusal import FixRefused
from dockfix.shell import Manager, PackageCommand
from dockfix.syntax import Instruction

#: ``pipenv install`` options that change neither what is installed nor where: the
#: builder runs the same command, so their effect on locking is the same.
_HARMLESS = frozenset(
    {"--verbose", "-v", "--quiet", "-q", "--clear", "--pre", "--keep-outdated", "--sequential"}
)
_SELECTING = frozenset({"--system", "--deploy", "--dev", "-d", "--ignore-pipfile"})
#: pipenv's variables that change nothing the split relies on (output, timeouts).
_QUIET_VARIABLES = frozenset(
    {
        *("PIPENV_VERBOSITY", "PIPENV_NOSPIN", "PIPENV_HIDE_EMOJIS", "PIPENV_COLORBLIND"),
        *("PIPENV_QUIET", "PIPENV_VERBOSE", "PIPENV_TIMEOUT", "PIPENV_INSTALL_TIMEOUT"),
        *("PIPENV_MAX_RETRIES", "PIPENV_CACHE_DIR", "PIPENV_YES", "PIPENV_NO_INHERIT"),
        *("PIPENV_VENV_IN_PROJECT", "PIPENV_IGNORE_VIRTUALENVS", "PIPENV_DONT_LOAD_ENV"),
    }
)
#: Lock entry keys of what is not a released version pip installs as it is (a VCS
#: checkout, a folder, a file; ``no_binary``: built from source, which pipenv 2025's
#: install passes to pip as ``--no-binary``).
_NOT_RELEASED = (
    *("git", "hg", "svn", "bzr", "path", "file", "editable", "ref", "subdirectory"),
    "no_binary",
)
#: Pipfile entries that are not a released version (``{git = ...}``, ``{path = "."}``),
#: and settings that install more or from elsewhere: ``[build-system] requires`` (which
#: newer pipenv installs first, unpinned, besides the lock), ``use_pylock`` (installs
#: from ``pylock.toml`` instead of Pipfile.lock), ``no_binary``.
_PIPFILE_LOCAL = re.compile(
    r"\b(git|hg|svn|bzr|path|file|editable|no_binary|use_pylock)\s*=|^\s*\[(build-system)\]",
    re.MULTILINE,
)
#: A tool pip installs beside pipenv, a version pinned or not.
_TOOL = re.compile(r"(pipenv|pip|setuptools|wheel)(?:\s*[=<>~!]=?\s*[0-9.]+)?")
#: Where the builder writes the pins the final stage installs (``-2``... for later ones).
PIPENV_LIST = "/wheels/pipenv"

#: The builder's export: argv ``dev|default``, the final list; reads ./Pipfile.lock, writes
#: the pins (markers kept, hashes for the builder's download), builds them with ``pip``.
#: Python 2.7 and 3; one line of a ``python -c`` (the layout of the library scan).
EXPORT = (
    "import json,os,subprocess,sys;",
    "a=sys.argv[1:];",
    "l=json.load(open('Pipfile.lock'));",
    "s=l.get('_meta',{}).get('sources',[]);",
    "len(s)>1 and sys.exit('Pipfile.lock names more than one package index');",
    "m={};",
    "[m.setdefault(n,v) for k in ['default']+['develop']*(a[0]=='dev')"
    " for n,v in sorted(l.get(k,{}).items())];",
    "b=[n for n,v in sorted(m.items()) if 'version' not in v or [x for x in "
    + repr(list(_NOT_RELEASED)).replace(" ", "")
    + " if x in v]];",
    "b and sys.exit('Pipfile.lock pins no released version of: '+', '.join(b));",
    "r=lambda n,v:n+('['+','.join(v['extras'])+']' if v.get('extras') else '')"
    "+v['version']+(' ; '+v['markers'] if v.get('markers') else '');",
    "i=''.join('--index-url '+os.path.expandvars(x['url'])+chr(10)+('' if x.get("
    "'verify_ssl',True) else '--trusted-host '+x['url'].split('//')[-1].split('/')[0]"
    ".split('@')[-1]+chr(10)) for x in s);",
    "os.path.isdir('/wheels') or os.makedirs('/wheels');",
    "open(a[1],'w').write(''.join(r(n,v)+chr(10) for n,v in sorted(m.items())));",
    "h=[r(n,v)+''.join(' --hash='+x for x in v['hashes']) for n,v in sorted(m.items())"
    " if v.get('hashes')];",
    "u=[r(n,v) for n,v in sorted(m.items()) if not v.get('hashes')];",
    "[open(f,'w').write(i+''.join(x+chr(10) for x in p)) for f,p in"
    " (('/tmp/pipenv-hashed.txt',h),('/tmp/pipenv-unhashed.txt',u))];",
    "[subprocess.check_call(['pip','wheel','--no-deps','--wheel-dir','/wheels','-r',f])"
    " for f,p in (('/tmp/pipenv-hashed.txt',h),('/tmp/pipenv-unhashed.txt',u)) if p]",
)


@dataclass(frozen=True)
class PipenvInstall:
    """A ``pipenv install --system`` the split serves: which sections it installs, the
    file of pins the builder writes for the final stage, what the lock names."""

    dev: bool
    pins: str
    names: tuple[str, ...]
    caveats: tuple[str, ...] = ()

    def builder_text(self) -> str:
        """What the builder runs right after the ``pipenv install``."""
        code = "".join(EXPORT)
        section = "dev" if self.dev else "default"
        return f'python -c "{code}" {section} {self.pins}'

    def final_text(self) -> str:
        """What the final stage runs in place of ``pipenv install``."""
        return f"pip install --no-deps --no-index --find-links=/wheels -r {self.pins}"


def pipenv_sites(
    facts: StageFacts,
    builds: list[tuple[Instruction, PackageCommand | None]],
    strategy: str,
    context: BuildContext,
) -> tuple[list[tuple[Instruction, PackageCommand | None]], list[Site]]:
    """The stage's ``pipenv install`` sites, and its other builds: without the ``pip
    install pipenv`` that serves them, which stays as it is in both stages (the builder
    runs pipenv; the final image keeps it, as the original did)."""
    if not any(is_pipenv(package) for _, package in builds):
        return builds, []
    if strategy != "wheels":
        raise FixRefused(
            "`pipenv install --system` is split only with the `wheels` strategy: a "
            "virtualenv on PATH would change the pip it runs"
        )
    others = [(i, p) for i, p in builds if not is_pipenv(p) and not is_pipenv_tool_install(p)]
    sites: list[Site] = []
    for instruction, package in builds:  # what pipenv does, first: the main reason
        if package is not None and is_pipenv(package):
            shell = run_shell(instruction)
            assert isinstance(shell, RunShell)
            read = image_reader(facts, instruction, context)
            install = pipenv_install(facts, shell, package, read, len(sites) + 1)
            sites.append(Site(shell, package, locked=install))
    tool = False  # a ``pip install pipenv`` ran before: the builder has pipenv too
    for instruction, package in builds:
        tool = tool or is_pipenv_tool_install(package)
        if package is not None and _names_pipenv(package) and not is_pipenv_tool_install(package):
            raise FixRefused(
                f"the pip install on line {instruction.line} installs pipenv with other "
                "packages, which the builder only builds: its `pipenv install` would have "
                "no pipenv"
            )
        if is_pipenv(package) and not tool:
            raise FixRefused(
                f"the pipenv of `pipenv install` on line {instruction.line} is not installed "
                "by a `pip install pipenv` of the stage before it, so the builder's is not "
                "known to be the same"
            )
    return others, sites


def _names_pipenv(package: PackageCommand) -> bool:
    """A pip install that names pipenv among its packages."""
    if package.manager is not Manager.PIP:
        return False
    return any(re.match(r"pipenv(?![\w.-])", word.value) for word in package.packages)


def is_pipenv(package: PackageCommand | None) -> bool:
    return package is not None and package.manager is Manager.PIPENV


def is_pipenv_tool_install(package: PackageCommand | None) -> bool:
    """``pip install pipenv`` (a version pinned or not; with pip, setuptools or wheel, as
    in ``pip install --upgrade pip pipenv``): tools, not requirements.  It runs as it is
    in both stages."""
    if package is None or package.manager is not Manager.PIP or package.action != "install":
        return False
    names = [word.value for word in package.packages]
    tools = [_TOOL.fullmatch(name) for name in names]
    return (
        not package.requirement_files
        and all(tools)
        and any(match is not None and match.group(1) == "pipenv" for match in tools)
    )


def pipenv_install(
    facts: StageFacts,
    shell: RunShell,
    package: PackageCommand,
    read: Reader,
    count: int,
    *,
    virtualenv: bool = False,
) -> PipenvInstall:
    """The install as the split serves it, or FixRefused with what is not known.

    ``virtualenv``: the install is into the virtualenv pipenv makes, which the final
    stage copies (see ``pipenv_venv.py``); the checks of the base, the variables, the
    folder and the Pipfile and its lock are those of ``--system``."""
    line = shell.instruction.line
    named = f"`pipenv {package.action}` on line {line}"
    if package.action != "install":
        system = "" if virtualenv else " --system"
        raise FixRefused(f"{named}: only `pipenv install{system}` is split")
    if not any(item is package.command for item in shell.script.body.items):
        raise FixRefused(f"{named} is inside a pipeline, group or condition")
    for option in package.parsed_options:
        unknown = {option.flag, *option.names} - _HARMLESS - _SELECTING
        if unknown:
            raise FixRefused(
                f"`pipenv install {min(unknown)}` on line {line} changes what is installed "
                "or where; split it by hand"
            )
    if package.packages:
        raise FixRefused(
            f"{named} adds `{package.packages[0].text}` to the Pipfile and locks again; "
            "split it by hand"
        )
    if not virtualenv and not package.has_option("--system"):
        raise FixRefused(
            f"{named} installs into a virtualenv pipenv makes (no --system), whose "
            "folder is not known; split it by hand"
        )
    _check_base(facts, shell, line, virtualenv)
    check_no_cd(shell, package, line, "pipenv", "Pipfile")
    pipfile = read("Pipfile")
    lock = read("Pipfile.lock")
    if pipfile is None or lock is None:
        missing = "Pipfile" if pipfile is None else "Pipfile.lock"
        raise FixRefused(
            f"the {missing} of {named} could not be read (no build context, or no COPY "
            "brings it into the install's folder): whether it pins only released "
            f"versions{'' if virtualenv else ' from one index'} is not known"
        )
    local = _PIPFILE_LOCAL.search(pipfile)
    if local is not None:
        raise FixRefused(
            f"the Pipfile of {named} has `{local.group(1) or local.group(2)}`: it installs "
            "something other than released versions of Pipfile.lock, which the builder's "
            "wheels would not stand for"
        )
    dev = package.has_option("--dev", "-d")
    names = _locked_names(lock, dev, named, one_index=not virtualenv)
    caveats = [
        "the final stage installs the pins of Pipfile.lock without pipenv's hash "
        f"check (the builder checks them when it downloads, for {named})"
    ]
    if virtualenv:
        caveats = [
            f"the virtualenv is the one the builder's pipenv made for {named} (its "
            "bin/python links to the base image's Python, which the final image has), "
            "and pipenv's cache (~/.cache/pipenv) stays in the builder"
        ]
    if not package.has_option("--deploy", "--ignore-pipfile"):
        if is_full_python(facts.image or facts.stage.image):
            raise FixRefused(
                f"{named} (no --deploy or --ignore-pipfile) may lock again when "
                "Pipfile.lock is out of date: on the full image, a package of that lock may need a "
                "library or program -slim lacks, and it is not read"
            )
        what = "has what it installed" if virtualenv else "installs what it pinned"
        caveats.append(
            f"{named} (no --deploy or --ignore-pipfile) may lock again when Pipfile.lock "
            "is out of date with the Pipfile (older pipenv does, even with --system): the "
            "lock it writes stays in the builder (the final image keeps the build "
            f"context's), and the final stage {what}"
        )
    pins = f"{PIPENV_LIST}.txt" if count == 1 else f"{PIPENV_LIST}-{count}.txt"
    return PipenvInstall(dev, pins, tuple(names), tuple(caveats))


def _check_base(facts: StageFacts, shell: RunShell, line: int, virtualenv: bool) -> None:
    """The pip pipenv runs (``pip`` on PATH before 2022, ``python -m pip`` since) is the
    official image's, the same one the final stage's ``pip install`` runs; in a
    virtualenv, the Python it links to is the official image's, which ``-slim`` has."""
    image = facts.image or facts.stage.image
    if image.has_variables or not is_python_image(image):
        if virtualenv:
            raise FixRefused(
                f"`pipenv install` on line {line} is split only on the official python "
                "images: on this base, which Python its virtualenv links to (and whether "
                "the final stage has it) is not known"
            )
        raise FixRefused(
            f"`pipenv install --system` on line {line} is split only on the official "
            "python images: on this base, which pip it runs (`pip` on PATH for older "
            "pipenv, `python -m pip` for newer) is not known"
        )
    step = facts.at(shell.instruction)
    names = ("PATH", "VIRTUAL_ENV", "PIPENV_PIPFILE", "PIPENV_PYPI_MIRROR")
    for name in names[1:] if virtualenv else names:  # PATH: see pipenv_venv
        if step.defines(name) or re.search(rf"(?<![\w$]){name}=", shell.instruction.text):
            raise FixRefused(
                f"{name} is set for `pipenv install` on line {line}: which pip it runs, "
                "or which lock it reads, is not known"
            )
    check_tool_variables(step, "PIPENV_", _QUIET_VARIABLES, f"`pipenv install` on line {line}")
    check_not_activated(
        shell, line, "`pipenv install --system`", "whose pip is not the one the final stage runs"
    )
    if re.search(r"\bPIPENV_\w+=", shell.instruction.text):
        raise FixRefused(f"the RUN on line {line} sets a PIPENV_ variable for `pipenv install`")


def _locked_names(lock: str, dev: bool, named: str, one_index: bool = True) -> list[str]:
    """The pins the install selects, checked: released versions (from one index, for
    the wheels of ``--system``: a virtualenv keeps what pipenv installed from each)."""
    try:
        data = json.loads(lock)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise FixRefused(f"the Pipfile.lock of {named} is not a JSON object")
    meta = data.get("_meta")
    sources = meta.get("sources") if isinstance(meta, dict) else None
    if not isinstance(sources, list) or (one_index and len(sources) != 1):
        raise FixRefused(
            f"the Pipfile.lock of {named} does not name exactly one package index: pipenv "
            "may restrict a package to one of several, pip's --extra-index-url does not"
        )
    names: list[str] = []
    for section in ("default", "develop") if dev else ("default",):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise FixRefused(f"the Pipfile.lock of {named} has no `{section}` table")
        for name, entry in sorted(entries.items()):
            if not isinstance(entry, dict) or not isinstance(entry.get("version"), str):
                what = "not a released version"
            else:
                kinds = [key for key in _NOT_RELEASED if key in entry]
                what = f"a `{kinds[0]}` entry" if kinds else ""
            if what:
                why = (
                    "a wheel the builder builds of it would not stand for it"
                    if one_index
                    else "its files may be outside the virtualenv (a checkout, a local "
                    "folder), which is all the final stage copies"
                )
                raise FixRefused(f"Pipfile.lock pins `{name}` for {named} as {what}: {why}")
            names.append(re.sub(r"[-_.]+", "-", name).lower())
    return names
