"""Project installs for DF202: ``pip install .`` (or a local directory or sdist) split.

Why a module: a project's own wheel has a file name that the Dockerfile does not say
(the name and version are in its ``pyproject.toml``/``setup.py``), so the final stage
cannot name it as it names a requirement.  The builder therefore builds the project's
wheel alone into a directory of its own, and the wheels of everything it needs into
``/wheels`` as for any requirement::

    pip wheel --no-deps --wheel-dir /wheels/project . && \
    cp /wheels/project/*.whl /wheels/ && \
    pip wheel --wheel-dir /wheels -r requirements.txt /wheels/project/*.whl

and the final stage installs the wheels that directory holds, by the shell's glob
(``/wheels`` is mounted there)::

    pip install --no-index --find-links=/wheels -r requirements.txt /wheels/project/*.whl

The project wheel is built as ``pip install .`` builds it (same options, same build
isolation, the same source: the builder repeats the stage's COPY).  The ``cp`` puts it
where the builder's library scan unpacks wheels (whether ``pip wheel`` copies a wheel
file it is given there depends on the pip version: ``cp`` does not rely on it).
URLs pip builds (``git+https://...``, an sdist's address) go the same way: their wheel's
file name is not known either, and the builder, which keeps ``git``, fetches them.
``python setup.py install`` becomes the same build of ``.`` (``python -m pip``, where
that pip is known to be there).  A project with extras (``.[server]``) is installed
as ``"$(echo /wheels/project/*.whl)[server]"``: ``/wheels/project/*.whl[server]`` would
be a glob with a bracket expression, and pip takes extras after a wheel's path; the
site's directory then holds that one wheel (extras beside other projects are refused).
A URL with extras is refused.
An editable install (``-e .``, ``python setup.py develop``) becomes an install of the
project's built wheel, as ``pip install .`` does.  Why not keep ``-e`` in the final
stage with the dependencies from ``/wheels``: an editable install builds the project
there, so the final stage would need its build backend (as wheels the builder does not
make without reading ``pyproject.toml``) and, for C extensions, the compilers the split
removes.  The finding's reason says what changes: the modules import from
site-packages, so edits to the source (a mounted volume) no longer take effect, files
beside the modules that the package data does not declare are missing, and where the
source folder comes first on the module path (the working directory) the files an
editable build makes in place (compiled extensions, a generated version file) are not
there.  Refused: a VCS editable (``-e git+https://...``: pip keeps its checkout in the
image), a variable, a folder a later COPY writes into (the dependency-caching
``COPY setup.py .`` + ``pip install -e .`` + ``COPY . .``: the wheel would miss the
later files), a folder no COPY of the stage brings (a clone, a mount, the base image,
or a ``cd`` to a path not known), and the ``venv`` strategy (the copied virtualenv
would point at the builder's source folder).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dockfix.rules._hygiene import and_chain
from dockfix.rules._shell import RunShell
from dockfix.rules.build_tools_in_final_image.wrappers import top_item
from dockfix.rules.refusal import FixRefused
from dockfix.shell import (
    Node,
    PackageCommand,
    SimpleCommand,
    Subshell,
    Word,
    iter_simple_commands,
)

#: Where the builder puts the project's own wheels (inside the mounted ``/wheels``).
PROJECT_WHEELS = "/wheels/project"
#: A local directory or source archive as pip takes it: ``.``, ``./src``, ``/app/``,
#: ``dist/pkg-1.0.tar.gz`` (a relative path with a ``/``, so not a requirement name).
_LOCAL = re.compile(r"(?:\.{1,2}|\.{0,2}/[\w.@+/-]*|[\w.@+-]+/[\w.@+/-]*)")
_EXTRAS = re.compile(r"(?:\.{1,2}|\.{0,2}/[\w.@+/-]*|[\w.@+-]+/[\w.@+/-]*)\[[^\]]*\]")
#: Options that name requirements (the project build takes none of them).
_REQUIREMENT_OPTIONS = frozenset(
    {"-r", "--requirement", "--requirements", "-c", "--constraint", "--constraints"}
)


#: A URL pip fetches and builds: a VCS link (``git+https://...@v1#egg=x``) or an archive.
_URL = re.compile(r"(?:(?:git|hg|svn|bzr)\+)?(?:https?|file|ssh|git)://[^\s\[\];]+")


def is_local_project(value: str) -> bool:
    """True for a literal local path or URL pip builds from source (not a wheel file,
    not a requirement name): its wheel's file name is not known, so it goes through
    ``/wheels/project`` like the project itself."""
    local = bool(_LOCAL.fullmatch(value)) and not value.endswith(".whl")
    return local or bool(_URL.fullmatch(value))


def is_local_wheel(value: str) -> bool:
    """A wheel file of the image (``/tmp/pkg-1.0-py3-none-any.whl``, ``dist/pkg*.whl``):
    the final stage installs it as the original does (the steps that put it there stay),
    with what it needs from ``/wheels``; the builder's ``pip wheel`` builds those."""
    return value.endswith(".whl") and "://" not in value and not value.startswith("-")


