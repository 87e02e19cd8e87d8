"""``--format sarif``: a SARIF 2.1.0 log that GitHub code scanning accepts.

One run; ``tool.driver.rules`` lists every rule (so ``ruleIndex`` is stable across runs)
with its summary, documentation and default level; each finding is a result with its
location and, where this run fixes it, a ``fix`` made of line replacements (and, for a fix
that writes a file of the build context such as DF212's ``.dockerignore``, that file's
whole new text, with an empty deleted region when the file is new). Locations are
relative to ``%SRCROOT%`` (the repository root inside a git work tree, else the current
folder), which is what ``github/codeql-action/upload-sarif`` expects. Files dockfix could
not read or parse are tool execution notifications, not results: they are not a practice
to fix but a reason the file was not checked.
"""

from __future__ import annotations

import os
import re
import textwrap
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from dockfix import __version__
from dockfix.output.edits import LineEdit, edits_from_diff
from dockfix.output.fixes import assign_edits, is_fixed, still_open
from dockfix.output.locations import RepoPaths
from dockfix.output.mode import Mode
from dockfix.rules.base import Rule, Settings
from dockfix.runner import CompanionReport, Error, FileReport, ReportedFinding

__all__ = ["SARIF_SCHEMA", "sarif_document"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
#: Used when the installed package names no homepage (``[project.urls]``).
FALLBACK_URI = "https://pypi.org/project/dockfix/"


def sarif_document(
    reports: Sequence[FileReport],
    mode: Mode,
    settings: Settings,
    paths: RepoPaths,
    rules: Sequence[Rule] | None = None,
) -> dict[str, object]:
    """The whole run as one SARIF log (a JSON-ready dict)."""
    if rules is None:
        from dockfix.rules import ALL_RULES

        rules = ALL_RULES
    index = {rule.code: position for position, rule in enumerate(rules)}
    home = project_uri()
    results: list[dict[str, object]] = []
    notifications: list[dict[str, object]] = []
    for report in reports:
        location = _artifact_location(report.path, paths)
        notifications.extend(_notification(error, location) for error in report.errors)
        shown = [
            finding for finding in report.findings if still_open(report, finding, mode, settings)
        ]
        fixed_lines = [
            finding.line if mode is not Mode.WRITE and is_fixed(report, finding, settings) else None
            for finding in shown
        ]
        owned = assign_edits(fixed_lines, edits_from_diff(report.diff))
        companions = {c.context_path: c for c in report.companions}
        for finding, edits, line in zip(shown, owned, fixed_lines, strict=True):
            # The engine writes each companion file once, for the first finding naming it.
            companion = companions.pop(finding.companion or "", None) if line else None
            changes = [_companion_change(companion, paths)] if companion else []
            results.append(_result(finding, location, index, edits, changes))
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "dockfix",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": home,
                "rules": [_descriptor(rule, home) for rule in rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not notifications,
                "toolExecutionNotifications": notifications,
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def project_uri() -> str:
    """The homepage from the installed package's metadata, else :data:`FALLBACK_URI`."""
    from importlib import metadata

    try:
        urls = metadata.metadata("dockfix").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return FALLBACK_URI
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "home", "documentation", "source"):
            return url.strip()
    return FALLBACK_URI


def _level(severity: str | None) -> str:
    """SARIF's level for a severity (``error``, ``warning``, ``info``)."""
    return {"error": "error", "info": "note"}.get(severity or "", "warning")


def _descriptor(rule: Rule, home: str) -> dict[str, object]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _what_it_does(rule)},
        "help": {"text": rule.explanation.strip() or rule.summary},
        "helpUri": f"{home}#rules",
        "defaultConfiguration": {"level": _level(getattr(rule, "severity", None))},
        "properties": {"fix": rule.applicability.value, "tags": ["dockerfile", "best-practice"]},
    }


def _what_it_does(rule: Rule) -> str:
    """The explanation's "What it does" section as one paragraph, else the summary."""
    match = re.search(r"^What it does\n((?:[ \t]+\S.*\n?)+)", rule.explanation, re.MULTILINE)
    if match is None:
        return rule.summary
    return " ".join(textwrap.dedent(match.group(1)).split())


def _artifact_location(path: str, paths: RepoPaths) -> dict[str, object]:
    relative, in_repo = paths.relative(path)
    if not in_repo and os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    uri = urllib.parse.quote(relative, safe="/", errors="surrogateescape")
    return {"uri": uri, "uriBaseId": SRCROOT}


def _result(
    finding: ReportedFinding,
    location: dict[str, object],
    index: dict[str, int],
    edits: Sequence[LineEdit],
    other_changes: Sequence[dict[str, object]] = (),
) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.code,
        "level": _level(getattr(finding, "severity", None)),
        "message": {"text": f"{finding.message}{finding.notes}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": finding.line, "startColumn": max(finding.column, 1)},
                }
            }
        ],
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    changes = list(other_changes)
    if edits:
        replacements = [_replacement(edit) for edit in edits]
        changes.insert(0, {"artifactLocation": location, "replacements": replacements})
    if changes:
        result["fixes"] = [
            {
                "description": {"text": _fix_description(finding)},
                "artifactChanges": changes,
            }
        ]
    return result


def _companion_change(companion: CompanionReport, paths: RepoPaths) -> dict[str, object]:
    """The companion file's whole text replaced (SARIF has no "create file" change: a new
    file is an empty one whose empty region receives the text)."""
    old = companion.old_text or ""
    return {
        "artifactLocation": _artifact_location(companion.target, paths),
        "replacements": [
            {
                "deletedRegion": {"charOffset": 0, "charLength": len(old)},
                "insertedContent": {"text": companion.new_text},
            }
        ],
    }


def _replacement(edit: LineEdit) -> dict[str, object]:
    """Whole lines: from column 1 of ``start_line`` to column 1 of the line after the last."""
    end = max(edit.end_line + 1, edit.start_line)
    return {
        "deletedRegion": {
            "startLine": edit.start_line,
            "startColumn": 1,
            "endLine": end,
            "endColumn": 1,
        },
        "insertedContent": {"text": edit.replacement},
    }


def _notification(error: Error, location: dict[str, object]) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": location}
    if error.line:
        physical["region"] = {"startLine": error.line, "startColumn": max(error.column, 1)}
    return {
        "level": "error",
        "message": {"text": error.message},
        "locations": [{"physicalLocation": physical}],
    }


def _fix_description(finding: ReportedFinding) -> str:
    """``DF202 (unsafe fix): <what may change>``: a reviewer of the suggested change reads it."""
    text = f"{finding.code} ({_applicability(finding)} fix)"
    return f"{text}: {finding.fix_reason}" if finding.fix_reason else text


def _applicability(finding: ReportedFinding) -> str:
    """The fix's applicability as SARIF has always spelled it."""
    return str(finding.applicability.value if finding.applicability else None)
