"""``--split-strategy`` reaches DF202: wheels by default, a virtualenv when asked."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dockfix.cli import main

DOCKERFILE = """\
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc
COPY requirements.txt .
RUN pip install -r requirements.txt
"""


def _diff(tmp_path: Path, *options: str) -> str:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE, encoding="utf-8")
    args = ["--select", "DF202", "--unsafe-fixes", "--diff", *options, str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    return result.output


def test_wheels_is_the_default(tmp_path: Path) -> None:
    output = _diff(tmp_path)
    assert "+RUN pip wheel --wheel-dir /wheels -r requirements.txt" in output
    assert "/opt/venv" not in output


def test_venv_strategy(tmp_path: Path) -> None:
    output = _diff(tmp_path, "--split-strategy", "venv")
    assert "+COPY --from=builder /opt/venv /opt/venv" in output
    assert "+ENV PATH=/opt/venv/bin:$PATH" in output
    assert "/wheels" not in output


def test_unknown_strategy_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--split-strategy", "conda", str(tmp_path)])
    assert result.exit_code == 2
