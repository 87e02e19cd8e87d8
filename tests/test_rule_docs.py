"""The committed rule reference (docs/rules/) is exactly what the registry generates.

Rules change often; when one of these tests fails, regenerate the pages with the command
in the message, read the diff of ``docs/rules/`` and commit it with the rule change.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dockfix.model.preconditions import Precondition
from dockfix.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "rules"
#: The one command that rewrites docs/rules/ (run from the repository root).
REGENERATE = ".venv/bin/python scripts/gen_rule_docs.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_rule_docs", ROOT / "scripts/gen_rule_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()
PAGES: dict[str, str] = SCRIPT.generated()


def _stale_message(name: str) -> str:
    return (
        f"docs/rules/{name} is out of date with the rule registry; regenerate the rule "
        f"reference with `{REGENERATE}` (from the repository root), review the diff of "
        "docs/rules/ and commit it"
    )


@pytest.mark.parametrize("name", sorted(PAGES))
def test_committed_page_is_the_generated_one(name: str) -> None:
    path = DOCS / name
    assert path.is_file(), _stale_message(name)
    assert path.read_text(encoding="utf-8") == PAGES[name], _stale_message(name)


def test_no_page_for_a_rule_that_is_gone() -> None:
    extra = sorted(path.name for path in DOCS.glob("*.md") if path.name not in PAGES)
    assert not extra, (
        f"docs/rules has pages for no registered rule: {extra}; "
        f"run `{REGENERATE}` (it removes them)"
    )


def test_check_mode_agrees() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_rule_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (check.returncode, check.stderr) == (0, ""), check.stderr


def test_every_rule_has_a_page_with_its_facts() -> None:
    for rule in ALL_RULES:
        page = PAGES[f"{rule.code}.md"]
        assert f"\n# {rule.code} {rule.name}\n" in page
        assert f"**Severity:** {rule.severity}." in page
        for precondition in rule.preconditions:
            assert f"- `{precondition.value}`: {precondition.description}." in page
        assert "## Fix safety" in page, f"{rule.code}: its docstring has no 'Fix safety'"
        assert "](../practices.md)" in page
        assert f"[{rule.code}]({rule.code}.md)" in PAGES["README.md"]


def test_markdown_conversion() -> None:
    text = (
        "DF000 title: ignored.\n"
        "\n"
        "What it does\n"
        "    Uses ``COPY`` for *local* files (:rfc:`1`, `BuildKit <https://x.example>`_);\n"
        "    see practices.md row 6.  Keeps ``a\n"
        "    b`` and <name> as text::\n"
        "\n"
        "        ADD . /app\n"
        "        # becomes\n"
        "        COPY . /app\n"
        "\n"
        "    * a list item\n"
        "    + not a list\n"
    )
    markdown = SCRIPT.explanation_markdown(text)
    assert markdown == (
        "## What it does\n"
        "\n"
        "Uses `COPY` for *local* files (`1`, [BuildKit](https://x.example));\n"
        "see [docs/practices.md](../practices.md) row 6.  Keeps `a b` and \\<name> as text:\n"
        "\n"
        "```dockerfile\n"
        "ADD . /app\n"
        "# becomes\n"
        "COPY . /app\n"
        "```\n"
        "\n"
        "* a list item\n"
        "\\+ not a list\n"
    )


def test_preconditions_all_described() -> None:
    for precondition in Precondition:
        assert precondition.description and not precondition.description.endswith(".")


def test_pages_do_not_leak_rst() -> None:
    for name, page in PAGES.items():
        prose = re.sub(r"```.*?```", "", page, flags=re.DOTALL)
        assert "``" not in prose, name
        prose = re.sub(r"`[^`]*`", "", prose)  # code may hold anything (`--only-binary=:all:`)
        assert not re.search(r":[a-z]+:`", prose), name
