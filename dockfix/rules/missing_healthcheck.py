"""DF210 missing-healthcheck: a web service's final image without a ``HEALTHCHECK``.

What it does
    Looks at each stage no other stage builds on (a build target) whose command, its
    own or inherited from a stage it builds on, starts a well-known HTTP server:
    gunicorn, uvicorn, hypercorn, daphne, ``waitress-serve``, uWSGI with ``--http``,
    ``flask run``, ``manage.py runserver``, ``python -m http.server``, node
    (``node app.js``, ``npm``/``yarn``/``pnpm start``) and nginx (also the ``nginx`` and
    ``httpd`` images' own command).  When neither the stage nor a stage it builds on has
    a ``HEALTHCHECK`` (``HEALTHCHECK NONE`` counts: it is a decision), it finds the port:

    * the server's own options (``--bind 0.0.0.0:8000``, ``-b :8000``, ``--port 8000``,
      ``--listen``, ``runserver 0.0.0.0:8000``, ``http.server 8000``...);
    * else the environment variable the server reads (gunicorn ``PORT``, uvicorn
      ``UVICORN_PORT``, ``FLASK_RUN_PORT``; node apps conventionally ``PORT``) when an
      ``ENV`` sets it;
    * else the server's default port (gunicorn, uvicorn, hypercorn, daphne 8000, waitress
      8080, flask 5000), or for node and nginx the ``EXPOSE``'d port when it is the only
      one.

    A port given as ``$PORT`` is read from the ``ENV`` that sets it, and the probe reads
    the variable too (``${PORT}``, ``os.environ['PORT']``), so ``docker run -e PORT=...``
    moves both.  The fix adds ``HEALTHCHECK CMD ...`` right above the stage's
    ``CMD``/``ENTRYPOINT`` (above the comment lines that belong to it), probing
    ``http://127.0.0.1:<port><path>`` (the path is ``healthcheck-path`` in the
    configuration, default ``/``) with a tool the final image has, in this order:

    * ``curl -fsS <url> || exit 1`` when the image has curl (the image table, or a
      package the stage installs);
    * ``wget -qO- <url> || exit 1`` when it has wget (BusyBox wget on Alpine);
    * on Python images, ``["python3", "-c", "import urllib.request; urllib.request.urlopen(
      '<url>', timeout=3)"]`` in exec form (no shell needed; ``urlopen`` raises on HTTP
      errors);
    * for a node server, ``["node", "-e", ...]`` with ``http.get``.

Why is this bad?
    Without a ``HEALTHCHECK`` the engine only knows the process runs: a server that is
    deadlocked, out of workers or stuck at start-up is "up".  Docker, compose
    (``depends_on: condition: service_healthy``), Swarm and podman act on the health
    status only when the image defines a check.

Example
    ``CMD gunicorn --bind 0.0.0.0:8000 app:app`` on ``python:3.11`` gets
    ``HEALTHCHECK CMD curl -fsS http://127.0.0.1:8000/ || exit 1`` above it.

Fix safety
    Unsafe, and the rule is **opt-in** (``--select DF210``): a HEALTHCHECK changes the
    container's reported status, and orchestrators act on it (restart it, route no
    traffic to it, hold dependent services back).  The probe expects the path to answer
    with a 2xx/3xx status; many services have no such endpoint at ``/`` (an API that
    answers 404 or 401 there), which is why the rule does not run by default and the
    path is configurable.  Reported without a fix, with the reason:

    * the port cannot be known: a variable no ``ENV`` sets (an ``ARG`` is gone at run
      time), several or no ``EXPOSE``'d ports for node/nginx, a configuration file that
      may set the bind (gunicorn ``-c``/``gunicorn.conf.py``/``GUNICORN_CMD_ARGS``,
      hypercorn ``--config``, uWSGI ini files);
    * the server binds a unix socket or a file descriptor, a specific address, speaks
      TLS (``--certfile``, ``--ssl-keyfile``) or the uwsgi protocol (``--socket``);
    * the final image has no curl, wget or Python 3 (a slim image, distroless without
      Python, ``httpd``): install one or write the check by hand;
    * the base image is not in the image table (its tools, and any HEALTHCHECK it
      defines, are unknown).

    Windows images are left alone.

References
    practices.md row 11; Dockerfile reference, ``HEALTHCHECK``; hadolint has no rule
    for it (Docker's build checks neither).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dockfix.edits import FixAvailability, FixBuilder
from dockfix.model import Platform, StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._runtime import (
    Arg,
    CommandLine,
    Form,
    applying,
    command_lines,
    find_program,
    has_option,
    json_tokens,
    option_values,
)
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.syntax import Comment, Dockerfile, Instruction
from dockfix.syntax.nodes import Node

#: What a ``healthcheck-path`` may be: characters that need no quoting inside a
#: double-quoted shell word, a single-quoted Python string or a JSON string.
PATH_PATTERN = re.compile(r"/[A-Za-z0-9._~%/:@&+,;=?-]*")
_PLAIN_URL = re.compile(r"[A-Za-z0-9._~%/:@{}$-]*")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_LOOPBACK_HOSTS = frozenset({"", "0.0.0.0", "0", "::", "[::]", "127.0.0.1", "localhost", "*"})
REASON = (
    "a HEALTHCHECK changes the container's reported status, and orchestrators act on "
    "it (restarts, no traffic, dependants held back): the service must answer GET {path} "
    "with a 2xx/3xx status"
)


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
#: Where those images read their configuration (a copied one may listen elsewhere).
_IMAGE_CONFIG = ("/etc/nginx", "/usr/local/apache2/conf")
#: Options of servers that take no value (the next word is not the option's).
_FLAGS = frozenset({"--reload", "--debug", "--no-debugger", "--no-reload", "--cgi"})


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
        position = _first_operand(values, frozenset({"-A", "--app", "-e", "--env-file"}))
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
        position = _first_operand(values, frozenset({"-r", "--require"}))
        if position is not None and not any(v in ("-e", "--eval", "-p") for v in values):
            return Found(NODE, line, args[index], rest)
        return None
    index = find_program(args, frozenset({"npm", "yarn", "pnpm"}))
    if index is not None:
        words = [arg.value for arg in args[index + 1 :]]
        if words[:1] == ["start"] or words[:2] == ["run", "start"]:
            return Found(NODE, line, args[index], ())
    return None


def _first_operand(values: Sequence[str | None], with_value: frozenset[str]) -> int | None:
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


# -- the port -------------------------------------------------------------------------


def raw_text(found: Found, arg: Arg) -> str | None:
    """The text of a word as written (for words only the running shell knows)."""
    line = found.line
    if line is None or line.form is Form.JSON:
        return arg.value
    start, end = line.logical_index(arg.start), line.logical_index(arg.end)
    if start is None or end is None:
        return None
    return line.instruction.logical[start:end]


def variable_of(raw: str | None) -> str | None:
    """The variable's name when ``raw`` is exactly one ``$NAME``/``${NAME}``."""
    whole = _VARIABLE.fullmatch(raw or "")
    return (whole.group(1) or whole.group(2)) if whole else None


