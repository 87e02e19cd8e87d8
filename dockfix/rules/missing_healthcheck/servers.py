"""DF210's knowledge of servers: which programs serve HTTP, how they are told where to
listen, and which one a stage's ``CMD``/``ENTRYPOINT`` starts."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from dockfix.lazy_dataclass import dataclass
from dockfix.model import StageFacts
from dockfix.rules._runtime import (
    Arg,
    CommandLine,
    Form,
    applying,
    command_lines,
    find_program,
    json_tokens,
)
from dockfix.syntax import Instruction


class Unknown(Exception):
    """Why the port or the probe cannot be known (the finding's note)."""


@dataclass(frozen=True)
class Server:
    """A server program and how it is told where to listen."""

    name: str
    programs: frozenset[str]
    default_port: int | None = None
    #: Options whose value is ``host:port``, ``:port``, ``unix:path`` or ``fd://n``.
    bind: frozenset[str] = frozenset()
    #: Options whose value is a port.
    port: frozenset[str] = frozenset()
    #: Options whose value is the host.
    host: frozenset[str] = frozenset()
    #: Options that make it listen elsewhere than on a TCP port (unix socket, fd).
    elsewhere: frozenset[str] = frozenset()
    #: Options that mean HTTPS (the probes speak plain HTTP).
    tls: frozenset[str] = frozenset()
    #: Options naming a configuration file that may set the bind.
    config: frozenset[str] = frozenset()
    #: Environment variables it reads the port from when no option gives one.
    port_env: tuple[str, ...] = ()
    #: Environment variables it reads the host from when no option gives one.
    host_env: tuple[str, ...] = ()
    #: The port is the first positional argument (``http.server 8000``).
    positional: bool = False
    #: No default: the port is the ``EXPOSE``'d one (node, nginx).
    exposed: bool = False


GUNICORN = Server(
    "gunicorn",
    frozenset({"gunicorn"}),
    8000,
    bind=frozenset({"-b", "--bind"}),
    tls=frozenset({"--certfile", "--keyfile"}),
    config=frozenset({"-c", "--config", "--paste", "--paster"}),
    port_env=("PORT",),
)
SERVERS = (
    GUNICORN,
    Server(
        "uvicorn",
        frozenset({"uvicorn"}),
        8000,
        port=frozenset({"--port"}),
        host=frozenset({"--host"}),
        elsewhere=frozenset({"--uds", "--fd"}),
        tls=frozenset({"--ssl-keyfile", "--ssl-certfile"}),
        port_env=("UVICORN_PORT",),
        host_env=("UVICORN_HOST",),
    ),
    Server(
        "hypercorn",
        frozenset({"hypercorn"}),
        8000,
        bind=frozenset({"-b", "--bind"}),
        tls=frozenset({"--certfile", "--keyfile"}),
        config=frozenset({"-c", "--config"}),
    ),
    Server(
        "daphne",
        frozenset({"daphne"}),
        8000,
        port=frozenset({"-p", "--port"}),
        host=frozenset({"-b", "--bind"}),
        elsewhere=frozenset({"-u", "--unix-socket", "--fd", "-e", "--endpoint"}),
    ),
    Server(
        "waitress",
        frozenset({"waitress-serve"}),
        8080,
        bind=frozenset({"--listen"}),
        port=frozenset({"--port"}),
        host=frozenset({"--host"}),
        elsewhere=frozenset({"--unix-socket"}),
    ),
    Server(
        "uWSGI",
        frozenset({"uwsgi"}),
        None,
        bind=frozenset({"--http", "--http-socket"}),
        tls=frozenset({"--https"}),
        config=frozenset({"--ini", "--yaml", "--json", "--xml"}),
    ),
    Server(
        "http.server",
        frozenset({"http.server"}),
        8000,
        host=frozenset({"-b", "--bind"}),
        positional=True,
    ),
    Server("nginx", frozenset({"nginx"}), 80, exposed=True, config=frozenset({"-c"})),
)
FLASK = Server(
    "flask",
    frozenset({"flask"}),
    5000,
    port=frozenset({"-p", "--port"}),
    host=frozenset({"-h", "--host"}),
    tls=frozenset({"--cert", "--key"}),
    port_env=("FLASK_RUN_PORT",),
    host_env=("FLASK_RUN_HOST",),
)
RUNSERVER = Server("django runserver", frozenset({"manage.py"}), 8000, positional=True)
NODE = Server("node", frozenset({"node", "nodejs"}), port_env=("PORT",), exposed=True)
#: Base images whose own command is a web server (used when the file sets no command).
IMAGE_SERVERS = {
    "nginx": Server("nginx", frozenset({"nginx"}), 80, exposed=True),
    "httpd": Server("httpd", frozenset({"httpd"}), 80, exposed=True),
}


@dataclass(frozen=True)
class Port:
    """A TCP port, and the variable it comes from (the probe reads it too)."""

    number: str
    variable: str | None = None


@dataclass(frozen=True)
class Found:
    """A server run by the stage's command: which, where, its options."""

    server: Server
    line: CommandLine | None
    word: Arg | None
    options: tuple[Arg, ...]


# -- finding the server ---------------------------------------------------------------


def effective_commands(facts: StageFacts) -> list[Instruction]:
    """The ENTRYPOINT and CMD the stage's image runs (as the Dockerfile sets them)."""
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    entry_depth = cmd_depth = len(facts.lineage)
    for depth, ancestor in enumerate(facts.lineage):
        own = ancestor.stage.instructions
        if entrypoint is None and applying(own, "ENTRYPOINT"):
            entrypoint, entry_depth = applying(own, "ENTRYPOINT")[-1], depth
        if cmd is None and applying(own, "CMD"):
            cmd, cmd_depth = applying(own, "CMD")[-1], depth
    if entrypoint is not None and cmd_depth > entry_depth:
        cmd = None  # setting ENTRYPOINT clears the CMD of the image below
    return [i for i in (entrypoint, cmd) if i is not None]


def _after_words(args: tuple[Arg, ...], index: int, extra: tuple[Arg, ...]) -> tuple[Arg, ...]:
    return args[index + 1 :] + extra


def find_server(line: CommandLine, extra: tuple[Arg, ...]) -> Found | None:
    """The known server ``line`` starts, if any (``extra``: a CMD passed to it)."""
    args = line.args
    for server in SERVERS:
        index = find_program(args, server.programs)
        if index is not None:
            return Found(server, line, args[index], _after_words(args, index, extra))
    index = find_program(args, FLASK.programs)
    if index is not None:
        rest = _after_words(args, index, extra)
        values = [arg.value for arg in rest]
        position = first_operand(values, frozenset({"-A", "--app", "-e", "--env-file"}))
        if position is not None and values[position] == "run":
            return Found(FLASK, line, args[index], rest[position + 1 :])
        return None
    for index, arg in enumerate(args):
        name = posixpath.basename(arg.value or "")
        if name in ("manage.py", "django-admin", "django-admin.py"):
            rest = _after_words(args, index, extra)
            if rest and rest[0].value == "runserver":
                return Found(RUNSERVER, line, arg, rest[1:])
            return None
    index = find_program(args, NODE.programs)
    if index is not None:
        rest = _after_words(args, index, extra)
        values = [arg.value for arg in rest]
        position = first_operand(values, frozenset({"-r", "--require"}))
        if position is not None and not any(v in ("-e", "--eval", "-p") for v in values):
            return Found(NODE, line, args[index], rest)
        return None
    index = find_program(args, frozenset({"npm", "yarn", "pnpm"}))
    if index is not None:
        words = [arg.value for arg in args[index + 1 :]]
        if words[:1] == ["start"] or words[:2] == ["run", "start"]:
            return Found(NODE, line, args[index], ())
    return None


def first_operand(values: Sequence[str | None], with_value: frozenset[str]) -> int | None:
    index = 0
    while index < len(values):
        value = values[index]
        if value is None:
            return None
        if value in with_value:
            index += 2
        elif value.startswith("-"):
            index += 1
        else:
            return index
    return None


def server_of(facts: StageFacts) -> tuple[Found, Instruction | None] | None:
    """The server the stage's image starts, and the instruction that starts it."""
    commands = effective_commands(facts)
    for instruction in commands:
        extra: tuple[Arg, ...] = ()
        if instruction.cmd == "ENTRYPOINT" and len(commands) == 2 and commands[1].is_json:
            extra = json_tokens(commands[1]) or ()
        for line in command_lines(instruction):
            found = find_server(line, extra if line.form is Form.JSON else ())
            if found is not None:
                return found, instruction
    if commands:
        return None
    image = facts.root.image
    name = posixpath.basename(image.name) if image is not None else ""
    server = IMAGE_SERVERS.get(name)
    if server is None or facts.traits is None:
        return None
    return Found(server, None, None, ()), None
