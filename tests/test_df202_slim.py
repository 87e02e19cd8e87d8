"""DF202's move to -slim on the full python image: the tags it names, the tools it
installs back (``git``), bases whose version is an ARG, and what each fix says."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_cases import run_case

from dockfix.images.python import archived_release, slim_image, variable_slim_image
from dockfix.syntax.images import parse_image_ref

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "build-tools-in-final-image"


def _finding(name: str) -> tuple[str | None, str | None]:
    """``(reason, note)`` of the case's DF202 finding: the fix's reason, or the refusal."""
    result = run_case(FIXTURES / f"{name}.in.Dockerfile", unsafe=True)
    (finding,) = (f for f in result.findings if f.code == "DF202")
    return (finding.fix.reason if finding.fix else None), finding.note


@pytest.mark.parametrize(
    ("image", "slim"),
    [
        ("python:3.6.8-stretch", "python:3.6.8-slim-stretch"),
        ("python:3.7-stretch", "python:3.7-slim-stretch"),
        ("python:2.7.15-jessie", "python:2.7.15-slim-jessie"),
        ("python:jessie", "python:slim-jessie"),
        ("python:3.12-bookworm", "python:3.12-slim-bookworm"),
        ("python:2.7-wheezy", None),
        ("python:3.6-onbuild", None),
    ],
)
def test_slim_tag_of_each_debian_release(image: str, slim: str | None) -> None:
    assert slim_image(parse_image_ref(image))[0] == slim


@pytest.mark.parametrize(
    ("text", "default", "slim"),
    [
        ("python:${PY}", "python:3.12", "python:${PY}-slim"),
        ("python:$PY", "python:3.11.9", "python:$PY-slim"),
        ("python:${PY}-bookworm", "python:3.12-bookworm", "python:${PY}-slim-bookworm"),
        ("python:${PY}", "python:3.12-bookworm", None),  # the value is no plain version
        ("python:${PY}", None, None),  # no default
        ("${BASE}", "python:3.12", None),  # the repository is a variable too
        ("python:${PY}-${DIST}", "python:3.12-bookworm", None),
    ],
)
def test_slim_tag_from_an_arg(text: str, default: str | None, slim: str | None) -> None:
    resolved = parse_image_ref(default) if default else None
    assert variable_slim_image(text, resolved)[0] == slim


@pytest.mark.parametrize(
    ("tag", "archived"),
    [
        ("3.7-stretch", ("stretch", True)),
        ("2.7.15-jessie", ("jessie", True)),
        ("3.8-buster", ("buster", True)),
        ("2.7.9", ("jessie, stretch or buster", True)),
        ("2.7", ("buster", True)),
        ("2", ("buster", True)),
        ("3.4", ("stretch", True)),
        ("3.6", ("", True)),  # its last images are bullseye's
        ("3.6.8", ("buster or older", False)),
        ("3.6.15", ("", True)),
        ("3.9.6", ("buster or older", False)),
        ("3.12-bookworm", ("", True)),
        ("3.12", ("", True)),
        ("3.9-bullseye", ("", True)),
        ("latest", ("", True)),
    ],
)
def test_archived_releases(tag: str, archived: tuple[str, bool]) -> None:
    assert archived_release(tag) == archived


def test_git_used_after_the_install_is_installed_back_with_ssh() -> None:
    reason, _ = _finding("slim_tools_git_after_install")
    assert reason is not None
    assert "installs git openssh-client with the runtime libraries because line 6" in reason


def test_a_purge_of_git_is_no_use_of_git() -> None:
    reason, note = _finding("slim_tools_git_purge_not_a_use")
    assert reason is not None, note
    assert "openssh-client" not in reason


def test_a_compiler_after_git_keeps_the_refusal() -> None:
    _, note = _finding("ok-slim_tools_git_then_make")
    assert note == "the RUN on line 4 runs `make`, which needs the build tools"


def test_stretch_splits_where_the_stage_updates_apt_itself() -> None:
    reason, note = _finding("slim_tag_stretch")
    assert reason is not None, note
    assert "runs Debian stretch, whose archive has left deb.debian.org" in reason


def test_an_archived_release_without_apt_copies_the_libraries() -> None:
    """No apt-get works on the final stage: the builder's scan writes a tar of the
    packages' files (libpq5 added: psycopg2 loads it) and the final stage unpacks it."""
    reason, note = _finding("slim_tag_archived_copy")
    assert reason is not None, note
    assert "cannot run apt-get either: it copies from the builder" in reason
    out = (FIXTURES / "slim_tag_archived_copy.unsafe.out.Dockerfile").read_text()
    builder, final = out.split("FROM python:3.7-slim-stretch")
    assert "k|={'libpq5'}" in builder
    assert "/runtime-libraries.tar" in builder
    assert "apt-get" not in final
    assert "tar -xf /tmp/runtime-libraries.tar -C / --skip-old-files" in final


def test_an_archived_release_without_apt_refuses_the_tools_it_would_install() -> None:
    _, note = _finding("ok-slim_tag_archived_tool")
    assert note is not None
    assert "the final stage's apt-get install of git, openssh-client" in note


def test_arg_default_full_base_says_what_another_value_does() -> None:
    reason, note = _finding("base-arg-default-full")
    assert reason is not None, note
    assert "`python:${PYTHON_VERSION}` is `python:3.12` by its ARG's default" in reason
    assert "`python:${PYTHON_VERSION}-slim` adds -slim to the ARG's value" in reason
    assert "names no image and the build fails" in reason


def test_arg_default_alpine_base_says_what_it_was_planned_for() -> None:
    reason, note = _finding("base-arg-default-alpine")
    assert reason is not None, note
    assert "is `python:3.12-alpine3.20` by its ARG's default" in reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ok-base-arg-no-default", "the base image is given by a variable"),
        ("ok-base-arg-default-codename", "is `python:3.12-bookworm` by default"),
        ("ok-slim_tag_wheezy", "have no -slim variant"),
    ],
)
def test_refusals(name: str, expected: str) -> None:
    _, note = _finding(name)
    assert note is not None
    assert expected in note


def test_a_start_script_missing_from_the_context_is_named_in_the_reason() -> None:
    """It runs only when the container starts: the split builds, and the reason says
    what may fail (as DF201 names an entrypoint it cannot read)."""
    reason, note = _finding("slim_script_not_in_context")
    assert reason is not None, note
    assert (
        "the CMD on line 6 runs `./run.sh`, which cannot be read from the build context" in reason
    )
    assert "the container fails at start" in reason


def test_a_run_script_missing_from_the_context_is_refused() -> None:
    """A RUN script may need the full image's tools while building: no split."""
    _, note = _finding("ok-slim_run_script_not_in_context")
    assert note is not None
    assert "the RUN on line 5 runs a script (`./setup.sh`)" in note


def test_a_script_read_from_the_context_that_uses_no_missing_tool_splits() -> None:
    reason, note = _finding("slim_script_in_context")
    assert reason is not None, note