def expand(text: str, env: dict[str, str | None]) -> str:
    """``text`` with ``$NAME``/``${NAME}`` replaced from the image's ENV (Unknown: a
    variable no ENV sets, or shell syntax beyond plain variables)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        found = env.get(name)
        if found is None or "$" in found:
            raise Unknown(f"the port comes from ${name}, which no ENV of the image sets")
        return found

    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]  # "0.0.0.0:${PORT}": double quotes keep $ expansions
    if re.search(r"[`\\\"']|\$\(|\$\{[^}]*[^\w}]", text):
        raise Unknown(f"the address `{text}` is only known when the shell runs it")
    return _VARIABLE.sub(value, text)


def word_value(found: Found, arg: Arg, env: dict[str, str | None]) -> tuple[str, str | None]:
    """The word's value as the server gets it, and its raw text (variables unexpanded;
    None for a literal word)."""
    if arg.value is not None:
        if found.line is not None and found.line.form is Form.JSON and "$" in arg.value:
            raise Unknown(f"`{arg.value}`: an exec-form command does not expand variables")
        return arg.value, None
    text = raw_text(found, arg)
    if text is None:
        raise Unknown("the address is only known when the shell runs the command")
    return expand(text, env), text.strip('"')


def split_address(text: str, raw: str | None, default: int | None) -> Port:
    """``host:port``, ``:port``, ``[::]:port``, ``port`` -> the port (Unknown otherwise)."""
    if text.startswith(("unix:", "fd://", "/")):
        raise Unknown(f"the server listens on `{text}`, not on a TCP port")
    host, colon, port = text.rpartition(":")
    raw_port = (raw or "").rpartition(":")[2] if colon else raw
    if not colon:
        host, port = ("", text) if text.isdigit() else (text, "")
    if not port:
        if default is None:
            raise Unknown(f"no port in `{text}`")
        port, raw_port = str(default), None
    check_host(host)
    return port_of(port, variable_of(raw_port))


def check_host(host: str) -> None:
    if host not in _LOOPBACK_HOSTS:
        raise Unknown(f"the server binds `{host}`; a probe of 127.0.0.1 may not reach it")


def port_of(text: str, variable: str | None) -> Port:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise Unknown(f"`{text}` is not a port")
    return Port(text, variable)


def exposed_port(facts: StageFacts) -> str | None:
    """The only TCP port ``EXPOSE``'d in the stage and the stages it builds on."""
    ports: set[str] = set()
    for ancestor in facts.lineage:
        for instruction in applying(ancestor.stage.instructions, "EXPOSE"):
            for word in instruction.value:
                number, _, protocol = word.partition("/")
                if protocol.lower() not in ("", "tcp"):
                    continue
                ports.add(number)
    if len(ports) != 1:
        return None
    (port,) = ports
    return port if port.isdigit() else None


