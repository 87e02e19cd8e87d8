"""``--statistics``: how many findings each rule made, and how many this mode can fix.

On a monorepo the list of findings is too long to read; the counts per rule are what a
team needs to decide what to select, ignore or fix first (ruff's ``--statistics``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from dockfix.gate import is_fixable
from dockfix.lazy_dataclass import dataclass
from dockfix.runner import FileReport

__all__ = ["RuleCount", "count", "render_json", "render_text"]


@dataclass(frozen=True)
class RuleCount:
    code: str
    name: str
    count: int
    fixable: int
    severity: str


def count(reports: Sequence[FileReport], *, unsafe_fixes: bool = False) -> list[RuleCount]:
    """Counts per rule, most frequent first (then by code)."""
    totals: dict[str, list[int]] = {}
    names: dict[str, tuple[str, str]] = {}
    for report in reports:
        for finding in report.findings:
            entry = totals.setdefault(finding.code, [0, 0])
            entry[0] += 1
            entry[1] += is_fixable(finding, report, unsafe_fixes)
            names[finding.code] = (finding.name, finding.severity)
    rows = [
        RuleCount(code, names[code][0], n, fixable, names[code][1])
        for code, (n, fixable) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.count, row.code))


def render_text(rows: Sequence[RuleCount]) -> str:
    """Aligned columns: count, code, fixable count, severity, name."""
    if not rows:
        return ""
    width = max(len(str(row.count)) for row in rows)
    lines = [
        f"{row.count:>{width}}  {row.code}  {row.fixable:>{width}} fixable  "
        f"{row.severity:<7}  {row.name}"
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def render_json(rows: Sequence[RuleCount]) -> str:
    data = [
        {
            "code": row.code,
            "name": row.name,
            "count": row.count,
            "fixable": row.fixable,
            "severity": row.severity,
        }
        for row in rows
    ]
    return json.dumps(data, indent=2) + "\n"
