"""DF202 where pip runs as a user the stage switches to: what the split keeps, what it
refuses, and the reasons (no build context, as the corpus is measured)."""

from __future__ import annotations

from dockfix.engine import fix_document
from dockfix.rules import select_rules
from dockfix.rules.base import Settings
from dockfix.syntax import parse

OPEN_WHEELS = (
    "RUN mkdir -p /wheels && chmod -R a+rwX /wheels && touch /runtime-packages.txt "
    "&& chmod a+rw /runtime-packages.txt"
)


def _run(text: str, strategy: str = "wheels") -> tuple[str | None, str]:
    """(the refusal, None when fixed; the output with unsafe fixes)."""
    rules = [rule for rule in select_rules() if rule.code == "DF202"]
    settings = Settings(unsafe_fixes=True, split_strategy=strategy)
    result = fix_document(parse(text), rules, settings, path=None, context_dir=None)
    (finding,) = [f for f in result.findings if f.code == "DF202"]
    return (None if finding.fix is not None else finding.note or ""), result.output


def _lines(output: str) -> list[str]:
    return output.splitlines()


TWO_SWITCHES = """\
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc \\
    && useradd --create-home app
USER app
RUN mkdir -p /home/app/logs
USER root
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev
USER app
RUN pip install --user psycopg2==2.9.9
"""


def test_the_last_switch_from_root_opens_the_wheels_and_takes_the_runtime_install() -> None:
    refusal, output = _run(TWO_SWITCHES)
    assert refusal is None
    lines = _lines(output)
    final = lines.index("FROM python:3.12-slim")
    builder, stage = lines[:final], lines[final:]
    # The builder: both USER lines, in order; /wheels opened by root before the last one.
    assert builder.count("USER app") == 2
    assert builder[builder.index(OPEN_WHEELS) + 1] == "USER app"
    assert builder.index(OPEN_WHEELS) > builder.index("USER root")
    # The final stage: the runtime install above the last switch, where root runs.
    runtime = next(i for i, line in enumerate(stage) if "runtime-packages.txt" in line)
    switch = max(i for i, line in enumerate(stage) if line == "USER app")
    assert stage.index("USER root") < runtime < switch
    assert stage[-1].startswith("RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels")


def test_pip_as_root_only_keeps_the_builder_unchanged() -> None:
    refusal, output = _run(TWO_SWITCHES.replace("USER app\nRUN pip", "RUN pip"))
    assert refusal is None
    assert OPEN_WHEELS not in output


def test_the_base_images_user_not_known_is_refused() -> None:
    refusal, _ = _run(
        "FROM example.com/tools/py:1\n"
        "RUN sudo apt-get update && sudo apt-get install -y build-essential\n"
        "RUN pip install uwsgi\n"
    )
    assert refusal == (
        "pip runs as USER (not known) on line 3, and no step before it is known to run as "
        "root: the runtime libraries' install needs root"
    )


def test_a_user_not_switched_to_from_root_is_refused() -> None:
    """``jupyter/base-notebook`` runs as ``jovyan``: no step of the stage runs as root."""
    refusal, _ = _run(
        "FROM jupyter/base-notebook:latest\n"
        "USER jovyan\n"
        "RUN sudo apt-get install -y gcc\n"
        "RUN pip install uwsgi\n"
    )
    assert refusal == (
        "pip runs as USER jovyan on line 4, and no step before it is known to run as root: "
        "the runtime libraries' install needs root"
    )


def test_system_packages_changed_after_the_switch_are_refused() -> None:
    refusal, _ = _run(
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y gcc sudo && useradd -m app\n"
        "USER app\n"
        "RUN sudo apt-get install -y libpq-dev\n"
        "RUN pip install --user psycopg2==2.9.9\n"
    )
    assert refusal == (
        "the RUN on line 4 runs as USER app and changes system packages: the runtime "
        "libraries' install, above the switch to that user, would come before it; split it "
        "by hand"
    )


def test_the_venv_strategy_is_refused_for_a_user() -> None:
    refusal, _ = _run(
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y gcc && useradd -m app\n"
        "USER app\n"
        "RUN pip install uwsgi\n",
        strategy="venv",
    )
    assert refusal == (
        "pip runs as USER app on line 4: the environment copied from the builder would "
        "belong to root; split it by hand"
    )


def test_identical_install_runs_are_two_installs() -> None:
    """Two RUNs of the same text share their parsed commands: both are split."""
    refusal, output = _run(
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y gcc\n"
        "COPY a.txt requirements.txt\n"
        "RUN pip install -r requirements.txt\n"
        "COPY b.txt requirements.txt\n"
        "RUN pip install -r requirements.txt\n"
    )
    assert refusal is None
    assert "RUN pip install -r requirements.txt" not in output
    assert output.count("pip wheel --wheel-dir /wheels -r requirements.txt") == 2


def test_users_not_known_under_two_user_lines_are_two_users() -> None:
    refusal, _ = _run(
        "FROM python:3.12-slim\n"
        "ARG A\n"
        "ARG B\n"
        "RUN apt-get update && apt-get install -y gcc\n"
        "USER $A\n"
        "RUN pip install --user uwsgi\n"
        "USER $B\n"
        "RUN pip install --user psutil\n"
    )
    assert refusal == (
        "pip runs as USER $A (not known, named on line 5) on line 6 and as USER $B (not "
        "known, named on line 7) on line 8: the builder's /wheels serves one user (a wheel "
        "another user left there cannot be replaced); split it by hand"
    )
