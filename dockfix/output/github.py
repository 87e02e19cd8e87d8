"""``--format github``: GitHub Actions workflow commands, one annotation per line.

GitHub turns ``::warning file=F,line=L,col=C,title=T::message`` printed by a step into an
annotation on the pull request's diff. Values are escaped the way the runner's own toolkit
(``@actions/core``) does: in the message ``%``, ``\\r`` and ``\\n``; in properties also ``:``
and ``,``, which would otherwise end the value. Paths are relative to the repository root,
where the runner resolves them.
"""

from __future__ import annotations

from dockfix.output.fixes import still_open
from dockfix.output.locations import RepoPaths
from dockfix.output.mode import Mode
from dockfix.rules.base import Settings
from dockfix.runner import FileReport

__all__ = ["annotate", "escape_data", "escape_property"]


#: Workflow command for each finding severity.
_KINDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (``file``, ``title``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, properties: dict[str, str], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{kind} {props}::{escape_data(message)}\n"


def annotate(report: FileReport, mode: Mode, settings: Settings, paths: RepoPaths) -> str:
    """The annotations for one file: its errors, then findings (fixed ones skipped on --write)."""
    path, _ = paths.relative(report.path)
    out: list[str] = []
    for error in report.errors:
        properties = {"file": path}
        if error.line:
            properties |= {"line": str(error.line), "col": str(error.column)}
        properties["title"] = "dockfix error"
        out.append(_command("error", properties, error.message))
    for finding in report.findings:
        if not still_open(report, finding, mode, settings):
            continue
        properties = {
            "file": path,
            "line": str(finding.line),
            "col": str(finding.column),
            "title": finding.code,
        }
        kind = _KINDS.get(getattr(finding, "severity", ""), "warning")
        out.append(_command(kind, properties, f"{finding.code} {finding.message}{finding.notes}"))
    return "".join(out)
