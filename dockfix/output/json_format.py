"""``--format json``: one versioned document for bots.

``schema`` is bumped whenever a field changes meaning or disappears (adding fields does not),
so a bot can refuse a document it does not understand instead of misreading it.

Schema 1: ``{"schema": 1, "tool", "version", "mode", "files": [...], "summary": {...}}``;
each file has ``path``, ``findings`` (each with ``fixed``: this run's output carries its fix,
``companion``: the build-context file its fix writes, else null, and ``fix_reason``: what
an unsafe fix may change, else ""),
``errors``, ``changed``, ``written``, ``fixed`` (fix counts by rule), ``diff`` and ``edits``:
``{"start_line", "end_line", "replacement"}`` meaning lines ``start_line``..``end_line`` of the
original (1-based, inclusive; ``end_line = start_line - 1`` for an insertion) become
``replacement``; ``companions``: other files of the build context the fixes change
(DF212's ``.dockerignore``), each ``{"path", "created", "diff"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from dockfix import __version__
from dockfix.output.edits import edits_from_diff
from dockfix.output.fixes import is_fixed
from dockfix.output.mode import Mode
from dockfix.rules.base import Settings
from dockfix.runner import FileReport

__all__ = ["SCHEMA_VERSION", "json_document"]

SCHEMA_VERSION = 1


def json_document(
    reports: Sequence[FileReport], mode: Mode, settings: Settings
) -> dict[str, object]:
    """The whole run as one JSON-ready dict."""
    files = []
    for report in reports:
        findings = []
        for finding in report.findings:
            record = asdict(finding)
            applicability = finding.applicability
            record["applicability"] = applicability.value if applicability else None
            record["fixed"] = is_fixed(report, finding, settings)
            findings.append(record)
        files.append(
            {
                "path": report.path,
                "findings": findings,
                "errors": [asdict(error) for error in report.errors],
                "changed": report.changed,
                "written": report.written,
                "fixed": report.fixed,
                "diff": report.diff,
                "edits": [edit.to_json() for edit in edits_from_diff(report.diff)],
                "companions": [
                    {"path": c.path, "created": c.old_text is None, "diff": c.diff}
                    for c in report.companions
                ],
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "tool": "dockfix",
        "version": __version__,
        "mode": mode.value,
        "files": files,
        "summary": {
            "files": len(reports),
            "changed": sum(1 for r in reports if r.changed),
            "findings": sum(len(r.findings) for r in reports),
            "errors": sum(len(r.errors) for r in reports),
        },
    }