def project_words(package: PackageCommand, line: int) -> tuple[Word, ...]:
    """The words of a pip install that name local projects (directories, sdists)."""
    found = []
    for word in package.packages:
        if not word.is_literal:
            continue
        if "://" in word.value and "[" in word.value.split("#", 1)[-1]:
            raise FixRefused(
                f"`{word.text}` on line {line} installs a URL with extras: the final "
                "stage names the project's wheel by file, which takes no extras"
            )
        if _EXTRAS.fullmatch(word.value):
            found.append(_with_extras(word, line))
        elif is_local_project(word.value):
            found.append(word)
    return tuple(found)


#: Extras as the final stage can write them inside double quotes.
_PLAIN_EXTRAS = re.compile(r"\[[A-Za-z0-9._,-]*\]")


def _with_extras(word: Word, line: int) -> Word:
    """A local project with extras (``.[server]``), whose extras are plain names."""
    extras = word.value[word.value.index("[") :]
    if not _PLAIN_EXTRAS.fullmatch(extras):
        raise FixRefused(f"the extras of `{word.text}` on line {line} are not plain names")
    return word


def check_extras(projects: tuple[Word, ...], line: int) -> None:
    """A project with extras is installed as ``"$(echo DIR/*.whl)[extras]"``: the
    directory must hold that one wheel, so the install builds no other project."""
    if len(projects) > 1 and any(_EXTRAS.fullmatch(word.value) for word in projects):
        raise FixRefused(
            f"the pip install on line {line} installs a project with extras beside other "
            "projects: their wheels share a directory, so the extras' wheel is not named"
        )


def _project_glob(glob: str, project: Word) -> str:
    """How the install names the built wheel: the glob, or for a project with extras
    (``.[server]``) ``"$(echo /wheels/project/*.whl)[server]"`` (pip takes extras after
    a wheel's path; a glob followed by ``[...]`` would be a bracket expression)."""
    if not _EXTRAS.fullmatch(project.value):
        return glob
    return f'"$(echo {glob}){project.value[project.value.index("[") :]}"'


_EDITABLE = frozenset({"-e", "--editable"})
_VCS = re.compile(r"(?:git|hg|svn|bzr)\+|[A-Za-z][\w+.-]*://")


def editable_words(package: PackageCommand, line: int) -> tuple[Word, ...]:
    """``-e PATH`` options as project words spanning the whole option (flag and value),
    whose ``text`` is the path: the split installs the project's built wheel in their
    place (see the module's docstring), or FixRefused."""
    found = []
    for option in package.parsed_options:
        if not {option.flag, *option.names} & _EDITABLE:
            continue
        value = option.value
        if value is None or len(option.names) > 1:
            raise FixRefused(
                f"the editable install `{option.word.text}` on line {line} is an option "
                "cluster or has no project"
            )
        if not value.is_literal:
            raise FixRefused(f"the editable project `{value.text}` on line {line} is a variable")
        if _VCS.match(value.value):
            raise FixRefused(
                f"`{option.flag} {value.text}` on line {line} is a VCS checkout: pip keeps "
                "its source in the image (`src/`), which a built wheel does not replace"
            )
        if _EXTRAS.fullmatch(value.value):
            _with_extras(value, line)
        elif not _LOCAL.fullmatch(value.value) or value.value.endswith(".whl"):
            raise FixRefused(f"`{option.flag} {value.text}` on line {line} is no project folder")
        found.append(Word(value.text, option.word.start, value.end))
    return tuple(found)