def exposes_any(facts: StageFacts) -> bool:
    return any(applying(a.stage.instructions, "EXPOSE") for a in facts.lineage)


def copies_config(facts: StageFacts) -> bool:
    """A COPY/ADD into nginx's or httpd's configuration folder."""
    for ancestor in facts.lineage:
        for instruction in ancestor.stage.instructions:
            if instruction.cmd in ("COPY", "ADD") and instruction.value:
                target = posixpath.normpath(instruction.value[-1])
                if target.startswith(_IMAGE_CONFIG):
                    return True
    return False


def find_port(found: Found, facts: StageFacts, config_files: bool) -> Port:
    """Where the server listens (Unknown: why it cannot be known)."""
    server, options = found.server, found.options
    env = dict(facts.end.env)
    for option in sorted(server.elsewhere):
        if any((arg.value or "").partition("=")[0] == option for arg in options):
            raise Unknown(f"{server.name} {option}: it listens on a socket, not a TCP port")
    for arg, _ in option_values(options, server.tls):
        raise Unknown(f"{server.name} {arg.value}: it serves HTTPS")
    host_port: Port | None = None
    for name in server.host_env:
        if name in env and not has_option(options, server.host):
            check_host(env[name] or "$" + name)
    for option in (*server.bind, *server.port, *server.host):
        for index, arg in enumerate(options):
            name, equals, inline = (arg.value or "").partition("=")
            if name != option:
                continue
            value_arg = Arg(inline, arg.start, arg.end) if equals else None
            if value_arg is None:
                if index + 1 >= len(options):
                    raise Unknown(f"{server.name} {option} has no value")
                value_arg = options[index + 1]
            text, raw = word_value(found, value_arg, env)
            if option in server.host:
                check_host(text)
            elif option in server.port:
                host_port = port_of(text, variable_of(raw))
            else:
                return split_address(text, raw, server.default_port)
    if host_port is not None:
        return host_port
    if server.positional:
        return positional_port(found, env, server)
    if config_files and server.config:
        raise Unknown(f"{server.name} reads a configuration file, which may set the bind")
    for name in server.port_env:
        value = env.get(name)
        if name in env:
            if value is None or "$" in value:
                raise Unknown(f"{server.name} reads the port from ${name}, not known")
            return port_of(value, name)
    if server.exposed:
        port = exposed_port(facts)
        if port is not None:
            return Port(port)
        if server.default_port is None or copies_config(facts) or exposes_any(facts):
            raise Unknown(f"{server.name}'s port is not known (no single EXPOSE'd port)")
    if server.default_port is None:
        raise Unknown(f"{server.name} serves no HTTP port given on its command line")
    return Port(str(server.default_port))


