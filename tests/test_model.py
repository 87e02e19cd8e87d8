"""The stage model: the facts every rule reads (platform, shell, user, env, syntax...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.model import (
    NO_CONTEXT,
    BuildContext,
    FileModel,
    Platform,
    ShellDialect,
    dialect_of,
    mounts_of,
    parse_mount,
    syntax_info,
)
from dockfix.model.expand import expand
from dockfix.model.preconditions import Precondition, evaluate
from dockfix.syntax import parse


def model(text: str, context: BuildContext = NO_CONTEXT, aliases=()) -> FileModel:
    return FileModel(parse(text), context, aliases)


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("FROM python:3.12-windowsservercore\n", Platform.WINDOWS),
        ("FROM golang:1.22-nanoserver-ltsc2022\n", Platform.WINDOWS),
        ("FROM openjdk:17-windowsservercore-1809\n", Platform.WINDOWS),
        ("FROM mcr.microsoft.com/windows/servercore:ltsc2022\n", Platform.WINDOWS),
        ("FROM mcr.microsoft.com/dotnet/framework/sdk:4.8\n", Platform.WINDOWS),
        ("FROM mcr.microsoft.com/powershell:lts-nanoserver-1809\n", Platform.WINDOWS),
        ("FROM mcr.microsoft.com/powershell:lts-debian-11\n", Platform.LINUX),
        ("FROM --platform=windows/amd64 corp/base\n", Platform.WINDOWS),
        ("# escape=`\nFROM corp/base\n", Platform.WINDOWS),
        ('FROM corp/base\nSHELL ["powershell", "-Command"]\n', Platform.WINDOWS),
        ("FROM corp/base\nWORKDIR C:\\\\app\n", Platform.WINDOWS),
        ("FROM corp/base\nRUN choco install git\n", Platform.WINDOWS),
        ("FROM python:3.12-slim\n", Platform.LINUX),
        ("FROM corp/base\nRUN apt-get update\n", Platform.LINUX),
        ("FROM corp/base-alpine\n", Platform.LINUX),
        ("FROM scratch\n", Platform.LINUX),
        ("FROM corp/base\nRUN make\n", Platform.UNKNOWN),
        ("FROM corp/base\nRUN sed 's:/a:b:' x\n", Platform.LINUX),  # not a C: path
    ],
)
def test_platform(text: str, platform: Platform) -> None:
    assert model(text).stages[-1].platform is platform


def test_platform_follows_stage_aliases_and_arg_defaults() -> None:
    text = (
        "ARG BASE=mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "FROM ${BASE} AS base\nFROM base\nRUN echo hi\n"
    )
    facts = model(text).stages
    assert facts[0].platform is Platform.WINDOWS
    assert facts[1].parent is facts[0]
    assert facts[1].platform is Platform.WINDOWS
    assert facts[1].lineage == (facts[1], facts[0])
    assert facts[0].descendants == (facts[1],)


@pytest.mark.parametrize(
    ("shell", "dialect"),
    [
        (["/bin/sh", "-c"], ShellDialect.POSIX),
        (["/bin/bash", "-o", "pipefail", "-c"], ShellDialect.BASH),
        (["/bin/bash", "--login", "-c"], ShellDialect.BASH_LOGIN),
        (["bash", "-lc"], ShellDialect.BASH_LOGIN),
        (["powershell", "-Command"], ShellDialect.POWERSHELL),
        (
            ["C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"],
            ShellDialect.POWERSHELL,
        ),
        (["pwsh", "-Command"], ShellDialect.PWSH),
        (["cmd", "/S", "/C"], ShellDialect.CMD),
        (["/bin/zsh", "-c"], ShellDialect.OTHER),
    ],
)
def test_dialect_of(shell: list[str], dialect: ShellDialect) -> None:
    assert dialect_of(shell) is dialect


def test_dialect_per_step_and_inherited() -> None:
    text = (
        'FROM debian:12 AS base\nRUN a\nSHELL ["/bin/bash", "--login", "-c"]\nRUN b\n'
        "FROM base\nRUN c\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN d\n"
        "FROM corp/unknown\nRUN e\n"
    )
    m = model(text)
    runs = [i for i in m.document.instructions if i.cmd == "RUN"]
    dialects = [m.step_at(run).dialect for run in runs]  # type: ignore[union-attr]
    assert dialects == [
        ShellDialect.POSIX,
        ShellDialect.BASH_LOGIN,
        ShellDialect.BASH_LOGIN,
        ShellDialect.CMD,
        ShellDialect.UNKNOWN,
    ]


def test_user_env_and_home_at_each_step() -> None:
    text = (
        "FROM python:3.12-slim\nARG APP_USER=svc\nENV PIP_CACHE_DIR=/cache/pip\n"
        "RUN one\nUSER ${APP_USER}\nRUN two\nENV HOME=/home/svc\nRUN three\n"
    )
    m = model(text)
    one, two, three = (i for i in m.document.instructions if i.cmd == "RUN")
    first, second, third = (m.step_at(i) for i in (one, two, three))
    assert first is not None and second is not None and third is not None
    assert (first.user, first.is_root, first.home) == ("root", True, "/root")
    assert first.value("PIP_CACHE_DIR") == "/cache/pip"
    assert (second.user, second.is_root, second.home) == ("svc", False, None)
    assert third.home == "/home/svc"


def test_base_image_default_users() -> None:
    assert model("FROM jupyter/scipy-notebook\n").stages[0].end.user == "jovyan"
    assert model("FROM jupyter/scipy-notebook\n").stages[0].end.home == "/home/jovyan"
    assert model("FROM jenkins/jenkins:lts\n").stages[0].end.user == "jenkins"
    assert model("FROM gcr.io/distroless/python3:nonroot\n").stages[0].end.user == "nonroot"
    assert model("FROM python:3.12\n").stages[0].end.user == "root"
    unknown = model("FROM corp/base\n").stages[0].end
    assert unknown.user is None and unknown.is_root is None


def test_workdir_and_unknown_user_variable() -> None:
    m = model("FROM debian:12\nWORKDIR /srv\nWORKDIR app\nUSER $WHO\nRUN x\n")
    end = m.stages[0].end
    assert end.workdir == "/srv/app"
    assert end.user is None  # $WHO is not declared: unknown, never guessed


def test_onbuild_and_installed_packages() -> None:
    text = (
        "FROM debian:12 AS base\nONBUILD RUN make install\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc=12.2 curl\n"
        "RUN apt-get purge -y curl\nFROM base\n"
    )
    m = model(text)
    assert [i.sub_cmd for i in m.stages[0].onbuild] == ["RUN"]
    assert m.stages[1].inherited_onbuild == m.stages[0].onbuild
    assert m.stages[1].installed == frozenset({"gcc"})
    traits = m.stages[1].end_traits
    assert traits is not None and traits.toolchain and not traits.curl


def test_image_aliases_give_the_table_knowledge() -> None:
    text = "FROM registry.corp/python:3.12-slim\n"
    assert model(text).stages[0].traits is None
    aliased = model(text, aliases=(("registry.corp/python", "python"),)).stages[0]
    assert aliased.traits is not None and aliased.traits.python
    mirror = model(
        "FROM mirror.gcr.io/library/python:3.12\n", aliases=(("mirror.gcr.io/library", "library"),)
    )
    assert mirror.stages[0].traits is not None


@pytest.mark.parametrize(
    ("directive", "mounts", "heredocs"),
    [
        ("", None, None),
        ("# syntax=docker/dockerfile:1\n", True, True),
        ("# syntax=docker/dockerfile:1.0\n", False, False),
        ("# syntax=docker/dockerfile:1.1\n", False, False),
        ("# syntax=docker/dockerfile:1.0-experimental\n", True, False),
        ("# syntax=docker/dockerfile:1.2\n", True, False),
        ("# syntax=docker.io/docker/dockerfile:1.4@sha256:abc\n", True, True),
        ("# syntax=docker/dockerfile:labs\n", True, True),
        ("# syntax=corp/frontend:2\n", None, None),
    ],
)
def test_syntax_versions(directive: str, mounts: bool | None, heredocs: bool | None) -> None:
    info = syntax_info(parse(directive + "FROM scratch\n"))
    assert info.run_mounts is mounts
    assert info.heredocs is heredocs


def test_one_mount_parser() -> None:
    mount = parse_mount('type=cache,target=/root/.cache/pip/,"id=a,b",sharing=locked')
    assert (mount.type, mount.target, mount.options["id"]) == ("cache", "/root/.cache/pip", "a,b")
    assert parse_mount("dst=/x").type == "bind"
    assert mount.covers("/root/.cache/pip/http") and not mount.covers("/root/.cache")
    assert mount.overlaps("/root/.cache")
    run = parse("FROM x\nRUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=t x\n")
    found = mounts_of(run.instructions[1])
    assert [m.type for m in found] == ["cache", "secret"]


def test_build_context_view(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "req.txt").write_text("flask\n")
    import gzip

    (tmp_path / "data.bin").write_bytes(gzip.compress(b"x"))
    view = BuildContext(tmp_path)
    assert view.present and view.is_dir("app") and view.is_file("app/req.txt")
    assert view.read_text("./app/req.txt") == "flask\n"
    assert view.is_archive("data.bin") is True and view.is_archive("app/req.txt") is False
    assert view.exists("missing") is False
    assert view.exists("../app/req.txt") is True  # BuildKit clamps ".." at the context root
    assert view.glob("app/*.txt") == ("app/req.txt",)
    assert NO_CONTEXT.exists("app") is None and not NO_CONTEXT.present


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("$A/x", {"A": "/a"}, "/a/x"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:+yes}", {"A": "1"}, "yes"),
        ("$B", {}, None),
        ("$A", {"A": None}, None),
        ("\\$A", {}, "$A"),
    ],
)
def test_expand(text: str, values: dict[str, str | None], expected: str | None) -> None:
    assert expand(text, values) == expected


def test_preconditions() -> None:
    m = model(
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN a\n"
        "FROM debian:12\nRUN b\n"
        'FROM debian:12\nSHELL ["pwsh", "-c"]\nRUN c\n'
        "FROM corp/x\nRUN make\n"
    )
    runs = [i for i in m.document.instructions if i.cmd == "RUN"]
    verdicts = [
        (
            evaluate(Precondition.LINUX, m, m.stage_of(run), run).holds,
            evaluate(Precondition.POSIX_SHELL, m, m.stage_of(run), run).holds,
        )
        for run in runs
    ]
    assert verdicts == [(False, False), (True, True), (True, False), (None, None)]
    pinned = model("# syntax=docker/dockerfile:1.1\nFROM debian:12\nRUN x\n")
    assert evaluate(Precondition.RUN_MOUNTS, pinned, None, None).holds is False
    bare = model("FROM debian:12\n")
    assert evaluate(Precondition.RUN_MOUNTS, bare, None, None).holds is True
    assert evaluate(Precondition.RUN_MOUNTS, bare, None, None, may_add_syntax=False).holds is None
    assert evaluate(Precondition.BUILD_CONTEXT, bare, None, None).holds is False


def test_build_context_walk_is_shared_while_its_folders_are_unchanged(tmp_path: Path) -> None:
    """Every Dockerfile of a folder of many walks the same context: the listing is reused
    while no folder it read has changed, and only for folders that changed long enough
    before the walk (a change in the same clock tick would not move the time)."""
    import os

    from dockfix.model import context as context_module

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.txt").write_text("b")
    fresh = BuildContext(tmp_path).files_under(".")
    assert fresh == ("a.txt", "sub/b.txt")
    assert BuildContext(tmp_path).files_under(".") is not fresh  # just changed: walked again
    for folder in (tmp_path, tmp_path / "sub"):
        os.utime(folder, ns=(1_000_000_000, 1_000_000_000))
    settled = BuildContext(tmp_path).files_under(".")
    assert BuildContext(tmp_path).files_under(".") is settled
    (tmp_path / "sub" / "c.txt").write_text("c")  # moves sub's time: walked again
    assert BuildContext(tmp_path).files_under(".") == ("a.txt", "sub/b.txt", "sub/c.txt")
    os.utime(tmp_path / "sub", ns=(1_000_000_000, 1_000_000_000))
    (tmp_path / "link").symlink_to(tmp_path / "a.txt")
    os.utime(tmp_path, ns=(1_000_000_000, 1_000_000_000))
    linked = BuildContext(tmp_path).files_under(".")
    assert linked == ("a.txt", "link", "sub/b.txt", "sub/c.txt")
    assert BuildContext(tmp_path).files_under(".") is not linked  # a link: never reused
    assert BuildContext(tmp_path).files_under(".", limit=2) is None
    assert len(context_module._WALKS) <= context_module._KEPT_WALKS


def test_build_context_walk_lists_what_os_walk_lists(tmp_path: Path) -> None:
    """The walk reads folders as ``os.walk`` does: links to folders are listed among the
    folders and not entered, ``.git`` and ``node_modules`` are skipped."""
    import os

    for folder in ("src/pkg", ".git/objects", "node_modules/x", "deep/a/b"):
        (tmp_path / folder).mkdir(parents=True)
    for name in ("src/pkg/m.py", ".git/HEAD", "node_modules/x/i.js", "deep/a/b/c", "top"):
        (tmp_path / name).write_text(name)
    (tmp_path / "linked").symlink_to(tmp_path / "src", target_is_directory=True)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    expected = []
    for folder, dirs, files in os.walk(tmp_path):
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules")]
        inside = os.path.relpath(folder, tmp_path)
        expected += [name if inside == os.curdir else os.path.join(inside, name) for name in files]
    assert BuildContext(tmp_path).files_under(".") == tuple(sorted(expected))
    assert BuildContext(tmp_path).files_under("deep") == ("deep/a/b/c",)
