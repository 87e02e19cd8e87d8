"""DF201 runs-as-root: what the fixtures do not show (the fix's reason, the image rows
the rule relies on, the command-line readers), one case per line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.engine import fix_document
from dockfix.images import lookup
from dockfix.rules import lookup as lookup_rule
from dockfix.rules.base import Applicability, RuleContext, Settings
from dockfix.rules.runs_as_root.cwd import cwd_use
from dockfix.rules.runs_as_root.image import (
    created_user,
    folders_of,
    image_of,
    positionals,
    script_path,
)
from dockfix.syntax import parse

RULE = lookup_rule("runs-as-root")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs-as-root"
#: A command, so that the image is not taken for a build environment (no CMD).
RUNS = "CMD python a.py\n"


def _finding(text: str, context_dir: Path | None = None):  # type: ignore[no-untyped-def]
    assert RULE is not None
    (finding,) = RULE.run(RuleContext(parse(text), None, context_dir))
    return finding


def _fixed(text: str) -> str:
    """The file after DF201's unsafe fix (the engine applies and verifies it)."""
    assert RULE is not None
    result = fix_document(parse(text), [RULE], Settings(unsafe_fixes=True))
    assert not result.problems, result.problems
    return result.output


def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.in.Dockerfile").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("flask-logs", "runs as `app` (uid 10001): what it writes at run time outside `/app`"),
        ("entrypoint-script", "files copied into `/app` before the switch (line 3)"),
        ("distroless", "BuildKit creates `/app` owned by the user"),
        ("node", "runs as `node` (uid 1000)"),
        ("no-workdir-gunicorn", "in `/`, which stays root's (no WORKDIR): `gunicorn` writes no"),
        ("no-workdir-http-server", "`python -m http.server` writes no file"),
        (
            "no-workdir-unread-entrypoint",
            "the entrypoint `entrypoint.sh` cannot be read from the build context: if it needs "
            "root (`chown`, `gosu`/`su-exec`, writes to system folders, ports below 1024) the "
            "container fails at start",
        ),
        ("entrypoint-copy-from", "comes from `tools` (COPY --from, line 7)"),
        ("entrypoint-archive", "may come from `release.tar.gz`, which ADD unpacks (line 4)"),
        ("unknown-base-apt-cmd", "the base image's ENTRYPOINT is not known: if it needs root"),
        (
            "no-workdir-unknown-program",
            "`app` cannot write there: if `python` writes files relative to its working "
            "directory, or anywhere outside its home and `/tmp`, that fails with a permission "
            "error (whether `python` writes there is not known)",
        ),
        (
            "unknown-base-apt-entrypoint",
            "the Dockerfile runs `apt-get`, so it is of the Debian or Ubuntu family",
        ),
        ("arg-default-base", "the base image is `python:3.12-slim`, the default of its ARG"),
        ("mirror-base", "is taken as an image of the Alpine family"),
        ("dotnet-8-app-user", "runs as `app` (uid 1654)"),
    ],
)
def test_fix_is_unsafe_and_says_what_may_change(fixture: str, expected: str) -> None:
    finding = _finding(_fixture(fixture), FIXTURES)
    assert finding.fix is not None
    assert finding.fix.applicability is Applicability.UNSAFE
    assert expected in finding.fix.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'FROM python:3.12\nWORKDIR /app\nCMD ["tini", "--", "/opt/start"]\n',
            "the entrypoint `/opt/start` cannot be read from the build context: if it needs root",
        ),
        (
            "FROM registry.example.com/base:1\nRUN apt-get install -y python3\nWORKDIR /app\n"
            + RUNS,
            "the base image's ENTRYPOINT is not known: if it needs root",
        ),
        (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y iptables kmod "
            "docker.io\nWORKDIR /app\n" + RUNS,
            "the image installs `iptables`, `kmod` (`modprobe`), `docker.io` (`dockerd` and "
            "`docker`), whose programs need root (or the docker socket) when they run",
        ),
        (
            "FROM redhat/ubi8\nRUN yum install -y iscsi-initiator-utils\nWORKDIR /app\n" + RUNS,
            "the image installs `iscsi-initiator-utils` (`iscsiadm`), whose programs need root",
        ),
        (
            "FROM python:3.12-slim\nWORKDIR /config\nVOLUME /config\n" + RUNS,
            "`/config` is a VOLUME: a named volume starts owned by the new user, but a bind "
            "mount (`-v DIR:/config`) keeps its owner on the host",
        ),
    ],
)
def test_unreadable_runtime_facts_are_named_in_the_reason(text: str, expected: str) -> None:
    finding = _finding(text)
    assert finding.fix is not None
    assert finding.fix.applicability is Applicability.UNSAFE
    assert expected in finding.fix.reason


