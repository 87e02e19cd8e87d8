"""Whether the container's process writes where it runs, for images with no ``WORKDIR``.

Without a ``WORKDIR`` the process runs in ``/``, which root owns and the new user cannot
write to; a ``WORKDIR`` cannot be added without changing what relative paths mean.  The
user can still take over when the command is known not to write there: a program that
writes nothing (``sleep``, ``python -m http.server``), or an application server that
writes no file of its own unless told to (gunicorn, uvicorn, ...) and is told no
relative log, pid or socket file.  An entrypoint script read from the build context
that runs only ``echo``-like commands before ``exec "$@"`` hands over to the command.
A program known to write there (``redis-server``, Jupyter, a relative log file) or to
change user itself makes DF201 refuse; any other command is unknown (an entrypoint
script that runs ``manage.py migrate`` is named as such), and DF201's fix is offered
with a reason saying that relative writes would fail.
"""

from __future__ import annotations

import posixpath

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass
from dockfix.rules._shell import parse_text
from dockfix.rules.runs_as_root.image import Folders, Image, candidates, origin_at
from dockfix.rules.runs_as_root.policy import APP_TOOLS, SHELLS
from dockfix.rules.runs_as_root.process import process_words
from dockfix.shell import SimpleCommand, command_words, iter_simple_commands

#: Programs that write no file at all (their output goes to stdout).
_SILENT = "sleep echo printf true pwd date printenv id whoami cat tail"
SILENT = frozenset(_SILENT.split())
#: Python modules run with ``-m`` that write no file (static file servers).
SILENT_MODULES = frozenset({"http.server", "SimpleHTTPServer"})
#: Application servers that write no file unless an option names one.
_SERVERS = "gunicorn uvicorn hypercorn daphne waitress-serve granian"
SERVERS = frozenset(_SERVERS.split())
#: Their options that name a file they write (a log, a pid file, a socket).
_FILE_OPTIONS = """--log-file --error-logfile --access-logfile --error-log --access-log
--pid -p --worker-tmp-dir --uds --unix-socket -u --log-path"""
FILE_OPTIONS = frozenset(_FILE_OPTIONS.split())
#: Options that hand the settings, or the working directory, to something unread.
OPAQUE_OPTIONS = frozenset({"-c", "--config", "--chdir", "--log-config", "--paste"})
#: Programs known to write into their working directory by default.
WRITERS = {
    "redis-server": "`redis-server` saves `dump.rdb` in its working directory",
    "jupyter": "Jupyter saves notebooks in its working directory",
    "jupyter-notebook": "Jupyter saves notebooks in its working directory",
    "jupyter-lab": "Jupyter saves notebooks in its working directory",
}
#: Commands an entrypoint script may run before ``exec "$@"`` and still write nothing.
SCRIPT_HARMLESS = frozenset({"set", "echo", "printf", "true", ":", "export", "test", "["})
PYTHON = lazy_re.compile(r"python(\d+(\.\d+)*)?")
_SHELL_SYNTAX = lazy_re.compile(r"[;&|<>`]|\$\(")
_TOKEN = lazy_re.compile(r"[^\s;&|'\"`()]+")


@dataclass(frozen=True)
class CwdUse:
    """What is known about the process writing in its working directory ``/``."""

    #: False: shown not to write there; True: shown to write there; None: unknown.
    writes: bool | None
    why: str
    #: The program writes no file at all: its arguments name only what it reads.
    silent: bool = False
    #: The program, as named in the reason ("" when the command cannot be read).
    program: str = ""


def cwd_use(image: Image, folders: Folders) -> CwdUse:
    """Whether the command writes in ``/``, and why that is known (or not)."""
    words = process_words(image)
    if not words or any(_SHELL_SYNTAX.search(word) for word in words):
        named = _writer_named(image)
        if named is not None:
            return CwdUse(True, WRITERS[named], program=named)
        return CwdUse(None, "what the command writes there cannot be told")
    commands = _script_commands(image, folders, words[0])
    step = _app_step_in(commands or [])
    if step is not None:
        # Where it writes depends on settings the Dockerfile does not show (a database
        # server, or a SQLite file next to the code): a risk the reason names.
        why = f"`{words[0]}` runs `{step}`, which fails if it writes next to the code"
        why += " (a SQLite database), owned by root"
        return CwdUse(None, why, program=posixpath.basename(words[0]))
    if _passes_through(commands) and len(words) > 1:
        words = words[1:]  # an entrypoint script that only hands over to its arguments
    program = posixpath.basename(words[0])
    if program in WRITERS:
        return CwdUse(True, WRITERS[program], program=program)
    if program in SILENT:
        return CwdUse(False, f"`{program}` writes no file", silent=True, program=program)
    arguments = words[1:]
    if PYTHON.fullmatch(program) and len(arguments) >= 2 and arguments[0] == "-m":
        module = arguments[1]
        if module in SILENT_MODULES:
            return CwdUse(
                False, f"`python -m {module}` writes no file", silent=True, program=program
            )
        program, arguments = module, arguments[2:]
    if program in SERVERS:
        return _server_use(program, arguments)
    named = _writer_named(image)
    if named is not None:
        return CwdUse(True, WRITERS[named], program=named)
    if program in SHELLS:
        return CwdUse(None, "what the command writes there cannot be told")
    return CwdUse(None, f"whether `{program}` writes there is not known", program=program)


