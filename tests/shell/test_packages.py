"""classify(): package-manager recognition, table-driven per manager."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dockfix.shell import (
    Manager,
    PackageCommand,
    SimpleCommand,
    classify,
    iter_simple_commands,
    parse_shell,
)


@dataclass(frozen=True)
class Case:
    text: str
    manager: Manager
    action: str
    packages: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    requirement_files: tuple[str, ...] = ()
    subcommand: str | None = "<action>"  # the word as written; None: no subcommand word
    program: tuple[str, ...] | None = None


CASES = [
    # pip and friends
    Case(
        "pip install --no-cache-dir -r requirements.txt flask==2.0 'requests>=2'",
        Manager.PIP,
        "install",
        packages=("flask==2.0", "'requests>=2'"),
        options=("--no-cache-dir", "-r", "requirements.txt"),
        requirement_files=("requirements.txt",),
        program=("pip",),
    ),
    Case("pip3 install -U pip setuptools", Manager.PIP, "install", ("pip", "setuptools"), ("-U",)),
    Case("pip3.11 install x", Manager.PIP, "install", ("x",), program=("pip3.11",)),
    Case("/usr/local/bin/pip install x", Manager.PIP, "install", ("x",)),
    Case(
        "python -m pip install --upgrade pip",
        Manager.PIP,
        "install",
        ("pip",),
        ("--upgrade",),
        program=("python", "-m", "pip"),
    ),
    Case(
        "python3 -m pip install x",
        Manager.PIP,
        "install",
        ("x",),
        program=("python3", "-m", "pip"),
    ),
    Case(
        "python3.11 -u -m pip --no-cache-dir install -qq .",
        Manager.PIP,
        "install",
        (".",),
        ("--no-cache-dir", "-qq"),
        program=("python3.11", "-u", "-m", "pip"),
    ),
    Case(
        "pip install -i https://x/simple --extra-index-url=https://y -c constraints.txt "
        "--requirement=dev.txt -rbase.txt --target /opt/d pkg",
        Manager.PIP,
        "install",
        ("pkg",),
        (
            "-i",
            "https://x/simple",
            "--extra-index-url=https://y",
            "-c",
            "constraints.txt",
            "--requirement=dev.txt",
            "-rbase.txt",
            "--target",
            "/opt/d",
        ),
        requirement_files=("constraints.txt", "dev.txt", "base.txt"),
    ),
    Case(
        "pip install -e . -e git+https://x#egg=y",
        Manager.PIP,
        "install",
        (),
        ("-e", ".", "-e", "git+https://x#egg=y"),
    ),
    Case("pip uninstall -y x", Manager.PIP, "remove", ("x",), ("-y",), subcommand="uninstall"),
    Case("pip download -d /w x", Manager.PIP, "download", ("x",), ("-d", "/w")),
    Case(
        "pip wheel -w /wheels -r r.txt",
        Manager.PIP,
        "wheel",
        (),
        ("-w", "/wheels", "-r", "r.txt"),
        requirement_files=("r.txt",),
    ),
    # uv, poetry, pipenv
    Case(
        "uv pip install --system -r requirements.txt ruff",
        Manager.UV,
        "install",
        ("ruff",),
        ("--system", "-r", "requirements.txt"),
        requirement_files=("requirements.txt",),
        program=("uv", "pip"),
    ),
    Case("uv sync --frozen --no-dev", Manager.UV, "sync", (), ("--frozen", "--no-dev")),
    Case("uv add httpx", Manager.UV, "add", ("httpx",)),
    Case(
        "uv pip sync requirements.lock",
        Manager.UV,
        "sync",
        ("requirements.lock",),
        requirement_files=("requirements.lock",),
    ),
    Case("uv tool install ruff", Manager.UV, "tool-install", ("ruff",), subcommand="install"),
    Case(
        "poetry install --no-root --without dev -n",
        Manager.POETRY,
        "install",
        (),
        ("--no-root", "--without", "dev", "-n"),
    ),
    Case(
        "pipenv install --system --deploy", Manager.PIPENV, "install", (), ("--system", "--deploy")
    ),
    Case("pipenv sync", Manager.PIPENV, "sync"),
    # conda family
    Case(
        "conda install -y -c conda-forge numpy=1.2 scipy",
        Manager.CONDA,
        "install",
        ("numpy=1.2", "scipy"),
        ("-y", "-c", "conda-forge"),
    ),
    Case(
        "mamba install -y -n base python=3.11",
        Manager.MAMBA,
        "install",
        ("python=3.11",),
        ("-y", "-n", "base"),
    ),
    Case(
        "micromamba install -y -f env.yml",
        Manager.MAMBA,
        "install",
        (),
        ("-y", "-f", "env.yml"),
        requirement_files=("env.yml",),
    ),
    Case(
        "conda env create -f environment.yml",
        Manager.CONDA,
        "env-create",
        (),
        ("-f", "environment.yml"),
        requirement_files=("environment.yml",),
        subcommand="create",
        program=("conda", "env"),
    ),
    Case("conda clean -afy", Manager.CONDA, "clean", (), ("-afy",)),
    # apt
    Case(
        "apt-get -y --no-install-recommends install curl gcc",
        Manager.APT_GET,
        "install",
        ("curl", "gcc"),
        ("-y", "--no-install-recommends"),
    ),
    Case(
        "DEBIAN_FRONTEND=noninteractive apt-get install -qq -y -o Dpkg::Options::=--force-confold "
        "curl=7.* 'libpq-dev'",
        Manager.APT_GET,
        "install",
        ("curl=7.*", "'libpq-dev'"),
        ("-qq", "-y", "-o", "Dpkg::Options::=--force-confold"),
    ),
    Case("sudo apt-get update", Manager.APT_GET, "update"),
    Case(
        "sudo -E env DEBIAN_FRONTEND=noninteractive apt-get install -yq vim",
        Manager.APT_GET,
        "install",
        ("vim",),
        ("-yq",),
    ),
    Case("apt install -y git", Manager.APT, "install", ("git",), ("-y",)),
    Case(
        "apt-get purge -y --auto-remove gcc",
        Manager.APT_GET,
        "remove",
        ("gcc",),
        ("-y", "--auto-remove"),
        subcommand="purge",
    ),
    Case(
        "apt-get dist-upgrade -y",
        Manager.APT_GET,
        "upgrade",
        (),
        ("-y",),
        subcommand="dist-upgrade",
    ),
    Case("apt-get clean", Manager.APT_GET, "clean"),
    Case("apt-get autoremove -y", Manager.APT_GET, "autoremove", (), ("-y",)),
    # apk
    Case(
        "apk add --no-cache --virtual .build-deps gcc musl-dev",
        Manager.APK,
        "install",
        ("gcc", "musl-dev"),
        ("--no-cache", "--virtual", ".build-deps"),
        subcommand="add",
    ),
    Case(
        "apk --no-cache add -t .deps curl",
        Manager.APK,
        "install",
        ("curl",),
        ("--no-cache", "-t", ".deps"),
        subcommand="add",
    ),
    Case("apk update", Manager.APK, "update"),
    Case("apk del .build-deps", Manager.APK, "remove", (".build-deps",), subcommand="del"),
    # rpm family
    Case("yum install -y httpd-2.4", Manager.YUM, "install", ("httpd-2.4",), ("-y",)),
    Case("yum clean all", Manager.YUM, "clean", ("all",)),
    Case("yum update -y", Manager.YUM, "update", (), ("-y",)),
    Case(
        "dnf -y install --setopt=tsflags=nodocs python3",
        Manager.DNF,
        "install",
        ("python3",),
        ("-y", "--setopt=tsflags=nodocs"),
    ),
    Case("dnf --enablerepo crb install x", Manager.DNF, "install", ("x",), ("--enablerepo", "crb")),
    Case(
        "microdnf install -y --nodocs shadow-utils",
        Manager.MICRODNF,
        "install",
        ("shadow-utils",),
        ("-y", "--nodocs"),
    ),
    Case("microdnf clean all", Manager.MICRODNF, "clean", ("all",)),
    # node
    Case("npm install -g yarn@1", Manager.NPM, "install", ("yarn@1",), ("-g",)),
    Case(
        "npm i --prefix /app lodash",
        Manager.NPM,
        "install",
        ("lodash",),
        ("--prefix", "/app"),
        subcommand="i",
    ),
    Case("npm ci --omit=dev", Manager.NPM, "ci", (), ("--omit=dev",)),
    Case("npm uninstall x", Manager.NPM, "remove", ("x",), subcommand="uninstall"),
    Case("yarn", Manager.YARN, "install", subcommand=None),
    Case(
        "yarn --frozen-lockfile",
        Manager.YARN,
        "install",
        (),
        ("--frozen-lockfile",),
        subcommand=None,
    ),
    Case("yarn install --frozen-lockfile", Manager.YARN, "install", (), ("--frozen-lockfile",)),
    Case("yarn add react", Manager.YARN, "add", ("react",)),
    Case(
        "yarn global add typescript",
        Manager.YARN,
        "add",
        ("typescript",),
        program=("yarn", "global"),
    ),
    Case("pnpm install --frozen-lockfile", Manager.PNPM, "install", (), ("--frozen-lockfile",)),
    Case("pnpm i", Manager.PNPM, "install", subcommand="i"),
    # go
    Case(
        "go mod download", Manager.GO, "mod-download", subcommand="download", program=("go", "mod")
    ),
    Case(
        'go build -o /bin/app -ldflags="-s -w" -trimpath ./cmd/app',
        Manager.GO,
        "build",
        ("./cmd/app",),
        ("-o", "/bin/app", '-ldflags="-s -w"', "-trimpath"),
    ),
    Case("go install github.com/x/y@latest", Manager.GO, "install", ("github.com/x/y@latest",)),
    Case("CGO_ENABLED=0 GOOS=linux go build .", Manager.GO, "build", (".",)),
]


def classify_one(text: str) -> tuple[SimpleCommand, PackageCommand | None]:
    commands = list(iter_simple_commands(parse_shell(text)))
    assert len(commands) == 1
    return commands[0], classify(commands[0])


@pytest.mark.parametrize("case", CASES, ids=[case.text for case in CASES])
def test_classify(case: Case) -> None:
    cmd, result = classify_one(case.text)
    assert result is not None
    assert result.manager is case.manager
    assert result.action == case.action
    assert tuple(w.text for w in result.packages) == case.packages
    assert tuple(w.text for w in result.options) == case.options
    assert result.requirement_files == case.requirement_files
    assert result.command is cmd
    # Every word keeps its offsets into the RUN text.
    for word in result.packages + result.options + result.program_words:
        assert case.text[word.start : word.end] == word.text
    sub = result.subcommand_word
    expected_sub = case.action if case.subcommand == "<action>" else case.subcommand
    if expected_sub is None:
        assert sub is None
    else:
        assert sub is not None and sub.text == expected_sub
        assert case.text[sub.start : sub.end] == expected_sub
    if case.program is not None:
        assert tuple(w.text for w in result.program_words) == case.program


def test_subcommand_offset_allows_inserting_right_after_it() -> None:
    text = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y curl"
    install = list(iter_simple_commands(parse_shell(text)))[1]
    result = classify(install)
    assert result is not None and result.subcommand_word is not None
    at = result.subcommand_word.end
    assert at == text.index("install") + len("install")
    edited = text[:at] + " --no-install-recommends" + text[at:]
    assert edited.endswith("install --no-install-recommends -y curl")


def test_option_values_carry_offsets() -> None:
    text = "pip install --index-url=https://x -r req.txt -rother.txt pkg"
    _, result = classify_one(text)
    assert result is not None
    values = result.option_values("-r", "--requirement")
    assert [v.text for v in values] == ["req.txt", "other.txt"]
    for value in values:
        assert text[value.start : value.end] == value.text
    (url,) = result.option_values("--index-url", "-i")
    assert (url.text, url.start) == ("https://x", text.index("https://x"))
    assert [o.flag for o in result.parsed_options] == ["--index-url", "-r", "-rother.txt"]


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("apt-get install -qy x", ("-y", "-q", "-qy"), ("--no-install-recommends", "-o")),
        (
            "apt-get install --no-install-recommends --yes x",
            ("--no-install-recommends", "--yes"),
            ("-y",),
        ),
        ("pip install --no-cache-dir x", ("--no-cache-dir",), ("-r",)),
        ("apk add --no-cache x", ("--no-cache",), ("--update",)),
        ("npm install -g x", ("-g",), ("--global",)),
        ("conda clean -afy", ("-a", "-f", "-y"), ("--all",)),
    ],
)
def test_has_option(text: str, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    _, result = classify_one(text)
    assert result is not None
    for name in present:
        assert result.has_option(name), name
    for name in absent:
        assert not result.has_option(name), name
    assert result.has_option(*absent, present[0])


def test_double_dash_ends_options() -> None:
    _, result = classify_one("apt-get install -y -- -weird-package")
    assert result is not None
    assert [w.text for w in result.packages] == ["-weird-package"]
    assert [w.text for w in result.options] == ["-y", "--"]


@pytest.mark.parametrize(
    "text",
    [
        "echo pip install x",
        "python script.py install",
        "python -c 'import pip'",
        "python -m venv /venv",
        "pip --version",
        "go",
        "command -v pip",
        "A=1",
        "piptools install x",
        "$PIP install x",
    ],
)
def test_not_a_package_command(text: str) -> None:
    _, result = classify_one(text)
    assert result is None


def test_all_package_commands_in_a_run() -> None:
    text = (
        "apt-get update && apt-get install -y python3-pip && "
        "(cd /app && pip3 install -r requirements.txt) && rm -rf /var/lib/apt/lists/*"
    )
    found = [classify(cmd) for cmd in iter_simple_commands(parse_shell(text))]
    summary = [(r.manager.value, r.action) for r in found if r is not None]
    assert summary == [("apt-get", "update"), ("apt-get", "install"), ("pip", "install")]