def editable_change(site_line: int, what: str) -> str:
    """The unsafe reason's part for an editable install made a wheel install."""
    return (
        f"{what} on line {site_line} becomes an install of the project's built wheel: its "
        "modules import from site-packages, not from its source folder, so edits to the "
        "source (a mounted volume) no longer take effect and files beside the modules "
        "that its package data does not declare are missing, and where the source folder "
        "comes first on the module path (the working directory), files an editable build "
        "makes there (compiled extensions, a generated version file) are not made"
    )


def check_editable_source(line: int, shown: bool) -> None:
    """The editable project must be a folder the stage copies in (``shown``): what runs
    from it then stays in the final stage as it was."""
    if not shown:
        raise FixRefused(
            f"the editable install on line {line} is of a folder that no COPY of the stage "
            "is known to bring (a clone, a mount, the base image, or a `cd` to a path not "
            "known): what runs from it is not known"
        )


def runs_in_sequence(
    shell: RunShell, command: SimpleCommand, *, through_subshell: bool = False
) -> bool:
    """The command is a top-level item of its RUN after ``&&``, ``;`` or a new line (or
    first), and not sent to the background: a chain ``a && b && c`` written in its place
    then runs exactly when it did (``x || a && b`` would run ``b`` after ``x``), and ends
    the same and-or list, so what follows (``&&``, ``;``, ``||``) sees its status as it
    saw the command's (``&&`` binds tighter than ``;``; POSIX sh, "Lists").

    ``through_subshell``: the command may also be the last of a ``( cd dir && ... )``
    that stands so (``wrappers.top_item``): inside, the chain runs after the ``cd``s
    exactly when the command did, and the subshell's status is its last command's.
    """
    body = shell.script.body
    wrapper = top_item(shell.script, command) if through_subshell else None
    item: Node = wrapper if isinstance(wrapper, Subshell) else command
    index = next((i for i, node in enumerate(body.items) if node is item), None)
    if index is None or command.background:
        return False
    before = body.operators[index - 1].text if index > 0 else "&&"
    after = body.operators[index].text if index < len(body.operators) else ";"
    return before in ("&&", ";", "\n") and after != "&"


def check_project_site(shell: RunShell, package: PackageCommand, strategy: str) -> None:
    """The builder puts a ``pip wheel --no-deps`` of the project before the install with
    ``&&``: only where that runs exactly when the install did (``runs_in_sequence``)."""
    command = package.command
    if strategy == "wheels" and not runs_in_sequence(shell, command, through_subshell=True):
        raise FixRefused(
            f"the RUN on line {shell.instruction.line} installs a local project after `||`, "
            "in the background, or inside a pipeline, group or subshell other than "
            "`( cd dir && pip install ... )`, so its wheel cannot be built first"
        )


def project_spans(
    shell: RunShell,
    package: PackageCommand,
    projects: tuple[Word, ...],
    directory: str = PROJECT_WHEELS,
    builder_drops: frozenset[str] | None = None,
) -> list[tuple[int, int, str]]:
    """Spans of the final stage's install (or the builder's, which drops the options
    ``builder_drops``): the project words become the glob of the built project wheels;
    the builder first builds them."""
    glob = f"{directory}/*.whl"
    # The builder's ``pip wheel`` ignores what is installed: ``--find-links`` lets it
    # find the wheels built before (a local project this one needs, not on the index).
    wheel = _project_glob(glob, projects[0])
    named = wheel if builder_drops is None else f"--find-links=/wheels {wheel}"
    spans = [(projects[0].start, projects[0].end, named)]
    spans += [(word.start, word.end, "") for word in projects[1:]]
    spans = [_with_blank(shell, span) if span[2] == "" else span for span in spans]
    if builder_drops is not None:
        start = package.command.start
        build = _project_wheel(shell, package, projects, builder_drops, directory)
        spans.append((start, start, f"{build} && cp {glob} /wheels/ && "))
    return spans


def _with_blank(shell: RunShell, span: tuple[int, int, str]) -> tuple[int, int, str]:
    """A deleted word takes the blank before it."""
    start = span[0]
    text = shell.script.text
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return (start, span[1], "")