def test_volume_on_the_app_folder_gets_the_users_run_above_it() -> None:
    """The classic builder and buildah/podman drop a change made after a VOLUME: the
    user's RUN (and the folder's chown) goes above it, and the reason has nothing to
    warn about there."""
    text = 'FROM python:3.12-slim\nVOLUME /app\nWORKDIR /app\nCMD ["python", "a.py"]\n'
    finding = _finding(text)
    assert finding.fix is not None
    assert "before the chown" not in finding.fix.reason
    fixed = _fixed(text)
    assert fixed.index("chown app:app /app") < fixed.index("VOLUME /app")
    assert fixed.index("VOLUME /app") < fixed.index("USER 10001")


def test_volume_before_a_user_the_dockerfile_makes_later_is_named_in_the_reason() -> None:
    """The user's RUN cannot go above the VOLUME when the Dockerfile makes the user
    later: the chown stays after it, and the reason says where it is lost."""
    text = (
        "FROM python:3.12-slim\nVOLUME /app\nWORKDIR /app\n"
        "RUN useradd --uid 1001 --create-home web\nUSER web\nUSER root\n"
        'CMD ["python", "a.py"]\n'
    )
    finding = _finding(text)
    assert finding.fix is not None
    assert "`/app` is a VOLUME (line 2) before the chown" in finding.fix.reason
    assert "buildah/podman drop it" in finding.fix.reason


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("FROM nginx:1.27\nWORKDIR /app\n" + RUNS, "the server binds port 80"),
        (
            "FROM python:3.12\nWORKDIR /app\nEXPOSE 443\n" + RUNS,
            "EXPOSE 443 is a port below 1024: a non-root user can bind it only where the "
            "container runtime sets net.ipv4.ip_unprivileged_port_start=0",
        ),
        (
            'FROM python:3.12\nWORKDIR /app\nCMD ["gunicorn", "-b", "0.0.0.0:80", "a:app"]\n',
            "the command binds port 80, below 1024",
        ),
        (
            "FROM python:3.12\nWORKDIR /app\nUSER www-data\nUSER root\n" + RUNS,
            "switched to `www-data`",
        ),
        (
            "FROM python:3.12\nWORKDIR /app\nRUN poetry install\n" + RUNS,
            "poetry makes its virtualenv",
        ),
        ("FROM python:3.12\nWORKDIR /root/app\n" + RUNS, "`/root/app` is a system folder"),
        (
            'FROM debian:12\nENTRYPOINT ["/usr/local/bin/mvn-entrypoint.sh"]\nCMD ["mvn"]\n',
            "the image starts `mvn`: a shell or build tool",
        ),
        (
            "FROM python:3.12\nRUN apt-get install -y supervisor\nWORKDIR /app\n" + RUNS,
            "the image installs `supervisor`, a daemon that starts as root",
        ),
        (
            "FROM python:3.12\nRUN apt-get install -y kmod\nWORKDIR /app\nCMD modprobe br\n",
            "the command runs `modprobe`, which expects to start as root",
        ),
        (
            'FROM python:3.12\nRUN pip install jupyterhub\nWORKDIR /srv\nCMD ["jupyterhub"]\n',
            "the command runs `jupyterhub`, which expects to start as root",
        ),
        (
            'FROM debian:12-slim\nRUN apt-get install -y nmap\nENTRYPOINT ["nmap"]\n',
            "the command runs `nmap`, which needs root for raw sockets or packet capture",
        ),
        (
            "FROM postgres:16\nRUN apt-get install -y postgis\nCMD postgres\n",
            "the base image `postgres` starts its server through an ENTRYPOINT",
        ),
        ('FROM python:3.12\nCMD ["gunicorn", "--user", "www", "a:app"]\n', "changes user itself"),
        ("FROM nginx:1.27\nWORKDIR /app\nEXPOSE 8080\n" + RUNS, "manages its own workers"),
        ("FROM python:3.12\nWORKDIR $APP\n" + RUNS, "uses a variable the Dockerfile does not set"),
        (
            "FROM python:3.12\nWORKDIR /app\nRUN <<EOF\nuseradd x\nEOF\n" + RUNS,
            "name is not readable",
        ),
    ],
)
def test_reports_say_why(text: str, note: str) -> None:
    finding = _finding(text)
    assert finding.fix is None
    assert note in finding.note


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("FROM python:3.12\nWORKDIR /app\nUSER 1001\n", False),
        ("FROM python:3.12\nWORKDIR /app\nUSER ${RUNTIME_USER}\n", False),
        ("FROM python:3.12\nWORKDIR /app\nUSER 0:0\n", True),
        ("FROM gcr.io/distroless/static:nonroot\nWORKDIR /app\n", False),
        ('FROM base AS b\nUSER app\nFROM b\nCMD ["x"]\n', False),
    ],
)
def test_who_runs_as_root(text: str, reported: bool) -> None:
    assert RULE is not None
    findings = RULE.run(RuleContext(parse(text)))
    assert bool(findings) is reported


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        # No process of its own, none inherited: a base or build environment.
        ("FROM golang:1.22\nWORKDIR /src\nRUN go mod download\n", False),
        ("FROM registry.example.com/base:1\nRUN make\n", False),
        # An interactive shell or REPL: an interactive or CI environment.
        ('FROM node:20\nWORKDIR /ci\nCMD ["bash"]\n', False),
        ('FROM debian:12\nCMD ["python3"]\n', False),
        ('FROM debian:12\nENTRYPOINT ["docker-php-entrypoint"]\nCMD ["php", "-a"]\n', False),
        ('FROM debian:12\nENTRYPOINT ["tini", "--"]\nCMD ["python3.12", "-i"]\n', False),
        ('FROM debian:12\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node"]\n', False),
        ('FROM debian:12\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["node", "a.js"]\n', True),
        # A program to run, a server inherited, or an explicit USER root: reported.
        ('FROM debian:12\nCMD ["python3", "app.py"]\n', True),
        ('FROM debian:12\nCMD ["bash", "-c", "serve"]\n', True),
        ("FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n", True),
        ("FROM tiangolo/uvicorn-gunicorn:python3.11\nCOPY app /app\n", True),
        ("FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n", True),
        ("FROM python:3.12\nUSER nobody\nUSER root\n", True),
    ],
)
def test_images_without_an_application_process_are_not_reported(text: str, reported: bool) -> None:
    assert RULE is not None
    assert bool(RULE.run(RuleContext(parse(text)))) is reported