def positional_port(found: Found, env: dict[str, str | None], server: Server) -> Port:
    """``http.server [port]``, ``runserver [addr:]port``."""
    values = [arg.value for arg in found.options]
    takes_value = frozenset({"-b", "--bind", "-d", "--directory", "-p", "--protocol"})
    position = _first_operand(values, takes_value | {"--settings", "--pythonpath"})
    if position is None:
        if any(value is None for value in values):
            raise Unknown("the command's words are only known when the shell runs it")
        return Port(str(server.default_port))
    text, raw = word_value(found, found.options[position], env)
    return split_address(text, raw, server.default_port)


def reads_config(found: Found, facts: StageFacts, context: RuleContext) -> bool:
    """gunicorn/hypercorn/uWSGI/nginx told to read a configuration file, or gunicorn's
    own ``GUNICORN_CMD_ARGS``/``gunicorn.conf.py``."""
    server = found.server
    if any((arg.value or "").partition("=")[0] in server.config for arg in found.options):
        return True
    if server.name == "uWSGI" and any(
        (arg.value or "").endswith((".ini", ".yaml", ".yml", ".json")) for arg in found.options
    ):
        return True
    if server is not GUNICORN:
        return False
    if facts.end.defines("GUNICORN_CMD_ARGS"):
        return True
    for ancestor in facts.lineage:
        for instruction in ancestor.stage.instructions:
            if instruction.cmd not in ("COPY", "ADD"):
                continue
            sources = instruction.value[:-1]
            if any(posixpath.basename(s.rstrip("/")) == "gunicorn.conf.py" for s in sources):
                return True
            build = context.model.context
            if build.present and instruction.flag("from") is None:
                for source in sources:
                    if build.is_dir(source) and build.is_file(
                        posixpath.join(source, "gunicorn.conf.py")
                    ):
                        return True
    return False


# -- the probe --------------------------------------------------------------------------


def has_python3(facts: StageFacts) -> bool:
    traits = facts.end_traits
    if traits is None:
        return False
    names = {"python3", "python3-minimal", "python3.11", "python3.12", "python3.13"}
    if facts.installed.intersection(names):
        return True
    tag = facts.root.image.tag if facts.root.image is not None else None
    return facts.traits is not None and facts.traits.python and not (tag or "").startswith("2")


