"""DF210: the ``HEALTHCHECK`` instruction, with a probe tool the final image has."""

from __future__ import annotations

import json

from dockfix import lazy_re
from dockfix.model import StageFacts
from dockfix.rules.missing_healthcheck.servers import NODE, Port, Server, Unknown

_PLAIN_URL = lazy_re.compile(r"[A-Za-z0-9._~%/:@{}$-]*")


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
    # A tool the stage installs itself first; then Python: DF202/DF203 may move a stage
    # from the full python image (which has curl and wget) onto -slim (which has neither).
    curl = shell and "curl" in facts.installed
    wget = shell and "wget" in facts.installed
    python = has_python3(facts)
    if not python:
        curl, wget = shell and traits.curl, shell and traits.wget
    if curl:
        return f"HEALTHCHECK CMD curl -fsS {url} || exit 1"
    if wget:
        return f"HEALTHCHECK CMD wget -qO- {url} || exit 1"
    if python:
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
