"""DF210: the TCP port a server listens on, from its options, the image's ENV, its
default or the ``EXPOSE``'d port (``Unknown`` says why it cannot be known)."""

from __future__ import annotations

import posixpath
import re

from dockfix import lazy_re
from dockfix.model import StageFacts
from dockfix.rules._runtime import Arg, Form, applying, has_option, option_values
from dockfix.rules.base import RuleContext
from dockfix.rules.missing_healthcheck.servers import (
    GUNICORN,
    Found,
    Port,
    Server,
    Unknown,
    first_operand,
)

_VARIABLE = lazy_re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_LOOPBACK_HOSTS = frozenset({"", "0.0.0.0", "0", "::", "[::]", "127.0.0.1", "localhost", "*"})
#: Where the nginx and httpd images read their configuration (a copied one may listen
#: elsewhere).
_IMAGE_CONFIG = ("/etc/nginx", "/usr/local/apache2/conf")


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
            raise Unknown(f"{server.name}'s port is not known (not one single EXPOSEd port)")
    if server.default_port is None:
        raise Unknown(f"{server.name} serves no HTTP port given on its command line")
    return Port(str(server.default_port))


def positional_port(found: Found, env: dict[str, str | None], server: Server) -> Port:
    """``http.server [port]``, ``runserver [addr:]port``."""
    values = [arg.value for arg in found.options]
    takes_value = frozenset({"-b", "--bind", "-d", "--directory", "-p", "--protocol"})
    position = first_operand(values, takes_value | {"--settings", "--pythonpath"})
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
