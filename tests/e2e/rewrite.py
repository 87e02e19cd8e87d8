"""The one place where the e2e tier asks dockfix for a rewrite.

Everything else in `test_build_fixtures.py` (building, smoke tests, config/file/size/rebuild
comparisons) works on whatever text this returns.
"""

from __future__ import annotations

from pathlib import Path

from dockfix.engine import fix_document
from dockfix.rules import ALL_RULES
from dockfix.rules.base import Settings
from dockfix.syntax import parse


def fixed_dockerfile(app_dir: Path, unsafe: bool) -> str | None:
    """The text dockfix makes of `app_dir / "Dockerfile"` with all rules.

    `app_dir` is a private copy of the fixture app, used as the build context (so the
    rules that read manifests see the real files). `unsafe` is True for the
    `--unsafe-fixes` run. The result is written outside the context and built with `-f`.
    """
    text = (app_dir / "Dockerfile").read_text(encoding="utf-8")
    result = fix_document(
        parse(text), ALL_RULES, Settings(unsafe_fixes=unsafe), context_dir=app_dir
    )
    assert not result.problems, result.problems
    return result.output
