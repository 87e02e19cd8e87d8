"""The servers the container starts: the ports they bind and the users they switch to.

A port below 1024 (``LOW_PORTS``) or a server that changes user itself stops DF201's
fix.  Both are read from the command's options (``--port 80``, ``--listen=*:80``, the
port operand of ``python -m http.server 80``), with ``$PORT``-style references resolved
through the ENV in effect when the container runs (ARG values are gone by then); from the
ENV the servers read (``PORT``, ``UVICORN_PORT``, ``GUNICORN_CMD_ARGS``...); and from
gunicorn's configuration file, read from the build context through the model: the ``-c``
file, else ``gunicorn.conf.py`` in gunicorn's working directory, which it loads by
default (``bind = "0.0.0.0:80"``, ``user = "www-data"``).  Command-line options win
over ``GUNICORN_CMD_ARGS``, which wins over the file; gunicorn binds ``0.0.0.0:$PORT``
when ``PORT`` is set and nothing else names a bind.
"""

from __future__ import annotations

import ast
import posixpath
import shlex
from collections.abc import Iterator, Mapping

from dockfix.model.expand import expand
from dockfix.rules.refusal import FixRefused
from dockfix.rules.runs_as_root.cwd import SILENT_MODULES
from dockfix.rules.runs_as_root.image import (
    Folders,
    Image,
    origin_at,
    positionals,
    resolve,
    workdir_at_end,
)
from dockfix.rules.runs_as_root.policy import (
    GUNICORN_USER_OPTIONS,
    HTTP_SERVER_VALUE_OPTIONS,
    PORT_IN_WORD,
    PORT_OPTIONS,
    PORT_VARIABLES,
    PYTHON,
)
from dockfix.rules.runs_as_root.startup import LOW_PORTS
from dockfix.shell import SimpleCommand, command_words
from dockfix.shell.model import Word, unquote

#: gunicorn's configuration file, looked for in its working directory.
GUNICORN_CONFIG = "gunicorn.conf.py"
#: gunicorn options that name its configuration file.
GUNICORN_CONFIG_OPTIONS = ("-c", "--config")


def _runtime_env(image: Image) -> dict[str, str | None]:
    """The ENV the container runs with, quotes removed (``ENV A="x y"`` is ``x y``)."""
    env: dict[str, str | None] = {}
    for name, value in image.facts.end.env.items():
        env[name] = value if value is None else (unquote(value) or value)
    return env


def _runtime_value(word: Word, env: Mapping[str, str | None]) -> str:
    """The word as the container's shell passes it: ``$PORT`` read from the ENV in effect
    (the word as written when a reference is not known)."""
    if word.is_literal:
        return word.value
    expanded = expand(word.text, env)
    unquoted = unquote(expanded) if expanded is not None else None
    return unquoted if unquoted is not None else word.value


def _port(text: str) -> int | None:
    """The port of ``80``, ``0.0.0.0:80``, ``[::]:443``, ``*:80``, ``--bind=:80``."""
    if text.isdigit():
        return int(text)
    match = PORT_IN_WORD.search(text)
    return int(match.group(1)) if match else None


def _low(port: int | None) -> bool:
    return port is not None and 0 < port < 1024


def bound_port_risks(words: list[str]) -> Iterator[FixRefused]:
    """A port below 1024 among a command's words: an option (``--port 80``,
    ``0.0.0.0:443``, ``--listen=*:80``) or ``python -m http.server``'s port operand."""
    for index, word in enumerate(words):
        option, _, value = word.partition("=")
        port = None
        if option in PORT_OPTIONS and value.isdigit():
            port = int(value)
        elif word in PORT_OPTIONS and index + 1 < len(words) and words[index + 1].isdigit():
            port = int(words[index + 1])
        elif PORT_IN_WORD.search(word):
            port = _port(word)
        if _low(port):
            yield FixRefused(
                f"the command binds port {port}, below 1024: {LOW_PORTS}", kind="privileged-port"
            )
            return
    port = _http_server_port(words)
    if _low(port):
        yield FixRefused(
            f"`python -m http.server` binds port {port}, below 1024: {LOW_PORTS}",
            kind="privileged-port",
        )


def _http_server_port(words: list[str]) -> int | None:
    """The port operand of ``python -m http.server [--bind ADDR] [PORT]``."""
    for index in range(len(words) - 2):
        program = posixpath.basename(words[index])
        if (
            PYTHON.fullmatch(program)
            and words[index + 1] == "-m"
            and words[index + 2] in SILENT_MODULES
        ):
            operands = positionals(words[index + 3 :], HTTP_SERVER_VALUE_OPTIONS)
            return int(operands[0]) if operands and operands[0].isdigit() else None
    return None


def _gunicorn_arguments(words: list[str]) -> list[str] | None:
    """gunicorn's arguments when the command runs it (``gunicorn``, ``python -m gunicorn``)."""
    if not words:
        return None
    program = posixpath.basename(words[0])
    if program == "gunicorn":
        return words[1:]
    if PYTHON.fullmatch(program) and words[1:3] == ["-m", "gunicorn"]:
        return words[3:]
    return None