def _project_wheel(
    shell: RunShell,
    package: PackageCommand,
    projects: tuple[Word, ...],
    drops: frozenset[str],
    directory: str,
) -> str:
    """``pip wheel --no-deps --wheel-dir /wheels/project OPTIONS PROJECTS``: the install's
    own assignments, program and options (index, cache, build options), no requirements."""
    text = shell.script.text
    subcommand = package.subcommand_word
    assert subcommand is not None
    head = text[package.command.start : subcommand.start]
    options = [
        text[word.start : word.end]
        for option in package.parsed_options
        if not {option.flag, *option.names} & (drops | _REQUIREMENT_OPTIONS | _EDITABLE)
        for word in option.words
    ]
    words = [f"wheel --no-deps --wheel-dir {directory}", *options]
    words += [word.text for word in projects]  # an editable's word is its path
    return head + " ".join(words)


#: ``python setup.py install``, as the split takes it: that exact command (assignments
#: before it allowed), nothing more, so the project is the current directory.
_SETUP_PYTHON = re.compile(r"python(?:[23](?:\.\d+)?)?")
#: ``setup.py`` commands that install the project: ``develop`` is the editable install.
_SETUP_ACTIONS = frozenset({"install", "develop"})
#: Other ``setup.py`` commands, and why the split does not take them.
_SETUP_OTHERS = {
    "build": "builds in place for a later step, which the final stage could not repeat",
    "build_ext": "builds extensions in place, which the final stage could not repeat",
    "sdist": "makes an archive a later step uses",
    "bdist_wheel": "makes a wheel a later step uses",
    "bdist_egg": "makes an egg a later step uses",
}


def _setup_refusal(line: int, words: list[str], runs: Sequence[SimpleCommand] = ()) -> str:
    """Why the RUN's setup.py run is not split, as precisely as its words say."""
    if not words:
        said = ", ".join(f"`{' '.join(w.value for w in run.words[:3])}`" for run in runs[:3])
        return (
            f"the RUN on line {line} runs setup.py {len(runs)} times ({said}): the split "
            "builds one project per RUN (one wheel folder, one install in its place)"
        )
    command = " ".join(words[:2])
    if not _SETUP_PYTHON.fullmatch(words[0]):
        return f"`{command}` on line {line} runs setup.py with a Python not known by name"
    action = words[2] if len(words) > 2 else ""
    if action in _SETUP_OTHERS:
        return f"`{command} {action}` on line {line} {_SETUP_OTHERS[action]}"
    if action in _SETUP_ACTIONS:
        options = " ".join(words[3:])
        return (
            f"`{command} {action}` on line {line} has options (`{options}`) that pip's "
            "build of the project would not pass"
        )
    return f"`{command} {action}` on line {line} is no install; only installs are split"


def setup_install(shell: RunShell) -> tuple[SimpleCommand, SimpleCommand | None]:
    """The RUN's ``python setup.py install`` (or ``develop``), or FixRefused: it becomes
    a pip build of the project's wheel (``pip wheel --no-deps .``, as for ``pip install
    .``).  With it, the ``python setup.py build`` (or ``build_ext``) just before it, if
    any: it only prepares that install, which the builder's build replaces, so the final
    stage drops it."""
    line = shell.instruction.line
    found = [
        command
        for command in iter_simple_commands(shell.script)
        if len(command.words) > 1 and command.words[1].value == "setup.py"
    ]
    prebuild = _prebuild(shell, found)
    if prebuild is not None:
        found.remove(prebuild)
    words = [word.value for word in found[0].words] if len(found) == 1 else []
    if len(words) != 3 or not _SETUP_PYTHON.fullmatch(words[0]) or words[2] not in _SETUP_ACTIONS:
        raise FixRefused(_setup_refusal(line, words, found))
    if not all(word.is_literal for word in found[0].words):
        raise FixRefused(f"the setup.py {words[2]} on line {line} is not literal")
    if not runs_in_sequence(shell, found[0]):
        raise FixRefused(
            f"the setup.py {words[2]} on line {line} runs after `||`, in the background "
            "or inside a pipeline, group or condition: the build of its wheel put in its "
            "place would not run exactly when it did"
        )
    return found[0], prebuild


#: ``setup.py`` commands that only prepare the install that follows them.
_PREBUILDS = frozenset({"build", "build_ext"})


