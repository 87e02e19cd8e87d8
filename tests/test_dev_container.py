"""A Dockerfile in ``.devcontainer/`` builds a development environment: the rules that
take tools out (DF202, DF203) or change the user (DF201) report without a fix there, and
fix the same text anywhere else.  Through the CLI, as a monorepo run sees the path."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner

from dockfix.cli import main
from dockfix.model.purpose import dev_container_reason

DOCKERFILE = """FROM python:3.11
RUN apt-get update && apt-get install -y gcc libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


@pytest.mark.parametrize(
    ("path", "dev"),
    [
        (".devcontainer/Dockerfile", True),
        ("services/api/.devcontainer/Dockerfile", True),
        (".devcontainer/python/Dockerfile.dev", True),
        ("Dockerfile", False),
        ("devcontainer/Dockerfile", False),
        ("docker/.devcontainer.Dockerfile", False),
        (".devcontainer", False),
    ],
)
def test_dev_container_paths(path: str, dev: bool) -> None:
    assert (dev_container_reason(PurePosixPath(path)) is not None) is dev


def _run(dockerfile: Path) -> tuple[str, str]:
    (dockerfile.parent / "requirements.txt").write_text("psycopg2==2.9.9\n")
    (dockerfile.parent / "app.py").write_text("print('hi')\n")
    dockerfile.write_text(DOCKERFILE)
    result = CliRunner().invoke(
        main,
        [
            "--isolated",
            "--select",
            "DF201,DF202,DF203",
            "--unsafe-fixes",
            "--write",
            str(dockerfile),
        ],
    )
    return result.output, dockerfile.read_text()


def test_dev_container_keeps_its_tools_and_user(tmp_path: Path) -> None:
    folder = tmp_path / ".devcontainer"
    folder.mkdir()
    output, text = _run(folder / "Dockerfile")
    assert text == DOCKERFILE
    for code in ("DF201", "DF202", "DF203"):
        line = next(line for line in output.splitlines() if f" {code} " in line)
        assert "not fixed: the file builds a development container (`.devcontainer/`)" in line


def test_the_same_file_elsewhere_is_fixed(tmp_path: Path) -> None:
    folder = tmp_path / "api"
    folder.mkdir()
    _, text = _run(folder / "Dockerfile")
    assert "AS builder" in text and "FROM python:3.11-slim" in text and "USER 10001" in text
