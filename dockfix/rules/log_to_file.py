"""DF207 log-to-file: a server in ``CMD``/``ENTRYPOINT`` told to log to a file.

What it does
    Reports the file log options of well-known servers started by ``CMD``/``ENTRYPOINT``
    (exec form, shell form, or a JSON ``["sh", "-c", script]``), and in ``ENV`` values
    the servers read as options:

    * gunicorn ``--access-logfile``/``--error-logfile``/``--log-file`` with a path, and
      ``--log-config`` (also in ``ENV GUNICORN_CMD_ARGS``);
    * uvicorn ``--log-config``;
    * hypercorn ``--access-logfile``/``--error-logfile``/``--log-config``;
    * daphne ``--access-log``;
    * uWSGI ``--logto``/``--logto2``/``-d``/``--daemonize`` (also ``ENV UWSGI_LOGTO``...);
    * celery ``-f``/``--logfile``.

    ``-``, ``/dev/stdout``, ``/dev/stderr`` and ``/proc/self/fd/1``/``2`` are the
    standard streams and fine; a value only known at run time (``$LOG``) is not judged.

Why is this bad?
    The container runtime collects what a container writes to stdout/stderr
    (``docker logs``, the cluster's log shipper).  A log file inside the container is
    invisible to them, grows in the writable layer until the disk fills, and disappears
    with the container.  A ``--log-config`` file decides where logs go: it is reported
    so that someone checks it sends them to the standard streams.

Example
    ``CMD ["gunicorn", "--access-logfile", "/var/log/access.log", "app:app"]``: use
    ``--access-logfile -``.

Fix safety
    No fix (display only): where the logs should go, and whether something reads the
    file (a sidecar, a volume), is the author's decision.  Options abbreviated the
    argparse way (``--access-log`` for gunicorn) and options given at run time are not
    seen.  Windows images are checked too: log files are just as invisible there.

References
    practices.md row 19; The Twelve-Factor App, "XI. Logs".
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from dockfix.edits import FixAvailability
from dockfix.lazy_dataclass import dataclass
from dockfix.rules._runtime import Arg, CommandLine, command_lines, find_program, option_values
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.syntax import Instruction


@dataclass(frozen=True)
class Server:
    """A server program, how it may be named, and its file log options."""

    names: frozenset[str]
    log_files: frozenset[str]
    log_configs: frozenset[str] = frozenset()
    #: Environment variables it reads as options, shell-split (``GUNICORN_CMD_ARGS``).
    options_env: str | None = None
    #: Environment variables that are themselves options (``UWSGI_<OPTION>``), by option.
    env_options: tuple[tuple[str, str], ...] = ()


SERVERS = (
    Server(
        frozenset({"gunicorn"}),
        frozenset({"--access-logfile", "--error-logfile", "--log-file"}),
        frozenset({"--log-config"}),
        options_env="GUNICORN_CMD_ARGS",
    ),
    Server(frozenset({"uvicorn"}), frozenset(), frozenset({"--log-config"})),
    Server(
        frozenset({"hypercorn"}),
        frozenset({"--access-logfile", "--error-logfile"}),
        frozenset({"--log-config"}),
    ),
    Server(frozenset({"daphne"}), frozenset({"--access-log"})),
    Server(
        frozenset({"uwsgi"}),
        frozenset({"--logto", "--logto2", "--daemonize", "-d"}),
        env_options=(
            ("UWSGI_LOGTO", "--logto"),
            ("UWSGI_LOGTO2", "--logto2"),
            ("UWSGI_DAEMONIZE", "--daemonize"),
        ),
    ),
    Server(frozenset({"celery"}), frozenset({"-f", "--logfile"})),
)

#: Values that name stdout/stderr.
STANDARD_STREAMS = frozenset(
    {"-", "/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/proc/self/fd/2", "/dev/fd/1"}
    | {"/dev/fd/2"}
)


def file_options(server: Server, args: tuple[Arg, ...]) -> Iterator[tuple[Arg, str, str]]:
    """``(option word, option, value)`` for each log option naming a file."""
    for arg, value in option_values(args, server.log_files | server.log_configs):
        if value is None or value in STANDARD_STREAMS:
            continue  # only known at run time, or the standard streams
        if value.startswith("-"):
            continue  # the next word is another option: this one has no file
        option = (arg.value or "").partition("=")[0]
        yield arg, option, value


def message(server: Server, option: str, value: str) -> str:
    program = sorted(server.names)[0]
    if option in server.log_configs:
        return (
            f"{program} {option} {value}: logging set up from a file; "
            "check that it logs to stdout/stderr"
        )
    return f"{program} {option} {value}: logs go to a file; they should go to stdout/stderr"


def command_findings(rule: Rule, line: CommandLine) -> Iterator[Finding]:
    for server in SERVERS:
        index = find_program(line.args, server.names)
        if index is None:
            continue
        for arg, option, value in file_options(server, line.args[index + 1 :]):
            yield rule.finding(message(server, option, value), line.position(arg))


def env_findings(rule: Rule, instruction: Instruction) -> Iterator[Finding]:
    """``ENV GUNICORN_CMD_ARGS="--access-logfile /x"``, ``ENV UWSGI_LOGTO=/x``."""
    pairs = dict(zip(instruction.value[0::2], instruction.value[1::2], strict=False))
    for server in SERVERS:
        if server.options_env in pairs:
            for option, value in _env_options(server, _unquote(pairs[server.options_env])):
                yield rule.finding(message(server, option, value), instruction)
        for variable, option in server.env_options:
            if variable not in pairs:
                continue  # unset: nothing to read (and no shlex run, which costs)
            value = _unquote(pairs[variable])
            if "$" not in value and value not in STANDARD_STREAMS:
                yield rule.finding(message(server, option, value), instruction)


def _unquote(value: str) -> str:
    """An ENV value as the variable holds it (quotes removed), or the raw text."""
    try:
        words = shlex.split(value)
    except ValueError:
        return value
    return words[0] if len(words) == 1 else value


def _env_options(server: Server, value: str) -> Iterator[tuple[str, str]]:
    try:
        words = shlex.split(value)  # gunicorn splits GUNICORN_CMD_ARGS with shlex
    except ValueError:
        return
    args = tuple(Arg(word, 0, 0) for word in words)
    for _, option, found in file_options(server, args):
        if "$" not in found:
            yield option, found


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    for instruction in context.document.instructions:
        if instruction.cmd == "ENV":
            yield from env_findings(rule, instruction)
            continue
        for line in command_lines(instruction):
            yield from command_findings(rule, line)


RULE = Rule(
    code="DF207",
    name="log-to-file",
    summary="Servers should log to stdout/stderr, not to files in the container",
    applicability=Applicability.DISPLAY_ONLY,
    fix_availability=FixAvailability.NEVER,
    check=check,
    explanation=__doc__ or "",
    severity="info",
)