def _prebuild(shell: RunShell, found: list[SimpleCommand]) -> SimpleCommand | None:
    """``PY setup.py build && PY setup.py install``: the build, when it is the item just
    before the install in the RUN's ``&&`` chain, by the same Python, with no options
    (``build_ext --inplace`` builds into the source folder, which the final stage keeps)."""
    if len(found) != 2:
        return None
    build, install = ([word.value for word in command.words] for command in found)
    if build[2:] not in ([name] for name in _PREBUILDS) or build[0] != install[0]:
        return None
    items = list(shell.script.body.items)
    adjacent = [i for i, item in enumerate(items) if item is found[0] or item is found[1]]
    chained = and_chain(shell.script) is not None and len(adjacent) == 2
    if not chained or adjacent[1] != adjacent[0] + 1:
        return None
    return found[0]


def is_setup_develop(command: SimpleCommand) -> bool:
    """``python setup.py develop``: the editable install of the project."""
    return command.words[2].value == "develop"


def pip_pythons(packages: list[PackageCommand | None]) -> set[str]:
    """The Pythons whose pip the stage's pip installs run: ``pip3.11`` and ``python3.11 -m
    pip`` name ``python3.11``; a bare ``pip`` names none (whose it is is not known)."""
    found = set()
    for package in packages:
        if package is None or not package.program_words:
            continue
        words = [word.value for word in package.program_words]
        if words[1:] == ["-m", "pip"] and _SETUP_PYTHON.fullmatch(words[0]):
            found.add(words[0])
        elif len(words) == 1 and re.fullmatch(r"pip[23](\.\d+)?", words[0]):
            found.add("python" + words[0][3:])
    return found


def get_pip_pythons(shell: RunShell, before: SimpleCommand, earlier: list[RunShell]) -> set[str]:
    """The Pythons that ran pip's installer before ``before`` (in ``earlier`` RUNs, or
    in ``shell`` ahead of it): ``python3.6 get-pip.py``, or ``curl .../get-pip.py |
    python3.6`` (the installer read from standard input)."""
    found = set()
    for run in [*earlier, shell]:
        text = run.script.text
        if "get-pip.py" not in text:
            continue
        for command in iter_simple_commands(run.script):
            if run is shell and command.end > before.start:
                break
            words = [word.value for word in command.words]
            if not words or not _SETUP_PYTHON.fullmatch(words[0]):
                continue
            runs_file = any(word.rsplit("/", 1)[-1] == "get-pip.py" for word in words[1:])
            if runs_file or words[1:] in ([], ["-"]):
                found.add(words[0])
    return found


def check_setup_python(
    command: SimpleCommand,
    line: int,
    python_image: bool,
    wheel: tuple[str, ...],
    pythons: set[str],
) -> None:
    """``python -m pip`` must be there for the Python that ran setup.py: the official
    image's ``python``/``python3``, a system Python whose pip the stage installs (the
    builder adds its ``wheel`` package then: ``wheel`` lists those), or one whose pip
    another install of the stage runs (``pythons``: the builder runs it as ``pip
    wheel`` too)."""
    python = command.words[0].value
    if (python_image and python in ("python", "python3")) or python in pythons:
        return
    if python == "python3" and "python3-wheel" in wheel:
        return
    if python in ("python", "python2") and "python-wheel" in wheel:
        return
    raise FixRefused(
        f"`{python} setup.py {command.words[2].value}` on line {line}: the stage installs "
        f"no pip known to run as `{python} -m pip`"
    )


def setup_spans(
    command: SimpleCommand, *, builder: bool, directory: str = PROJECT_WHEELS
) -> tuple[int, int, str]:
    """``python setup.py install`` as the builder's project build or the final install."""
    head = " ".join(word.text for word in command.assignments)
    pip = f"{head + ' ' if head else ''}{command.words[0].text} -m pip"
    if builder:
        text = (
            f"{pip} wheel --no-deps --wheel-dir {directory} . && "
            f"cp {directory}/*.whl /wheels/ && "
            f"{pip} wheel --wheel-dir /wheels --find-links=/wheels {directory}/*.whl"
        )
    else:
        text = f"{pip} install --no-index --find-links=/wheels {directory}/*.whl"
    return (command.start, command.end, text)
