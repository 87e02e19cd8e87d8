"""The rules as people read them: ``--explain`` text and the README's rule table.

Both are generated from the registry (each rule's code, name, fix kinds, summary and
module docstring) so the README, ``--list-rules`` and ``--explain`` cannot disagree.
Docstrings are reStructuredText for the code's readers; a terminal gets plain text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dockfix.rules.base import Rule

__all__ = ["PRACTICES_DOC", "markdown_table", "plain_text", "practices", "table_rows"]

#: Where the practice numbers point (shipped in the repository).
PRACTICES_DOC = "docs/practices.md"

_PRACTICE_REF = re.compile(r"practices\.md,?\s+rows?\s+(\d+(?:(?:,\s*|,?\s+and\s+)\d+)*)")
_ROLE = re.compile(r":[a-z]+:`([^`]+)`")
_LINK = re.compile(r"`([^`<]+?)\s*<([^>]+)>`_{1,2}")
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)  # may wrap onto the next line
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])")
_INTERPRETED = re.compile(r"(?<![\w`])`([^`]+)`(?![\w`])")
_BARE_DOC = re.compile(r"(?<![\w/])practices\.md")


def practices(rule: Rule) -> tuple[int, ...]:
    """Row numbers of ``docs/practices.md`` the rule's documentation cites."""
    numbers: list[int] = []
    for match in _PRACTICE_REF.finditer(rule.explanation):
        for number in re.findall(r"\d+", match.group(1)):
            if int(number) not in numbers:
                numbers.append(int(number))
    return tuple(numbers)


def plain_text(text: str) -> str:
    """reStructuredText as terminal text: no backquotes, roles, ``::`` or link markup."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "::" or stripped.startswith(".. "):
            continue  # a bare literal-block marker or an RST directive/comment
        if line.endswith("::"):
            line = line[:-2].rstrip() + ":" if not line[:-2].endswith((" ", ":")) else line[:-2]
            line = line.rstrip()
        lines.append(line)
    text = _LITERAL.sub(r"\1", "\n".join(lines))
    text = _ROLE.sub(r"\1", text)
    text = _LINK.sub(r"\1 (\2)", text)
    text = _STRONG.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = _INTERPRETED.sub(r"\1", text)
    text = _BARE_DOC.sub(PRACTICES_DOC, text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"  # where a "::" line was


def table_rows(rules: Sequence[Rule]) -> list[tuple[str, str, str, str]]:
    """(code, name, fix, what it does) per rule; the practice numbers in parentheses."""
    rows = []
    for rule in rules:
        numbers = practices(rule)
        cited = f" ({', '.join(str(n) for n in numbers)})" if numbers else ""
        rows.append((rule.code, rule.name, rule.fix_label, rule.summary + cited))
    return rows


def markdown_table(rules: Sequence[Rule]) -> str:
    """The README's rule table, columns padded so that the source reads as a table too."""
    header = ("code", "name", "fix", f"what it does (practice in `{PRACTICES_DOC}`)")
    rows = [header, *table_rows(rules)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells[:3], widths, strict=True)]
        return "| " + " | ".join([*padded, cells[3]]) + " |"

    dashes = [*(width + 2 for width in widths), len(header[3]) + 2]
    rule_line = "|" + "|".join("-" * count for count in dashes) + "|"
    return "\n".join([line(header), rule_line, *(line(row) for row in rows[1:])]) + "\n"
