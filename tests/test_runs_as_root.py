"""DF201 runs-as-root: what the fixtures do not show (the fix's reason, the image rows
the rule relies on, the command-line readers), one case per line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.images import lookup
from dockfix.rules import lookup as lookup_rule
from dockfix.rules.base import Applicability, RuleContext
from dockfix.rules.runs_as_root.image import created_user, positionals, script_path
from dockfix.syntax import parse

RULE = lookup_rule("runs-as-root")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs-as-root"
#: A command, so that the image is not taken for a build environment (no CMD).
RUNS = "CMD python a.py\n"


def _finding(text: str, context_dir: Path | None = None):  # type: ignore[no-untyped-def]
    assert RULE is not None
    (finding,) = RULE.run(RuleContext(parse(text), None, context_dir))
    return finding


def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.in.Dockerfile").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("flask-logs", "runs as `app` (uid 10001): what it writes at run time outside `/app`"),
        ("entrypoint-script", "files copied into `/app` before the switch (line 3)"),
        ("distroless", "BuildKit creates `/app` owned by the user"),
        ("node", "runs as `node` (uid 1000)"),
    ],
)
def test_fix_is_unsafe_and_says_what_may_change(fixture: str, expected: str) -> None:
    finding = _finding(_fixture(fixture), FIXTURES)
    assert finding.fix is not None
    assert finding.fix.applicability is Applicability.UNSAFE
    assert expected in finding.fix.reason


def test_volume_on_the_app_folder_is_named_in_the_reason() -> None:
    text = 'FROM python:3.12-slim\nVOLUME /app\nWORKDIR /app\nCMD ["python", "a.py"]\n'
    finding = _finding(text)
    assert finding.fix is not None
    assert "`/app` is a VOLUME (line 2) before the chown" in finding.fix.reason


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("FROM nginx:1.27\nWORKDIR /app\n" + RUNS, "the server binds port 80"),
        (
            "FROM python:3.12\nWORKDIR /app\nUSER www-data\nUSER root\n" + RUNS,
            "switched to `www-data`",
        ),
        (
            "FROM python:3.12\nWORKDIR /app\nRUN poetry install\n" + RUNS,
            "poetry makes its virtualenv",
        ),
        ('FROM python:3.12\nWORKDIR /app\nCMD ["tini", "--", "/run"]\n', "`/run` cannot be"),
        ("FROM python:3.12\nWORKDIR /root/app\n" + RUNS, "`/root/app` is a system folder"),
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