def _writer_named(image: Image) -> str | None:
    """A program known to write where it runs, named anywhere in a command that cannot
    be read word by word (``sh -c "redis-server --port 7000"``)."""
    texts = [
        " ".join(instruction.value)
        for instruction in image.instructions
        if instruction.cmd in ("CMD", "ENTRYPOINT")
    ]
    names = {posixpath.basename(token) for text in texts for token in _TOKEN.findall(text)}
    return next((name for name in WRITERS if name in names), None)


def _server_use(program: str, arguments: list[str]) -> CwdUse:
    """An application server: its options name every file it writes itself."""
    for index, word in enumerate(arguments):
        option, equals, value = word.partition("=")
        if not equals:
            value = arguments[index + 1] if index + 1 < len(arguments) else ""
        if program == "gunicorn" and option in ("-u", "--user", "-g", "--group"):
            why = f"`gunicorn {option}` changes user itself, which needs root"
            return CwdUse(None, why, program=program)
        if option in OPAQUE_OPTIONS:
            why = f"`{program} {option}` takes settings the Dockerfile does not show"
            return CwdUse(None, why, program=program)
        relative = value and value != "-" and not value.startswith("/") and not value.isdigit()
        if option in FILE_OPTIONS and relative:
            why = f"`{program} {option} {value}` writes in its working directory"
            return CwdUse(True, why, program=program)
        if option in ("--bind", "-b") and value.startswith("unix:") and "/" not in value[5:6]:
            return CwdUse(
                True, f"`{program}` makes the socket `{value[5:]}` there", program=program
            )
    return CwdUse(
        False,
        f"`{program}` writes no file of its own there (no relative log, pid or socket "
        "file in its options; what the application it loads writes is not shown)",
        program=program,
    )


def _script_commands(image: Image, folders: Folders, path: str) -> list[SimpleCommand] | None:
    """The commands of an entrypoint script read from the build context (None: unread)."""
    if not image.has_shell:
        return None
    origins = (
        origin_at(image, folders, candidate)
        for candidate in candidates(path, folders.app, image.variables)
    )
    origin = next((found for found in origins if found is not None), None)
    if origin is None or origin.text is None:
        return None
    script = parse_text(origin.text)
    if isinstance(script, str):
        return None
    return list(iter_simple_commands(script))


def _app_step_in(commands: list[SimpleCommand]) -> str | None:
    """A command of the script that writes next to the application's code (``python
    manage.py migrate``, ``alembic upgrade``, ``flask db upgrade``), as it runs."""
    for command in commands:
        words = [word.value for word in command_words(command)]
        program = posixpath.basename(words[0]) if words else ""
        operands = [word for word in words[1:] if not word.startswith("-")]
        if (
            program in APP_TOOLS
            or program == "manage.py"
            or (PYTHON.fullmatch(program) and operands and operands[0].endswith("manage.py"))
        ):
            return " ".join(words)
    return None


def _passes_through(commands: list[SimpleCommand] | None) -> bool:
    """An entrypoint script read from the build context that writes nothing and ends
    with ``exec "$@"``: every command in it is one known to write no file."""
    if not commands:
        return False
    for command in commands:
        targets = [r.target.value for r in command.redirects if ">" in r.operator and r.target]
        if not all(target.startswith("/dev/") for target in targets):
            return False
        words = [word.value for word in command.words]
        if words and words[0] not in SCRIPT_HARMLESS and words != ["exec", '"$@"']:
            return False
    last = [word.value for word in commands[-1].words]
    return last == ["exec", '"$@"']