@pytest.mark.parametrize(
    ("command", "writes"),
    [
        ('CMD ["sleep", "infinity"]', False),
        ("CMD python3 -m http.server 8000", False),
        ('ENTRYPOINT ["tini", "--"]\nCMD ["gunicorn", "-b", ":$PORT", "app:app"]', False),
        ('CMD ["uvicorn", "main:app", "--uds", "api.sock"]', True),
        ('CMD ["gunicorn", "--pid=app.pid", "app:app"]', True),
        ('CMD ["gunicorn", "-b", "unix:app.sock", "app:app"]', True),
        ('CMD ["gunicorn", "--error-logfile", "/tmp/e.log", "app:app"]', False),
        ('CMD ["gunicorn", "-c", "conf.py", "app:app"]', None),
        ('CMD ["gunicorn", "--user", "www-data", "app:app"]', None),
        ('CMD ["daphne", "-p", "8000", "site.asgi:application"]', False),
        ('CMD ["redis-server"]', True),
        ('CMD ["jupyter", "lab"]', True),
        ('CMD ["python", "/app.py"]', None),
        ("CMD cd /srv && ./run", None),
        ('CMD sh -c "redis-server --port 7000"', True),
        ("CMD redis-server --port 7000 && sleep 1", True),
    ],
)
def test_what_the_command_writes_where_it_runs(command: str, writes: bool | None) -> None:
    document = parse(f"FROM python:3.12-slim\n{command}\n")
    image = image_of(RuleContext(document))
    assert cwd_use(image, folders_of(image)).writes is writes


