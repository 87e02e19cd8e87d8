"""DF202's reason names a download the builder repeats before the last install.

The builder runs the stage's steps up to the last install, so a ``git clone`` of a
branch, a ``wget`` of a tarball or an ``ADD <url>`` happens once in each stage: the
final stage installs what the builder built from the builder's copy.  The reason says
so; without a download it says nothing of the kind.
"""

from __future__ import annotations

import pytest

from dockfix.engine import fix_document
from dockfix.rules import lookup
from dockfix.rules.base import Settings
from dockfix.syntax import parse

HEAD = """FROM python:3.11-slim
RUN apt-get update && apt-get install -y gcc libpq-dev
WORKDIR /app
"""
TAIL = """RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""


def _reason(text: str) -> str:
    rule = lookup("DF202")
    assert rule is not None
    result = fix_document(parse(text), (rule,), Settings(unsafe_fixes=True), context_dir=None)
    (finding,) = (f for f in result.findings if f.code == "DF202")
    assert finding.fix is not None, finding.note
    return finding.fix.reason


@pytest.mark.parametrize(
    ("step", "named"),
    [
        ("RUN git clone --depth 1 https://example.org/app.git .\n", "(`git clone`)"),
        ("RUN wget -q -O - https://example.org/app.tar.gz | tar xz\n", "(`wget`)"),
        ("RUN curl -fsSL https://example.org/req.txt -o requirements.txt\n", "(`curl`)"),
        (
            "ADD https://example.org/requirements.txt .\n",
            "(`ADD https://example.org/requirements.txt`)",
        ),
    ],
)
def test_a_download_before_the_install_is_named(step: str, named: str) -> None:
    reason = _reason(HEAD + step + TAIL)
    assert f"the builder repeats the download on line 4 {named}" in reason


@pytest.mark.parametrize(
    "step",
    [
        "COPY requirements.txt .\n",
        "RUN git config --global user.name ci\nCOPY requirements.txt .\n",
    ],
)
def test_no_download_no_such_caveat(step: str) -> None:
    assert "repeats the download" not in _reason(HEAD + step + TAIL)


def test_a_download_after_the_last_install_is_not_repeated() -> None:
    text = (
        HEAD
        + "COPY requirements.txt .\n"
        + TAIL.replace(
            'CMD ["python", "app.py"]\n',
            'RUN curl -fsSL https://example.org/x -o /x\nCMD ["python", "app.py"]\n',
        )
    )
    assert "repeats the download" not in _reason(text)
