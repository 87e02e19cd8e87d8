"""The corpus checkers themselves must catch what they are for."""

from __future__ import annotations

from corpus_checks import (
    added_unknown_users,
    config_changes,
    exec_form_mismatches,
    output_failures,
)
from final_config import final_config


def test_added_unknown_users_checker() -> None:
    """Created, shipped and numeric users pass; others do not."""
    before = 'FROM python:3.12-slim\nCMD ["x"]\n'
    created = 'FROM python:3.12-slim\nRUN useradd -m -s /bin/sh app\nUSER app\nCMD ["x"]\n'
    shipped = "FROM node:20\nUSER node\n"
    numeric = "FROM python:3.12-slim\nUSER 10001\n"
    invented = "FROM python:3.12-slim\nUSER ghost\n"
    assert added_unknown_users(before, created) == []
    assert added_unknown_users(before, shipped) == []
    assert added_unknown_users(before, numeric) == []
    assert added_unknown_users(before, invented) == ["line 2: USER ghost"]


def test_exec_form_checker() -> None:
    before = "FROM a\nCMD gunicorn -b :80 app:app\n"
    good = 'FROM a\nCMD ["gunicorn", "-b", ":80", "app:app"]\n'
    tmp_dir = 'FROM a\nCMD ["gunicorn", "--worker-tmp-dir", "/dev/shm", "-b", ":80", "app:app"]\n'
    wrong = 'FROM a\nCMD ["gunicorn", "app:app"]\n'
    assert exec_form_mismatches(before, good) == []
    assert exec_form_mismatches(before, tmp_dir) == []
    assert exec_form_mismatches(before, wrong)
    shell = "FROM a\nCMD python app.py > /tmp/log\n"
    assert exec_form_mismatches(shell, 'FROM a\nCMD ["python", "app.py", ">", "/tmp/log"]\n')
    exec_prefixed = 'FROM a\nCMD ["/bin/sh", "-c", "exec python app.py > /tmp/log"]\n'
    assert exec_form_mismatches(shell, exec_prefixed) == []
    already = "FROM a\nCMD exec gunicorn -b :$PORT app\n"
    with_tmp = (
        'FROM a\nCMD ["/bin/sh", "-c", "exec gunicorn --worker-tmp-dir /dev/shm -b :$PORT app"]\n'
    )
    assert exec_form_mismatches(already, with_tmp) == []


def test_output_failures_catch_lost_comments_and_rejection() -> None:
    before = "FROM a\n# keep\nRUN x\n"
    assert output_failures(before, "FROM a\nRUN x\n") == ["lost comment lines ['# keep']"]
    assert output_failures(before, "FROM a\nENV A\n") == ["BuildKit rejects the output"]
    assert output_failures(before, before) == []


def test_config_changes_catch_what_a_split_could_lose() -> None:
    """A final stage that lost an ENV, a LABEL, a port or a volume fails; DF205's variables,
    DF003's label and (unsafe) USER/WORKDIR/SHELL pass."""
    before = (
        "FROM python:3.12 AS base\nENV A=1 B='two words'\nLABEL team=x\n"
        "FROM base\nEXPOSE 8000\nVOLUME /data\nMAINTAINER me <m@x>\nCMD python app.py\n"
    )
    split = (
        "FROM python:3.12 AS base\nENV A=1 B='two words'\nLABEL team=x\n"
        "FROM base AS builder\nEXPOSE 8000\n"
        "FROM python:3.12-slim\nVOLUME /data\nCMD python app.py\n"
    )
    assert config_changes(before, split) == [
        "final image config: ENV A: '1' -> None",
        "final image config: ENV B: 'two words' -> None",
        "final image config: EXPOSE: {'8000/tcp'} -> set()",
        "final image config: LABEL team: 'x' -> None",
        "final image config: MAINTAINER: 'me <m@x>' -> None",
    ]
    declared = (
        'FROM python:3.12 AS base\nENV A=1 B="two words"\nLABEL team=x\n'
        "FROM base\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nEXPOSE 8000/tcp\n"
        'VOLUME ["/data"]\nLABEL org.opencontainers.image.authors="me <m@x>"\n'
        'WORKDIR /app\nUSER 10001\nCMD ["python", "app.py"]\n'
    )
    assert config_changes(before, declared, unsafe=True) == []
    assert config_changes(before, declared) == [
        "final image config: USER: None -> (False, ('10001',))",
        "final image config: WORKDIR: None -> '/app'",
    ]


def test_final_config_reads_like_buildkit() -> None:
    """Legacy and key=value ENV agree; relative WORKDIRs resolve; ports normalise."""
    legacy = (
        "FROM a\nENV DEPS \\\n\tgcc \\\n\tmake\nWORKDIR /srv\nWORKDIR app\nEXPOSE 80:8080/UDP\n"
    )
    modern = 'FROM a\nENV DEPS="gcc \tmake"\nWORKDIR /srv/app\nEXPOSE 8080/udp\n'
    assert final_config(legacy) == final_config(modern)
    assert final_config(modern)["WORKDIR"] == "/srv/app"
    assert final_config(modern)["EXPOSE"] == {"8080/udp"}


def test_config_changes_allow_the_venv_split_path_only_when_unsafe() -> None:
    before = "FROM python:3.12\nCMD python app.py\n"
    after = "FROM python:3.12-slim\nENV PATH=/opt/venv/bin:$PATH\nCMD python app.py\n"
    assert config_changes(before, after, unsafe=True) == []
    assert config_changes(before, after) == [
        "final image config: ENV PATH: None -> '/opt/venv/bin:$PATH'"
    ]
    other = "FROM python:3.12-slim\nENV PATH=/usr/games:$PATH\nCMD python app.py\n"
    assert config_changes(before, other, unsafe=True)