def _option_values(arguments: list[str], names: tuple[str, ...] | frozenset[str]) -> list[str]:
    """The values of ``names`` among ``arguments`` (``-b X``, ``--bind=X``, ``-bX``)."""
    found = []
    for index, word in enumerate(arguments):
        for name in names:
            if word == name and index + 1 < len(arguments):
                found.append(arguments[index + 1])
            elif name.startswith("--") and word.startswith(name + "="):
                found.append(word[len(name) + 1 :])
            elif not name.startswith("--") and word.startswith(name) and len(word) > len(name):
                found.append(word[len(name) :])
    return found


def _cmd_args(env: Mapping[str, str | None]) -> list[str]:
    """``GUNICORN_CMD_ARGS`` split into words (none when unset or unreadable)."""
    text = env.get("GUNICORN_CMD_ARGS")
    try:
        return shlex.split(text) if text else []
    except ValueError:
        return []


#: A setting the configuration file computes (its value is not read).
COMPUTED = object()


def _config_settings(text: str) -> dict[str, object]:
    """The top-level settings of a gunicorn configuration file (Python code):
    ``bind = "0.0.0.0:80"`` -> ``{"bind": "0.0.0.0:80"}``; a computed one is
    ``COMPUTED``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    settings: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            value: ast.expr | None = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names, value = [node.target.id], node.value
        else:
            continue
        for name in names:
            if value is not None:
                settings[name] = _literal(value)
    return settings


def _literal(node: ast.expr) -> object:
    """A string or number, or a list/tuple of them; else ``COMPUTED``.  (Not
    ``ast.literal_eval``: its recursive inner functions leave reference cycles.)"""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        items = [_literal(item) for item in node.elts]
        return COMPUTED if any(item is COMPUTED for item in items) else items
    return COMPUTED


def _bind_ports(value: object) -> list[int]:
    """The ports a gunicorn ``bind`` setting names (a string, or a list of them)."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []
    ports = [_port(item) for item in items if isinstance(item, str)]
    return [port for port in ports if port is not None]


def _gunicorn_refusals(
    image: Image, folders: Folders, arguments: list[str], env: Mapping[str, str | None]
) -> Iterator[FixRefused]:
    """gunicorn changing user (``--user``, or ``user``/``group`` in its configuration
    file), or binding a port below 1024 from its configuration file."""
    every = [*_cmd_args(env), *arguments]
    for word in every:
        option = word.partition("=")[0]
        if option in GUNICORN_USER_OPTIONS:
            yield FixRefused(
                f"`gunicorn {option}` changes user itself, which needs root", kind="root-command"
            )
            return
    configs = _option_values(every, GUNICORN_CONFIG_OPTIONS)
    named = configs[-1] if configs else GUNICORN_CONFIG
    if named.startswith("python:"):
        return  # a module on the Python path: not read
    path = resolve(named, workdir_at_end(image, folders), image.variables)
    origin = origin_at(image, folders, path) if path is not None else None
    if origin is None or origin.text is None:
        return
    settings = _config_settings(origin.text)
    for name in ("user", "group"):
        value = settings.get(name)
        if value is not None and value != "":
            shown = "a computed value" if value is COMPUTED else repr(value)
            yield FixRefused(
                f"`{path}` sets `{name}` to {shown}: gunicorn changes user itself, which "
                "needs root",
                kind="root-command",
            )
            return
    if _option_values(every, ("-b", "--bind")):
        return  # the command line (or GUNICORN_CMD_ARGS) binds instead of the file
    if settings.get("bind") is COMPUTED:
        yield FixRefused(
            f"`{path}` computes its `bind`: whether the port is below 1024 is not known",
            kind="privileged-port",
        )
        return
    low = [port for port in _bind_ports(settings.get("bind")) if _low(port)]
    if low:
        yield FixRefused(
            f"`{path}` binds port {low[0]}, below 1024: {LOW_PORTS}", kind="privileged-port"
        )


def command_refusals(
    image: Image, folders: Folders, command: SimpleCommand
) -> Iterator[FixRefused]:
    """What one command of the container's shows: a port below 1024, gunicorn changing
    user or binding one through its configuration file."""
    env = _runtime_env(image)
    yield from bound_port_risks([_runtime_value(word, env) for word in command.words])
    arguments = _gunicorn_arguments([_runtime_value(word, env) for word in command_words(command)])
    if arguments is not None:
        yield from _gunicorn_refusals(image, folders, arguments, env)


def env_port_refusals(image: Image) -> Iterator[FixRefused]:
    """The ENV the servers read their port from (``PORT=80``, ``UVICORN_PORT=80``,
    ``GUNICORN_CMD_ARGS="--bind=0.0.0.0:80"``), set below 1024."""
    env = _runtime_env(image)
    for name in PORT_VARIABLES:
        value = env.get(name)
        if value is not None and value.isdigit() and _low(int(value)):
            yield FixRefused(
                f"ENV {name}={value} tells the server to bind a port below 1024: {LOW_PORTS}",
                kind="privileged-port",
            )
            return
    for refusal in bound_port_risks(_cmd_args(env)):
        yield FixRefused(
            refusal.reason.replace("the command", "ENV GUNICORN_CMD_ARGS", 1), kind=refusal.kind
        )
        return