@pytest.mark.parametrize(
    ("image", "family", "user"),
    [
        ("mcr.microsoft.com/dotnet/aspnet:8.0", "debian", "app"),
        ("mcr.microsoft.com/dotnet/runtime-deps:9.0-alpine", "alpine", "app"),
        ("mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled", "distroless", "app"),
        ("mcr.microsoft.com/dotnet/aspnet:6.0", "debian", None),
        ("mcr.microsoft.com/dotnet/aspnet:6.0-nanoserver-ltsc2022", "windows", None),
        ("tensorflow/tensorflow:2.16.1", "debian", None),
        ("adoptopenjdk/openjdk11:ubi", "rhel", None),
        ("mirror.gcr.io/library/alpine:3.20", "alpine", None),
        ("mirror.gcr.io/busybox", "alpine", None),
        ("amd64/ubuntu:22.04", "debian", None),
        ("java:8-jre-alpine", "alpine", None),
    ],
)
def test_families_of_images_outside_the_table(image: str, family: str, user: str | None) -> None:
    found = image_of(RuleContext(parse(f"FROM {image}\nCMD x\n")))
    assert found.traits is not None and found.derived
    assert (found.traits.family.value, found.traits.nonroot_user) == (family, user)


@pytest.mark.parametrize(
    ("run", "family", "useradd"),
    [
        ("apt-get install -y curl", "debian", True),
        ("apk add --no-cache curl", "alpine", False),
        ("yum install -y curl", "rhel", False),
        ("dnf install -y shadow-utils", "rhel", True),
        ("apk add curl || apt-get install -y curl", None, None),
        ("pip install flask", None, None),
    ],
)
def test_family_from_the_package_manager_the_file_runs(
    run: str, family: str | None, useradd: bool | None
) -> None:
    text = f"FROM registry.example.com/base:1\nRUN {run}\nCMD x\n"
    traits = image_of(RuleContext(parse(text))).traits
    if family is None:
        assert traits is None
    else:
        assert traits is not None and traits.entrypoint is None
        assert (traits.family.value, traits.useradd) == (family, useradd)


@pytest.mark.parametrize(
    ("tag", "default_user", "shell"),
    [
        ("nonroot", "nonroot", False),
        ("debug-nonroot", "nonroot", True),
        ("debug", "root", True),
        ("latest", "root", False),
    ],
)
def test_distroless_rows(tag: str, default_user: str, shell: bool) -> None:
    traits = lookup("gcr.io/distroless/static-debian12", tag)
    assert traits is not None
    assert (traits.default_user, traits.shell, traits.nonroot_uid) == (default_user, shell, 65532)


def test_distroless_python_nonroot_keeps_python() -> None:
    traits = lookup("gcr.io/distroless/python3-debian12", "nonroot")
    assert traits is not None and traits.python and traits.default_user == "nonroot"


@pytest.mark.parametrize(
    ("words", "name", "group", "uid", "home"),
    [
        ("useradd -ms /bin/bash app", "app", "app", None, "/home/app"),
        ("useradd -r -g web -u 1500 web", "web", "web", "1500", None),
        ("useradd -N -d /srv/x x", "x", None, None, None),
        ("adduser -S -D -G app app", "app", "app", None, "/home/app"),
        ("adduser -S -D -H svc", "svc", None, None, None),
        ("adduser --system --group --home /opt/bot bot", "bot", "bot", None, "/opt/bot"),
        ("adduser --disabled-password --gecos '' dev", "dev", "dev", None, "/home/dev"),
    ],
)
def test_created_user(
    words: str, name: str, group: str | None, uid: str | None, home: str | None
) -> None:
    created = created_user(words.split()[0], words.replace("''", "x").split())
    assert created is not None
    assert (created.name, created.group, created.uid, created.home) == (name, group, uid, home)


def test_adduser_to_group_creates_nobody() -> None:
    assert created_user("adduser", ["adduser", "app", "docker"]) is None


def test_positionals_skip_option_values() -> None:
    assert positionals(["-u", "10", "-ms", "/bin/sh", "--", "-x"], frozenset({"-u", "-s"})) == [
        "-x"
    ]


@pytest.mark.parametrize(
    ("words", "script"),
    [
        (["./start.sh"], "./start.sh"),
        (["sh", "-e", "run.sh"], "run.sh"),
        (["bash", "-c", "x.sh"], None),
        (["tini", "--", "/docker-entrypoint.sh", "app"], "/docker-entrypoint.sh"),
        (["dumb-init", "--rewrite", "15:2", "--"], None),
        (["/dind"], "/dind"),
        (["/opt/env.init"], "/opt/env.init"),
        (["/usr/local/bin/gunicorn", "app:app"], None),
        (["python", "a.sh"], None),
    ],
)
def test_script_path(words: list[str], script: str | None) -> None:
    assert script_path(words) == script
