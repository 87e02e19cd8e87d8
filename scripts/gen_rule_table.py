"""Regenerate the rule table in README.md from the rule registry.

The table sits between ``<!-- rules-table:start -->`` and ``<!-- rules-table:end -->``.
Run ``python scripts/gen_rule_table.py`` after adding or changing a rule;
``--check`` exits 1 (and says so) when the README is out of date, for CI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def generated_table() -> str:
    sys.path.insert(0, str(ROOT))
    from dockfix.rules import ALL_RULES
    from dockfix.rules.catalog import markdown_table

    return markdown_table(ALL_RULES)


def readme_table(text: str) -> str:
    """The table currently between the markers; ValueError if the markers are missing."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{README.name}: markers {START} ... {END} not found")
    return text[start + len(START) : end].strip("\n") + "\n"


def updated(text: str, table: str) -> str:
    start, end = text.index(START), text.index(END)
    return text[: start + len(START)] + "\n" + table + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    try:
        current = readme_table(text)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    table = generated_table()
    if current == table:
        return 0
    if args.check:
        print(f"{README.name}: the rule table is out of date; run {__file__}", file=sys.stderr)
        return 1
    README.write_text(updated(text, table), encoding="utf-8")
    print(f"{README.name}: rule table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
