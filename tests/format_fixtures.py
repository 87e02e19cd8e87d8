"""Fixtures for the output-format and streaming tests; load with
``pytest_plugins = ["format_fixtures"]``: ``via`` (how to run dockfix), ``workdir`` (the current
folder, with a clean environment) and ``child_env`` (the environment of a subprocess).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from format_helpers import clean_environment, process_env


@pytest.fixture(params=["runner", "process"])
def via(request: pytest.FixtureRequest) -> str:
    """Both ways of running dockfix: click's CliRunner and a real subprocess."""
    return str(request.param)


@pytest.fixture
def workdir(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """An empty working folder, made the current one, with a clean git/colour environment."""
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    clean_environment(monkeypatch, tmp_path_factory.mktemp("home"))
    return root


@pytest.fixture
def child_env(workdir: Path) -> dict[str, str]:
    """The environment for a dockfix subprocess (the clean one ``workdir`` set up)."""
    return process_env(Path(os.environ["HOME"]))
