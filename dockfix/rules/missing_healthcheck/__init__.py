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

    * ``curl -fsS <url> || exit 1`` when the stage installs curl (a package);
    * ``wget -qO- <url> || exit 1`` when it installs wget;
    * on images with Python 3, ``["python3", "-c", "import urllib.request;
      urllib.request.urlopen('<url>', timeout=3)"]`` in exec form (no shell needed;
      ``urlopen`` raises on HTTP errors).  It comes before the curl and wget the image
      table says a full ``python`` image has: DF202/DF203 may move the stage onto
      ``-slim``, which has neither;
    * curl, then wget, as the image table knows them (``node``, BusyBox wget on Alpine);
    * for a node server, ``["node", "-e", ...]`` with ``http.get``.

Why is this bad?
    Without a ``HEALTHCHECK`` the engine only knows the process runs: a server that is
    deadlocked, out of workers or stuck at start-up is "up".  Docker, compose
    (``depends_on: condition: service_healthy``), Swarm and podman act on the health
    status only when the image defines a check.

Example
    ``CMD gunicorn --bind 0.0.0.0:8000 app:app`` in a stage that installs curl gets
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

from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability, FixBuilder
from dockfix.model import Platform, StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._runtime import applying
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext
from dockfix.rules.missing_healthcheck.ports import find_port, reads_config
from dockfix.rules.missing_healthcheck.probes import probe
from dockfix.rules.missing_healthcheck.servers import Unknown, server_of
from dockfix.syntax import Comment, Dockerfile
from dockfix.syntax.nodes import Node

#: What a ``healthcheck-path`` may be: characters that need no quoting inside a
#: double-quoted shell word, a single-quoted Python string or a JSON string.
PATH_PATTERN = lazy_re.compile(r"/[A-Za-z0-9._~%/:@&+,;=?-]*")
REASON = (
    "a HEALTHCHECK changes the container's reported status, and orchestrators act on "
    "it (restarts, no traffic, dependants held back): the service must answer GET {path} "
    "with a 2xx/3xx status"
)


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
