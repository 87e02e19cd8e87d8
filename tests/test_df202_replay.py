"""DF202 replays a Node install that may compile (``npm install``) from the builder.

The builder runs the RUN with the build tools between a marker and ``find -cnewer`` it,
packs what changed, and the final stage unpacks that tar where the RUN was; the scan of
the libraries the builds link also reads the files it lists.  A RUN that cannot be
replayed exactly (deleting files, writing through a redirection, as a user, on Alpine)
keeps the refusal, which says why.  The e2e app ``fixtures/e2e/nodeaddon`` builds it.
"""

from __future__ import annotations

import pytest

from dockfix.engine import fix_document
from dockfix.rules import lookup
from dockfix.rules.base import Settings
from dockfix.syntax import parse

HEAD = """FROM python:3.11
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm
COPY package.json .
"""
TAIL = """COPY requirements.txt .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""


def _df202(text: str) -> tuple[str | None, str | None, str]:
    """The DF202 fix's reason (or None), the refusal note, and the output."""
    rule = lookup("DF202")
    assert rule is not None
    result = fix_document(parse(text), (rule,), Settings(unsafe_fixes=True), context_dir=None)
    (finding,) = (f for f in result.findings if f.code == "DF202")
    reason = finding.fix.reason if finding.fix is not None else None
    return reason, finding.note, result.output


def test_npm_before_pip_is_replayed_from_the_builder() -> None:
    reason, note, out = _df202(HEAD + "RUN cd /app && npm ci\n" + TAIL)
    assert reason is not None, note
    assert "the RUN on line 5 (a Node install, which may compile) runs in the builder" in reason
    assert "a file it deleted stays" in reason
    builder, final = out.split("FROM python:3.11-slim")
    assert (
        "RUN mkdir -p /dockfix-replay && touch /dockfix-replay/5.start && sleep 1 && "
        "cd /app && npm ci && find / -xdev -cnewer /dockfix-replay/5.start "
        "! -path '/dockfix-replay*' -print0 > /dockfix-replay/5.list && "
        "tar --null --no-recursion -cf /dockfix-replay/5.tar -T /dockfix-replay/5.list"
    ) in builder
    assert "glob.glob('/dockfix-replay/*.list')" in builder  # the scan reads the replay
    assert "npm ci" not in final
    assert (
        "--mount=type=bind,from=builder,source=/dockfix-replay/5.tar,"
        "target=/tmp/dockfix-replay-5.tar" in final
    )
    assert "tar -xf /tmp/dockfix-replay-5.tar -C /" in final


def test_without_a_replay_the_scan_reads_no_replay_list() -> None:
    reason, note, out = _df202(HEAD + TAIL)
    assert reason is not None, note
    assert "dockfix-replay" not in out


@pytest.mark.parametrize(
    ("run", "why"),
    [
        ("RUN npm install && rm -rf /usr/share/doc\n", "runs nothing but npm"),
        ("RUN npm install > /tmp/npm.log\n", "with no redirection"),
    ],
)
def test_a_run_that_cannot_be_replayed_keeps_the_refusal(run: str, why: str) -> None:
    reason, note, _ = _df202(HEAD + run + TAIL)
    assert reason is None
    assert note is not None
    assert "runs `npm`, which needs the build tools" in note
    assert why in note


def test_npm_after_the_last_pip_install_extends_the_builder() -> None:
    """The builder goes on to the Node install: it installs its wheels as the final
    stage does (so the steps between run as in the original) and scans at its end."""
    text = HEAD.replace("COPY package.json .\n", "") + TAIL.replace(
        "CMD", "COPY package.json .\nRUN npm install\nCMD"
    )
    reason, note, out = _df202(text)
    assert reason is not None, note
    assert "which install what they build as the final stage does" in reason
    builder, final = out.split("FROM python:3.11-slim")
    assert (
        "RUN pip wheel --wheel-dir /wheels -r requirements.txt && "
        "pip install --no-index --find-links=/wheels -r requirements.txt\n" in builder
    )
    replay = builder.index("touch /dockfix-replay/7.start")
    scan = builder.index("glob.glob('/dockfix-replay/*.list')")
    assert replay < scan  # the scan runs last, in a RUN of its own
    assert builder.rstrip().endswith("/wheels /runtime-packages.txt")
    assert "tar -xf /tmp/dockfix-replay-7.tar -C /" in final
    assert "npm install" not in final


def test_alpine_is_not_replayed() -> None:
    text = """FROM python:3.11-alpine
WORKDIR /app
RUN apk add --no-cache build-base libpq-dev nodejs npm
COPY package.json .
RUN npm install
COPY requirements.txt .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""
    reason, note, _ = _df202(text)
    assert reason is None
    assert note is not None and "only on Debian or Ubuntu" in note


@pytest.mark.parametrize(
    ("script", "known"),
    [
        ("curl -fsSL https://deb.nodesource.com/setup_20.x | bash -", True),
        ("curl -sL https://deb.nodesource.com/setup_0.12 | sudo bash -", True),
        ("wget -qO- https://deb.nodesource.com/setup | bash", True),
        ("curl -fsSL https://deb.nodesource.com.example.org/setup_20.x | bash -", False),
        ("curl -fsSL https://example.com/install.sh | bash -", False),
    ],
)
def test_nodesource_setup_scripts_need_no_build_tools(script: str, known: bool) -> None:
    text = f"""FROM ubuntu:22.04
RUN apt-get update && apt-get install -y curl python3-pip python3-dev gcc libpq-dev
RUN {script}
WORKDIR /app
COPY requirements.txt .
RUN pip3 install -r requirements.txt
CMD ["python3", "app.py"]
"""
    reason, note, _ = _df202(text)
    if known:
        assert reason is not None, note
    else:
        assert reason is None
        assert note is not None and "runs a script piped into `bash`" in note


def test_a_command_substitution_is_not_replayed() -> None:
    """``$(...)`` runs a command this check does not read: it may delete files."""
    reason, note, _ = _df202(HEAD + "RUN npm install --prefix $(mktemp -d)\n" + TAIL)
    assert reason is None
    assert note is not None and "command substitution" in note
