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
that pip is known to be there).  Extras (``.[server]``) are not split:
``/wheels/project/*.whl[server]`` is no glob.
An editable install (``-e .``) is not split either: it points into the source tree
and builds its extensions there, which the builder cannot hand over.
"""

from __future__ import annotations

import re

from dockfix.rules._hygiene import and_chain
from dockfix.rules._shell import RunShell
from dockfix.rules.refusal import FixRefused
from dockfix.shell import PackageCommand, SimpleCommand, Word, iter_simple_commands

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


def project_words(package: PackageCommand, line: int) -> tuple[Word, ...]:
    """The words of a pip install that name local projects (directories, sdists)."""
    found = []
    for word in package.packages:
        if not word.is_literal:
            continue
        if _EXTRAS.fullmatch(word.value) or (
            "://" in word.value and "[" in word.value.split("#", 1)[-1]
        ):
            raise FixRefused(
                f"`{word.text}` on line {line} installs the project with extras: the final "
                "stage names the project's wheel by file, which takes no extras"
            )
        if is_local_project(word.value):
            found.append(word)
    return tuple(found)


def check_project_site(shell: RunShell, package: PackageCommand, strategy: str) -> None:
    """The builder puts a ``pip wheel --no-deps`` of the project before the install with
    ``&&``: only where that runs exactly when the install did (an ``&&`` chain)."""
    if strategy == "wheels" and and_chain(shell.script) is None:
        raise FixRefused(
            f"the RUN on line {shell.instruction.line} installs a local project and is not "
            "a plain && chain, so its wheel cannot be built first"
        )
    del package


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
    named = glob if builder_drops is None else f"--find-links=/wheels {glob}"
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
        if not {option.flag, *option.names} & (drops | _REQUIREMENT_OPTIONS)
        for word in option.words
    ]
    words = [f"wheel --no-deps --wheel-dir {directory}", *options]
    words += [text[word.start : word.end] for word in projects]
    return head + " ".join(words)


#: ``python setup.py install``, as the split takes it: that exact command (assignments
#: before it allowed), nothing more, so the project is the current directory.
_SETUP_PYTHON = re.compile(r"python(?:[23](?:\.\d+)?)?")


def setup_install(shell: RunShell) -> SimpleCommand:
    """The RUN's ``python setup.py install``, or FixRefused: it becomes a pip build of the
    project's wheel (``pip wheel --no-deps .``, as for ``pip install .``)."""
    line = shell.instruction.line
    found = [
        command
        for command in iter_simple_commands(shell.script)
        if len(command.words) > 1 and command.words[1].value == "setup.py"
    ]
    words = [word.value for word in found[0].words] if len(found) == 1 else []
    if len(words) != 3 or not _SETUP_PYTHON.fullmatch(words[0]) or words[2] != "install":
        raise FixRefused(
            f"the RUN on line {line} runs setup.py other than as `python setup.py install`; "
            "only pip installs are split"
        )
    if not all(word.is_literal for word in found[0].words):
        raise FixRefused(f"the setup.py install on line {line} is not literal")
    if and_chain(shell.script) is None or not any(
        item is found[0] for item in shell.script.body.items
    ):
        raise FixRefused(
            f"the RUN on line {line} runs setup.py install and is not a plain && chain"
        )
    return found[0]


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
        f"`{python} setup.py install` on line {line}: the stage installs "
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