def probe(facts: StageFacts, server: Server, port: Port, path: str) -> str:
    """The ``HEALTHCHECK`` instruction's text (Unknown: no tool to probe with)."""
    traits = facts.end_traits
    if traits is None:
        raise Unknown("the base image is not known: its tools, and any HEALTHCHECK it has")
    shell_port = f"${{{port.variable}}}" if port.variable else port.number
    url = f"http://127.0.0.1:{shell_port}{path}"
    if not _PLAIN_URL.fullmatch(url):
        url = f'"{url}"'
    shell = traits.shell and (facts.end.shell is None or facts.end.dialect.is_posix)
    if shell and traits.curl:
        return f"HEALTHCHECK CMD curl -fsS {url} || exit 1"
    if shell and traits.wget:
        return f"HEALTHCHECK CMD wget -qO- {url} || exit 1"
    if has_python3(facts):
        if port.variable:
            target = f"'http://127.0.0.1:%s{path}' % os.environ['{port.variable}']"
            code = f"import os, urllib.request; urllib.request.urlopen({target}, timeout=3)"
        else:
            target = f"'http://127.0.0.1:{port.number}{path}'"
            code = f"import urllib.request; urllib.request.urlopen({target}, timeout=3)"
        return "HEALTHCHECK CMD " + json.dumps(["python3", "-c", code])
    if server is NODE:
        if port.variable:
            target = f"'http://127.0.0.1:' + process.env.{port.variable} + '{path}'"
        else:
            target = f"'http://127.0.0.1:{port.number}{path}'"
        code = (
            f"require('http').get({target}, r => process.exit(r.statusCode < 400 ? 0 : 1))"
            ".on('error', () => process.exit(1))"
        )
        return "HEALTHCHECK CMD " + json.dumps(["node", "-e", code])
    raise Unknown("the image has no curl, wget or Python 3 to probe with")


# -- the fix ----------------------------------------------------------------------------


def has_healthcheck(facts: StageFacts) -> bool:
    for ancestor in facts.lineage:
        if applying(ancestor.stage.instructions, "HEALTHCHECK"):
            return True
        if ancestor is not facts and any(i.sub_cmd == "HEALTHCHECK" for i in ancestor.onbuild):
            return True
    return False


def anchor_of(document: Dockerfile, facts: StageFacts) -> tuple[Node, bool]:
    """Where the HEALTHCHECK goes: before the stage's first CMD/ENTRYPOINT (and the
    comment lines right above it), else after the stage's last instruction."""
    own = [i for i in facts.stage.instructions if i.cmd in ("CMD", "ENTRYPOINT")]
    if not own:
        last = facts.stage.instructions[-1] if facts.stage.instructions else None
        return (last or facts.stage.from_instruction), False
    nodes = document.nodes
    index = next(i for i, node in enumerate(nodes) if node is own[0])
    while index > 0 and isinstance(nodes[index - 1], Comment):
        index -= 1
    return nodes[index], True


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    path = context.settings.healthcheck_path
    for facts in context.model.stages:
        if facts.descendants or facts.platform is Platform.WINDOWS:
            continue  # only build targets; Windows images are left alone
        if has_healthcheck(facts):
            continue
        served = server_of(facts)
        if served is None:
            continue
        found, instruction = served
        at: object = facts.stage.from_instruction
        if found.line is not None and found.word is not None:
            at = found.line.position(found.word)
        elif instruction is not None:
            at = instruction
        message = f"{found.server.name} serves HTTP but the image has no HEALTHCHECK"
        try:
            if not PATH_PATTERN.fullmatch(path):
                raise Unknown(f"healthcheck-path {path!r} is not a plain URL path")
            port = find_port(found, facts, reads_config(found, facts, context))
            text = probe(facts, found.server, port, path)
        except Unknown as why:
            yield rule.finding(message, at, note=str(why))
            continue
        new = document.make_instruction(text, eol=document.style.eol)
        anchor, before = anchor_of(document, facts)
        builder = FixBuilder(document)
        try:
            if before:
                builder.insert_before(anchor, new)
            else:
                builder.insert_after(anchor, new)
        except ValueError as error:
            yield rule.finding(message, at, note=str(error))
            continue
        yield rule.finding(
            message,
            at,
            edits=builder.edits(),
            reason=REASON.format(path=path),
        )


RULE = Rule(
    code="DF210",
    name="missing-healthcheck",
    summary="Give web services a `HEALTHCHECK` that probes their port (opt-in)",
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    default_enabled=False,
    preconditions=(Precondition.LINUX,),
)
